"""Personnummer validation: format, check digit, dates, normalisation (property-based), and
the rules as Skatteverket issues the numbers (serials, the '+' year, unknown birth dates,
separators, interim and organisation numbers). The peer test data: test_personnummer_peer_data.py.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from sst.forms import PersonnummerLookupForm
from sst.personnummer import luhn_check_digit, parse

TODAY = datetime.date(2026, 11, 23)


def build(born: datetime.date, serial: int, *, coordination: bool = False) -> tuple[str, str]:
    """(10-digit with '-', 12-digit) forms of a valid number."""
    day = born.day + (60 if coordination else 0)
    yymmdd = f"{born:%y%m}{day:02d}"
    check = luhn_check_digit(f"{yymmdd}{serial:03d}")
    return f"{yymmdd}-{serial:03d}{check}", f"{born.year:04d}{yymmdd[2:]}{serial:03d}{check}"


births = st.dates(min_value=datetime.date(1827, 1, 1), max_value=TODAY)
serials = st.integers(min_value=1, max_value=999)  # Skatteverket issues 001–999, never 000


@given(born=births, serial=serials, coordination=st.booleans())
def test_every_valid_number_normalises_to_twelve_digits(born, serial, coordination):
    ten, twelve = build(born, serial, coordination=coordination)
    from_twelve = parse(twelve, today=TODAY)
    assert from_twelve.value == twelve
    assert parse(f"{twelve[:8]}-{twelve[8:]}", today=TODAY) == from_twelve
    assert from_twelve.birth_date == born
    assert from_twelve.is_coordination_number is coordination
    # The short form's sign says whether the person turns 100 this calendar year or earlier.
    if TODAY.year - born.year >= 100:
        assert parse(ten.replace("-", "+"), today=TODAY) == from_twelve
        assert parse(f"{twelve[:8]}+{twelve[8:]}", today=TODAY) == from_twelve
    else:
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


def test_plus_sign_in_the_year_someone_turns_100_before_their_birthday():
    """Skatteverket changes '-' to '+' at the turn of the year the person turns 100, not on
    the birthday: on 29 November 2026, 261204+9029 is born 4 December 1926 (not 1826)."""
    on = datetime.date(2026, 11, 29)
    number = parse("261204+9029", today=on)
    assert number.value == "192612049029"
    assert number.age_on(on) == 99
    # The '-' form of the same digits is someone born this year, whose birthday is to come.
    with pytest.raises(ValidationError) as caught:
        parse("261204-9029", today=on)
    assert caught.value.code == "future"


@pytest.mark.parametrize(
    "today, sign, year",
    [
        (datetime.date(2025, 12, 31), "-", 1926),  # turns 99 in 2025: still '-'
        (datetime.date(2025, 12, 31), "+", 1826),
        (datetime.date(2026, 1, 1), "+", 1926),  # turns 100 in 2026: '+' from 1 January
        (datetime.date(2026, 1, 1), "-", 2026),  # '-' is now someone born today
        (datetime.date(2026, 1, 1), "", 2026),  # no sign reads as '-'
    ],
)
def test_the_sign_changes_at_the_turn_of_the_year(today, sign, year):
    ten, _twelve = build(datetime.date(1926, 1, 1), 981)
    assert parse(ten.replace("-", sign), today=today).birth_year == year


def test_serial_000_is_never_issued():
    """20150916-0006 has a right check digit, but Skatteverket's serials run 001–999."""
    for text in ("20150916-0006", "201509160006", "150916-0006", "1509160006"):
        with pytest.raises(ValidationError) as caught:
            parse(text, today=TODAY)
        assert caught.value.code == "serial"
    assert parse(build(datetime.date(2015, 9, 16), 1)[1], today=TODAY).value == "201509160014"


def _coordination(yyyymmdd: str, serial: str = "239") -> str:
    """A coordination number with day + 60 already in ``yyyymmdd`` (00 allowed)."""
    return f"{yyyymmdd}{serial}{luhn_check_digit(yyyymmdd[2:] + serial)}"


def test_coordination_number_with_unknown_month_and_day():
    """Skatteverket writes 00 for what it does not know: 191500722390 is born in 1915, month
    not known, day 12."""
    number = parse("191500722390", today=TODAY)
    assert number.value == "191500722390"
    assert number.is_coordination_number
    assert (number.birth_year, number.birth_month, number.birth_day) == (1915, None, 12)
    assert number.birth_date is None
    assert number.age_on(TODAY) is None  # 110 or 111
    assert parse("150072+2390", today=TODAY) == number

    only_the_year = parse(_coordination("20140060"), today=TODAY)
    assert only_the_year.is_coordination_number  # day 60 is day 00, still a coordination number
    assert only_the_year.birth_date is None and only_the_year.birth_day is None
    assert only_the_year.age_on(datetime.date(2026, 6, 1)) is None  # 11 or 12
    assert only_the_year.age_on(datetime.date(2026, 12, 31)) == 12
    assert only_the_year.age_on(datetime.date(2027, 1, 1)) is None  # 12, or 13 if born 1 Jan


