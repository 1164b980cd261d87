"""The maintenance plan and its booster meetings (DOMAIN.md §4.10): the guard that lets a
case move to maintenance, booster dates on school days (clock set), the reminder task run
twice sends one notice, and the services' refusals."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from actionplans import maintenance_services as services
from actionplans import tasks
from actionplans.models import BoosterMeeting, MaintenancePlan
from attendance import calendar
from cases import transitions, workflow
from cases.models import CaseEvent, CaseState
from sst.access import Capability
from sst.models import AuditEvent, AuditObjectType

from ..clock import pinned_clock
from ..factories import StudentFactory
from ..referrals.consent_setup import accepted_case, valid_consent

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
# Before the December days the tests travel to, so the consent is already given then.
_clock = pinned_clock(datetime.date(2026, 11, 18))


def at(day: datetime.date, hour: int = 9):
    return time_machine.travel(
        datetime.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM), tick=False
    )


def case_in_implementation(world, student=None, *, consent=True):
    """An accepted case with its social worker assigned, carried out under a valid consent."""
    team = accepted_case(world, student=student, state=CaseState.IMPLEMENTATION)
    if consent:
        valid_consent(world, team.case)
    return team


def plan_for(world, case, by=None, contact="Ett samtal varannan vecka"):
    return services.maintenance_plan_save(
        case=case, by=by or world.counsellor_a, base_version=None, contact=contact, notes=""
    )


def mid(world) -> int:
    return world.municipality.pk


# ---------------------------------------------------------------- the guard


def test_the_maintenance_plan_lets_the_case_enter_maintenance(world):
    team = case_in_implementation(world)
    case = team.case
    enter = transitions.BY_NAME["enter_maintenance"]
    verdict = transitions.judge(enter, case, [Capability.SOCIAL_WORK])
    assert not verdict.allowed
    assert transitions.MAINTENANCE_PLAN in transitions.waiting_for(case, [Capability.SOCIAL_WORK])

    plan_for(world, case, by=world.social_worker_n)
    assert transitions.guard_holds(transitions.MAINTENANCE_PLAN, case)
    assert transitions.judge(enter, case, [Capability.SOCIAL_WORK]).allowed
    workflow.case_enter_maintenance(case=case, by=world.social_worker_n)
    case.refresh_from_db()
    assert case.state == CaseState.MAINTENANCE


def test_saving_the_plan_writes_the_chronology_and_the_audit_without_content(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case, contact="Ring Alva varje fredag")
    assert plan.version == 1 and plan.made_by == world.counsellor_a
    event = CaseEvent.objects.filter(case=team.case).latest("pk")
    assert event.summary == "Maintenance plan made" or "vidmakthållande" in event.summary
    audit_row = AuditEvent.objects.filter(object_type=AuditObjectType.MAINTENANCE_PLAN).latest("pk")
    assert audit_row.object_id == str(plan.public_id)
    assert "Alva" not in str(audit_row.detail) and "fredag" not in str(audit_row.detail)


def test_two_editors_of_one_plan_the_second_gets_the_conflict(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    services.maintenance_plan_save(
        case=team.case, by=world.counsellor_a, base_version=1, contact="Varje vecka"
    )
    with pytest.raises(workflow.ConcurrentChange):
        services.maintenance_plan_save(
            case=team.case, by=world.social_worker_n, base_version=1, contact="Varje månad"
        )
    plan.refresh_from_db()
    assert plan.contact == "Varje vecka" and plan.version == 2


def test_a_second_new_plan_on_the_same_case_is_a_conflict_not_an_overwrite(world):
    team = case_in_implementation(world)
    plan_for(world, team.case)
    with pytest.raises(workflow.ConcurrentChange):
        plan_for(world, team.case, contact="Något annat")
    assert MaintenancePlan.objects.get(case=team.case).contact == "Ett samtal varannan vecka"


def test_a_plan_needs_the_contact_and_the_right_state_and_person(world):
    team = case_in_implementation(world)
    with pytest.raises(ValidationError):
        plan_for(world, team.case, contact="   ")
    with pytest.raises(services.NotAllowed):
        plan_for(world, team.case, by=world.counsellor_b)
    with pytest.raises(services.NotAllowed):
        plan_for(world, team.case, by=world.mentor_a1)
    early = accepted_case(world, student=world.student_a2, state=CaseState.PLAN)
    with pytest.raises(ValidationError):
        plan_for(world, early.case)


def test_the_social_worker_without_a_consent_may_not_write(world):
    team = case_in_implementation(world, consent=False)
    with pytest.raises(services.NotAllowed):
        plan_for(world, team.case, by=world.social_worker_n)


# ---------------------------------------------------------------- booster dates


def test_a_booster_asked_for_on_christmas_day_moves_to_the_next_school_day(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    christmas = datetime.date(2026, 12, 25)
    with at(datetime.date(2026, 12, 1)):
        booster = services.booster_add(
            maintenance=plan, planned_on=christmas, by=world.counsellor_a
        )
    assert not calendar.is_school_day(mid(world), christmas)
    assert booster.planned_on > christmas
    assert calendar.is_school_day(mid(world), booster.planned_on)
    assert booster.planned_on == calendar.school_day_on_or_after(mid(world), christmas)


def test_a_booster_on_a_school_day_stays_and_one_in_the_past_is_refused(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        day = calendar.school_day_on_or_after(mid(world), datetime.date(2026, 12, 8))
        booster = services.booster_add(maintenance=plan, planned_on=day, by=world.counsellor_a)
        assert booster.planned_on == day
        with pytest.raises(ValidationError):
            services.booster_add(
                maintenance=plan, planned_on=datetime.date(2026, 11, 30), by=world.counsellor_a
            )


def test_moving_a_booster_lands_on_a_school_day_and_rearms_its_reminder(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        booster = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 3), by=world.counsellor_a
        )
        assert services.boosters_remind() == 1
        saturday = datetime.date(2026, 12, 12)
        services.booster_move(booster=booster, planned_on=saturday, by=world.social_worker_n)
    booster.refresh_from_db()
    assert booster.planned_on == calendar.school_day_on_or_after(mid(world), saturday)
    assert booster.planned_on.weekday() < 5
    assert booster.reminded_at is None


def test_held_and_cancelled_boosters_end_there(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        first = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 2), by=world.counsellor_a
        )
        second = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 9), by=world.counsellor_a
        )
    with at(datetime.date(2026, 12, 2), hour=15):
        services.booster_held(
            booster=first, held_on=datetime.date(2026, 12, 2), note="Bra", by=world.counsellor_a
        )
        with pytest.raises(ValidationError):
            services.booster_held(
                booster=second, held_on=datetime.date(2026, 12, 9), by=world.counsellor_a
            )  # in the future
        services.booster_cancel(booster=second, by=world.counsellor_a)
        with pytest.raises(ValidationError):
            services.booster_cancel(booster=second, by=world.counsellor_a)
        with pytest.raises(ValidationError):
            services.booster_move(
                booster=first, planned_on=datetime.date(2026, 12, 10), by=world.counsellor_a
            )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.held_on == datetime.date(2026, 12, 2) and first.note == "Bra"
    assert second.cancelled


# ---------------------------------------------------------------- reminders


def test_the_reminder_task_twice_sends_one_notice_per_booster(
    world, django_capture_on_commit_callbacks
):
    world.counsellor_a.email = "counsellor@example.org"
    world.counsellor_a.save(update_fields=["email"])
    world.social_worker_n.email = "social@example.org"
    world.social_worker_n.save(update_fields=["email"])
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        soon = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 3), by=world.counsellor_a
        )
        later = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 15), by=world.counsellor_a
        )
    mail.outbox.clear()
    with at(datetime.date(2026, 12, 1), hour=6), django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_boosters.delay().get() == 1
        assert tasks.remind_boosters.delay().get() == 0
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["counsellor@example.org", "social@example.org"]
    for message in mail.outbox:
        assert "Alva" not in message.body and "Ekholmsson" not in message.body
        assert "Alva" not in message.subject
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.reminded_at is not None and later.reminded_at is None
    # The day the later one comes within reach, it gets its own single notice.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_boosters(today="2026-12-12") == 1
        assert tasks.remind_boosters(today="2026-12-12") == 0
    assert len(mail.outbox) == 2


def test_no_reminder_for_a_closed_case_or_a_cancelled_booster(world):
    team = case_in_implementation(world)
    plan = plan_for(world, team.case)
    with at(datetime.date(2026, 12, 1)):
        cancelled = services.booster_add(
            maintenance=plan, planned_on=datetime.date(2026, 12, 2), by=world.counsellor_a
        )
        services.booster_cancel(booster=cancelled, by=world.counsellor_a)
        other = case_in_implementation(
            world, student=StudentFactory(mentor_group=world.group_a1), consent=False
        )
        other_plan = plan_for(world, other.case)
        services.booster_add(
            maintenance=other_plan, planned_on=datetime.date(2026, 12, 2), by=world.counsellor_a
        )
        workflow.case_close(case=other.case, reason="moved", by=world.counsellor_a)
        assert services.boosters_remind() == 0
    assert not BoosterMeeting.objects.filter(reminded_at__isnull=False).exists()


def test_the_beat_schedule_runs_the_reminders():
    from sst.celery import app

    tasks_scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "actionplans.tasks.remind_boosters" in tasks_scheduled
