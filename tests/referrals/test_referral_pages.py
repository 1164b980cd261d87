"""The referral pages: the role matrix both ways for every view, the preview shows no
personal data, submitting needs a confirmation, withdraw and revise from the pages, the
coordinator's registration, the case page's section and the desk panel."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseState
from referrals import referral_services, referral_states
from referrals.models import Decision, DecisionKind, ForumMeeting, Referral, ReferralState
from referrals.referral_services import ReferralContent
from sst.models import AuditEvent, AuditObjectType, Role

from ..conftest import verified_login
from ..factories import UserFactory, grant
from .factories import forum_for

CONTENT = ReferralContent(
    cause_student_view="Eleven säger att det är jobbigt på rasterna.",
    expected_help="Stöd till familjen på morgnarna.",
)
WRITERS = {"mentor_a1", "counsellor_a", "principal_a"}
OTHERS = [
    "mentor_a2",
    "nurse_a",
    "principal_b",
    "counsellor_b",
    "referral_forum_n",
    "social_worker_n",
    "manager_a",
    "admin_m",
    "coordinator_n",
]


def person(world, key: str):
    if hasattr(world, key):
        return getattr(world, key)
    role, place = {
        "mentor_a2": (Role.MENTOR, world.group_a2),
        "principal_b": (Role.PRINCIPAL, world.school_b),
        "coordinator_n": (Role.COORDINATOR, world.district_n),
    }[key]
    user = UserFactory(username=key)
    grant(user, role, place)
    return user


@pytest.fixture
def draft(world, case_a1) -> Referral:
    referral = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    return referral_services.referral_save(
        referral=referral, content=CONTENT, version=referral.version, by=world.counsellor_a
    )


def rejected(world, referral: Referral) -> Referral:
    referral = referral_services.referral_submit(referral=referral, by=world.counsellor_a)
    meeting = ForumMeeting.objects.create(forum=referral.forum, starts_at=timezone.now())
    referral_states.move(referral, "place_on_agenda", by=None, meeting=meeting)
    Decision.objects.create(
        referral=referral,
        meeting=meeting,
        kind=DecisionKind.REJECTED,
        reason="Pröva skolans egna insatser först",
        suggestions="Anpassad studiegång",
        decided_on=timezone.localdate(),
    )
    referral_states.move(referral, "reject", by=None, decided_at=timezone.now())
    Case.objects.filter(pk=referral.case_id).update(state=CaseState.REJECTED)
    return referral


def _url(name: str, obj) -> str:
    return reverse(f"referrals:{name}", args=[obj.public_id])


PAGES = ["referral_edit", "referral_preview", "referral_submit", "referral_withdraw"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("key", sorted(WRITERS))
def test_the_writers_open_every_page(client, world, draft, page, key):
    verified_login(client, person(world, key))
    assert client.get(_url(page, draft)).status_code == 200


@pytest.mark.parametrize("page", [*PAGES, "referral_revise"])
@pytest.mark.parametrize("key", OTHERS)
def test_nobody_else_opens_any_page(client, world, draft, page, key):
    if page == "referral_revise":
        draft = rejected(world, draft)
    verified_login(client, person(world, key))
    assert client.get(_url(page, draft)).status_code == 404
    if page != "referral_preview":  # GET only: a POST is 405 before anything is read
        assert client.post(_url(page, draft), {"version": draft.version}).status_code == 404
    assert AuditEvent.objects.filter(
        action="access_denied", object_type=AuditObjectType.REFERRAL
    ).exists()


@pytest.mark.parametrize("key", sorted(WRITERS))
def test_the_writers_open_the_revise_page(client, world, draft, key):
    referral = rejected(world, draft)
    verified_login(client, person(world, key))
    assert client.get(_url("referral_revise", referral)).status_code == 200


@pytest.mark.parametrize("key", [*sorted(WRITERS), *OTHERS])
def test_the_start_page(client, world, case_a1, key):
    verified_login(client, person(world, key))
    response = client.get(_url("referral_start", case_a1))
    assert response.status_code == (200 if key in WRITERS else 404)
    assert not Referral.objects.exists()  # a GET never starts a draft


def test_starting_a_draft_is_a_post(client, world, case_a1):
    verified_login(client, world.mentor_a1)
    response = client.post(_url("referral_start", case_a1))
    referral = Referral.objects.get()
    assert response.status_code == 302 and response.url == _url("referral_edit", referral)
    # With a draft, the start page leads to it.
    assert client.get(_url("referral_start", case_a1)).url == _url("referral_edit", referral)


@pytest.mark.parametrize("key", [*sorted(WRITERS), *OTHERS])
def test_registration_is_the_coordinators(client, world, forum_n, key):
    verified_login(client, person(world, key))
    response = client.get(reverse("referrals:referral_register"))
    assert response.status_code == (200 if key == "coordinator_n" else 404)


# ---------------------------------------------------------------- the anonymous preview


def personal_data(world) -> list[str]:
    student, guardian = world.student_a1, world.guardian_a1
    number = student.personnummer
    return [
        student.first_name,
        student.last_name,
        guardian.first_name,
        guardian.last_name,
        number.value,
        number.ten_digit,
        str(number),
        str(student.public_id),
    ]


def test_the_preview_shows_no_personal_data(client, world, draft):
    verified_login(client, world.counsellor_a)
    response = client.get(_url("referral_preview", draft))
    page = response.content.decode()
    assert draft.number in page and CONTENT.expected_help in page
    for text in personal_data(world):
        if text:
            assert text not in page, text


def test_the_preview_is_the_forums_fragment(client, world, draft):
    from django.template.loader import render_to_string

    verified_login(client, world.counsellor_a)
    page = client.get(_url("referral_preview", draft)).content.decode()
    fragment = render_to_string("referrals/_referral_anonymous.html", {"referral": draft})
    assert 'class="referral-anonymous"' in fragment
    assert CONTENT.cause_student_view in fragment and CONTENT.cause_student_view in page


# ---------------------------------------------------------------- submit, withdraw, revise


def test_submit_asks_for_a_confirmation_first(client, world, draft):
    verified_login(client, world.mentor_a1)
    response = client.post(_url("referral_submit", draft), {"version": draft.version})
    assert response.status_code == 200 and "confirm" in response.content.decode()
    assert Referral.objects.get(pk=draft.pk).state == ReferralState.DRAFT
    response = client.post(
        _url("referral_submit", draft), {"version": draft.version, "confirm": "yes"}
    )
    assert response.status_code == 302
    assert response.url == reverse("sst:desk")  # the mentor does not read the case page
    draft.refresh_from_db()
    assert draft.state == ReferralState.SUBMITTED
    assert Case.objects.get(pk=draft.case_id).state == CaseState.REFERRED


def test_submit_with_a_stale_page_changes_nothing(client, world, draft):
    verified_login(client, world.counsellor_a)
    client.post(_url("referral_submit", draft), {"version": draft.version - 1, "confirm": "yes"})
    assert Referral.objects.get(pk=draft.pk).state == ReferralState.DRAFT


def test_a_get_never_changes_anything(client, world, draft):
    verified_login(client, world.counsellor_a)
    before = Referral.objects.get(pk=draft.pk).version
    for page in [*PAGES, "referral_revise"]:
        client.get(_url(page, draft) + "?confirm=yes&version=2&reason=x")
    after = Referral.objects.get(pk=draft.pk)
    assert (after.version, after.state) == (before, ReferralState.DRAFT)


def test_withdraw_from_the_page(client, world, draft):
    referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    draft.refresh_from_db()
    verified_login(client, world.principal_a)
    response = client.post(
        _url("referral_withdraw", draft),
        {"version": draft.version, "reason": "Familjen vill vänta"},
    )
    assert response.status_code == 302
    assert Referral.objects.get(pk=draft.pk).state == ReferralState.WITHDRAWN
    assert Case.objects.get(pk=draft.case_id).state == CaseState.SCHOOL_INVESTIGATION


def test_revise_from_the_page_says_a_new_case_is_opened(client, world, draft):
    referral = rejected(world, draft)
    referral.refresh_from_db()
    verified_login(client, world.counsellor_a)
    page = client.get(_url("referral_revise", referral)).content.decode()
    assert "ny" in page.lower() or "new" in page.lower()
    response = client.post(
        _url("referral_revise", referral), {"version": referral.version, "confirm": "yes"}
    )
    revised = Referral.objects.get(revision_of=referral)
    assert response.url == _url("referral_edit", revised)
    assert revised.case.previous_case_id == referral.case_id


# ---------------------------------------------------------------- the coordinator's flow


def test_the_coordinator_registers_from_the_page(client, world, forum_n):
    coordinator = person(world, "coordinator_n")
    verified_login(client, coordinator)
    data = {
        "personnummer": str(world.student_a1.personnummer),
        "origin": "guardian",
        "report_of_concern": "no",
        "cause_guardian_view": "Oro på morgnarna.",
        "expected_help": "Stöd i hemmet.",
    }
    response = client.post(reverse("referrals:referral_register"), data)
    referral = Referral.objects.get()
    assert response.status_code == 302 and response.url == _url("referral_registered", referral)
    assert referral.state == ReferralState.SUBMITTED and referral.case.state == CaseState.REFERRED
    receipt = client.get(response.url)
    assert receipt.status_code == 200
    for text in personal_data(world):
        if text:
            assert text not in receipt.content.decode()
    # The school's case stays the school's.
    case_page = reverse("cases:case_detail", args=[referral.case.public_id])
    assert client.get(case_page).status_code == 404


def test_an_unknown_or_outside_number_gets_the_same_answer(client, world, forum_n):
    verified_login(client, person(world, "coordinator_n"))
    data = {"origin": "student", "report_of_concern": "no", "expected_help": "Stöd."}
    outside = client.post(
        reverse("referrals:referral_register"),
        {**data, "personnummer": str(world.student_b1.personnummer)},
    )
    assert outside.status_code == 400
    assert world.student_b1.first_name not in outside.content.decode()
    assert not Referral.objects.exists() and not Case.objects.exists()


@pytest.mark.parametrize("key", [*sorted(WRITERS), *OTHERS])
def test_the_receipt_is_the_coordinators(client, world, forum_n, key):
    referral = referral_services.referral_register(
        student=world.student_a1,
        origin="student",
        content=CONTENT,
        by=person(world, "coordinator_n"),
    )
    verified_login(client, person(world, key))
    response = client.get(_url("referral_registered", referral))
    assert response.status_code == (200 if key == "coordinator_n" else 404)


# ---------------------------------------------------------------- the case page and the desk


def test_the_case_page_shows_the_referral_and_the_decision(client, world, draft):
    referral = rejected(world, draft)
    verified_login(client, world.counsellor_a)
    page = client.get(reverse("cases:case_detail", args=[referral.case.public_id])).content
    page = page.decode()
    assert referral.number in page
    assert "Pröva skolans egna insatser först" in page and "Anpassad studiegång" in page
    assert _url("referral_revise", referral) in page


def test_the_case_page_offers_to_write_a_referral(client, world, case_a1):
    verified_login(client, world.principal_a)
    page = client.get(reverse("cases:case_detail", args=[case_a1.public_id])).content.decode()
    assert _url("referral_start", case_a1) in page
    # The old "refer" step without a referral is not offered.
    assert reverse("cases:case_transition", args=[case_a1.public_id, "aktualisera"]) not in page
    verified_login(client, world.nurse_a)  # reads the case, does not write referrals
    page = client.get(reverse("cases:case_detail", args=[case_a1.public_id])).content.decode()
    assert _url("referral_start", case_a1) not in page


def test_the_desk_panel_lists_drafts_waiting_and_ready_cases(
    client, world, draft, django_assert_max_num_queries
):
    other = Case.objects.create(student=world.student_a2, opening="principal")
    waiting = referral_services.referral_create(case=other, by=world.principal_a)
    referral_services.referral_save(
        referral=waiting, content=CONTENT, version=waiting.version, by=world.principal_a
    )
    waiting.refresh_from_db()
    referral_services.referral_submit(referral=waiting, by=world.principal_a)
    verified_login(client, world.principal_a)
    page = client.get(reverse("sst:desk")).content.decode()
    assert _url("referral_edit", draft) in page
    assert _url("referral_preview", waiting) in page
    # The mentor sees the draft of their group's student, not the other group's.
    verified_login(client, world.mentor_a1)
    page = client.get(reverse("sst:desk")).content.decode()
    assert _url("referral_edit", draft) in page
    assert _url("referral_preview", waiting) not in page


def test_the_desk_panel_query_count_does_not_grow(rf, world, forum_n, django_assert_num_queries):
    from referrals.referral_views import referral_panel

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        request = rf.get("/")
        request.user = world.principal_a
        with CaptureQueriesContext(connection) as queries:
            referral_panel(request)
        return len(queries)

    Case.objects.create(student=world.student_a1, opening="principal")
    few = count()
    for student in (world.student_a2,):
        case = Case.objects.create(student=student, opening="principal")
        referral_services.referral_create(case=case, by=world.principal_a)
    assert count() == few


def test_the_forum_fragment_for_every_state_needs_only_the_referral(world, draft):
    from django.template.loader import render_to_string

    html = render_to_string("referrals/_referral_anonymous.html", {"referral": draft})
    for text in personal_data(world):
        if text:
            assert text not in html


def test_forum_helper_can_use_a_municipality_forum(world):
    forum = forum_for(world.municipality)
    assert forum.district is None
