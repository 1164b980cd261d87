"""The shared personnummer detector (tests/privacy.py) finds numbers, not look-alikes."""

from __future__ import annotations

import uuid

import pytest

from sst.personnummer import luhn_check_digit

from .privacy import find_personnummer


def _valid(yymmdd: str, serial: str = "123") -> str:
    return f"{yymmdd}{serial}{luhn_check_digit(yymmdd + serial)}"


TEN = _valid("800101")  # 800101-123?, a fictitious number with a right check digit
SAMORDNING = _valid("800161")  # day 1 + 60
UNKNOWN_BIRTH_DATE = _valid("150072")  # month not known (00), day 12 + 60
ONLY_THE_YEAR = _valid("140060")  # month and day not known
CENTENARIAN = _valid("090101")


@pytest.mark.parametrize(
    "text",
    [
        f"Elev 19{TEN[:6]}-{TEN[6:]} har frånvaro",
        f"/elev/{TEN[:6]}-{TEN[6:]}/",
        f"personnummer=19{TEN}",
        f"{TEN[:6]}+{TEN[6:]}",
        f"samordningsnummer {SAMORDNING}",
        f"nyanländ 19{UNKNOWN_BIRTH_DATE}",
        f"nyanländ {ONLY_THE_YEAR[:6]}-{ONLY_THE_YEAR[6:]}",
        f"19{CENTENARIAN[:6]}+{CENTENARIAN[6:]}",  # 12 digits with '+': born 1909
    ],
)
def test_a_real_format_number_in_text_is_found(text):
    assert len(find_personnummer(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        # UUIDs whose groups are all digits and look like YYYYMMDD-NNNN.
        f"/elev/19800101-{TEN[6:]}-458e-8123-456789012345/",
        f"/elev/{uuid.UUID(f'19{TEN[:6]}-{TEN[6:]}-4000-8000-000000000000')}/",
        f"19{TEN}40008000000000000000",  # the same UUID as hex
        f"request a1b2c3d4e5f619{TEN}ab",  # a hex id
        f"1{TEN}9",  # part of a longer digit run
        "12 345 678 lessons, 2026-11-29 10:24:20",
        "1234567890",  # ten random digits: no date, wrong check digit
        f"19{TEN[:6]}+{TEN[6:]}",  # '+' in 12 digits only for someone 100 or older
    ],
)
def test_look_alikes_are_not_found(text):
    assert find_personnummer(text) == []


def test_shape_only_finds_mistyped_numbers_too():
    wrong_check = TEN[:-1] + str((int(TEN[-1]) + 1) % 10)
    assert find_personnummer(f"rad 3: {wrong_check}") == []
    assert find_personnummer(f"rad 3: {wrong_check}", valid_only=False) == [wrong_check]
    digit_uuid = f"19{TEN[:6]}-{TEN[6:]}-4000-8000-000000000000"
    assert find_personnummer(digit_uuid, valid_only=False) == []
