"""The EHT and principal pages: who may open them, what they show, audits, query counts."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import escalation
from cases.eht import services
from cases.models import (
    EhtDecision,
    EhtDecisionKind,
    EhtMeeting,
    Escalation,
    EscalationKind,
    MappingApproval,
)
from sst.models import AuditAction, AuditEvent

from ..attendance.factories import refresh
from ..clock import pinned_clock
from ..conftest import verified_login
from ..factories import StudentFactory
from .test_eht import (
    LAST,
    THIS,
    TODAY,
    mapping,
    reported_checklist,
    staircase_case,
    step3_absence,
    step4_absence,
)

_clock = pinned_clock(TODAY)

EVERYONE = [
    "principal_a",
    "counsellor_a",
    "nurse_a",
    "mentor_a1",
    "counsellor_b",
    "social_worker_n",
    "manager_m",
    "admin_m",
    "nobody",
]
EHT_ALLOWED = {"principal_a", "counsellor_a", "nurse_a"}
PRINCIPAL_ALLOWED = {"principal_a"}

PRINT_CSS = (Path(__file__).resolve().parents[2] / "static/css/print.css").read_text(
    encoding="utf-8"
)


@pytest.fixture
def pages(world):
    """a1 reported to the EHT (step 3 last month) with an open decision; a2 at step 4 last
    month and this month; b1 reported at school B."""
    step3_absence(world.student_a1)
    step4_absence(world.student_a2)
    step4_absence(world.student_a2, THIS)
    step4_absence(world.student_b1)
    refresh(LAST, THIS)
    world.case_a1 = staircase_case(world.student_a1)
    reported_checklist(world.case_a1, follow_up_done=True)
    world.decision_a1 = services.eht_decision_record(
        case=world.case_a1,
        kind=EhtDecisionKind.PEDAGOGICAL_MAPPING,
        responsible=world.counsellor_a,
        due_on=TODAY + datetime.timedelta(days=10),
        comment="",
        by=world.principal_a,
    )
    world.case_b1 = staircase_case(world.student_b1)
    reported_checklist(world.case_b1)
    return world


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def eht_url(world) -> str:
    return reverse("cases:eht_school", args=[world.school_a.unit_code])


def agenda_url(world) -> str:
    return reverse("cases:eht_agenda", args=[world.school_a.unit_code])


def report_url(world) -> str:
    return reverse("cases:principal_report", args=[world.school_a.unit_code])


def print_url(world) -> str:
    return reverse("cases:principal_report_print", args=[world.school_a.unit_code])


# ---------------------------------------------------------------- the role matrix


GETS = {
    "eht_school": (eht_url, EHT_ALLOWED),
    "eht_agenda": (agenda_url, EHT_ALLOWED),
    "eht_case": (lambda w: reverse("cases:eht_case", args=[w.case_a1.public_id]), EHT_ALLOWED),
    "principal_report": (report_url, PRINCIPAL_ALLOWED),
    "principal_report_print": (print_url, PRINCIPAL_ALLOWED),
    "principal_student": (
        lambda w: reverse("cases:principal_student", args=[w.student_a2.public_id]),
        PRINCIPAL_ALLOWED,
    ),
}


@pytest.mark.parametrize("view", sorted(GETS))
@pytest.mark.parametrize("person", EVERYONE)
def test_pages_open_for_their_roles_only(client, pages, view, person):
    url_of, allowed = GETS[view]
    verified_login(client, getattr(pages, person))
    response = client.get(url_of(pages))
    if person in allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
        body = response.content.decode()
        assert pages.student_a1.last_name not in body
        assert pages.student_a2.last_name not in body
        assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()


@pytest.mark.parametrize("person", EVERYONE)
def test_adding_a_meeting_for_the_eht_only(client, pages, person):
    verified_login(client, getattr(pages, person))
    day = TODAY + datetime.timedelta(days=3)
    url = reverse("cases:eht_meeting_create", args=[pages.school_a.unit_code])
    response = client.post(url, {"meets_on": day.isoformat()})
    made = EhtMeeting.objects.filter(school=pages.school_a, meets_on=day).exists()
    if person in EHT_ALLOWED:
        assert response.status_code == 302
        assert made
    else:
        assert response.status_code == 404
        assert not made


@pytest.mark.parametrize("person", EVERYONE)
def test_recording_a_decision_for_the_eht_only(client, pages, person):
    verified_login(client, getattr(pages, person))
    url = reverse("cases:eht_case", args=[pages.case_a1.public_id])
    response = client.post(
        url,
        {"kind": EhtDecisionKind.HEALTH_TALK, "responsible": pages.nurse_a.pk, "comment": "x"},
    )
    made = EhtDecision.objects.filter(kind=EhtDecisionKind.HEALTH_TALK).exists()
    if person in EHT_ALLOWED:
        assert response.status_code == 302, _text(response)
        assert made
    else:
        assert response.status_code == 404
        assert not made


@pytest.mark.parametrize("person", EVERYONE)
def test_marking_done_for_the_eht_only(client, pages, person):
    verified_login(client, getattr(pages, person))
    url = reverse("cases:eht_decision_done", args=[pages.decision_a1.public_id])
    response = client.post(url)
    pages.decision_a1.refresh_from_db()
    if person in EHT_ALLOWED:
        assert response.status_code == 302
        assert pages.decision_a1.done_at is not None
    else:
        assert response.status_code == 404
        assert pages.decision_a1.done_at is None


@pytest.mark.parametrize("person", EVERYONE)
def test_recording_an_escalation_for_the_principal_only(client, pages, person):
    verified_login(client, getattr(pages, person))
    url = reverse("cases:principal_student", args=[pages.student_a2.public_id])
    response = client.post(
        url,
        {
            "kind": EscalationKind.HEAD_OF_SCHOOLS,
            f"{EscalationKind.HEAD_OF_SCHOOLS}-decided_on": TODAY.isoformat(),
        },
    )
    made = Escalation.objects.exists()
    if person in PRINCIPAL_ALLOWED:
        assert response.status_code == 302
        assert made
    else:
        assert response.status_code == 404
        assert not made


def test_the_principal_of_school_a_cannot_open_school_b(client, pages):
    verified_login(client, pages.principal_a)
    for url in (
        reverse("cases:eht_school", args=[pages.school_b.unit_code]),
        reverse("cases:eht_agenda", args=[pages.school_b.unit_code]),
        reverse("cases:eht_case", args=[pages.case_b1.public_id]),
        reverse("cases:principal_report", args=[pages.school_b.unit_code]),
        reverse("cases:principal_student", args=[pages.student_b1.public_id]),
    ):
        assert client.get(url).status_code == 404, url


# ---------------------------------------------------------------- the EHT page


def test_eht_page_shows_students_step_absence_open_items_and_responsible(client, pages):
    verified_login(client, pages.nurse_a)
    response = client.get(eht_url(pages))
    text = _text(response)
    assert "Ekholmsson, Alva" in text  # a1, reported
    assert "Algotsson" not in text  # a2: step 4 but not reported to the EHT
    assert "Björkqvist" not in text  # another school
    assert "17,5 %" in text
    from attendance.templatetags.absence import month_label

    assert month_label(LAST) in text  # the absence's period is named
    assert str(EhtDecisionKind.PEDAGOGICAL_MAPPING.label) in text or "pedagog" in text.lower()
    assert str(pages.counsellor_a) in text  # responsible
    event = AuditEvent.objects.get(object_type="eht_students", action=AuditAction.LIST)
    assert event.detail["students"] == [str(pages.student_a1.public_id)]
    assert event.object_id == pages.school_a.unit_code


def test_case_page_is_audited_as_a_view_of_the_student(client, pages):
    verified_login(client, pages.counsellor_a)
    response = client.get(reverse("cases:eht_case", args=[pages.case_a1.public_id]))
    assert response.status_code == 200
    event = AuditEvent.objects.get(object_type="eht_decisions", action=AuditAction.VIEW)
    assert event.student_id == pages.student_a1.public_id


def test_decision_form_offers_only_staff_at_the_school(client, pages):
    verified_login(client, pages.counsellor_a)
    url = reverse("cases:eht_case", args=[pages.case_a1.public_id])
    response = client.post(
        url, {"kind": EhtDecisionKind.OTHER, "responsible": pages.counsellor_b.pk}
    )
    assert response.status_code == 200  # the form refuses someone at another school
    assert not EhtDecision.objects.filter(kind=EhtDecisionKind.OTHER).exists()


# ---------------------------------------------------------------- the agenda


def test_agenda_shows_an_approved_mapping_and_hides_others(client, pages):
    world = pages
    mapping(world.case_a1, world.counsellor_a, approval=MappingApproval.APPROVED, text="Delas")
    case_a2 = staircase_case(world.student_a2)
    mapping(case_a2, world.counsellor_a, approval=MappingApproval.NOT_APPROVED, text="Hemligt")
    extra = StudentFactory(mentor_group=world.group_a1, last_name="Pendingsson")
    mapping(
        staircase_case(extra), world.counsellor_a, approval=MappingApproval.PENDING, text="Väntar"
    )
    EhtMeeting.objects.create(school=world.school_a, meets_on=TODAY + datetime.timedelta(days=2))
    verified_login(client, world.nurse_a)
    response = client.get(agenda_url(world))
    page = response.content.decode()
    text = _text(response)
    assert response.status_code == 200
    for name in ("Ekholmsson, Alva", "Algotsson, Elias", "Pendingsson"):
        assert name in text
    # Approved: the four areas and the classified causes.
    for area in ("Skolsituation: Delas", "Mående: Delas", "Hem och fritid: Delas", "Stöd: Delas"):
        assert area in text
    assert "Socialt klimat" in text and "Oro och ångest" in text
    # Not approved or not yet asked: that a mapping exists, never its content.
    assert "Hemligt" not in page and "Väntar" not in page
    assert page.count("mapping-not-shared") == 2
    assert page.count('class="mapping mapping-shared') == 1
    assert f"{TODAY + datetime.timedelta(days=2):%Y-%m-%d}" in text  # the meeting's date
    assert "22,5 %" in text and "17,5 %" in text
    event = AuditEvent.objects.get(object_type="eht_agenda")
    assert event.detail["mappings_shown"] == [str(world.student_a1.public_id)]
    assert response["Cache-Control"].startswith("max-age=0")


def test_agenda_is_a_print_page_without_navigation(client, pages):
    verified_login(client, pages.counsellor_a)
    page = client.get(agenda_url(pages)).content.decode()
    # The print rules are a stylesheet of their own (no inline <style> under the CSP).
    assert "/static/css/print.css" in page and "@media print" in PRINT_CSS
    assert "<nav" not in page and "navbar" not in page
    assert f'href="{reverse("sst:desk")}"' not in page  # no menu back to the desk
    assert "<footer" not in page
    assert 'class="no-print' in page


def test_agenda_url_is_by_unit_code():
    assert reverse("cases:eht_agenda", args=["99900011"]) == "/elever/eht/99900011/dagordning/"


# ---------------------------------------------------------------- the principal's pages


def test_principal_report_names_the_period_and_figures(client, pages):
    from attendance.templatetags.absence import month_label

    verified_login(client, pages.principal_a)
    response = client.get(report_url(pages), {"month": f"{LAST:%Y-%m}"})
    text = _text(response)
    assert "Algotsson, Elias" in text
    assert "Ekholmsson" not in text  # step 3
    assert "22,5 %" in text
    assert month_label(LAST) in text
    event = AuditEvent.objects.get(object_type="step4_report")
    assert event.detail["month"] == f"{LAST:%Y-%m}"
    assert event.detail["students"] == [str(pages.student_a2.public_id)]


def test_principal_print_view_has_no_navigation(client, pages):
    from attendance.templatetags.absence import month_label

    verified_login(client, pages.principal_a)
    response = client.get(print_url(pages), {"month": f"{LAST:%Y-%m}"})
    page = response.content.decode()
    # The print rules are a stylesheet of their own (no inline <style> under the CSP).
    assert "/static/css/print.css" in page and "@media print" in PRINT_CSS
    assert "<nav" not in page and "navbar" not in page
    assert "Algotsson, Elias" in _text(response)
    assert month_label(LAST) in _text(response)


def test_report_of_concern_form_has_no_content_field(client, pages):
    verified_login(client, pages.principal_a)
    url = reverse("cases:principal_student", args=[pages.student_a2.public_id])
    page = client.get(url).content.decode()
    kind = EscalationKind.REPORT_OF_CONCERN
    assert f'name="{kind}-decided_on"' in page
    assert f'name="{kind}-comment"' not in page
    assert f'name="{EscalationKind.SST_COORDINATOR}-comment"' in page
    response = client.post(
        url, {"kind": kind, f"{kind}-decided_on": TODAY.isoformat(), f"{kind}-comment": "Innehåll"}
    )
    assert response.status_code == 302
    (made,) = Escalation.objects.all()
    assert made.kind == kind and made.comment == ""
    views = AuditEvent.objects.filter(object_type="escalation", action=AuditAction.VIEW)
    assert {e.student_id for e in views} == {pages.student_a2.public_id}


# ---------------------------------------------------------------- desk panels


def test_desk_panels(client, pages):
    EhtMeeting.objects.create(school=pages.school_a, meets_on=TODAY + datetime.timedelta(days=4))
    verified_login(client, pages.principal_a)
    page = client.get(reverse("sst:desk")).content.decode()
    panel = page.split("principal-step4", 1)[1].split("</section>", 1)[0]
    # Counts and the monthly report only: the students to decide on are in the inbox.
    assert "Algotsson" not in panel
    assert "1 elev utan registrerad eskalering" in panel  # step 4 this month, nothing recorded
    assert reverse("cases:principal_report", args=[pages.school_a.unit_code]) in panel
    eht_panel = page.split("eht-panel", 1)[1].split("</section>", 1)[0]
    assert f"{TODAY + datetime.timedelta(days=4):%Y-%m-%d}" in eht_panel
    assert "Ekholmsson" not in eht_panel  # counts only
    escalation.escalation_record(
        student=pages.student_a2,
        kind=EscalationKind.HEAD_OF_SCHOOLS,
        decided_on=TODAY,
        by=pages.principal_a,
    )
    page = client.get(reverse("sst:desk")).content.decode()
    assert "principal-step4" in page and "eht-panel" in page
    panel = page.split("principal-step4", 1)[1].split("</section>", 1)[0]
    assert "Algotsson" not in panel

    client.logout()
    verified_login(client, pages.nurse_a)
    page = client.get(reverse("sst:desk")).content.decode()
    assert "eht-panel" in page and "principal-step4" not in page
    assert reverse("cases:eht_agenda", args=[pages.school_a.unit_code]) in page

    client.logout()
    verified_login(client, pages.mentor_a1)
    page = client.get(reverse("sst:desk")).content.decode()
    assert "eht-panel" not in page and "principal-step4" not in page


# ---------------------------------------------------------------- query counts


def _more_students(world, n: int) -> None:
    """n more students on the EHT's list and at step 4 last and this month, with checklists,
    decisions and mappings of every approval."""
    approvals = list(MappingApproval.values)
    for index in range(n):
        student = StudentFactory(mentor_group=world.group_a1 if index % 2 else world.group_a2)
        step4_absence(student)
        step4_absence(student, THIS)
        case = staircase_case(student)
        reported_checklist(case, follow_up_done=bool(index % 2))
        services.eht_decision_record(
            case=case,
            kind=EhtDecisionKind.HEALTH_TALK,
            responsible=world.nurse_a,
            due_on=None,
            comment="",
            by=world.principal_a,
        )
        mapping(case, world.counsellor_a, approval=approvals[index % 3])
        if index % 2:
            escalation.escalation_record(
                student=student,
                kind=EscalationKind.SST_COORDINATOR,
                decided_on=TODAY,
                comment="",
                by=world.principal_a,
            )
    refresh(LAST, THIS)


@pytest.mark.parametrize(
    "person, url_of, params",
    [
        ("counsellor_a", eht_url, {}),
        ("counsellor_a", agenda_url, {}),
        ("principal_a", report_url, {"month": f"{LAST:%Y-%m}"}),
        ("principal_a", print_url, {"month": f"{THIS:%Y-%m}"}),
        ("principal_a", lambda w: reverse("sst:desk"), {}),
    ],
    ids=["eht", "agenda", "report", "print", "desk"],
)
def test_pages_run_a_constant_number_of_queries(
    client, pages, django_assert_max_num_queries, person, url_of, params
):
    world = pages
    _more_students(world, 2)
    verified_login(client, getattr(world, person))
    url = url_of(world)
    client.get(url, params)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url, params).status_code == 200
    _more_students(world, 9)
    with django_assert_max_num_queries(len(before)):
        response = client.get(url, params)
    assert response.status_code == 200