def test_age_with_a_known_month_is_unknown_only_in_that_month():
    number = parse(_coordination("20130960"), today=TODAY)  # September 2013, day not known
    assert number.birth_month == 9 and number.birth_date is None
    assert number.age_on(datetime.date(2026, 8, 31)) == 12
    assert number.age_on(datetime.date(2026, 9, 1)) is None
    assert number.age_on(datetime.date(2026, 9, 30)) == 13
    assert number.age_on(datetime.date(2026, 10, 1)) == 13


def test_age_of_a_known_birth_date():
    number = parse(build(datetime.date(2012, 2, 29), 981)[1], today=TODAY)
    assert number.age_on(datetime.date(2026, 2, 28)) == 13
    assert number.age_on(datetime.date(2026, 3, 1)) == 14


@pytest.mark.parametrize(
    "yyyymmdd, code",
    [
        ("20140000", "date"),  # month and day 00 without + 60: not a coordination number
        ("20140012", "date"),  # month 00 in a personnummer
        ("20140300", "date"),  # day 00 in a personnummer
        ("20141360", "date"),  # month 13
        ("20140092", "date"),  # day 32
        ("20140491", "date"),  # 31 April
        ("20270060", "future"),  # only the year known, and it is to come
        ("20261260", "future"),  # December this year, day not known
    ],
)
def test_impossible_or_future_coordination_dates_are_refused(yyyymmdd, code):
    with pytest.raises(ValidationError) as caught:
        parse(_coordination(yyyymmdd), today=TODAY)
    assert caught.value.code == code


def test_this_months_coordination_number_with_unknown_day_is_accepted():
    assert parse(_coordination("20261160"), today=TODAY).birth_month == 11


@pytest.mark.parametrize(
    "text",
    [
        "090527 1474",  # once silently read as 2009
        "19090527 1474",
        "090527\t1474",
        "090527/1474",
        "090527–1474",  # an en dash
        "0905 27-1474",
        "090527--1474",
        "090527-+1474",
    ],
)
def test_only_a_dash_or_a_plus_separates(text):
    with pytest.raises(ValidationError) as caught:
        parse(text, today=TODAY)
    assert caught.value.code == "format"


def test_whitespace_around_the_number_is_ignored():
    assert parse("  090527+1474\n", today=TODAY).value == "190905271474"


def test_twelve_digits_with_a_plus_only_when_it_agrees_with_the_date():
    assert parse("19090527+1474", today=TODAY).value == "190905271474"
    _ten, twelve = build(datetime.date(2009, 5, 27), 147)
    with pytest.raises(ValidationError) as caught:
        parse(f"{twelve[:8]}+{twelve[8:]}", today=TODAY)
    assert caught.value.code == "plus"


@pytest.mark.parametrize("text", ["000101-T220", "20000101T220", "000101R220", "000101-x220"])
def test_interim_numbers_are_refused_with_their_own_reason(text):
    with pytest.raises(ValidationError) as caught:
        parse(text, today=TODAY)
    assert caught.value.code == "interim"
    assert "interimistiskt nummer" in caught.value.messages[0]


@pytest.mark.parametrize("text", ["857209-0606", "8020051952", "16802005-1952", "168020051952"])
def test_organisation_numbers_are_refused_with_their_own_reason(text):
    with pytest.raises(ValidationError) as caught:
        parse(text, today=TODAY)
    assert caught.value.code == "organisation"
    assert "organisationsnummer" in caught.value.messages[0]  # Swedish by default


def test_month_20_or_more_with_a_wrong_check_digit_is_a_wrong_check_digit():
    with pytest.raises(ValidationError) as caught:
        parse("857209-0607", today=TODAY)
    assert caught.value.code == "checksum"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("", "format"),
        ("12345", "format"),
        ("20120101-98A1", "format"),
        ("2012-01-01-9801", "format"),
        ("20120132-9800", "date"),  # its check digit happens to be right
        ("2012013-29800", "format"),
    ],
)
def test_malformed_numbers_are_refused_with_a_reason(raw, code):
    with pytest.raises(ValidationError) as caught:
        parse(raw, today=TODAY)
    assert caught.value.code == code


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


def test_the_audit_lookup_form_refuses_a_space_and_says_what_it_takes():
    """The audit log's lookup once read '090527 1474' as someone born in 2009."""
    with translation.override("sv"):
        form = PersonnummerLookupForm(data={"personnummer": "090527 1474"})
        assert not form.is_valid()
        assert form.errors["personnummer"] == [
            "Ett personnummer har 10 eller 12 siffror, med högst ett - eller + före de fyra "
            "sista, t.ex. ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN."
        ]
        assert "ÅÅMMDD-NNNN" in str(form["personnummer"].help_text)
    assert PersonnummerLookupForm(data={"personnummer": "090527+1474"}).is_valid()
