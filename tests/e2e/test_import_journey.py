"""An attendance import in real headless Chromium, from the administrator's upload to the
mentor's desk.

A school administrator signs in with password and a real TOTP code (administrators must use
the second factor), uploads this month's lesson attendance for their school through the
page, and sees the result page say it was imported. Then the class's mentor signs in and
finds the student's new step and the absence alert on their desk.

Screenshots of every step go to test-artifacts/<test name>/ (git-ignored).
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from attendance.models import Alert, ImportRun, ImportStatus, Rule
from sst.models import Role

from ..factories import UserFactory, grant
from ..privacy import find_personnummer
from .browser import sign_in

pytestmark = pytest.mark.browser

HEADER = (
    "personnummer;skolenhetskod;datum;starttid;sluttid;amne;schemalagd_min;franvaro_min;franvarotyp"
)


def _attendance_csv(student, school) -> bytes:  # type: ignore[no-untyped-def]
    """Eight lessons this month, one of them missed without a valid reason: 12.5 %, step 2."""
    today = timezone.localdate()
    lines = [HEADER]
    for n in range(8):
        day = today.replace(day=1 + n % today.day)
        start = datetime.time(8 + n // today.day, 0)
        end = datetime.time(start.hour, 50)
        absent, kind = (50, "ogiltig") if n == 0 else (0, "")
        lines.append(
            f"{student.personnummer};{school.unit_code};{day.isoformat()};{start:%H:%M};"
            f"{end:%H:%M};Matematik;50;{absent};{kind}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _sv(text: str) -> str:
    with translation.override("sv"):
        return translation.gettext(text)


def test_school_admin_imports_attendance_and_the_mentor_sees_the_alert(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    admin = UserFactory(username="skoladmin_a", first_name="Sara", last_name="Skoladmin")
    grant(admin, Role.ADMINISTRATOR, world.school_a)
    device = TOTPDevice.objects.create(user=admin, name="authenticator", confirmed=True)

    # Password, then the second factor through the real form.
    sign_in(page, base, admin.username)
    assert "/tvafaktor/verifiera/" in page.url
    shot(page, "otp")
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    page.locator("input[name=token]").fill(f"{code:0{device.digits}d}")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/"

    # The upload page: the school register is not offered to a school administrator.
    page.goto(f"{base}/import/ny/")
    assert page.locator("input[name=kind][value=schools]").count() == 0
    page.locator("input[name=kind][value=attendance]").check()
    assert page.locator("select[name=school] option").all_inner_texts() == [world.school_a.name]
    page.locator("input[name=file]").set_input_files(
        files=[
            {
                "name": "närvaro.csv",
                "mimeType": "text/csv",
                "buffer": _attendance_csv(world.student_a1, world.school_a),
            }
        ]
    )
    shot(page, "upload")
    page.locator("form.import-form button[type=submit]").click()
    page.wait_for_load_state()

    # The result page: imported (the task ran in-process when the upload committed).
    run = ImportRun.objects.get()
    assert page.url == f"{base}/import/{run.public_id}/"
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.school_scope == world.school_a
    outcome = page.locator(".import-outcome")
    outcome.wait_for()
    assert _sv("The file was imported.") in outcome.inner_text()
    assert page.locator("html").get_attribute("lang") == "sv"
    shot(page, "result")
    page.goto(f"{base}/import/")
    assert "närvaro.csv" in page.locator("table.import-table").inner_text()
    shot(page, "history")
    assert Alert.objects.filter(student=world.student_a1, rule=Rule.STEP_2).exists()

    # Sign out; the mentor signs in and finds the alert and the step on the desk.
    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state()
    sign_in(page, base, world.mentor_a1.username)
    assert page.url == f"{base}/"
    alerts = page.locator("section.inbox")
    alerts.wait_for()
    inbox = alerts.inner_text()
    assert "Ekholmsson, Alva" in inbox
    with translation.override("sv"):
        assert str(Rule.STEP_2.label) in inbox
    row = page.locator("table.mentor-group-absence tr", has_text="Ekholmsson, Alva")
    cells = row.locator("td").all_inner_texts()
    assert any("12,5" in cell for cell in cells), cells  # this month's absence
    assert "2" in [cell.strip() for cell in cells], cells  # this month's step
    shot(page, "mentor-desk")

    # No address carried a personnummer (the file went in the request body).
    assert not [url for url in urls if find_personnummer(url)]
