"""The mapping step's services and rules: who writes what, who reads what, the student's
approval, optimistic concurrency, and the principal informed once after three missed times."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.mapping import selectors, services, texts
from cases.models import (
    Agreement,
    Case,
    CaseEvent,
    CauseFactor,
    CauseGroup,
    EventKind,
    MappingApproval,
    OfferedTime,
    SchoolSocialMapping,
    TimeStatus,
)
from cases.workflow import ConcurrentChange, TransitionRefused
from sst import access
from sst.models import AuditAction, AuditEvent, Role

from ..factories import StudentFactory, UserFactory, grant


@pytest.fixture
def special_educator_a(world):
    user = UserFactory(username="special_educator_a")
    grant(user, Role.SPECIAL_EDUCATOR, world.school_a)
    return user


@pytest.fixture
def factors(db):
    return {
        "bullying": CauseFactor.objects.get_or_create(group=CauseGroup.SCHOOL, label="Mobbning")[0],
        "anxiety": CauseFactor.objects.get_or_create(
            group=CauseGroup.INDIVIDUAL, label="Ångestproblematik"
        )[0],
        "retired": CauseFactor.objects.get_or_create(
            group=CauseGroup.OTHER, label="Utgången faktor", defaults={"active": False}
        )[0],
    }


def content(**overrides):
    values = {
        "conducted_on": timezone.localdate(),
        "school_situation": "Trivs på rasterna men inte i matematiken.",
        "wellbeing": "Sover dåligt.",
        "home_and_leisure": "Spelar fotboll.",
        "support_needed": "Lugnare klassrum.",
        "support_wanted": "En vuxen att prata med.",
        "absence_kind": "scattered",
        "analysis": {"absence_increased": Agreement.AGREES, "low_mood": Agreement.PARTLY},
        "causes": [],
    }
    values.update(overrides)
    return services.MappingContent(**values)


def record(world, **overrides):
    return services.mapping_create(
        student=world.student_a1, content=content(**overrides), by=world.counsellor_a
    )


def approve(world, mapping_record, approval=MappingApproval.APPROVED):
    return services.mapping_record_approval(
        mapping=mapping_record,
        approval=approval,
        on=timezone.localdate(),
        version=mapping_record.version,
        by=world.counsellor_a,
    )


# ---------------------------------------------------------------- the source's constants


def test_the_fourteen_statements_and_four_areas_of_the_source():
    assert len(texts.ANALYSIS_STATEMENTS) == 14
    assert len(texts.ANALYSIS_KEYS) == 14
    assert [area.field for area in texts.AREAS] == [
        "school_situation",
        "wellbeing",
        "home_and_leisure",
        "support_needed",
    ]
    assert all(str(area.prompts) for area in texts.AREAS)


def test_default_catalogue_is_loaded_once_in_swedish(db):
    migration = importlib.import_module("cases.migrations.0004_default_cause_factors")
    migration.add_default_cause_factors(django_apps, None)
    migration.add_default_cause_factors(django_apps, None)  # again: nothing doubles
    labels = dict(
        (label, group) for group, label in CauseFactor.objects.values_list("group", "label")
    )
    assert labels["Mobbning"] == CauseGroup.SCHOOL
    assert labels["Socialt klimat"] == CauseGroup.SCHOOL
    assert labels["Ångestproblematik"] == CauseGroup.INDIVIDUAL
    assert labels["Kommunikation i familjen"] == CauseGroup.FAMILY
    assert labels["Medicinska orsaker"] == CauseGroup.OTHER
    assert CauseFactor.objects.filter(label="Mobbning").count() == 1
    assert CauseFactor.objects.filter(active=True).count() >= 11


# ---------------------------------------------------------------- writing the mapping


def test_counsellor_records_a_mapping_and_the_case_opens(world, factors):
    assert not Case.objects.filter(student=world.student_a1).exists()
    created = record(world, causes=[factors["bullying"], factors["anxiety"]])

    assert created.case.student == world.student_a1
    assert created.case.opened_by == world.counsellor_a
    assert created.approval == MappingApproval.PENDING
    assert set(created.causes.all()) == {factors["bullying"], factors["anxiety"]}
    assert created.analysis == {"absence_increased": "agrees", "low_mood": "partly"}
    entry = CaseEvent.objects.get(case=created.case, kind=EventKind.MAPPING)
    # Not approved yet: the chronology entry stays with the counsellors, and says nothing.
    assert entry.restricted_to == Role.COUNSELLOR
    assert "fotboll" not in entry.summary
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE,
        object_type="school_social_mapping",
        object_id=str(created.public_id),
        student_id=world.student_a1.public_id,
    ).exists()


def test_a_second_record_uses_the_open_case(world):
    first = record(world)
    second = record(world)
    assert first.case_id == second.case_id
    assert Case.objects.filter(student=world.student_a1).count() == 1


@pytest.mark.parametrize(
    "who", ["principal_a", "nurse_a", "mentor_a1", "counsellor_b", "social_worker_n", "admin_m"]
)
def test_only_the_schools_counsellor_writes_the_mapping(world, who):
    with pytest.raises(Http404):
        services.mapping_create(student=world.student_a1, content=content(), by=getattr(world, who))
    assert not SchoolSocialMapping.objects.exists()
    assert not Case.objects.exists()


def test_unknown_analysis_answers_and_future_dates_are_refused(world):
    with pytest.raises(ValidationError):
        record(world, analysis={"not_a_statement": "agrees"})
    with pytest.raises(ValidationError):
        record(world, analysis={"low_mood": "maybe"})
    with pytest.raises(ValidationError):
        record(world, conducted_on=timezone.localdate() + datetime.timedelta(days=1))
    assert not SchoolSocialMapping.objects.exists()


def test_edit_with_the_current_version_saves(world, factors):
    created = record(world, causes=[factors["bullying"]])
    updated = services.mapping_update(
        mapping=created,
        content=content(wellbeing="Sover bättre nu.", causes=[factors["anxiety"]]),
        version=created.version,
        by=world.counsellor_a,
    )
    assert updated.version == 2
    assert updated.wellbeing == "Sover bättre nu."
    assert list(updated.causes.all()) == [factors["anxiety"]]
    assert CaseEvent.objects.filter(case=created.case, kind=EventKind.MAPPING).count() == 2


def test_a_stale_edit_is_refused_and_overwrites_nothing(world, factors):
    created = record(world, causes=[factors["bullying"]])
    opened_by_a = SchoolSocialMapping.objects.get(pk=created.pk)
    opened_by_b = SchoolSocialMapping.objects.get(pk=created.pk)
    services.mapping_update(
        mapping=opened_by_a,
        content=content(wellbeing="Första ändringen."),
        version=opened_by_a.version,
        by=world.counsellor_a,
    )
    with pytest.raises(ConcurrentChange) as refused:
        services.mapping_update(
            mapping=opened_by_b,
            content=content(wellbeing="Andra ändringen.", causes=[factors["anxiety"]]),
            version=opened_by_b.version,
            by=world.counsellor_a,
        )
    assert refused.value.code == "concurrent"
    stored = SchoolSocialMapping.objects.get(pk=created.pk)
    assert stored.wellbeing == "Första ändringen."
    assert stored.version == 2
    assert list(stored.causes.all()) == []  # the first edit cleared them; the stale one did not


def test_a_stale_approval_is_refused(world):
    created = record(world)
    stale_version = created.version
    services.mapping_update(
        mapping=created, content=content(), version=created.version, by=world.counsellor_a
    )
    with pytest.raises(ConcurrentChange):
        services.mapping_record_approval(
            mapping=created,
            approval=MappingApproval.APPROVED,
            on=timezone.localdate(),
            version=stale_version,
            by=world.counsellor_a,
        )
    assert SchoolSocialMapping.objects.get(pk=created.pk).approval == MappingApproval.PENDING


def test_only_the_counsellor_records_the_approval(world):
    created = record(world)
    with pytest.raises(Http404):
        services.mapping_record_approval(
            mapping=created,
            approval=MappingApproval.APPROVED,
            on=timezone.localdate(),
            version=created.version,
            by=world.principal_a,
        )


# ---------------------------------------------------------------- the student's approval


def test_approval_is_chronicled_for_everyone_refusal_for_counsellors(world):
    created = record(world)
    approve(world, created, MappingApproval.NOT_APPROVED)
    refusal = CaseEvent.objects.filter(case=created.case).order_by("-id").first()
    assert refusal.restricted_to == Role.COUNSELLOR
    approve(world, created, MappingApproval.APPROVED)
    approval = CaseEvent.objects.filter(case=created.case).order_by("-id").first()
    assert approval.kind == EventKind.MAPPING
    assert approval.restricted_to == ""
    created.refresh_from_db()
    assert created.approval == MappingApproval.APPROVED
    assert created.approval_on == timezone.localdate()


def test_approval_must_be_approved_or_not_and_not_in_the_future(world):
    created = record(world)
    with pytest.raises(ValidationError):
        approve(world, created, MappingApproval.PENDING)
    with pytest.raises(ValidationError):
        services.mapping_record_approval(
            mapping=created,
            approval=MappingApproval.APPROVED,
            on=timezone.localdate() + datetime.timedelta(days=2),
            version=created.version,
            by=world.counsellor_a,
        )


def test_changing_an_approved_mapping_asks_for_approval_again(world):
    created = approve(world, record(world))
    changed = services.mapping_update(
        mapping=created,
        content=content(wellbeing="Något nytt som eleven inte läst."),
        version=created.version,
        by=world.counsellor_a,
    )
    assert changed.approval == MappingApproval.PENDING
    assert changed.approval_on is None
    assert changed.case.events.order_by("-id").first().restricted_to == Role.COUNSELLOR


def test_saving_an_approved_mapping_unchanged_keeps_the_approval(world):
    created = approve(world, record(world))
    same = services.mapping_update(
        mapping=created, content=content(), version=created.version, by=world.counsellor_a
    )
    assert same.approval == MappingApproval.APPROVED


# ---------------------------------------------------------------- who reads the mapping


@pytest.mark.parametrize("approval", [MappingApproval.PENDING, MappingApproval.NOT_APPROVED])
def test_a_mapping_not_approved_is_read_by_the_counsellor_only(world, approval):
    created = record(world)
    if approval != MappingApproval.PENDING:
        approve(world, created, approval)

    assert list(selectors.readable_mappings(world.counsellor_a)) == [created]
    for who in ("principal_a", "nurse_a", "mentor_a1", "counsellor_b", "manager_m", "admin_m"):
        user = getattr(world, who)
        assert not selectors.readable_mappings(user).exists(), who
        assert not selectors.shared_mappings_at_school(user, world.school_a.pk).exists(), who
        with pytest.raises(Exception) as refused:
            selectors.mapping_for_user(user, created.public_id)
        assert issubclass(refused.type, Http404), who


@pytest.mark.parametrize("who", ["principal_a", "nurse_a"])
def test_other_case_readers_see_that_a_mapping_exists_not_its_content(world, who):
    created = record(world)
    user = getattr(world, who)
    roles = access.capabilities_at(user, world.student_a1)
    work = selectors.school_social_work(user, world.student_a1, roles)
    assert [row.public_id for row in work.mappings] == [created.public_id]
    row = work.mappings[0]
    assert row.readable is False
    assert not row.shared
    # The summary a list gets carries no content at all.
    assert not any("fotboll" in str(value) for value in vars(row).values())


def test_an_approved_mapping_is_read_by_every_case_reader_at_the_school(world):
    created = approve(world, record(world))
    for who in ("counsellor_a", "principal_a", "nurse_a"):
        user = getattr(world, who)
        assert selectors.mapping_for_user(user, created.public_id) == created
        assert list(selectors.shared_mappings_at_school(user, world.school_a.pk)) == [created]
    for who in ("mentor_a1", "counsellor_b", "social_worker_n", "manager_m", "admin_m"):
        assert not selectors.readable_mappings(getattr(world, who)).exists(), who


def test_the_eht_list_holds_approved_mappings_only(world):
    student = StudentFactory(mentor_group=world.group_a2)
    shared = approve(world, record(world))
    services.mapping_create(student=student, content=content(), by=world.counsellor_a)
    assert list(selectors.shared_mappings_at_school(world.principal_a, world.school_a.pk)) == [
        shared
    ]


# ---------------------------------------------------------------- offered times


def book(world, *, hours_ago=2):
    return services.offered_time_book(
        student=world.student_a1,
        starts_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        by=world.counsellor_a,
    )


def mark(world, offered, status=TimeStatus.MISSED):
    return services.offered_time_mark(offered_time=offered, status=status, by=world.counsellor_a)


def test_the_third_missed_time_informs_the_principal_once(
    world, django_capture_on_commit_callbacks
):
    world.principal_a.email = "rektor@example.org"
    world.principal_a.save(update_fields=["email"])
    times = [book(world, hours_ago=10 - n) for n in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        mark(world, times[0])
        mark(world, times[1], TimeStatus.ATTENDED)
        mark(world, times[2])
    assert mail.outbox == []
    assert not OfferedTime.objects.filter(principal_notified_at__isnull=False).exists()

    with django_capture_on_commit_callbacks(execute=True):
        third = mark(world, times[3])
    assert third.principal_notified_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rektor@example.org"]
    # Content-free: nothing about the student.
    for text in (message.subject, message.body):
        assert world.student_a1.first_name not in text
        assert world.student_a1.last_name not in text
    # Five bookings, four marks, and one entry saying the principal was informed.
    assert third.case.events.filter(kind=EventKind.MAPPING).count() == 10

    with django_capture_on_commit_callbacks(execute=True):
        mark(world, times[4])  # the fourth: no second notice
    assert len(mail.outbox) == 1
    assert third.case.events.filter(kind=EventKind.MAPPING).count() == 11
    assert OfferedTime.objects.filter(principal_notified_at__isnull=False).count() == 1
    assert OfferedTime.objects.get(pk=third.pk).principal_notified_at == third.principal_notified_at


def test_only_the_principals_of_the_students_school_are_informed(
    world, django_capture_on_commit_callbacks
):
    world.principal_a.email = "rektor.a@example.org"
    world.principal_a.save(update_fields=["email"])
    second_principal = UserFactory(username="principal_a2", email="rektor.a2@example.org")
    grant(second_principal, Role.PRINCIPAL, world.school_a)
    other_principal = UserFactory(username="principal_b", email="rektor.b@example.org")
    grant(other_principal, Role.PRINCIPAL, world.school_b)
    world.counsellor_a.email = "kurator@example.org"
    world.counsellor_a.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        for _n in range(3):
            mark(world, book(world))
    assert sorted(m.to[0] for m in mail.outbox) == ["rektor.a2@example.org", "rektor.a@example.org"]


def test_a_time_is_marked_once_and_not_before_it_begins(world):
    offered = book(world)
    mark(world, offered, TimeStatus.ATTENDED)
    with pytest.raises(TransitionRefused):
        mark(world, offered, TimeStatus.MISSED)
    assert OfferedTime.objects.get(pk=offered.pk).status == TimeStatus.ATTENDED
    upcoming = book(world, hours_ago=-24)
    with pytest.raises(ValidationError):
        mark(world, upcoming)
    assert OfferedTime.objects.get(pk=upcoming.pk).status == TimeStatus.BOOKED


@pytest.mark.parametrize("who", ["principal_a", "nurse_a", "counsellor_b"])
def test_only_the_counsellor_books_and_marks_times(world, who):
    user = getattr(world, who)
    with pytest.raises(Http404):
        services.offered_time_book(student=world.student_a1, starts_at=timezone.now(), by=user)
    offered = book(world)
    with pytest.raises(Http404):
        services.offered_time_mark(offered_time=offered, status=TimeStatus.MISSED, by=user)


def test_booking_and_marking_are_chronicled(world):
    offered = book(world)
    mark(world, offered)
    summaries = list(offered.case.events.values_list("kind", "restricted_to"))
    assert summaries.count((EventKind.MAPPING, "")) == 2


# ---------------------------------------------------------------- lighter records


def test_only_the_special_educator_writes_a_pedagogical_mapping(world, special_educator_a):
    for who in ("counsellor_a", "principal_a", "nurse_a"):
        with pytest.raises(Http404):
            services.pedagogical_mapping_add(
                student=world.student_a1,
                conducted_on=timezone.localdate(),
                findings="x",
                adjustments="",
                by=getattr(world, who),
            )
    created = services.pedagogical_mapping_add(
        student=world.student_a1,
        conducted_on=timezone.localdate(),
        findings="Läser långsamt.",
        adjustments="Inlästa läromedel.",
        by=special_educator_a,
    )
    entry = created.case.events.get(kind=EventKind.PEDAGOGICAL_MAPPING)
    assert entry.restricted_to == ""


def test_only_the_nurse_writes_and_reads_health_talk_notes(world, special_educator_a):
    for who in ("counsellor_a", "principal_a"):
        with pytest.raises(Http404):
            services.health_talk_add(
                student=world.student_a1,
                held_on=timezone.localdate(),
                note="x",
                by=getattr(world, who),
            )
    talk = services.health_talk_add(
        student=world.student_a1,
        held_on=timezone.localdate() - datetime.timedelta(days=1),
        note="Huvudvärk varje morgon.",
        by=world.nurse_a,
    )
    entry = talk.case.events.get(kind=EventKind.HEALTH_TALK)
    assert entry.restricted_to == Role.SCHOOL_NURSE
    assert "Huvudvärk" not in entry.summary
    assert timezone.localtime(entry.happened_at).date() == talk.held_on

    for who, sees_note in (
        ("nurse_a", True),
        ("counsellor_a", False),
        ("principal_a", False),
    ):
        user = getattr(world, who)
        roles = access.capabilities_at(user, world.student_a1)
        [summary] = selectors.school_social_work(user, world.student_a1, roles).health_talks
        assert summary.held_on == talk.held_on
        assert (summary.note == "Huvudvärk varje morgon.") is sees_note, who
    roles = access.capabilities_at(special_educator_a, world.student_a1)
    [summary] = selectors.school_social_work(
        special_educator_a, world.student_a1, roles
    ).health_talks
    assert summary.note is None


# ---------------------------------------------------------------- the desk and query counts


def test_counsellor_desk_lists_pending_mappings_and_booked_times(world):
    pending = record(world)
    approve(world, record(world))
    offered = book(world, hours_ago=-48)
    desk = selectors.counsellor_desk(world.counsellor_a)
    assert [m.public_id for m in desk.pending] == [pending.public_id]
    assert [t.public_id for t in desk.times] == [offered.public_id]
    assert selectors.counsellor_desk(world.principal_a) is None
    assert selectors.counsellor_desk(world.nurse_a) is None
    other = selectors.counsellor_desk(world.counsellor_b)
    assert other is not None and other.pending == [] and other.times == []


def _queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured)


def _more_records(world, special_educator_a, n):
    for _i in range(n):
        created = record(world)
        approve(world, created)
        book(world, hours_ago=-5)
        services.pedagogical_mapping_add(
            student=world.student_a1,
            conducted_on=timezone.localdate(),
            findings="f",
            adjustments="",
            by=special_educator_a,
        )
        services.health_talk_add(
            student=world.student_a1, held_on=timezone.localdate(), note="n", by=world.nurse_a
        )


def test_query_counts_do_not_grow_with_the_records(world, special_educator_a):
    _more_records(world, special_educator_a, 1)
    roles = access.capabilities_at(world.counsellor_a, world.student_a1)

    def overview():
        selectors.school_social_work(world.counsellor_a, world.student_a1, roles)

    def desk():
        selectors.counsellor_desk(world.counsellor_a)

    def shared():
        for row in selectors.shared_mappings_at_school(world.principal_a, world.school_a.pk):
            list(row.causes.all())
            str(row.case.student)

    before = (_queries(overview), _queries(desk), _queries(shared))
    _more_records(world, special_educator_a, 4)
    StudentFactory(mentor_group=world.group_a1)
    assert (_queries(overview), _queries(desk), _queries(shared)) == before


# ---------------------------------------------------------------- complete before it is shared


def test_an_empty_mapping_is_not_saved_even_as_a_draft(world):
    with pytest.raises(ValidationError) as refused:
        services.mapping_create(
            student=world.student_a1, content=services.MappingContent(), by=world.counsellor_a
        )
    assert refused.value.code == "empty"
    assert not SchoolSocialMapping.objects.exists()
    assert not Case.objects.filter(student=world.student_a1).exists()


def test_a_draft_may_be_incomplete_but_cannot_be_approved(world):
    draft = record(world, conducted_on=None, wellbeing="", support_needed="")
    assert set(services.mapping_missing(draft)) == {"conducted_on", "wellbeing", "support_needed"}
    for answer in (MappingApproval.APPROVED, MappingApproval.NOT_APPROVED):
        with pytest.raises(ValidationError) as refused:
            approve(world, draft, answer)
        assert refused.value.code == "incomplete"
    draft.refresh_from_db()
    assert draft.approval == MappingApproval.PENDING and draft.version == 1


def test_saving_as_done_names_every_missing_part(world):
    with pytest.raises(ValidationError) as refused:
        services.mapping_create(
            student=world.student_a1,
            content=content(conducted_on=None, home_and_leisure="  "),
            by=world.counsellor_a,
            done=True,
        )
    assert set(refused.value.error_dict) == {"conducted_on", "home_and_leisure"}
    assert not SchoolSocialMapping.objects.exists()
    done = services.mapping_create(
        student=world.student_a1, content=content(), by=world.counsellor_a, done=True
    )
    assert services.mapping_missing(done) == {}


def test_an_approval_dated_before_the_talk_is_refused(world):
    talk = timezone.localdate() - datetime.timedelta(days=3)
    mapping_record = record(world, conducted_on=talk)
    with pytest.raises(ValidationError) as refused:
        services.mapping_record_approval(
            mapping=mapping_record,
            approval=MappingApproval.APPROVED,
            on=talk - datetime.timedelta(days=1),
            version=mapping_record.version,
            by=world.counsellor_a,
        )
    assert "approval_on" in refused.value.error_dict
    mapping_record.refresh_from_db()
    assert mapping_record.approval == MappingApproval.PENDING
    services.mapping_record_approval(
        mapping=mapping_record,
        approval=MappingApproval.APPROVED,
        on=talk,
        version=mapping_record.version,
        by=world.counsellor_a,
    )
    mapping_record.refresh_from_db()
    assert mapping_record.approval == MappingApproval.APPROVED


def test_emptying_an_approved_mapping_takes_it_off_the_eht(world):
    mapping_record = record(world)
    approve(world, mapping_record)
    mapping_record.refresh_from_db()
    services.mapping_update(
        mapping=mapping_record,
        content=content(wellbeing=""),
        version=mapping_record.version,
        by=world.counsellor_a,
    )
    mapping_record.refresh_from_db()
    assert mapping_record.approval == MappingApproval.PENDING
    assert set(services.mapping_missing(mapping_record)) == {"wellbeing"}


def test_a_mapping_area_is_bounded(world):
    with pytest.raises(ValidationError) as refused:
        record(world, wellbeing="x" * 10_001)
    assert "wellbeing" in refused.value.error_dict
    assert not SchoolSocialMapping.objects.exists()
