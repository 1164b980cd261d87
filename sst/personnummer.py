"""Swedish personal identity numbers (personnummer) and coordination numbers.

Accepted forms: ``YYMMDD-NNNC``, ``YYMMDD+NNNC`` (a plus sign means the person has turned 100),
``YYMMDDNNNC``, ``YYYYMMDD-NNNC`` and ``YYYYMMDDNNNC``. A coordination number
(samordningsnummer) has 60 added to the day of birth. The last digit is a Luhn check digit
over the 10-digit form. Everything is normalised to the 12-digit form ``YYYYMMDDNNNC``.

Error messages never repeat the number itself: it may end up in a log or on a screen.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$",
    re.ASCII,  # only 0-9: other scripts' digits would register one child twice
)


@dataclass(frozen=True)
class Personnummer:
    """A valid number in normalised 12-digit form."""

    value: str

    @property
    def is_coordination_number(self) -> bool:
        return int(self.value[6:8]) > 60

    @property
    def birth_date(self) -> datetime.date:
        day = int(self.value[6:8])
        if day > 60:
            day -= 60
        return datetime.date(int(self.value[0:4]), int(self.value[4:6]), day)

    @property
    def ten_digit(self) -> str:
        return f"{self.value[2:8]}-{self.value[8:]}"

    @property
    def masked(self) -> str:
        """Birth date only, for screens where the full number is not needed."""
        return f"{self.value[:8]}-XXXX"

    def __str__(self) -> str:
        return f"{self.value[:8]}-{self.value[8:]}"


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def parse(raw: str, *, today: datetime.date | None = None) -> Personnummer:
    """Validate and normalise; raise ``ValidationError`` with a message that does not echo it."""
    text = (raw or "").strip().replace(" ", "")
    match = _PATTERN.match(text)
    if not match:
        raise ValidationError(
            _("A personal identity number has 10 or 12 digits, e.g. YYYYMMDD-NNNN."),
            code="format",
        )
    yymmdd, serial, check = match["yymmdd"], match["serial"], match["check"]
    if luhn_check_digit(yymmdd + serial) != int(check):
        raise ValidationError(
            _("The personal identity number's check digit is wrong."), code="checksum"
        )
    today = today or datetime.date.today()  # noqa: DTZ011 (a calendar date is what we need)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    real_day = day - 60 if day > 60 else day
    if match["century"] is not None:
        if match["sep"] == "+":
            raise ValidationError(_("The 12-digit form has no plus sign."), code="format")
        year = int(match["century"] + yymmdd[:2])
    else:
        year = _infer_year(int(yymmdd[:2]), month, real_day, today, hundred=match["sep"] == "+")
    try:
        born = datetime.date(year, month, real_day)
    except ValueError:
        raise ValidationError(
            _("The personal identity number does not contain a valid date of birth."),
            code="date",
        ) from None
    if born > today:
        raise ValidationError(
            _("The personal identity number's date of birth is in the future."), code="future"
        )
    return Personnummer(f"{year:04d}{yymmdd[2:]}{serial}{check}")


def _infer_year(yy: int, month: int, day: int, today: datetime.date, *, hundred: bool) -> int:
    """The latest year ending in ``yy`` whose birthday is not in the future (minus 100 for '+')."""
    year = today.year - (today.year - yy) % 100
    try:
        if datetime.date(year, month, day) > today:
            year -= 100
    except ValueError:
        # An impossible date: keep the century guess, the caller reports the bad date.
        if year > today.year:
            year -= 100
    return year - 100 if hundred else year


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except ValidationError:
        return False
    return True
