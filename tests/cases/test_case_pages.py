"""The case pages: who may open each of them (both ways), what the state buttons do (the
school submits, withdraws and closes; it never decides its own referral), closure reasons,
opening a case from the student page, the school's case list, the desk panel, audit and
query counts. Every transition × state × role: test_transition_matrix.py."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, override

from cases import case_views, transitions, workflow
from cases.models import Case, CaseEvent, CaseOpening, CaseState, ClosureReason, EventKind, Note
from sst.access import Capability
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


# A longer list of school steps than today's, to exercise the skip (today nothing to skip).
LONGER = (
    CaseState.SCHOOL_INVESTIGATION,
    CaseState.REFERRED,
    CaseState.QUEUED,
    CaseState.ACCEPTED,
)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- the role matrix, both ways

READ_VIEWS = ["cases:case_detail", "cases:case_print"]
# What the school may change on the case page: a state it starts from, and what it posts.
WRITES = {
    "refer": (
        "cases:case_transition",
        "aktualisera",
        CaseState.SCHOOL_INVESTIGATION,
        {"confirm": "yes"},
    ),
    "withdraw": (
        "cases:case_transition",
        "aterkalla",
        CaseState.REFERRED,
        {"reason": "Vänta", "confirm": "yes"},
    ),
    # A case the team has not taken on closes here; a team case closes on followup's
    # closing page with its closure record (tests/followup/test_closure_pages.py).
    "close": (
        "cases:case_transition",
        "avsluta",
        CaseState.REFERRED,
        {"reason": ClosureReason.GOALS_MET, "confirm": "yes"},
    ),
    "note": (
        "cases:case_note_add",
        None,
        CaseState.PLAN,
        {"text": "Samtal med mamma", "restricted_to": ""},
    ),
}


def _url(view: str, case: Case, step: str | None = None) -> str:
    return reverse(view, args=[case.public_id, step] if step else [case.public_id])


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
@pytest.mark.parametrize("write", list(WRITES))
def test_changing_a_case(client, world, monkeypatch, write, person, allowed):
    view, step, state, data = WRITES[write]
    if write in ("refer", "withdraw"):
        # The referral's writers move the case with their referral (recorded here as the
        # referrals app answers it); the school nurse works cases but writes no referral.
        for guard in ("referral_submitted", "referral_withdrawn"):
            monkeypatch.setitem(transitions.GUARD_CHECKS, guard, lambda case: True)
        allowed = allowed and person != "nurse_a"
    case = make_case(world.student_a1, state)
    verified_login(client, getattr(world, person))
    response = client.post(_url(view, case, step), {"version": 1, **data})
    case.refresh_from_db()
    events = CaseEvent.objects.filter(case=case)
    if allowed:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("cases:case_detail", args=[case.public_id]))
        assert events.count() == 1
        if write == "note":
            assert events.get().kind == EventKind.NOTE
        else:
            assert case.state != state and case.version == 2
    else:
        assert response.status_code == 404
        assert case.state == state and case.version == 1
        assert not events.exists()


@pytest.mark.parametrize("person, allowed", PEOPLE)
def test_skipping_through_the_page(client, world, monkeypatch, person, allowed):
    """On a longer list of school steps than today's (today there is nothing to skip)."""
    monkeypatch.setattr(transitions, "SCHOOL_STEPS", LONGER)
    case = make_case(world.student_a1)
    verified_login(client, getattr(world, person))
    response = client.post(
        reverse("cases:case_skip", args=[case.public_id]),
        {"version": 1, "to": CaseState.QUEUED, "reason": "Akut"},
    )
    case.refresh_from_db()
    assert response.status_code == (302 if allowed else 404)
    assert case.state == (CaseState.QUEUED if allowed else CaseState.SCHOOL_INVESTIGATION)


