"""No personal data in URLs, logs or error pages."""

import logging
import re
import sys

import pytest
from django.test import Client
from django.urls import reverse

from sst.logging import PersonnummerScrubFilter

from ..conftest import verified_login
from ..privacy import find_personnummer


def test_student_urls_use_the_opaque_id(world):
    url = reverse("cases:student_detail", args=[world.student_a1.public_id])
    assert not find_personnummer(url)
    assert world.student_a1.last_name not in url


def test_pages_link_to_students_without_personal_data_in_urls(client, world):
    verified_login(client, world.counsellor_a)
    page = client.get(reverse("cases:student_list")).content.decode()
    for href in re.findall(r'href="([^"]+)"', page):
        assert not find_personnummer(href), href


def test_viewing_a_student_logs_no_personal_data(client, world, caplog):
    verified_login(client, world.counsellor_a)
    with caplog.at_level(logging.DEBUG):
        client.get(reverse("cases:student_detail", args=[world.student_a1.public_id]))
        client.get(reverse("cases:student_detail", args=[world.student_b1.public_id]))
    text = caplog.text
    number = world.student_a1.personnummer.value
    assert number not in text and number[2:] not in text
    assert world.student_a1.last_name not in text


def test_the_scrub_filter_masks_personnummer_shaped_strings():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", ("201201019804",), None)
    PersonnummerScrubFilter().filter(record)
    assert record.getMessage() == "value [personnummer]"


def test_not_found_page_is_friendly_and_swedish(client, world):
    verified_login(client, world.mentor_a1)
    response = client.get(reverse("cases:student_detail", args=[world.student_b1.public_id]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Sidan hittades inte" in page or "Page not found" in page
    assert world.student_b1.last_name not in page


def test_server_error_page_shows_nothing_about_the_request(world, settings, monkeypatch):
    from cases import views

    def explode(*args, **kwargs):
        raise RuntimeError(f"boom {world.student_a1.personnummer}")

    monkeypatch.setattr(views, "render", explode)
    client = Client(raise_request_exception=False)
    verified_login(client, world.counsellor_a)
    response = client.get(reverse("cases:student_detail", args=[world.student_a1.public_id]))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Något gick fel" in page
    assert "boom" not in page and world.student_a1.last_name not in page


def test_error_reports_hide_request_data_and_local_variables(rf):
    from sst.logging import NoPersonalDataReporterFilter

    request = rf.post("/", {"personnummer": "201201019804"})
    reporter = NoPersonalDataReporterFilter()
    assert reporter.get_post_parameters(request) == {"personnummer": reporter.cleansed_substitute}


@pytest.mark.parametrize("header", ["abc", "x" * 100, "<script>"])
def test_request_ids_from_outside_are_only_kept_when_well_formed(client, db, header):
    response = client.get(reverse("sst:health"), HTTP_X_REQUEST_ID=header)
    assert response["X-Request-ID"] != header
    good = "a1b2c3d4e5f6"
    assert client.get(reverse("sst:health"), HTTP_X_REQUEST_ID=good)["X-Request-ID"] == good


def _scrubbed(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, args, exc_info)
    PersonnummerScrubFilter().filter(record)
    return record


def test_the_scrub_filter_leaves_uuids_and_hex_ids_readable():
    # The digit groups of these UUIDs look like YYYYMMDD-NNNN; audit and request ids must
    # stay intact in the logs or events could not be traced.
    for identifier in (
        "19800101-1234-4000-8000-000000000000",
        "74397784-1637-458e-8000-198001011234",
        "1980010112344000a000000000000000",
    ):
        assert _scrubbed("audit view student %s", identifier).getMessage() == (
            f"audit view student {identifier}"
        )


def test_the_scrub_filter_masks_numbers_in_every_form_and_in_tracebacks():
    for number in ("19800101-1234", "800101-1234", "800101+1234", "8001011234"):
        assert _scrubbed("student %s missing", number).getMessage() == (
            "student [personnummer] missing"
        )
    try:
        raise ValueError("no student 201201019804")
    except ValueError:
        record = _scrubbed("import failed", exc_info=sys.exc_info())
    handler_output = logging.Formatter().format(record)
    assert "201201019804" not in handler_output
    assert "no student [personnummer]" in handler_output
