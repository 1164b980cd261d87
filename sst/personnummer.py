"""Swedish personal identity numbers (personnummer) and coordination numbers
(samordningsnummer), as Skatteverket issues them.

Accepted forms (whitespace around the number is ignored, nothing else):

- ``YYYYMMDDNNNC`` and ``YYYYMMDD-NNNC``: the 12-digit forms, for anyone.
- ``YYYYMMDD+NNNC``: only for someone who turns 100 this calendar year or earlier, where the
  plus agrees with the date; for anyone younger it contradicts the date and is refused.
- ``YYMMDD-NNNC`` and ``YYMMDDNNNC``: someone who turns at most 99 this calendar year.
- ``YYMMDD+NNNC``: someone who turns 100 this calendar year or earlier. Skatteverket changes
  the sign from '-' to '+' at the turn of the year in which the person turns 100, not on the
  birthday, so the century follows from the calendar year alone: '-' (or none) means the
  latest year ending in YY that is not after this year, '+' the latest one at least 100 years
  back. A '-' form whose date is later this year is therefore in the future, not 100 years old.

The only separators are '-' and '+' between the date and the last four digits. A space, a
slash or any other character is refused rather than guessed at: ``090527 1474`` could be
someone born in 1909 (``090527+1474``) or in 2009 (``090527-1474``).

The birth serial NNN runs 001–999 (000 is never issued). A coordination number has 60 added to
the day of birth; where the birth date is not known, Skatteverket writes ``00`` for the month
or the day (``19150072-2390``: born 1915, month not known, day 12; ``19140060-…``: only the year
is known). Such a number is valid; its ``birth_date`` is ``None`` and ``age_on`` answers only
when the known parts decide the age — everything that uses age must handle ``None``. The last
digit is a Luhn check digit over the 10-digit form. Everything is normalised to the 12-digit
form ``YYYYMMDDNNNC``.

Two look-alikes are refused with a message of their own: interim numbers (a letter in place of
the first serial digit, ``YYMMDD-T123``), which regions and schools hand out themselves and
which identify no one across systems — a pupil is registered with the personnummer or the
samordningsnummer Skatteverket issued; and organisation numbers (month 20 or more: a company,
an authority or another legal person, never a pupil or a guardian).

Error messages never repeat the number itself: it may end up in a log or on a screen.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$",
    re.ASCII,  # only 0-9: other scripts' digits would register one child twice
)
# Interim numbers carry one of these letters in the first serial digit's place (the letters
# the personnummer project's libraries recognise; ``E`` in its test data is not one of them).
_INTERIM = re.compile(r"^(?:\d{2})?\d{6}[-+]?[TRSUWXJKLMN]\d{3}$", re.ASCII | re.IGNORECASE)
COORDINATION_DAY_OFFSET = 60
HUNDRED_YEARS = 100


@dataclass(frozen=True)
class Personnummer:
    """A valid number in normalised 12-digit form."""

    value: str

    @property
    def is_coordination_number(self) -> bool:
        return int(self.value[6:8]) >= COORDINATION_DAY_OFFSET

    @property
    def birth_year(self) -> int:
        return int(self.value[0:4])

    @property
    def birth_month(self) -> int | None:
        """None when Skatteverket did not know it (a coordination number with month 00)."""
        return int(self.value[4:6]) or None

    @property
    def birth_day(self) -> int | None:
        """None when Skatteverket did not know it (a coordination number with day 60)."""
        day = int(self.value[6:8])
        if day >= COORDINATION_DAY_OFFSET:
            day -= COORDINATION_DAY_OFFSET
        return day or None

    @property
    def birth_date(self) -> datetime.date | None:
        """None when the month or the day is not known (coordination numbers only)."""
        month, day = self.birth_month, self.birth_day
        if month is None or day is None:
            return None
        return datetime.date(self.birth_year, month, day)

    @property
    def earliest_birth_date(self) -> datetime.date:
        """The earliest birth date the number allows: the birth date when it is known. A
        rule that applies "from an age" (the student's own consent) asks this, so an
        unknown day or month counts as old enough rather than too young."""
        return _possible_birth_dates(self.birth_year, self.birth_month, self.birth_day)[0]

    def age_on(self, day: datetime.date) -> int | None:
        """Age in whole years on ``day``; None when the unknown parts of the birth date leave
        two possible answers (a consent rule must then ask, a report count it as unknown)."""
        earliest, latest = _possible_birth_dates(self.birth_year, self.birth_month, self.birth_day)
        oldest, youngest = _age(earliest, day), _age(latest, day)
        return oldest if oldest == youngest else None

    @property
    def ten_digit(self) -> str:
        return f"{self.value[2:8]}-{self.value[8:]}"

    @property
    def masked(self) -> str:
        """Birth date only, for screens where the full number is not needed."""
        return f"{self.value[:8]}-XXXX"

    def __str__(self) -> str:
        return f"{self.value[:8]}-{self.value[8:]}"


def _possible_birth_dates(
    year: int, month: int | None, day: int | None
) -> tuple[datetime.date, datetime.date]:
    """The earliest and the latest birth date the known parts allow."""
    first_month, last_month = (month, month) if month else (1, 12)
    first_day = day or 1
    last_day = day or calendar.monthrange(year, last_month)[1]
    return datetime.date(year, first_month, first_day), datetime.date(year, last_month, last_day)


def _age(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # a digit times two, its digits summed


def luhn_check_digit(nine_digits: str) -> int:
    total = sum(_DOUBLED[int(c)] for c in nine_digits[0::2]) + sum(map(int, nine_digits[1::2]))
    return (10 - total % 10) % 10


FORMAT_MESSAGE = _(
    "A personal identity number has 10 or 12 digits, with at most a - or + before the last "
    "four, e.g. YYYYMMDD-NNNN or YYMMDD-NNNN."
)


def parse(raw: str, *, today: datetime.date | None = None) -> Personnummer:
    """Validate and normalise; raise ``ValidationError`` with a message that does not echo it."""
    text = (raw or "").strip()
    match = _PATTERN.match(text)
    if not match:
        if _INTERIM.match(text):
            raise ValidationError(
                _(
                    "This is an interim number (a letter among the last four), not a personal "
                    "identity number: use the personal identity number or coordination number "
                    "issued by Skatteverket."
                ),
                code="interim",
            )
        raise ValidationError(FORMAT_MESSAGE, code="format")
    yymmdd, serial, check = match["yymmdd"], match["serial"], match["check"]
    if luhn_check_digit(yymmdd + serial) != int(check):
        raise ValidationError(
            _("The personal identity number's check digit is wrong."), code="checksum"
        )
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if month >= 20 and match["sep"] != "+" and match["century"] in (None, "16"):
        raise ValidationError(
            _(
                "This is an organisation number (of a company, an authority or an association), "
                "not a personal identity number."
            ),
            code="organisation",
        )
    if serial == "000":
        raise ValidationError(
            _("The personal identity number's birth serial cannot be 000."), code="serial"
        )
    today = today or datetime.date.today()  # noqa: DTZ011 (a calendar date is what we need)
    plus = match["sep"] == "+"
    if match["century"] is None:
        base = today.year - HUNDRED_YEARS if plus else today.year
        year = base - (base - int(yymmdd[:2])) % 100
    else:
        year = int(match["century"] + yymmdd[:2])
    earliest = _earliest_birth_date(year, month, day)
    if earliest is None:
        raise ValidationError(
            _("The personal identity number does not contain a valid date of birth."),
            code="date",
        )
    if plus and today.year - year < HUNDRED_YEARS:
        raise ValidationError(
            _(
                "A plus sign marks someone who turns 100 this year or earlier; the date of "
                "birth says otherwise."
            ),
            code="plus",
        )
    if earliest > today:
        raise ValidationError(
            _("The personal identity number's date of birth is in the future."), code="future"
        )
    return Personnummer(f"{year:04d}{yymmdd[2:]}{serial}{check}")


def _earliest_birth_date(year: int, month: int, day: int) -> datetime.date | None:
    """The earliest birth date the number allows, or None if it names an impossible date.

    Month and day 00 are allowed only in coordination numbers (day 60 + 00).
    """
    coordination = day >= COORDINATION_DAY_OFFSET
    if coordination:
        day -= COORDINATION_DAY_OFFSET
    if not (0 <= month <= 12 and 0 <= day <= 31) or (not coordination and 0 in (month, day)):
        return None
    try:
        return datetime.date(year, month or 1, day or 1)
    except ValueError:
        return None


def is_valid(raw: str) -> bool:
    try:
        parse(raw)
    except ValidationError:
        return False
    return True