@pytest.mark.parametrize(
    "step, state",
    [
        ("ko", CaseState.REFERRED),
        ("anta", CaseState.QUEUED),
        ("avsla", CaseState.REFERRED),
        ("hanvisa", CaseState.QUEUED),
    ],
)
def test_the_school_cannot_decide_its_referral_on_the_page(client, world, monkeypatch, step, state):
    """Not even with a forum decision recorded: deciding needs the forum's capability."""
    for guard in transitions.GUARDS:
        monkeypatch.setitem(transitions.GUARD_CHECKS, guard, lambda case: True)
    case = make_case(world.student_a1, state)
    verified_login(client, world.principal_a)
    response = client.post(
        _url("cases:case_transition", case, step), {"version": 1, "reason": "Nej"}
    )
    case.refresh_from_db()
    assert response.status_code == 404
    assert case.state == state and case.version == 1
    assert AuditEvent.objects.filter(
        action="access_denied", object_type="case", object_id=str(case.public_id)
    ).exists()


def test_an_unknown_step_is_not_found(client, world):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    response = client.post(_url("cases:case_transition", case, "hoppa"), {"version": 1})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "view, step", [("cases:case_transition", "ko"), ("cases:case_note_add", None)]
)
def test_changes_need_post(client, world, view, step):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    assert client.get(_url(view, case, step)).status_code == 405
    assert client.get(reverse("cases:case_skip", args=[case.public_id])).status_code == 405


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
    offered = {t.name for t in transitions.TRANSITIONS if _url(_STEP, case, t.slug) in page}
    # Withdrawing starts on the referral's own page (the referrals app's section): the
    # case's step follows a recorded withdrawal.
    assert offered == {"close"}
    assert reverse("cases:case_skip", args=[case.public_id]) not in page
    assert 'name="version" value="1"' in page
    assert reverse("cases:case_print", args=[case.public_id]) in page
    # the closure reasons, in Swedish
    assert sv("Declined the offer") in page


_STEP = "cases:case_transition"


def test_case_page_offers_the_school_none_of_the_teams_steps(client, world):
    """An accepted case: asking for consent is the team's step, not the school's — neither
    its button nor what it waits for is the school's to see as its own next step."""
    case = make_case(world.student_a1, CaseState.ACCEPTED)
    verified_login(client, world.counsellor_a)
    text = _text(client.get(reverse("cases:case_detail", args=[case.public_id])))
    assert sv("Ask for consent") not in text
    assert sv("No request for the guardians' consent is recorded.") not in text


def test_what_the_next_step_waits_for_is_said_to_whoever_takes_it(world):
    case = make_case(world.student_a1, CaseState.ACCEPTED)
    waiting = transitions.waiting_for(case, {Capability.COORDINATE})
    assert [guard.name for guard in waiting] == ["consent_requested"]
    assert transitions.waiting_for(case, {Capability.WORK_CASES}) == []


def test_ended_case_offers_no_state_change(client, world):
    case = make_case(world.student_a1, CaseState.REJECTED)
    verified_login(client, world.counsellor_a)
    page = client.get(reverse("cases:case_detail", args=[case.public_id])).content.decode()
    assert not any(_url(_STEP, case, t.slug) in page for t in transitions.TRANSITIONS)
    assert reverse("cases:case_skip", args=[case.public_id]) not in page


@pytest.mark.parametrize("view", READ_VIEWS)
def test_closing_through_the_page_shows_the_reason(client, world, view):
    case = make_case(world.student_a1, CaseState.REFERRED)
    verified_login(client, world.counsellor_a)
    client.post(
        _url(_STEP, case, "avsluta"),
        {"version": 1, "reason": ClosureReason.OTHER_SUPPORT, "detail": "BUP", "confirm": "yes"},
    )
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert (case.closure_reason, case.closure_detail) == (ClosureReason.OTHER_SUPPORT, "BUP")
    text = _text(client.get(reverse(view, args=[case.public_id])))
    assert f"{sv('Needs other support')}: BUP" in text
    assert sv("Closure reason") in text


