"""The mapping step's pages: the role matrix for every page both ways, the forms end to end,
what each reader's HTML holds (and never holds), the desk panel and constant query counts."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from cases.mapping import services, texts
from cases.models import (
    Agreement,
    CauseFactor,
    CauseGroup,
    HealthTalk,
    MappingApproval,
    OfferedTime,
    PedagogicalMapping,
    SchoolSocialMapping,
    TimeStatus,
)
from sst.models import AuditAction, AuditEvent, Role

from ..conftest import verified_login
from ..factories import StudentFactory, UserFactory, grant

MATRIX = [
    "counsellor_a",
    "principal_a",
    "nurse_a",
    "mentor_a1",
    "counsellor_b",
    "social_worker_n",
    "manager_m",
    "admin_m",
]
SECRET = "Hemlig text om fotbollen"
NOTE = "Huvudvärk varje morgon"


@pytest.fixture
def special_educator_a(world):
    user = UserFactory(username="special_educator_a")
    grant(user, Role.SPECIAL_EDUCATOR, world.school_a)
    return user


@pytest.fixture
def people(world, special_educator_a):
    found = {name: getattr(world, name) for name in MATRIX}
    found["special_educator_a"] = special_educator_a
    return found


def as_user(client, user):
    client.logout()
    verified_login(client, user)
    return client


COMPLETE = {
    "school_situation": "Matematiken är svår",
    "wellbeing": "Sover dåligt",
    "support_needed": "Hjälp på rasterna",
}


def new_mapping(world, **values):
    """A complete mapping (the student can be asked to approve it) unless ``values`` say not."""
    values = {"conducted_on": timezone.localdate(), **COMPLETE, **values}
    content = services.MappingContent(home_and_leisure=SECRET, **values)
    return services.mapping_create(student=world.student_a1, content=content, by=world.counsellor_a)


def approve(world, record):
    return services.mapping_record_approval(
        mapping=record,
        approval=MappingApproval.APPROVED,
        on=timezone.localdate(),
        version=record.version,
        by=world.counsellor_a,
    )


def past_time(world, hours=2):
    return services.offered_time_book(
        student=world.student_a1,
        starts_at=timezone.now() - datetime.timedelta(hours=hours),
        by=world.counsellor_a,
    )


# ---------------------------------------------------------------- the role matrix


def _check(client, people, allowed, method, url, data=None, ok=(200,)):
    for name, user in people.items():
        as_user(client, user)
        response = client.post(url, data or {}) if method == "post" else client.get(url)
        if name in allowed:
            assert response.status_code in ok, (name, url, response.status_code)
        else:
            assert response.status_code == 404, (name, url, response.status_code)


def test_overview_matrix(client, world, people):
    url = reverse("cases:mapping_overview", args=[world.student_a1.public_id])
    _check(
        client, people, {"counsellor_a", "principal_a", "nurse_a", "special_educator_a"}, "get", url
    )


@pytest.mark.parametrize(
    "name, allowed",
    [
        ("cases:mapping_create", {"counsellor_a"}),
        ("cases:offered_time_book", {"counsellor_a"}),
        ("cases:pedagogical_mapping_create", {"special_educator_a"}),
        ("cases:health_talk_create", {"nurse_a"}),
    ],
)
def test_create_pages_matrix(client, world, people, name, allowed):
    url = reverse(name, args=[world.student_a1.public_id])
    _check(client, people, allowed, "get", url)
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED).exists()


def test_pending_mapping_pages_are_the_counsellors_alone(client, world, people):
    record = new_mapping(world)
    for name in ("cases:mapping_detail", "cases:mapping_edit", "cases:mapping_approval"):
        _check(client, people, {"counsellor_a"}, "get", reverse(name, args=[record.public_id]))


def test_approved_mapping_is_read_by_case_readers_and_written_by_the_counsellor(
    client, world, people
):
    record = approve(world, new_mapping(world))
    readers = {"counsellor_a", "principal_a", "nurse_a", "special_educator_a"}
    _check(client, people, readers, "get", reverse("cases:mapping_detail", args=[record.public_id]))
    for name in ("cases:mapping_edit", "cases:mapping_approval"):
        _check(client, people, {"counsellor_a"}, "get", reverse(name, args=[record.public_id]))


def test_mark_time_matrix(client, world, people):
    times = {name: past_time(world) for name in people}
    for name, user in people.items():
        as_user(client, user)
        url = reverse("cases:offered_time_mark", args=[times[name].public_id])
        response = client.post(url, {"status": "attended"})
        expected = 302 if name == "counsellor_a" else 404
        assert response.status_code == expected, name
        status = OfferedTime.objects.get(pk=times[name].pk).status
        assert status == (TimeStatus.ATTENDED if name == "counsellor_a" else TimeStatus.BOOKED)


def test_writes_are_refused_for_everyone_else(client, world, people):
    student = world.student_a1.public_id
    posts = [
        ("cases:mapping_create", {"home_and_leisure": "x"}, "counsellor_a"),
        ("cases:offered_time_book", {"starts_at": "2026-01-10T10:00"}, "counsellor_a"),
        (
            "cases:pedagogical_mapping_create",
            {"conducted_on": "2026-01-10", "findings": "x"},
            "special_educator_a",
        ),
        ("cases:health_talk_create", {"held_on": "2026-01-10", "note": "x"}, "nurse_a"),
    ]
    for name, data, writer in posts:
        for who, user in people.items():
            if who == writer:
                continue
            as_user(client, user)
            assert client.post(reverse(name, args=[student]), data).status_code == 404, (name, who)
    assert not SchoolSocialMapping.objects.exists()
    assert not OfferedTime.objects.exists()
    assert not PedagogicalMapping.objects.exists()
    assert not HealthTalk.objects.exists()


def test_anonymous_visitors_go_to_sign_in(client, world):
    url = reverse("cases:mapping_overview", args=[world.student_a1.public_id])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sst:login"))


# ---------------------------------------------------------------- the counsellor's forms


def test_counsellor_records_a_mapping_through_the_form(client, world):
    bullying = CauseFactor.objects.get_or_create(group=CauseGroup.SCHOOL, label="Mobbning")[0]
    retired = CauseFactor.objects.create(group=CauseGroup.OTHER, label="Gammal", active=False)
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_create", args=[world.student_a1.public_id])
    page = client.get(url)
    html = page.content.decode()
    assert "Mobbning" in html
    assert "Gammal" not in html  # factors out of use are not offered
    with translation.override("sv"):  # the page speaks Swedish
        for _key, statement in texts.ANALYSIS_STATEMENTS:
            assert escape(str(statement)) in html
        for area in texts.AREAS:
            assert escape(str(area.question)) in html
            assert escape(str(area.prompts)) in html

    response = client.post(
        url,
        {
            "conducted_on": timezone.localdate().isoformat(),
            "school_situation": "Svårt i matte.",
            "home_and_leisure": SECRET,
            "causes": [bullying.pk],
            "absence_kind": "systematic",
            "analysis_absence_increased": Agreement.AGREES,
            "analysis_fatigue": Agreement.DISAGREES,
            "support_wanted": "Någon att prata med.",
        },
    )
    record = SchoolSocialMapping.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:mapping_detail", args=[record.public_id])
    assert record.analysis == {"absence_increased": "agrees", "fatigue": "disagrees"}
    assert list(record.causes.all()) == [bullying]
    assert record.absence_kind == "systematic"

    # An inactive factor cannot be sent in by hand either.
    bad = client.post(url, {"causes": [retired.pk]})
    assert bad.status_code == 200
    assert SchoolSocialMapping.objects.count() == 1

    detail = client.get(response["Location"]).content.decode()
    assert SECRET in detail
    assert "Mobbning" in detail


def test_a_stale_edit_is_refused_with_a_message_and_nothing_overwritten(client, world):
    record = new_mapping(world)
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_edit", args=[record.public_id])
    form_version = record.version
    services.mapping_update(
        mapping=record,
        content=services.MappingContent(home_and_leisure="Den andras ändring"),
        version=record.version,
        by=world.counsellor_a,
    )
    response = client.post(url, {"version": form_version, "home_and_leisure": "Min ändring"})
    assert response.status_code == 409
    assert response.context["stale"] is True
    assert response.context["form"].non_field_errors()
    stored = SchoolSocialMapping.objects.get(pk=record.pk)
    assert stored.home_and_leisure == "Den andras ändring"
    # The user's text is still in the form, to copy before reloading.
    assert "Min ändring" in response.content.decode()

    fresh = client.post(url, {"version": stored.version, "home_and_leisure": "Min ändring"})
    assert fresh.status_code == 302
    assert SchoolSocialMapping.objects.get(pk=record.pk).home_and_leisure == "Min ändring"


def test_counsellor_records_the_approval(client, world):
    record = new_mapping(world)
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_approval", args=[record.public_id])
    response = client.post(
        url,
        {
            "version": record.version,
            "approval": "approved",
            "approval_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.approval == MappingApproval.APPROVED
    stale = client.post(
        url,
        {"version": 1, "approval": "not_approved", "approval_on": timezone.localdate().isoformat()},
    )
    assert stale.status_code == 409
    assert SchoolSocialMapping.objects.get(pk=record.pk).approval == MappingApproval.APPROVED


def test_booking_and_marking_times_through_the_pages(client, world):
    as_user(client, world.counsellor_a)
    student = world.student_a1.public_id
    when = (timezone.localtime() - datetime.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("cases:offered_time_book", args=[student]), {"starts_at": when})
    assert response.status_code == 302
    offered = OfferedTime.objects.get()
    mark_url = reverse("cases:offered_time_mark", args=[offered.public_id])
    assert client.post(mark_url, {"status": "missed"}).status_code == 302
    assert OfferedTime.objects.get().status == TimeStatus.MISSED
    # Marked again: refused with a message, not an error page.
    again = client.post(mark_url, {"status": "attended"}, follow=True)
    assert again.status_code == 200
    assert OfferedTime.objects.get().status == TimeStatus.MISSED
    assert client.get(mark_url).status_code == 405


# ---------------------------------------------------------------- what each reader sees


def test_not_approved_mapping_content_never_reaches_other_readers(client, world):
    record = new_mapping(world)
    services.mapping_record_approval(
        mapping=record,
        approval=MappingApproval.NOT_APPROVED,
        on=timezone.localdate(),
        version=record.version,
        by=world.counsellor_a,
    )
    overview = reverse("cases:mapping_overview", args=[world.student_a1.public_id])
    detail = reverse("cases:mapping_detail", args=[record.public_id])
    for who in ("principal_a", "nurse_a"):
        as_user(client, getattr(world, who))
        html = client.get(overview).content.decode()
        assert SECRET not in html
        assert detail not in html  # no link to a page they may not open
        assert client.get(detail).status_code == 404
    as_user(client, world.counsellor_a)
    assert detail in client.get(overview).content.decode()
    assert SECRET in client.get(detail).content.decode()


def test_health_talk_note_is_read_by_nurses_only(client, world, special_educator_a):
    services.health_talk_add(
        student=world.student_a1, held_on=timezone.localdate(), note=NOTE, by=world.nurse_a
    )
    overview = reverse("cases:mapping_overview", args=[world.student_a1.public_id])
    as_user(client, world.nurse_a)
    assert NOTE in client.get(overview).content.decode()
    for user in (world.counsellor_a, world.principal_a, special_educator_a):
        as_user(client, user)
        html = client.get(overview).content.decode()
        assert NOTE not in html
        assert timezone.localdate().strftime("%Y-%m-%d") in html  # when it was held


def test_pages_are_audited(client, world):
    record = new_mapping(world)
    as_user(client, world.counsellor_a)
    client.get(reverse("cases:mapping_overview", args=[world.student_a1.public_id]))
    client.get(reverse("cases:mapping_detail", args=[record.public_id]))
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, actor_username="counsellor_a")
    assert views.filter(object_type="school_social_work").exists()
    assert views.filter(
        object_type="school_social_mapping", object_id=str(record.public_id)
    ).exists()


# ---------------------------------------------------------------- the desk panel


def test_desk_panel_for_counsellors_only(client, world):
    new_mapping(world)
    services.offered_time_book(
        student=world.student_a1,
        starts_at=timezone.now() + datetime.timedelta(days=1),
        by=world.counsellor_a,
    )
    as_user(client, world.counsellor_a)
    html = client.get(reverse("sst:desk")).content.decode()
    assert "mapping-panel" in html
    assert html.count(world.student_a1.last_name) >= 2
    for who in ("principal_a", "nurse_a", "mentor_a1", "counsellor_b", "manager_m"):
        as_user(client, getattr(world, who))
        html = client.get(reverse("sst:desk")).content.decode()
        if who == "counsellor_b":
            assert "mapping-panel" in html  # their own (empty) panel
        else:
            assert "mapping-panel" not in html


# ---------------------------------------------------------------- query counts


def _warm_up(client) -> None:
    """The first request of a session syncs the user's permissions; measure after it."""
    client.get(reverse("sst:desk"))


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _add_records(world, special_educator_a, n):
    for _i in range(n):
        approve(world, new_mapping(world))
        new_mapping(world)
        past_time(world)
        services.offered_time_book(
            student=world.student_a1,
            starts_at=timezone.now() + datetime.timedelta(days=2),
            by=world.counsellor_a,
        )
        services.pedagogical_mapping_add(
            student=world.student_a1,
            conducted_on=timezone.localdate(),
            findings="f",
            adjustments="a",
            by=special_educator_a,
        )
        services.health_talk_add(
            student=world.student_a1, held_on=timezone.localdate(), note="n", by=world.nurse_a
        )


