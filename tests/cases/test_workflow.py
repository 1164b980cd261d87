"""The case flow: every transition from every state, reasons, skips, one open case per
student, re-opened cases, concurrent changes, and restricted notes in the chronology."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from cases import case_views, chronology, workflow
from cases.models import (
    ENDED_STATES,
    FLOW_ORDER,
    Case,
    CaseEvent,
    CaseOpening,
    CaseState,
    EventKind,
)
from sst.models import AuditEvent, Role

from ..conftest import verified_login

# The flow as DOMAIN.md §4 describes it: each service, the states it starts from, where it
# leads, and whether it needs a reason. Written out here, not read from the code.
FLOW = {
    "case_refer": ({CaseState.SCHOOL_INVESTIGATION}, CaseState.REFERRED, False),
    "case_queue": ({CaseState.REFERRED}, CaseState.QUEUED, False),
    "case_accept": ({CaseState.REFERRED, CaseState.QUEUED}, CaseState.ACCEPTED, False),
    "case_reject": ({CaseState.REFERRED, CaseState.QUEUED}, CaseState.REJECTED, True),
    "case_redirect": ({CaseState.REFERRED, CaseState.QUEUED}, CaseState.REDIRECTED, True),
    "case_request_consent": ({CaseState.ACCEPTED}, CaseState.CONSENT, False),
    "case_start_plan": ({CaseState.CONSENT}, CaseState.PLAN, False),
    "case_start_implementation": (
        {CaseState.PLAN, CaseState.MAINTENANCE},
        CaseState.IMPLEMENTATION,
        False,
    ),
    "case_enter_maintenance": ({CaseState.IMPLEMENTATION}, CaseState.MAINTENANCE, False),
    "case_close": (
        {CaseState.IMPLEMENTATION, CaseState.MAINTENANCE},
        CaseState.CLOSED,
        True,
    ),
}
CASES = [(name, state) for name in FLOW for state in CaseState]


def make_case(student, state=CaseState.SCHOOL_INVESTIGATION, **extra) -> Case:
    """A case already in ``state`` (set directly: the test is about what follows)."""
    return Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL, **extra)


def call(name: str, case: Case, by, reason: str = "Ett skäl"):
    service = getattr(workflow, name)
    if FLOW[name][2]:
        return service(case=case, reason=reason, by=by)
    return service(case=case, by=by)


# ---------------------------------------------------------------- every transition, every state


@pytest.mark.parametrize("name, state", CASES, ids=[f"{n}-from-{s.value}" for n, s in CASES])
def test_transition_moves_only_from_its_states(world, name, state):
    allowed_from, target, _needs_reason = FLOW[name]
    case = make_case(world.student_a1, state)
    before_events = CaseEvent.objects.filter(case=case).count()
    if state in allowed_from:
        moved = call(name, case, world.principal_a)
        case.refresh_from_db()
        assert moved.state == case.state == target
        assert case.version == 2
        assert (case.closed_at is not None) == (target in ENDED_STATES)
        event = CaseEvent.objects.filter(case=case).latest("id")
        assert CaseEvent.objects.filter(case=case).count() == before_events + 1
        assert event.kind == EventKind.STATE_CHANGE
        assert event.recorded_by == world.principal_a
        assert str(CaseState(target).label) in event.summary
        assert AuditEvent.objects.filter(
            object_type="case", object_id=str(case.public_id), action="update"
        ).exists()
    else:
        with pytest.raises(workflow.TransitionRefused):
            call(name, case, world.principal_a)
        case.refresh_from_db()
        assert case.state == state
        assert case.version == 1
        assert case.closed_at is None
        assert CaseEvent.objects.filter(case=case).count() == before_events


@pytest.mark.parametrize("name", list(FLOW))
def test_the_case_page_offers_exactly_the_states_each_service_accepts(name):
    offered = {t.service.__name__: t.allowed_from for t in case_views.TRANSITIONS}
    assert offered[name] == FLOW[name][0]


@pytest.mark.parametrize("name", [n for n, (_f, _t, reason) in FLOW.items() if reason])
@pytest.mark.parametrize("reason", ["", "   "])
def test_reason_is_required(world, name, reason):
    state = next(iter(FLOW[name][0]))
    case = make_case(world.student_a1, state)
    with pytest.raises(ValidationError):
        call(name, case, world.principal_a, reason=reason)
    case.refresh_from_db()
    assert case.state == state and case.version == 1
    assert not CaseEvent.objects.filter(case=case).exists()


def test_reason_is_kept_in_the_chronology(world):
    case = make_case(world.student_a1, CaseState.REFERRED)
    workflow.case_reject(case=case, reason="Behovet möts av elevhälsan", by=world.principal_a)
    assert "Behovet möts av elevhälsan" in CaseEvent.objects.get(case=case).summary


# ---------------------------------------------------------------- skipping steps

SKIPS = [(a, b) for a in CaseState for b in CaseState]


@pytest.mark.parametrize("start, to", SKIPS, ids=[f"{a.value}-to-{b.value}" for a, b in SKIPS])
def test_skip_only_forward_past_a_step(world, start, to):
    case = make_case(world.student_a1, start)
    is_skip = (
        start in FLOW_ORDER
        and to in FLOW_ORDER
        and FLOW_ORDER.index(to) >= FLOW_ORDER.index(start) + 2
    )
    if is_skip:
        workflow.case_skip_to(case=case, to=to, reason="Akut läge", by=world.counsellor_a)
        case.refresh_from_db()
        assert case.state == to
        event = CaseEvent.objects.get(case=case)
        assert "Akut läge" in event.summary
    else:
        with pytest.raises(workflow.TransitionRefused):
            workflow.case_skip_to(case=case, to=to, reason="Akut läge", by=world.counsellor_a)
        case.refresh_from_db()
        assert case.state == start and case.version == 1
        assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.parametrize("reason", ["", "  "])
def test_skip_needs_a_reason(world, reason):
    case = make_case(world.student_a1)
    with pytest.raises(ValidationError):
        workflow.case_skip_to(case=case, to=CaseState.PLAN, reason=reason, by=world.principal_a)
    case.refresh_from_db()
    assert case.state == CaseState.SCHOOL_INVESTIGATION
    assert not CaseEvent.objects.filter(case=case).exists()


# ---------------------------------------------------------------- one open case per student


def test_one_open_case_per_student_in_the_service(world):
    first = workflow.case_open(
        student=world.student_a1, opening=CaseOpening.PRINCIPAL, by=world.principal_a
    )
    with pytest.raises(workflow.TransitionRefused):
        workflow.case_open(student=world.student_a1, opening=CaseOpening.EHT, by=world.nurse_a)
    assert list(Case.objects.filter(student=world.student_a1)) == [first]


def test_one_open_case_per_student_in_the_database(world):
    make_case(world.student_a1)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_case(world.student_a1, CaseState.PLAN)
    # ended cases do not count
    make_case(world.student_a2, CaseState.CLOSED)
    make_case(world.student_a2, CaseState.REJECTED)
    make_case(world.student_a2)


def test_a_new_case_links_to_the_closed_one(world):
    old = workflow.case_open(
        student=world.student_a1, opening=CaseOpening.PRINCIPAL, by=world.principal_a
    )
    workflow.case_skip_to(
        case=old, to=CaseState.IMPLEMENTATION, reason="Snabbt", by=world.principal_a
    )
    workflow.case_close(case=old, reason="Målen nådda", by=world.principal_a)
    new = workflow.case_open(
        student=world.student_a1,
        opening=CaseOpening.EHT,
        by=world.counsellor_a,
        previous_case=chronology.previous_case_for_new(world.student_a1),
    )
    assert new.previous_case == old
    assert old.next_case == new
    assert new.state == CaseState.SCHOOL_INVESTIGATION
    assert CaseEvent.objects.filter(case=new, kind=EventKind.STATE_CHANGE).count() == 1


def test_a_case_of_another_student_cannot_be_the_previous_one(world):
    other = make_case(world.student_a2, CaseState.CLOSED)
    with pytest.raises(ValidationError):
        workflow.case_open(
            student=world.student_a1,
            opening=CaseOpening.PRINCIPAL,
            by=world.principal_a,
            previous_case=other,
        )


# ---------------------------------------------------------------- concurrent change


def test_the_second_of_two_stale_copies_is_refused(world):
    case = make_case(world.student_a1)
    mine = Case.objects.get(pk=case.pk)
    theirs = Case.objects.get(pk=case.pk)
    workflow.case_refer(case=mine, by=world.principal_a)
    with pytest.raises(workflow.ConcurrentChange):
        workflow.case_skip_to(
            case=theirs, to=CaseState.ACCEPTED, reason="Brådskande", by=world.counsellor_a
        )
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED and case.version == 2
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_page_is_refused_with_a_message_and_nothing_changes(client, world):
    case = make_case(world.student_a1)
    stale_version = case.version
    workflow.case_refer(case=Case.objects.get(pk=case.pk), by=world.counsellor_a)
    verified_login(client, world.principal_a)
    response = client.post(
        reverse("cases:case_accept", args=[case.public_id]),
        {"version": stale_version},
        follow=True,
    )
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED and case.version == 2
    assert "alert-danger" in response.content.decode()
    assert CaseEvent.objects.filter(case=case).count() == 1


# ---------------------------------------------------------------- restricted notes


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.parametrize("view", ["cases:case_detail", "cases:case_print"])
def test_restricted_note_is_hidden_from_other_professions(client, world, view):
    case = make_case(world.student_a1)
    workflow.note_add(
        case=case,
        text="Hemlig kuratorsanteckning",
        restricted_to=Role.COUNSELLOR,
        by=world.counsellor_a,
    )
    workflow.note_add(case=case, text="Öppen anteckning", restricted_to="", by=world.nurse_a)
    url = reverse(view, args=[case.public_id])

    verified_login(client, world.counsellor_a)
    page = _text(client.get(url))
    assert "Hemlig kuratorsanteckning" in page and "Öppen anteckning" in page

    for other in (world.principal_a, world.nurse_a):
        client.logout()
        verified_login(client, other)
        response = client.get(url)
        assert response.status_code == 200
        page = _text(response)
        assert "Hemlig kuratorsanteckning" not in page
        assert "Öppen anteckning" in page
        assert chronology.restricted_label(Role.COUNSELLOR) in page


def test_restricted_note_is_hidden_in_the_selector_not_only_the_template(world):
    case = make_case(world.student_a1)
    workflow.note_add(
        case=case, text="Hälsosamtal: besvär", restricted_to=Role.SCHOOL_NURSE, by=world.nurse_a
    )
    as_principal = chronology.chronology(world.principal_a, case).entries
    as_nurse = chronology.chronology(world.nurse_a, case).entries
    assert [(e.hidden, e.text, e.summary) for e in as_principal] == [(True, "", "")]
    assert as_nurse[0].text == "Hälsosamtal: besvär" and not as_nurse[0].hidden
