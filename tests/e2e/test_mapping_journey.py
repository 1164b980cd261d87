"""The school-social mapping in real headless Chromium: the counsellor records a mapping,
the student's approval is recorded, and the mapping appears on the student health team's
agenda -- before the approval only as "a mapping exists", after it with its content. The
principal, who may read the agenda, never sees the text before the approval either.

Pages are found by their addresses and form fields, not by wording, so the test does not
depend on the state of the Swedish catalogue. Screenshots go to test-artifacts/<test>/.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.mapping import services
from cases.models import CauseFactor, CauseGroup, MappingApproval, SchoolSocialMapping

from ..privacy import find_personnummer
from .browser import sign_in

pytestmark = pytest.mark.browser

SCHOOL_TEXT = "Trivs på rasterna men undviker matematiken"
SUPPORT_TEXT = "En lugn plats att börja dagen på"


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    # The agenda is a print page without the menu; a fresh session is the same as signing out.
    page.context.clear_cookies()


def test_counsellor_records_a_mapping_that_reaches_the_eht_agenda_after_approval(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    # The catalogue is loaded by a data migration; the browser tests' database is flushed
    # between tests, so make sure the factor used here exists.
    bullying, _created = CauseFactor.objects.get_or_create(
        group=CauseGroup.SCHOOL, label="Mobbning"
    )
    student = world.student_a1
    agenda = base + reverse("cases:eht_agenda", args=[world.school_a.unit_code])

    sign_in(page, base, world.counsellor_a.username)
    page.goto(base + reverse("cases:mapping_overview", args=[student.public_id]))
    assert student.full_name in page.locator("main").inner_text()
    shot(page, "overview-empty")

    # The counsellor's new mapping: the four areas, a cause factor, the type of absence and
    # two of the analysis statements.
    page.locator(f"a[href='{reverse('cases:mapping_create', args=[student.public_id])}']").click()
    page.wait_for_load_state()
    page.locator("textarea[name=school_situation]").fill(SCHOOL_TEXT)
    page.locator("textarea[name=wellbeing]").fill("Sover dåligt inför måndagar.")
    page.locator("textarea[name=home_and_leisure]").fill("Bor med mamma, spelar fotboll.")
    page.locator("textarea[name=support_needed]").fill("Ett eget schema de första veckorna.")
    page.locator("textarea[name=support_wanted]").fill(SUPPORT_TEXT)
    page.locator(f"input[name=causes][value='{bullying.pk}']").check()
    page.locator("select[name=absence_kind]").select_option("systematic")
    page.locator("input[name=analysis_absence_increased][value=agrees]").check()
    page.locator("input[name=analysis_low_mood][value=partly]").check()
    shot(page, "mapping-form")
    page.locator("form.mapping-form button[name=done]").click()
    page.wait_for_load_state()

    record = SchoolSocialMapping.objects.get(case__student=student)
    assert page.url == base + reverse("cases:mapping_detail", args=[record.public_id])
    assert SCHOOL_TEXT in page.locator("main").inner_text()
    assert record.approval == MappingApproval.PENDING
    assert record.analysis == {"absence_increased": "agrees", "low_mood": "partly"}
    assert list(record.causes.all()) == [bullying]
    shot(page, "mapping-saved")

    # Before the student's approval the agenda says only that a mapping exists.
    page.goto(agenda)
    assert page.locator(".mapping-not-shared").count() == 1
    assert SCHOOL_TEXT not in page.locator("main").inner_text()
    shot(page, "agenda-before-approval")

    # The student has read it and approved in writing: the counsellor records it.
    page.goto(base + reverse("cases:mapping_detail", args=[record.public_id]))
    page.locator("input[name=approval][value=approved]").check()
    page.locator(".approval-card button[type=submit]").click()
    page.wait_for_load_state()
    record.refresh_from_db()
    assert record.approval == MappingApproval.APPROVED
    shot(page, "approved")

    page.goto(agenda)
    shared = page.locator(".mapping-shared")
    assert shared.count() == 1
    assert SCHOOL_TEXT in shared.inner_text()
    assert student.last_name in page.locator("main").inner_text()
    shot(page, "agenda-after-approval")

    # The principal reads it on the agenda and on the mapping's page now, too.
    _sign_out(page)
    sign_in(page, base, world.principal_a.username)
    page.goto(agenda)
    assert SCHOOL_TEXT in page.locator(".mapping-shared").inner_text()
    response = page.goto(base + reverse("cases:mapping_detail", args=[record.public_id]))
    assert response is not None and response.status == 200
    assert SUPPORT_TEXT in page.locator("main").inner_text()
    shot(page, "principal-reads")

    assert [url for url in seen if find_personnummer(url)] == []


def test_principal_never_sees_a_pending_mapping(browser_page, live_server, e2e_world, shot):
    page, world = browser_page, e2e_world
    base = live_server.url
    record = services.mapping_create(
        student=world.student_a1,
        content=services.MappingContent(
            conducted_on=timezone.localdate(), school_situation=SCHOOL_TEXT
        ),
        by=world.counsellor_a,
    )
    sign_in(page, base, world.principal_a.username)
    page.goto(base + reverse("cases:mapping_overview", args=[world.student_a1.public_id]))
    main = page.locator("main").inner_text()
    assert SCHOOL_TEXT not in main
    assert page.locator(".mapping-list tbody tr").count() == 1  # it exists
    shot(page, "principal-overview")
    response = page.goto(base + reverse("cases:mapping_detail", args=[record.public_id]))
    assert response is not None and response.status == 404
    page.goto(base + reverse("cases:eht_agenda", args=[world.school_a.unit_code]))
    assert SCHOOL_TEXT not in page.locator("main").inner_text()