@pytest.mark.parametrize(
    "data, message",
    [
        ({"reason": ""}, "Choose why the case is closed."),
        ({"reason": "bored"}, None),
        ({"reason": ClosureReason.OTHER, "detail": "  "}, "Say in a few words: %(reason)s."),
    ],
)
def test_closing_through_the_page_validates_the_reason(client, world, data, message):
    case = make_case(world.student_a1, CaseState.REFERRED)
    verified_login(client, world.principal_a)
    response = client.post(_url(_STEP, case, "avsluta"), {"version": 1, **data}, follow=True)
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED and case.version == 1
    [shown] = _messages(response)
    if message:
        expected = sv(message)
        if "%(reason)s" in expected:
            expected = expected % {"reason": sv("Other")}
        assert shown == expected


def test_the_earlier_case_links_to_the_later(client, world):
    old = make_case(world.student_a1, CaseState.CLOSED)
    new = make_case(world.student_a1, previous_case=old)
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_detail", args=[old.public_id])).content.decode()
    assert reverse("cases:case_detail", args=[new.public_id]) in page


def test_a_refused_transition_is_a_clear_message_and_changes_nothing(client, world):
    case = make_case(world.student_a1, CaseState.PLAN)
    verified_login(client, world.principal_a)
    response = client.post(_url(_STEP, case, "aktualisera"), {"version": 1}, follow=True)
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

    monkeypatch.setitem(workflow.SERVICES, "refer", someone_else_first)
    verified_login(client, world.principal_a)
    response = client.post(
        _url(_STEP, case, "aktualisera"), {"version": 1, "confirm": "yes"}, follow=True
    )
    case.refresh_from_db()
    assert case.state == CaseState.SCHOOL_INVESTIGATION
    assert len(_messages(response)) == 1
    assert not CaseEvent.objects.filter(case=case).exists()


@pytest.mark.parametrize("step", ["aterkalla", None])
def test_a_missing_reason_is_refused_on_the_page(client, world, monkeypatch, step):
    monkeypatch.setattr(transitions, "SCHOOL_STEPS", LONGER)
    state = CaseState.REFERRED if step else CaseState.SCHOOL_INVESTIGATION
    case = make_case(world.student_a1, state)
    verified_login(client, world.counsellor_a)
    url = _url(_STEP, case, step) if step else reverse("cases:case_skip", args=[case.public_id])
    response = client.post(url, {"version": 1, "reason": "  ", "to": CaseState.QUEUED}, follow=True)
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


def test_skip_through_the_page(client, world, monkeypatch):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    url = reverse("cases:case_detail", args=[case.public_id])
    skip_url = reverse("cases:case_skip", args=[case.public_id])
    assert skip_url not in client.get(url).content.decode()  # nothing to skip today

    monkeypatch.setattr(transitions, "SCHOOL_STEPS", LONGER)
    assert skip_url in client.get(url).content.decode()
    client.post(skip_url, {"version": 1, "reason": "Redan utrett", "to": CaseState.ACCEPTED})
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
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


def test_writes_are_audited(client, world, referral_recorded):
    case = make_case(world.student_a1)
    verified_login(client, world.principal_a)
    client.post(_url(_STEP, case, "aktualisera"), {"version": 1, "confirm": "yes"})
    assert AuditEvent.objects.filter(
        actor_id=world.principal_a.pk, action="update", object_id=str(case.public_id)
    ).exists()


# ---------------------------------------------------------------- confirming a step


