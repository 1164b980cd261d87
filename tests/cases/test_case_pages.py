"""The case pages: who may open each of them (both ways), what the state buttons do, opening a
case from the student page, the school's case list, the desk panel, audit and query counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, override

from cases import case_views, workflow
from cases.models import Case, CaseEvent, CaseOpening, CaseState, EventKind, Note
from sst.models import AuditEvent, Role

from ..conftest import verified_login
from ..factories import StudentFactory

ALLOWED = ["principal_a", "counsellor_a", "nurse_a"]
REFUSED = ["mentor_a1", "counsellor_b", "social_worker_n", "manager_m", "admin_m", "nobody"]
PEOPLE = [(name, True) for name in ALLOWED] + [(name, False) for name in REFUSED]


def sv(message: str) -> str:
    with override("sv"):
        return gettext(message)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def make_case(student, state=CaseState.SCHOOL_INVESTIGATION, **extra) -> Case:
    return Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL, **extra)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- the role matrix, both ways

READ_VIEWS = ["cases:case_detail", "cases:case_print"]
# One state each transition starts from, and what it posts.
WRITES = {
    "cases:case_refer": (CaseState.SCHOOL_INVESTIGATION, {}),
    "cases:case_queue": (CaseState.REFERRED, {}),
    "cases:case_accept": (CaseState.QUEUED, {}),
    "cases:case_reject": (CaseState.REFERRED, {"reason": "Annat stöd finns"}),
    "cases:case_redirect": (CaseState.QUEUED, {"reason": "BUP"}),
    "cases:case_request_consent": (CaseState.ACCEPTED, {}),
    "cases:case_start_plan": (CaseState.CONSENT, {}),
    "cases:case_start_implementation": (CaseState.PLAN, {}),
    "cases:case_enter_maintenance": (CaseState.IMPLEMENTATION, {}),
    "cases:case_close": (CaseState.MAINTENANCE, {"reason": "Målen nådda"}),
    "cases:case_skip": (
        CaseState.SCHOOL_INVESTIGATION,
        {"to": CaseState.ACCEPTED, "reason": "Akut"},
    ),
    "cases:case_note_add": (CaseState.PLAN, {"text": "Samtal med mamma", "restricted_to": ""}),
}


@pytest.mark.parametrize("person, allowed", PEOPLE)
@pytest.mark.parametrize("view", READ_VIEWS)
def test_reading_a_case(client, world, view, person, allowed):
    case = make_case(world.student_a1)
    verified_login(client, getattr(world, person))
    response = client.get(reverse(view, args=[case.public_id]))
    assert response.status_code == (200 if allowed else 404)
    if allowed:
        assert world.student_a1.full_name in _text(response)
    else:
        assert world.student_a1.last_name not in response.content.decode()
        assert AuditEvent.objects.filter(
            action="access_denied", object_type="case", object_id=str(case.public_id)
        ).exists()


@pytest.mark.parametrize("person, allowed", PEOPLE)
@pytest.mark.parametrize("view", list(WRITES))
def test_changing_a_case(client, world, view, person, allowed):
    state, data = WRITES[view]
    case = make_case(world.student_a1, state)
    verified_login(client, getattr(world, person))
    response = client.post(reverse(view, args=[case.public_id]), {"version": 1, **data})
    case.refresh_from_db()
    events = CaseEvent.objects.filter(case=case)
    if allowed:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("cases:case_detail", args=[case.public_id]))
        assert events.count() == 1
        if view == "cases:case_note_add":
            assert events.get().kind == EventKind.NOTE
        else:
            assert case.state != state and case.version == 2
    else:
        assert response.status_code == 404
        assert case.state == state and case.version == 1
        assert not events.exists()


@pytest.mark.parametrize("view", ["cases:case_refer", "cases:case_note_add", "cases:case_skip"])
def test_changes_need_post(client, world, view):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    assert client.get(reverse(view, args=[case.public_id])).status_code == 405


@pytest.mark.parametrize("person, allowed", PEOPLE)
def test_opening_a_case_from_the_student_page(client, world, person, allowed):
    verified_login(client, getattr(world, person))
    response = client.post(
        reverse("cases:case_open", args=[world.student_a1.public_id]),
        {"opening": CaseOpening.PRINCIPAL if person == "principal_a" else CaseOpening.EHT},
    )
    cases = Case.objects.filter(student=world.student_a1)
    if allowed:
        case = cases.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("cases:case_detail", args=[case.public_id])
        assert case.opened_by == getattr(world, person)
    else:
        assert response.status_code == 404
        assert not cases.exists()


@pytest.mark.parametrize("person, allowed", PEOPLE)
def test_case_list(client, world, person, allowed):
    """Each person sees the cases of their own schools only; counsellor_b works at school B
    (so has a list, of school B's cases); nobody else without a case role has a list."""
    make_case(world.student_a1)
    make_case(world.student_b1)
    verified_login(client, getattr(world, person))
    response = client.get(reverse("cases:case_list"))
    page = response.content.decode()
    if person == "counsellor_b":
        assert response.status_code == 200
        assert world.student_b1.last_name in page
        assert world.student_a1.last_name not in page
        return
    assert response.status_code == (200 if allowed else 404)
    assert world.student_b1.last_name not in page
    assert (world.student_a1.last_name in page) == allowed


@pytest.mark.parametrize("person, allowed", PEOPLE)
def test_desk_panel(client, world, person, allowed):
    make_case(world.student_a1, CaseState.PLAN)
    verified_login(client, getattr(world, person))
    response = client.get(reverse("sst:desk"))
    assert response.status_code == 200
    page = response.content.decode()
    text = _text(response)
    if person == "counsellor_b":  # a panel for school B, without school A's case
        assert world.school_b.name in text and world.school_a.name not in text
        return
    assert ('id="open-cases-heading"' in page) == allowed
    if allowed:
        assert reverse("cases:case_list") in page
        assert f"{sv('Action plan being made')}: 1" in _text(response)


# ---------------------------------------------------------------- the case page


def test_case_page_shows_the_case_and_its_actions(client, world):
    old = make_case(world.student_a1, CaseState.CLOSED)
    case = make_case(world.student_a1, CaseState.REFERRED, previous_case=old)
    verified_login(client, world.principal_a)
    response = client.get(reverse("cases:case_detail", args=[case.public_id]))
    page = response.content.decode()
    assert reverse("cases:case_detail", args=[old.public_id]) in page
    for name in ("queue", "accept", "reject", "redirect"):
        assert reverse(f"cases:case_{name}", args=[case.public_id]) in page
    for name in ("refer", "close", "start_plan"):
        assert reverse(f"cases:case_{name}", args=[case.public_id]) not in page
    assert reverse("cases:case_skip", args=[case.public_id]) in page
    assert 'name="version" value="1"' in page
    assert reverse("cases:case_print", args=[case.public_id]) in page


def test_ended_case_offers_no_state_change(client, world):
    case = make_case(world.student_a1, CaseState.REJECTED)
    verified_login(client, world.counsellor_a)
    page = client.get(reverse("cases:case_detail", args=[case.public_id])).content.decode()
    assert not any(
        reverse(t.url_name, args=[case.public_id]) in page for t in case_views.TRANSITIONS
    )
    assert reverse("cases:case_skip", args=[case.public_id]) not in page


def test_the_earlier_case_links_to_the_later(client, world):
    old = make_case(world.student_a1, CaseState.CLOSED)
    new = make_case(world.student_a1, previous_case=old)
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_detail", args=[old.public_id])).content.decode()
    assert reverse("cases:case_detail", args=[new.public_id]) in page


def test_a_refused_transition_is_a_clear_message_and_changes_nothing(client, world):
    case = make_case(world.student_a1, CaseState.PLAN)
    verified_login(client, world.principal_a)
    response = client.post(
        reverse("cases:case_refer", args=[case.public_id]), {"version": 1}, follow=True
    )
    case.refresh_from_db()
    assert case.state == CaseState.PLAN and case.version == 1
    [message] = _messages(response)
    assert sv("Action plan being made") in message
    assert "alert-danger" in response.content.decode()


def test_the_service_refusal_of_a_concurrent_change_reaches_the_page(client, world, monkeypatch):
    """The page was current when read, but someone changed the case before the write."""
    case = make_case(world.student_a1)
    real = workflow.case_refer

    def someone_else_first(*, case, by):
        Case.objects.filter(pk=case.pk).update(version=case.version + 1)
        return real(case=case, by=by)

    transition = case_views.TRANSITIONS_BY_NAME["refer"]
    monkeypatch.setitem(
        case_views.TRANSITIONS_BY_NAME,
        "refer",
        case_views.Transition(
            transition.name, someone_else_first, transition.allowed_from, transition.label
        ),
    )
    verified_login(client, world.principal_a)
    response = client.post(
        reverse("cases:case_refer", args=[case.public_id]), {"version": 1}, follow=True
    )
    case.refresh_from_db()
    assert case.state == CaseState.SCHOOL_INVESTIGATION
    assert len(_messages(response)) == 1
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.parametrize("view", ["cases:case_reject", "cases:case_close", "cases:case_skip"])
def test_a_missing_reason_is_refused_on_the_page(client, world, view):
    state = CaseState.REFERRED if view == "cases:case_reject" else CaseState.IMPLEMENTATION
    if view == "cases:case_skip":
        state = CaseState.SCHOOL_INVESTIGATION
    case = make_case(world.student_a1, state)
    verified_login(client, world.counsellor_a)
    response = client.post(
        reverse(view, args=[case.public_id]),
        {"version": 1, "reason": "  ", "to": CaseState.PLAN},
        follow=True,
    )
    case.refresh_from_db()
    assert case.state == state and case.version == 1
    assert sv("Give a reason.") in _messages(response)


def test_skip_to_a_step_that_is_not_later_is_refused(client, world):
    case = make_case(world.student_a1, CaseState.PLAN)
    verified_login(client, world.principal_a)
    client.post(
        reverse("cases:case_skip", args=[case.public_id]),
        {"version": 1, "reason": "Bakåt", "to": CaseState.REFERRED},
    )
    case.refresh_from_db()
    assert case.state == CaseState.PLAN


def test_skip_through_the_page(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    client.post(
        reverse("cases:case_skip", args=[case.public_id]),
        {"version": 1, "reason": "Redan utrett", "to": CaseState.CONSENT},
    )
    case.refresh_from_db()
    assert case.state == CaseState.CONSENT
    assert "Redan utrett" in CaseEvent.objects.get(case=case).summary


def test_restricted_note_through_the_page(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.nurse_a)
    client.post(
        reverse("cases:case_note_add", args=[case.public_id]),
        {"text": "Sover dåligt", "restricted_to": Role.SCHOOL_NURSE},
    )
    note = Note.objects.get(case=case)
    assert note.restricted_to == Role.SCHOOL_NURSE and note.author == world.nurse_a
    assert CaseEvent.objects.get(case=case).restricted_to == Role.SCHOOL_NURSE


def test_an_unknown_profession_is_refused(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.nurse_a)
    client.post(
        reverse("cases:case_note_add", args=[case.public_id]),
        {"text": "x", "restricted_to": "administrator"},
    )
    assert not Note.objects.filter(case=case).exists()


# ---------------------------------------------------------------- opening from the student page


def test_opening_links_the_new_case_to_the_closed_one(client, world):
    old = make_case(world.student_a1, CaseState.CLOSED)
    verified_login(client, world.counsellor_a)
    client.post(
        reverse("cases:case_open", args=[world.student_a1.public_id]),
        {"opening": CaseOpening.EHT},
    )
    new = Case.objects.exclude(pk=old.pk).get(student=world.student_a1)
    assert new.previous_case == old
    assert new.opening == CaseOpening.EHT


def test_opening_a_second_open_case_is_refused(client, world):
    make_case(world.student_a1)
    verified_login(client, world.principal_a)
    response = client.post(
        reverse("cases:case_open", args=[world.student_a1.public_id]),
        {"opening": CaseOpening.PRINCIPAL},
        follow=True,
    )
    assert Case.objects.filter(student=world.student_a1).count() == 1
    assert sv("The student already has an open case.") in _messages(response)


def test_a_counsellor_cannot_open_as_the_principal(client, world):
    verified_login(client, world.counsellor_a)
    client.post(
        reverse("cases:case_open", args=[world.student_a1.public_id]),
        {"opening": CaseOpening.PRINCIPAL},
    )
    assert not Case.objects.filter(student=world.student_a1).exists()


def test_student_page_section(rf, world):
    """The include the student page renders: the cases, and the button when none is open."""
    context = case_views.student_case_context(world.principal_a, world.student_a1)
    assert context["case_openings"] == [(CaseOpening.PRINCIPAL, str(CaseOpening.PRINCIPAL.label))]
    request = rf.get("/")
    request.user = world.principal_a
    html = render_to_string(
        "cases/case/_student_cases.html",
        {**context, "student": world.student_a1},
        request=request,
    )
    assert reverse("cases:case_open", args=[world.student_a1.public_id]) in html

    case = make_case(world.student_a1)
    context = case_views.student_case_context(world.principal_a, world.student_a1)
    assert context["case_openings"] == []
    html = render_to_string(
        "cases/case/_student_cases.html", {**context, "student": world.student_a1}, request=request
    )
    assert reverse("cases:case_detail", args=[case.public_id]) in html
    assert reverse("cases:case_open", args=[world.student_a1.public_id]) not in html

    assert case_views.student_case_context(world.mentor_a1, world.student_a1) == {}


# ---------------------------------------------------------------- the list


def test_list_has_open_cases_first_and_filters_by_state(client, world):
    ended = make_case(world.student_a1, CaseState.CLOSED)
    open_case = make_case(world.student_a1, CaseState.PLAN)
    other = make_case(world.student_a2, CaseState.REFERRED)
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_list")).content.decode()
    positions = [page.index(str(c.public_id)) for c in (open_case, other, ended)]
    assert max(positions[:2]) < positions[2]

    page = client.get(reverse("cases:case_list"), {"state": CaseState.REFERRED}).content.decode()
    assert str(other.public_id) in page
    assert str(open_case.public_id) not in page and str(ended.public_id) not in page

    page = client.get(reverse("cases:case_list"), {"state": "ended"}).content.decode()
    assert str(ended.public_id) in page and str(open_case.public_id) not in page


def test_list_query_count_does_not_grow(client, world, django_assert_num_queries):
    verified_login(client, world.principal_a)
    make_case(world.student_a1)
    url = reverse("cases:case_list")
    client.get(url)  # the first request of a session does some one-off work
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(5):
        student = StudentFactory(mentor_group=world.group_a2)
        make_case(student, CaseState.PLAN)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 6


def test_reads_are_audited(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.counsellor_a)
    client.get(reverse("cases:case_detail", args=[case.public_id]))
    client.get(reverse("cases:case_print", args=[case.public_id]))
    client.get(reverse("cases:case_list"))
    events = AuditEvent.objects.filter(actor_id=world.counsellor_a.pk, object_type="case")
    assert events.filter(action="view", object_id=str(case.public_id)).exists()
    assert events.filter(
        action="export", object_id=str(case.public_id), student_id=world.student_a1.public_id
    ).exists()
    assert events.filter(action="list").exists()
    view = events.get(action="view")
    assert view.role == Role.COUNSELLOR
    # the audit holds identifiers only, never the student's name
    assert world.student_a1.last_name not in str(view.detail)


def test_writes_are_audited(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    client.post(reverse("cases:case_refer", args=[case.public_id]), {"version": 1})
    assert AuditEvent.objects.filter(
        actor_id=world.principal_a.pk, action="update", object_id=str(case.public_id)
    ).exists()
