"""The one detector of personal identity numbers in what the app shows, logs or links.

Tests ask ``find_personnummer(text)`` whether a page, URL, log, e-mail, CSV name or PDF
text carries a personnummer or samordningsnummer. A bare digit pattern also matches digits
inside UUIDs ("74397784-1637-458e-…" once failed a journey test), hex ids and longer digit
runs, and any ten random digits; so this one skips UUIDs and hex ids, wants the number to
stand alone, and by default checks the date of birth and the Luhn digit.

It deliberately does not use ``sst.personnummer``: a test's detector must not share a bug
with the code it watches.
"""

from __future__ import annotations

import datetime
import re

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
# A run of letters and digits (a hex id, a token, a slug) is never a personnummer, nor is a
# longer run of digits: the candidate must not touch a letter, digit or underscore.
_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z_])(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<rest>\d{4})"
    r"(?![0-9A-Za-z_])",
    re.ASCII,
)


def _luhn_ok(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def _date_ok(century: str | None, yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day >= 60:  # a samordningsnummer: day of birth + 60
        day -= 60
        if month == 0 or day == 0:  # 00: a part of the birth date Skatteverket did not know
            return month <= 12 and day <= 31
    yy = int(yymmdd[:2])
    years = [int(century + yymmdd[:2])] if century else [1900 + yy, 2000 + yy]
    for year in years:
        try:
            datetime.date(year, month, day)
        except ValueError:
            continue
        return True
    return False


def _hundred(year: str) -> bool:
    return datetime.date.today().year - int(year) >= 100


def find_personnummer(text: str, *, valid_only: bool = True) -> list[str]:
    """Every personnummer-shaped number in ``text`` outside UUIDs and hex ids.

    ``valid_only`` (the default) keeps only numbers with a real date of birth and a right
    check digit, so counts, codes and timestamps do not match. Pass ``False`` where a
    mistyped number would leak as much as a valid one (an import's error messages echo
    what the file said).
    """
    text = _UUID.sub(" ", text)
    found = []
    for match in _CANDIDATE.finditer(text):
        if valid_only and not (
            # A 12-digit form has a plus sign only for someone 100 or older this year.
            not (match["century"] and match["sep"] == "+" and not _hundred(match[0][:4]))
            and _date_ok(match["century"], match["yymmdd"])
            and _luhn_ok(match["yymmdd"] + match["rest"])
        ):
            continue
        found.append(match[0])
    return found