@pytest.mark.parametrize("who", ["counsellor_a", "nurse_a"])
def test_overview_and_desk_query_counts_are_constant(client, world, special_educator_a, who):
    _add_records(world, special_educator_a, 1)
    as_user(client, getattr(world, who))
    overview = reverse("cases:mapping_overview", args=[world.student_a1.public_id])
    desk = reverse("sst:desk")
    _warm_up(client)
    before = (_count(client, overview), _count(client, desk))
    _add_records(world, special_educator_a, 3)
    other = StudentFactory(mentor_group=world.group_a2)
    services.mapping_create(
        student=other, content=services.MappingContent(wellbeing="Trött"), by=world.counsellor_a
    )
    assert (_count(client, overview), _count(client, desk)) == before


def test_mapping_form_query_count_is_constant(client, world):
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_create", args=[world.student_a1.public_id])
    _warm_up(client)
    before = _count(client, url)
    for n in range(6):
        CauseFactor.objects.create(group=CauseGroup.FAMILY, label=f"Faktor {n}")
    assert _count(client, url) == before


# ---------------------------------------------------------------- complete before it is shared


def _sv(message: str) -> str:
    with translation.override("sv"):
        return translation.gettext(message)


def test_an_empty_mapping_form_is_refused(client, world):
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_create", args=[world.student_a1.public_id])
    response = client.post(url, {"conducted_on": "", "draft": "1"})
    assert response.status_code == 200
    assert escape(_sv("The mapping is empty: write at least one part before saving it.")) in (
        response.content.decode()
    )
    assert not SchoolSocialMapping.objects.exists()


