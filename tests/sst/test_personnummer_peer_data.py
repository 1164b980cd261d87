"""Every case of the personnummer project's shared test data, through ``sst.personnummer``.

The data (tests/sst/data/personnummer/, see its README) holds Skatteverket's published test
personnummer and samordningsnummer (43,393 numbers) and the project's hand-picked, interim and
organisation-number cases. Each published number is tried in the five forms a user or a
register export may write it, about 217,000 cases in all; they run in a loop inside a few tests
and every disagreement is collected, so one run names them all (not 217,000 pytest items).

Where this product deliberately answers differently from a peer verdict, the test says why:
- A 10-digit number without a sign is read as someone under 100, as Skatteverket writes '+'
  for everyone older; so ``0905271474`` is born 2009, while the peer list's ``long_format`` for
  the same item is 1909. Both call it valid (the peer list checks only validity), so the
  verdicts agree; the value differs, and the test expects ours.
- 24 of Skatteverket's published test samordningsnummer name a day their month does not have
  (``192004912388``: 31 April; ``195102892386``: 29 February 1951). Skatteverket confirmed to
  the ActiveLogin.Identity maintainers that such numbers are not valid, and that ``00`` marks
  an unknown month or day (github.com/ActiveLogin/ActiveLogin.Identity, issue 126 and pull
  request 132, which lists the same 24). The data is wrong there; they are refused as having
  no valid date of birth, in every form.
- Interim numbers: the peer libraries accept them only when asked to; a pupil register never
  does (they identify no one outside the region that issued them), so all are refused, with a
  message of their own.
"""

from __future__ import annotations

import datetime
import json
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError

from sst.personnummer import parse

DATA = Path(__file__).parent / "data" / "personnummer"
# Any day after the last published number (2023-12-31) would do; a fixed one keeps the
# century of every 10-digit form, and so the expected answers, the same on every run.
TODAY = datetime.date(2026, 11, 23)
LIST_FORMS = ("long_format", "short_format", "separated_format", "separated_long")
# Published, but 31 April, 30 February and the like (see the module docstring).
IMPOSSIBLE_DATES = frozenset(
    [
        "192004912388",
        "193002902397",
        "193302912385",
        "193309912388",
        "194209912387",
        "194804912386",
        "195102892386",
        "195109912385",
        "195202912381",
        "196602902394",
        "197404912383",
        "197902902399",
        "198106912382",
        "198502902391",
        "199611912388",
        "200111912382",
        "200302912381",
        "200902912385",
        "201109912384",
        "201302892383",
        "201402902397",
        "201402912388",
        "201604912384",
        "201902892387",
    ]
)


@cache
def _load(name: str) -> list:  # type: ignore[type-arg]
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _answer(text: str) -> str:
    """The normalised number, or 'refused:<code>'."""
    try:
        return parse(text, today=TODAY).value
    except ValidationError as error:
        return f"refused:{error.code}"


def _earliest_birth(twelve: str) -> datetime.date:
    """Month or day 00 (coordination numbers whose birth date is not known) read as 01."""
    day = int(twelve[6:8]) % 60 or 1
    return datetime.date(int(twelve[:4]), int(twelve[4:6]) or 1, day)


def _forms(twelve: str) -> list[tuple[str, str]]:
    """(input, expected answer) for one published 12-digit number, in five forms."""
    year = int(twelve[:4])
    centenarian = TODAY.year - year >= 100  # the sign changes in the year they turn 100
    date_part, last_four = twelve[:8], twelve[8:]
    texts = [
        twelve,
        f"{date_part}-{last_four}",
        f"{date_part}+{last_four}",
        f"{date_part[2:]}{'+' if centenarian else '-'}{last_four}",
        f"{date_part[2:]}{last_four}",
    ]
    if twelve in IMPOSSIBLE_DATES:
        return [(text, "refused:date") for text in texts]
    if centenarian:
        # Without a sign the short form means someone under 100: a century later, if that
        # date has come yet (a different, younger person with the same digits).
        younger = f"{year + 100}{twelve[4:]}"
        bare = younger if _earliest_birth(younger) <= TODAY else "refused:future"
    else:
        bare = twelve
    expected = [twelve, twelve, twelve if centenarian else "refused:plus", twelve, bare]
    return list(zip(texts, expected, strict=True))


def _disagreements(cases: list[tuple[str, str]]) -> list[str]:
    wrong = []
    for text, expected in cases:
        got = _answer(text)
        if got != expected:
            wrong.append(f"{text!r}: expected {expected}, got {got}")
    return wrong


def _report(wrong: list[str], total: int) -> str:
    return f"{len(wrong)} of {total} disagree:\n" + "\n".join(wrong[:40])


def test_every_published_test_personnummer_in_every_form():
    pins = _load("allPins.json")
    assert len(pins) == 41_129
    cases = [case for pin in pins for case in _forms(pin)]
    wrong = _disagreements(cases)
    assert not wrong, _report(wrong, len(cases))


def test_every_published_test_samordningsnummer_in_every_form():
    coords = _load("allCoords.json")
    assert len(coords) == 2_264
    assert set(coords) >= IMPOSSIBLE_DATES
    cases = [case for coord in coords for case in _forms(coord)]
    wrong = _disagreements(cases)
    assert not wrong, _report(wrong, len(cases))
    unknown = [
        parse(coord, today=TODAY)
        for coord in coords
        if "00" in (coord[4:6], coord[6:8]) or coord[6:8] == "60"
    ]
    assert len(unknown) == 170
    assert all(n.is_coordination_number and n.birth_date is None for n in unknown)


def test_the_peer_list_verdicts():
    cases = _load("list.json")
    wrong = []
    for item in cases:
        for form in LIST_FORMS:
            got = _answer(item[form])
            if not item["valid"]:
                if not got.startswith("refused:"):
                    wrong.append(f"{item[form]!r}: the peer refuses it, we gave {got}")
                continue
            expected = item["long_format"]
            if form == "short_format" and "+" in item["separated_format"]:
                # No sign: someone under 100 (see the module docstring).
                expected = str(int(expected[:4]) + 100) + expected[4:]
            if got != expected:
                wrong.append(f"{item[form]!r}: expected {expected}, got {got}")
    assert not wrong, _report(wrong, len(cases) * len(LIST_FORMS))


def test_interim_numbers_are_refused_with_their_own_message():
    for item in _load("interim.json"):
        for form in LIST_FORMS:
            # The peer's one invalid interim number has a letter no interim number uses.
            expected = "refused:interim" if item["valid"] else "refused:format"
            assert _answer(item[form]) == expected, item[form]


def test_organisation_numbers_are_refused_with_their_own_message():
    for item in _load("orgnumber.json"):
        for text in (item["short_format"], item["separated_format"], "16" + item["short_format"]):
            assert _answer(text) == "refused:organisation", text
