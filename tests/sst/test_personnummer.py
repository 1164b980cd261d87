"""Personnummer validation: format, check digit, dates, normalisation (property-based)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from sst.personnummer import luhn_check_digit, parse

TODAY = datetime.date(2026, 11, 23)


def build(born: datetime.date, serial: int, *, coordination: bool = False) -> tuple[str, str]:
    """(10-digit with '-', 12-digit) forms of a valid number."""
    day = born.day + (60 if coordination else 0)
    yymmdd = f"{born:%y%m}{day:02d}"
    check = luhn_check_digit(f"{yymmdd}{serial:03d}")
    return f"{yymmdd}-{serial:03d}{check}", f"{born.year:04d}{yymmdd[2:]}{serial:03d}{check}"


births = st.dates(min_value=datetime.date(1927, 1, 1), max_value=TODAY)
serials = st.integers(min_value=0, max_value=999)


@given(born=births, serial=serials, coordination=st.booleans())
def test_every_valid_number_normalises_to_twelve_digits(born, serial, coordination):
    ten, twelve = build(born, serial, coordination=coordination)
    from_twelve = parse(twelve, today=TODAY)
    assert from_twelve.value == twelve
    assert parse(f"{twelve[:8]}-{twelve[8:]}", today=TODAY) == from_twelve
    assert from_twelve.birth_date == born
    assert from_twelve.is_coordination_number is coordination
    # The short form is read as the latest matching date not in the future, as Skatteverket does
    if (TODAY - born).days < 365 * 99:
        assert parse(ten, today=TODAY) == from_twelve
        assert parse(ten.replace("-", ""), today=TODAY) == from_twelve


@given(born=births, serial=serials, position=st.integers(0, 9), delta=st.integers(1, 9))
def test_changing_any_single_digit_breaks_the_check_digit_or_the_date(
    born, serial, position, delta
):
    ten, _ = build(born, serial)
    digits = ten.replace("-", "")
    mutated = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1 :]
    with pytest.raises(ValidationError):
        parse(mutated, today=TODAY)


@given(text=st.text(max_size=20))
def test_arbitrary_text_is_refused_or_valid_never_crashes(text):
    try:
        result = parse(text, today=TODAY)
    except ValidationError as error:
        # The message never repeats the input.
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= 4:
            assert digits not in " ".join(error.messages)
    else:
        assert len(result.value) == 12 and result.value.isdigit()


def test_plus_sign_means_a_hundred_years_or_more():
    ten, _twelve = build(datetime.date(1920, 5, 17), 123)
    assert parse(ten.replace("-", "+"), today=TODAY).value.startswith("1920")


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "format"),
        ("12345", "format"),
        ("20120101-98A1", "format"),
        ("2012-01-01-9801", "format"),
        ("20120132-9800", "checksum"),
    ],
)
def test_malformed_numbers_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as caught:
        parse(raw, today=TODAY)
    assert caught.value.code in {code, "checksum", "date", "format"}


def test_impossible_date_with_valid_check_digit_is_refused():
    yymmdd = "120230"  # 30 February
    check = luhn_check_digit(yymmdd + "981")
    with pytest.raises(ValidationError) as caught:
        parse(f"20{yymmdd}981{check}", today=TODAY)
    assert caught.value.code == "date"


def test_future_birth_date_is_refused():
    _ten, twelve = build(datetime.date(2026, 12, 24), 981)
    with pytest.raises(ValidationError) as caught:
        parse(twelve, today=TODAY)
    assert caught.value.code == "future"


def test_known_published_example_number():
    # Skatteverket's own worked example of the check digit: 811218-987(6).
    assert luhn_check_digit("811218987") == 6
    assert parse("811218-9876", today=TODAY).value == "198112189876"