def test_a_draft_is_saved_and_done_asks_for_every_part(client, world):
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_create", args=[world.student_a1.public_id])
    done = client.post(url, {"wellbeing": "Sover dåligt", "done": "1"})
    assert done.status_code == 200
    errors = done.context["form"].errors
    assert errors["conducted_on"] == [_sv("Give the date of the talk with the student.")]
    assert set(errors) == {"conducted_on", "school_situation", "home_and_leisure", "support_needed"}
    assert not SchoolSocialMapping.objects.exists()

    draft = client.post(url, {"wellbeing": "Sover dåligt", "draft": "1"})
    assert draft.status_code == 302
    saved = SchoolSocialMapping.objects.get()
    detail = client.get(reverse("cases:mapping_detail", args=[saved.public_id]))
    page = detail.content.decode()
    assert escape(_sv("Draft: the mapping is not complete")) in page
    assert reverse("cases:mapping_approval", args=[saved.public_id]) not in page
    forged = client.post(
        reverse("cases:mapping_approval", args=[saved.public_id]),
        {
            "version": saved.version,
            "approval": "approved",
            "approval_on": timezone.localdate().isoformat(),
        },
    )
    assert forged.status_code == 200
    saved.refresh_from_db()
    assert saved.approval == MappingApproval.PENDING


def test_an_approval_before_the_talk_is_shown_at_its_field(client, world):
    talk = timezone.localdate() - datetime.timedelta(days=2)
    record = new_mapping(world, conducted_on=talk)
    as_user(client, world.counsellor_a)
    response = client.post(
        reverse("cases:mapping_approval", args=[record.public_id]),
        {
            "version": record.version,
            "approval": "approved",
            "approval_on": (talk - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "approval_on" in response.context["form"].errors
    record.refresh_from_db()
    assert record.approval == MappingApproval.PENDING


def test_a_too_long_area_is_refused_with_a_message(client, world):
    as_user(client, world.counsellor_a)
    url = reverse("cases:mapping_create", args=[world.student_a1.public_id])
    response = client.post(url, {"wellbeing": "x" * 10_001, "draft": "1"})
    assert response.status_code == 200
    assert "wellbeing" in response.context["form"].errors
    assert not SchoolSocialMapping.objects.exists()