def test_referring_asks_for_confirmation_first(client, world, referral_recorded):
    """GET shows what will happen and changes nothing; the POST with confirm refers."""
    case = make_case(world.student_a1)
    verified_login(client, world.counsellor_a)
    page = client.get(reverse("cases:case_detail", args=[case.public_id])).content.decode()
    assert "confirm(" not in page and "onclick" not in page
    url = _url(_STEP, case, "aktualisera")
    assert f'href="{url}"' in page

    shown = client.get(url)
    assert shown.status_code == 200
    text = _text(shown)
    assert sv(str(transitions.BY_NAME["refer"].confirm)) in text
    assert 'name="confirm" value="yes"' in shown.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.SCHOOL_INVESTIGATION and case.version == 1
    assert not CaseEvent.objects.filter(case=case).exists()
    assert AuditEvent.objects.filter(
        action="view", object_type="case", object_id=str(case.public_id)
    ).exists()

    # A POST without the confirm field (an old page, a forged request) only shows the page.
    unconfirmed = client.post(url, {"version": 1})
    assert unconfirmed.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.SCHOOL_INVESTIGATION

    done = client.post(url, {"version": 1, "confirm": "yes"})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED and case.version == 2


def test_closing_shows_the_reason_before_it_closes(client, world):
    case = make_case(world.student_a1, CaseState.REFERRED)
    verified_login(client, world.principal_a)
    data = {"version": 1, "reason": ClosureReason.OTHER, "detail": "Flyttar utomlands"}
    shown = client.post(_url(_STEP, case, "avsluta"), data)
    assert shown.status_code == 200
    text = _text(shown)
    assert sv("Other") in text and "Flyttar utomlands" in text
    assert 'name="detail" value="Flyttar utomlands"' in shown.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED and case.version == 1
    client.post(_url(_STEP, case, "avsluta"), {**data, "confirm": "yes"})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.closure_detail == "Flyttar utomlands"


def test_withdrawing_asks_for_confirmation(client, world, referral_recorded):
    case = make_case(world.student_a1, CaseState.REFERRED)
    verified_login(client, world.principal_a)
    shown = client.post(_url(_STEP, case, "aterkalla"), {"version": 1, "reason": "Vänta"})
    assert shown.status_code == 200
    case.refresh_from_db()
    assert case.state == CaseState.REFERRED


def test_a_confirmation_page_for_a_step_not_open_now_says_so(client, world):
    case = make_case(world.student_a1, CaseState.PLAN)
    verified_login(client, world.principal_a)
    response = client.get(_url(_STEP, case, "aktualisera"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("cases:case_detail", args=[case.public_id])
    assert _messages(response) == [
        sv("This step cannot be taken now. The page shows the case as it is.")
    ]


@pytest.mark.parametrize("person, allowed", PEOPLE)
def test_the_confirmation_page_follows_the_policy(
    client, world, referral_recorded, person, allowed
):
    allowed = allowed and person != "nurse_a"  # the nurse writes no referral
    case = make_case(world.student_a1)
    verified_login(client, getattr(world, person))
    response = client.get(_url(_STEP, case, "aktualisera"))
    assert response.status_code == (200 if allowed else 404)
    if not allowed:
        assert world.student_a1.last_name not in response.content.decode()


def test_every_irreversible_step_asks_for_confirmation():
    confirmed = {t.name for t in transitions.TRANSITIONS if t.confirm}
    assert {"refer", "withdraw", "close", "reject", "redirect"} <= confirmed


def test_a_referred_case_does_not_say_it_waits_for_the_schools_own_withdrawal(world):
    """Submitting and withdrawing a referral are done on the referral's page: the case page
    does not list them as something the case waits for."""
    case = make_case(world.student_a1, CaseState.REFERRED)
    assert transitions.waiting_for(case, {Capability.WRITE_REFERRAL}) == []
    investigated = make_case(world.student_a2, CaseState.SCHOOL_INVESTIGATION)
    assert transitions.waiting_for(investigated, {Capability.WRITE_REFERRAL}) == []
    # The guards still hold the steps back: only the list of what is waited for changes.
    assert transitions.judge(
        transitions.BY_NAME["withdraw"], case, {Capability.WRITE_REFERRAL}
    ).missing == (transitions.REFERRAL_WITHDRAWN,)
