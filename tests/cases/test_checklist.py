"""The mentor checklist's rules (cases.checklist): the services and the reminder task.

Time is frozen by passing ``today=`` to the services and tasks, or by replacing
``django.utils.timezone.now`` (which ``timezone.localdate`` reads too).
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from attendance.models import Alert, AlertRecipient, DueKind, Rule
from cases.checklist import selectors, services
from cases.models import Case, CaseEvent, EventKind, MentorChecklist, YesNo
from cases.tasks import send_checklist_follow_up_reminders
from cases.workflow import ConcurrentChange, TransitionRefused
from sst.models import AuditEvent, Role

from ..attendance.lessons import lesson
from ..clock import pinned_clock
from ..factories import UserFactory, grant

TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)


def answers(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "mentor_name": "Mia Mentor",
        "talked_with_student_on": TODAY - datetime.timedelta(days=1),
        "talked_with_guardian_on": TODAY - datetime.timedelta(days=2),
        "illness": YesNo.NO,
        "illness_comment": "",
        "thrives": YesNo.YES,
        "thrives_comment": "Trivs med klassen",
        "has_friends": YesNo.YES,
        "has_friends_comment": "",
        "schoolwork_difficulties": YesNo.YES,
        "schoolwork_difficulties_comment": "Matematiken",
        "pattern": YesNo.YES,
        "pattern_comment": "Måndagar",
    }
    data.update(changes)
    return data


def with_emails(*users) -> None:  # type: ignore[no-untyped-def]
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])


def checklist_alert(student, recipient=None, rule=Rule.STEP_2) -> Alert:  # type: ignore[no-untyped-def]
    """An alert whose due is the checklist (the rule only tells alerts of a month apart)."""
    alert = Alert.objects.create(
        student=student,
        rule=rule,
        period_start=TODAY.replace(day=1),
        period_end=TODAY,
        value_pct=12,
        due=DueKind.CHECKLIST,
    )
    if recipient is not None:
        AlertRecipient.objects.create(
            alert=alert, user=recipient, role=Role.MENTOR, task=DueKind.CHECKLIST
        )
    return alert


def submit(world, **changes):  # type: ignore[no-untyped-def]
    return services.checklist_submit(
        student=world.student_a1, by=world.mentor_a1, data=answers(**changes)
    )


@pytest.fixture
def frozen_now(monkeypatch):  # type: ignore[no-untyped-def]
    """``frozen_now(day)`` makes ``timezone.now()`` (and so ``localdate()``) noon of ``day``."""

    def freeze(day: datetime.date) -> datetime.datetime:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return freeze


# ---------------------------------------------------------------- submitting


def test_submit_opens_a_case_once_and_chronicles_each_checklist(world):
    first = submit(world)
    second = submit(world, pattern=YesNo.NO)

    assert Case.objects.filter(student=world.student_a1).count() == 1
    assert first.case == second.case
    kinds = list(CaseEvent.objects.filter(case=first.case).values_list("kind", flat=True))
    assert kinds.count(EventKind.CHECKLIST) == 2
    assert kinds.count(EventKind.STATE_CHANGE) == 1  # the case was opened once
    entry = CaseEvent.objects.filter(case=first.case, kind=EventKind.CHECKLIST).first()
    assert entry.ref_type == "mentorchecklist"
    assert entry.recorded_by == world.mentor_a1


def test_submit_saves_the_answers_and_is_audited(world):
    checklist = submit(world)

    checklist.refresh_from_db()
    assert checklist.mentor == world.mentor_a1
    assert checklist.mentor_name == "Mia Mentor"
    assert checklist.thrives == YesNo.YES
    assert checklist.schoolwork_difficulties_comment == "Matematiken"
    event = AuditEvent.objects.get(object_type="mentor_checklist", action="create")
    assert event.object_id == str(checklist.public_id)
    assert event.student_id == world.student_a1.public_id
    assert event.actor_username == "mentor_a1"


def test_follow_up_is_due_a_week_after_the_latest_talk(world):
    checklist = submit(world)
    assert checklist.follow_up_due_on == TODAY - datetime.timedelta(days=1) + datetime.timedelta(7)


def test_follow_up_is_due_a_week_after_talks_held_today(world):
    checklist = submit(world, talked_with_student_on=TODAY, talked_with_guardian_on=TODAY)
    assert checklist.follow_up_due_on == TODAY + datetime.timedelta(days=7)


def test_a_talk_cannot_be_dated_in_the_future(world):
    with pytest.raises(ValidationError) as refused:
        submit(world, talked_with_guardian_on=TODAY + datetime.timedelta(days=1))
    assert "talked_with_guardian_on" in refused.value.error_dict
    assert not MentorChecklist.objects.exists()
    assert not Case.objects.exists()


def test_every_question_needs_a_yes_or_no(world):
    with pytest.raises(ValidationError) as refused:
        submit(world, has_friends="")
    assert "has_friends" in refused.value.error_dict


def test_the_mentors_name_defaults_to_the_mentor(world):
    world.mentor_a1.first_name, world.mentor_a1.last_name = "Mia", "Lärare"
    world.mentor_a1.save()
    checklist = submit(world, mentor_name="  ")
    assert checklist.mentor_name == "Mia Lärare"


def test_the_principal_gets_a_copy_content_free(world, django_capture_on_commit_callbacks):
    with_emails(world.principal_a, world.counsellor_a, world.mentor_a1)
    with django_capture_on_commit_callbacks(execute=True):
        checklist = submit(world)

    assert [m.to for m in mail.outbox] == [["principal_a@example.org"]]
    message = mail.outbox[0]
    assert reverse("cases:checklist_detail", args=[checklist.public_id]) in message.body
    for secret in ("Alva", "Ekholmsson", "Matematiken", "Måndagar", "7A"):
        assert secret not in message.subject + message.body
    checklist.refresh_from_db()
    assert checklist.principal_notified_at is not None
    # The copy: the principal can read it through the policy.
    assert selectors.checklist_for_reader(world.principal_a, checklist.public_id) == checklist


def test_no_principal_no_copy_timestamp(world):
    from sst.models import RoleMembership

    RoleMembership.objects.filter(user=world.principal_a).delete()
    checklist = submit(world)
    assert checklist.principal_notified_at is None


def test_the_alert_and_the_mentors_task_are_marked_done(world):
    alert = checklist_alert(world.student_a1, recipient=world.mentor_a1)
    checklist = services.checklist_submit(
        student=world.student_a1, by=world.mentor_a1, data=answers(), alert=alert
    )

    alert.refresh_from_db()
    assert alert.due_done_at is not None
    assert checklist.alert == alert
    recipient = AlertRecipient.objects.get(alert=alert, user=world.mentor_a1)
    assert recipient.done_at is not None  # done by doing it, not acknowledged
    assert recipient.acknowledged_at is None


def test_a_checklist_from_the_student_page_also_does_the_open_alert(world):
    alert = checklist_alert(world.student_a1)
    checklist = submit(world)
    alert.refresh_from_db()
    assert alert.due_done_at is not None
    assert checklist.alert == alert


def test_an_alert_of_another_student_is_refused(world):
    alert = checklist_alert(world.student_a2)
    with pytest.raises(ValidationError):
        services.checklist_submit(
            student=world.student_a1, by=world.mentor_a1, data=answers(), alert=alert
        )
    alert.refresh_from_db()
    assert alert.due_done_at is None


# ---------------------------------------------------------------- the one-week follow-up


def test_follow_up_no_is_recorded_without_a_report(world, django_capture_on_commit_callbacks):
    with_emails(world.counsellor_a, world.principal_a)
    checklist = submit(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.checklist_follow_up(
            checklist=checklist,
            by=world.mentor_a1,
            continued_absence=YesNo.NO,
            comment="Bättre",
            version=checklist.version,
        )
    checklist.refresh_from_db()
    assert checklist.follow_up_done_at is not None
    assert checklist.continued_absence == YesNo.NO
    assert checklist.reported_to_eht_at is None
    assert checklist.version == 2
    assert mail.outbox == []
    assert CaseEvent.objects.filter(case=checklist.case, kind=EventKind.FOLLOW_UP).count() == 1


def test_follow_up_yes_reports_to_the_eht(world, django_capture_on_commit_callbacks):
    psychologist = UserFactory(username="psychologist_a")
    grant(psychologist, Role.SCHOOL_PSYCHOLOGIST, world.school_a)
    with_emails(
        world.counsellor_a,
        world.principal_a,
        world.nurse_a,
        psychologist,
        world.counsellor_b,
        world.mentor_a1,
        world.manager_a,
    )
    checklist = submit(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.checklist_follow_up(
            checklist=checklist,
            by=world.mentor_a1,
            continued_absence=YesNo.YES,
            comment="Fortsatt frånvaro",
            version=checklist.version,
        )

    checklist.refresh_from_db()
    assert checklist.reported_to_eht_at is not None
    summaries = list(
        CaseEvent.objects.filter(case=checklist.case, kind=EventKind.FOLLOW_UP).values_list(
            "summary", flat=True
        )
    )
    assert len(summaries) == 2
    notified = sorted(address for m in mail.outbox for address in m.to)
    assert notified == [
        "counsellor_a@example.org",
        "nurse_a@example.org",
        "principal_a@example.org",
        "psychologist_a@example.org",
    ]
    for message in mail.outbox:
        assert "Alva" not in message.subject + message.body
        assert "Fortsatt frånvaro" not in message.body
    event = AuditEvent.objects.filter(object_type="mentor_checklist", action="update").first()
    assert event.detail["reported_to_eht"] is True


def test_a_stale_follow_up_is_refused_and_overwrites_nothing(world):
    checklist = submit(world)
    opened_by_first = MentorChecklist.objects.get(pk=checklist.pk)
    opened_by_second = MentorChecklist.objects.get(pk=checklist.pk)
    services.checklist_follow_up(
        checklist=opened_by_first,
        by=world.mentor_a1,
        continued_absence=YesNo.NO,
        comment="Först",
        version=opened_by_first.version,
    )
    with pytest.raises(ConcurrentChange):
        services.checklist_follow_up(
            checklist=opened_by_second,
            by=world.mentor_a1,
            continued_absence=YesNo.YES,
            comment="Sedan",
            version=1,
        )
    checklist.refresh_from_db()
    assert checklist.follow_up_comment == "Först"
    assert checklist.continued_absence == YesNo.NO
    assert checklist.reported_to_eht_at is None
    assert checklist.version == 2


def test_a_follow_up_is_recorded_once(world):
    checklist = submit(world)
    services.checklist_follow_up(
        checklist=checklist,
        by=world.mentor_a1,
        continued_absence=YesNo.NO,
        comment="",
        version=1,
    )
    with pytest.raises(TransitionRefused):
        services.checklist_follow_up(
            checklist=checklist,
            by=world.mentor_a1,
            continued_absence=YesNo.YES,
            comment="",
            version=checklist.version,
        )


# ---------------------------------------------------------------- reminders, time frozen


def test_reminder_is_sent_once_when_the_follow_up_is_due(world, django_capture_on_commit_callbacks):
    with_emails(world.mentor_a1, world.principal_a)
    checklist = submit(world, talked_with_student_on=TODAY, talked_with_guardian_on=TODAY)
    due = checklist.follow_up_due_on
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.follow_up_reminders_send(today=due - datetime.timedelta(days=1)) == 0
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        assert services.follow_up_reminders_send(today=due) == 1
    assert [m.to for m in mail.outbox] == [["mentor_a1@example.org"]]
    message = mail.outbox[0]
    assert reverse("cases:checklist_follow_up", args=[checklist.public_id]) in message.body
    assert "Alva" not in message.subject + message.body

    with django_capture_on_commit_callbacks(execute=True):
        assert services.follow_up_reminders_send(today=due + datetime.timedelta(days=3)) == 0
    assert len(mail.outbox) == 1
    checklist.refresh_from_db()
    assert checklist.follow_up_reminded_at is not None


def test_the_daily_task_with_time_moved_a_week_on(
    world, frozen_now, django_capture_on_commit_callbacks
):
    with_emails(world.mentor_a1)
    frozen_now(TODAY)
    checklist = submit(world, talked_with_student_on=TODAY, talked_with_guardian_on=TODAY)
    assert send_checklist_follow_up_reminders() == 0  # not due yet

    moment = frozen_now(TODAY + datetime.timedelta(days=7))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_checklist_follow_up_reminders() == 1
        assert send_checklist_follow_up_reminders() == 0  # idempotent
    assert len(mail.outbox) == 1
    checklist.refresh_from_db()
    assert checklist.follow_up_reminded_at == moment


def test_no_reminder_for_a_follow_up_already_done(world):
    checklist = submit(world)
    services.checklist_follow_up(
        checklist=checklist,
        by=world.mentor_a1,
        continued_absence=YesNo.NO,
        comment="",
        version=1,
    )
    assert (
        send_checklist_follow_up_reminders(today=(TODAY + datetime.timedelta(30)).isoformat()) == 0
    )


def test_the_beat_runs_the_reminders_daily():
    from sst.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "cases.tasks.send_checklist_follow_up_reminders" in tasks


# ---------------------------------------------------------------- overdue on the desk


def test_overdue_follow_ups_are_flagged_and_listed_first(world):
    overdue = submit(world)
    later = services.checklist_submit(student=world.student_a1, by=world.mentor_a1, data=answers())
    MentorChecklist.objects.filter(pk=overdue.pk).update(
        follow_up_due_on=TODAY - datetime.timedelta(days=2)
    )
    MentorChecklist.objects.filter(pk=later.pk).update(
        follow_up_due_on=TODAY + datetime.timedelta(days=2)
    )

    desk = selectors.mentor_checklist_desk(world.mentor_a1, TODAY)
    rows = {row.checklist.pk: row for row in desk.follow_ups}
    assert [row.checklist.pk for row in desk.follow_ups] == [overdue.pk, later.pk]
    assert rows[overdue.pk].overdue and rows[overdue.pk].days_overdue == 2
    assert not rows[later.pk].overdue and rows[later.pk].soon
    assert desk.overdue_count == 1
    assert selectors.mentor_checklist_desk(world.counsellor_a, TODAY).follow_ups == []


# ---------------------------------------------------------------- the EHT's part


@pytest.fixture
def reported(world):  # type: ignore[no-untyped-def]
    checklist = submit(world)
    services.checklist_follow_up(
        checklist=checklist,
        by=world.mentor_a1,
        continued_absence=YesNo.YES,
        comment="",
        version=1,
    )
    return checklist


def test_the_eht_records_who_contacts_the_guardian_and_gives_feedback(
    world, reported, django_capture_on_commit_callbacks
):
    with_emails(world.nurse_a, world.mentor_a1, world.counsellor_a)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.checklist_eht_record(
            checklist=reported,
            by=world.counsellor_a,
            guardian_contact_by=world.counsellor_a,
            guardian_contact_on=TODAY + datetime.timedelta(days=2),
            feedback_by=world.nurse_a,
            feedback_on=TODAY + datetime.timedelta(days=5),
            no_further_follow_up=False,
            comment="Kurator ringer hem",
            version=reported.version,
        )
    reported.refresh_from_db()
    assert reported.eht_guardian_contact_by == world.counsellor_a
    assert reported.eht_feedback_by == world.nurse_a
    assert reported.eht_recorded_at is not None
    assert [m.to for m in mail.outbox] == [["nurse_a@example.org"]]  # named, not the writer
    assert CaseEvent.objects.filter(case=reported.case, kind=EventKind.FOLLOW_UP).count() == 3
    assert AuditEvent.objects.filter(
        object_type="mentor_checklist", action="update", detail__part="eht"
    ).exists()


def test_the_eht_may_say_no_further_follow_up_is_needed(world, reported):
    services.checklist_eht_record(
        checklist=reported,
        by=world.principal_a,
        guardian_contact_by=None,
        guardian_contact_on=None,
        feedback_by=None,
        feedback_on=None,
        no_further_follow_up=True,
        comment="",
        version=reported.version,
    )
    reported.refresh_from_db()
    assert reported.eht_no_further_follow_up


def test_the_eht_part_needs_an_answer_and_staff_of_the_school(world, reported):
    common = {
        "checklist": reported,
        "by": world.counsellor_a,
        "guardian_contact_on": None,
        "feedback_on": None,
        "comment": "",
        "version": reported.version,
    }
    with pytest.raises(ValidationError):
        services.checklist_eht_record(
            guardian_contact_by=None, feedback_by=None, no_further_follow_up=False, **common
        )
    with pytest.raises(ValidationError) as refused:
        services.checklist_eht_record(
            guardian_contact_by=world.counsellor_b,
            feedback_by=None,
            no_further_follow_up=False,
            **common,
        )
    assert "guardian_contact_by" in refused.value.error_dict
    reported.refresh_from_db()
    assert reported.eht_recorded_at is None


def test_the_eht_part_waits_for_a_report(world):
    checklist = submit(world)
    with pytest.raises(TransitionRefused):
        services.checklist_eht_record(
            checklist=checklist,
            by=world.counsellor_a,
            guardian_contact_by=None,
            guardian_contact_on=None,
            feedback_by=None,
            feedback_on=None,
            no_further_follow_up=True,
            comment="",
            version=checklist.version,
        )


def test_a_stale_eht_form_is_refused(world, reported):
    stale = MentorChecklist.objects.get(pk=reported.pk)
    services.checklist_eht_record(
        checklist=reported,
        by=world.counsellor_a,
        guardian_contact_by=world.counsellor_a,
        guardian_contact_on=None,
        feedback_by=None,
        feedback_on=None,
        no_further_follow_up=False,
        comment="Först",
        version=reported.version,
    )
    with pytest.raises(ConcurrentChange):
        services.checklist_eht_record(
            checklist=stale,
            by=world.principal_a,
            guardian_contact_by=None,
            guardian_contact_on=None,
            feedback_by=None,
            feedback_on=None,
            no_further_follow_up=True,
            comment="Sedan",
            version=stale.version,
        )
    reported.refresh_from_db()
    assert reported.eht_comment == "Först"
    assert not reported.eht_no_further_follow_up


# ---------------------------------------------------------------- selectors and absence


def test_selectors_refuse_outsiders_with_an_audited_404(world):
    checklist = submit(world)
    for person in (world.counsellor_b, world.social_worker_n, world.manager_m, world.admin_m):
        with pytest.raises(Http404):
            selectors.checklist_for_reader(person, checklist.public_id)
    with pytest.raises(Http404):
        selectors.checklist_for_mentor(world.principal_a, checklist.public_id)
    with pytest.raises(Http404):
        selectors.checklist_for_eht(world.mentor_a1, checklist.public_id)
    with pytest.raises(Http404):
        selectors.student_for_checklist_writer(world.counsellor_a, world.student_a1.public_id)
    assert AuditEvent.objects.filter(action="access_denied").count() >= 7


def test_week_absence_covers_the_week_since_the_talk(world):
    checklist = submit(world, talked_with_student_on=TODAY, talked_with_guardian_on=TODAY)
    lesson(world.student_a1, TODAY, "08:00", kind="invalid")
    lesson(world.student_a1, TODAY, "10:00")
    lesson(world.student_a1, TODAY - datetime.timedelta(days=1), "08:00", kind="invalid")
    lesson(world.student_a1, TODAY + datetime.timedelta(days=8), "08:00", kind="invalid")

    week = selectors.week_absence(checklist, TODAY + datetime.timedelta(days=30))
    assert (week.start, week.end) == (TODAY, TODAY + datetime.timedelta(days=7))
    assert (week.lesson_count, week.absent_min, str(week.absent_pct)) == (2, 60, "50.0")
    # Before the week is over the figures run to today.
    assert selectors.week_absence(checklist, TODAY).end == TODAY


def test_pattern_hint_names_the_worst_weekday_and_subject(world):
    monday = TODAY - datetime.timedelta(days=TODAY.weekday())  # inside the hint's period
    lesson(world.student_a1, monday, "08:00", kind="invalid", subject="Idrott")
    lesson(world.student_a1, monday, "10:00", subject="Svenska")

    hint = selectors.pattern_hint(world.student_a1, TODAY)
    assert hint.subject is not None and hint.subject[0] == "Idrott"
    assert hint.weekday is not None and hint.weekday[0] == monday.isoweekday()


# ---------------------------------------------------------------- complete before it is shared


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"talked_with_student_on": None}, "talked_with_student_on", "required"),
        ({"talked_with_guardian_on": None}, "talked_with_guardian_on", "required"),
        (
            {"talked_with_student_on": TODAY - datetime.timedelta(days=91)},
            "talked_with_student_on",
            "too_old",
        ),
        ({"pattern": None}, "pattern", "required"),
        ({"illness": "maybe"}, "illness", "required"),
    ],
)
def test_an_incomplete_checklist_is_not_sent_to_the_principal(
    world, django_capture_on_commit_callbacks, changes, field, code
):
    """The service, whatever the form let through: both talks dated, every question answered."""
    with_emails(world.principal_a)
    alert = checklist_alert(world.student_a1, world.mentor_a1)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as refused,
    ):
        submit(world, **changes)
    assert [error.code for error in refused.value.error_dict[field]] == [code]
    assert not MentorChecklist.objects.exists()
    assert not Case.objects.exists()
    assert mail.outbox == []
    alert.refresh_from_db()
    assert alert.due_done_at is None


def test_a_talk_ninety_days_back_is_still_recent(world):
    checklist = submit(world, talked_with_student_on=TODAY - datetime.timedelta(days=90))
    assert checklist.talked_with_student_on == TODAY - datetime.timedelta(days=90)


def test_the_eht_dates_cannot_be_before_the_report(world, reported):
    with pytest.raises(ValidationError) as refused:
        services.checklist_eht_record(
            checklist=reported,
            by=world.counsellor_a,
            guardian_contact_by=world.counsellor_a,
            guardian_contact_on=TODAY - datetime.timedelta(days=1),
            feedback_by=world.nurse_a,
            feedback_on=TODAY - datetime.timedelta(days=3),
            no_further_follow_up=False,
            comment="",
            version=reported.version,
        )
    assert set(refused.value.error_dict) == {"guardian_contact_on", "feedback_on"}
    reported.refresh_from_db()
    assert reported.eht_recorded_at is None


# ---------------------------------------------------------------- bounded input


def test_a_megabyte_comment_is_refused_and_nothing_saved(world):
    with pytest.raises(ValidationError) as refused:
        submit(world, illness_comment="x" * 1_048_576)
    assert "illness_comment" in refused.value.error_dict
    assert not MentorChecklist.objects.exists()
    assert not Case.objects.exists()


def test_the_follow_up_and_eht_comments_are_bounded(world, reported):
    with pytest.raises(ValidationError) as refused:
        services.checklist_eht_record(
            checklist=reported,
            by=world.counsellor_a,
            guardian_contact_by=None,
            guardian_contact_on=None,
            feedback_by=None,
            feedback_on=None,
            no_further_follow_up=True,
            comment="x" * 2_001,
            version=reported.version,
        )
    assert "eht_comment" in refused.value.error_dict
    fresh = submit(world)
    with pytest.raises(ValidationError) as refused:
        services.checklist_follow_up(
            checklist=fresh,
            by=world.mentor_a1,
            continued_absence=YesNo.NO,
            comment="x" * 2_001,
            version=fresh.version,
        )
    assert "follow_up_comment" in refused.value.error_dict
    fresh.refresh_from_db()
    assert fresh.follow_up_done_at is None and fresh.follow_up_comment == ""
