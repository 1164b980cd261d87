"""Alerts reach the people who must act, and only them; e-mail notices carry no student data."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from attendance import notices, tasks
from attendance.models import Alert, AlertRecipient, DueKind, Rule, StaircasePolicy
from attendance.rollup import rollup_month
from attendance.staircase import RULE_ALERTED, evaluate_month
from sst.capabilities import roles_holding
from sst.models import Role, User
from tests.factories import UserFactory, grant

from ..privacy import find_personnummer
from .lessons import INVALID, month_absence, school_day

SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)
DAY = datetime.timedelta(days=1)
EHT_A = {"counsellor_a", "nurse_a", "special_educator_a", "psychologist_a"}


@pytest.fixture
def people(world):
    """The world's people, a full student health team at school A, and some who must not act.

    Everyone has an e-mail address. Returns {username: user}.
    """
    today = timezone.localdate()
    extra = {
        "special_educator_a": (Role.SPECIAL_EDUCATOR, world.school_a, {}),
        "psychologist_a": (Role.SCHOOL_PSYCHOLOGIST, world.school_a, {}),
        "mentor_a2": (Role.MENTOR, world.group_a2, {}),  # another class at the same school
        "mentor_b1": (Role.MENTOR, world.group_b1, {}),
        "principal_b": (Role.PRINCIPAL, world.school_b, {}),
        "nurse_b": (Role.SCHOOL_NURSE, world.school_b, {}),
        # Ended yesterday: was the school's psychologist, is no longer.
        "former_psychologist_a": (
            Role.SCHOOL_PSYCHOLOGIST,
            world.school_a,
            {"starts_on": today - 400 * DAY, "ends_on": today - DAY},
        ),
        # Starts next week.
        "future_principal_a": (
            Role.PRINCIPAL,
            world.school_a,
            {"starts_on": today + 7 * DAY},
        ),
        "former_mentor_a1": (
            Role.MENTOR,
            world.group_a1,
            {"starts_on": today - 400 * DAY, "ends_on": today - 30 * DAY},
        ),
    }
    for username, (role, place, dates) in extra.items():
        grant(UserFactory(username=username), role, place, **dates)
    users = {u.username: u for u in User.objects.all()}
    for user in users.values():
        user.email = f"{user.username}@example.se"
        user.save(update_fields=["email"])
    return users


def recipients_of(student, rule: str) -> dict[str, str]:
    """{username: role} of the recipients of the student's one alert for ``rule``."""
    alert = Alert.objects.get(student=student, rule=rule)
    return {r.user.username: r.role for r in alert.recipients.select_related("user")}


def refresh(*months: datetime.date) -> None:
    for month in months:
        rollup_month(month)
        evaluate_month(month)


def _invalid_run(student) -> None:
    """Twelve school days of invalid absence, 1–16 October, then a day present."""
    day = datetime.date(2025, 10, 1)
    while day <= datetime.date(2025, 10, 16):
        if day.weekday() < 5:
            school_day(student, day, lessons=1, kind=INVALID)
        day += datetime.timedelta(days=1)
    school_day(student, datetime.date(2025, 10, 17), lessons=1)


PRINCIPAL_A = {"principal_a": "principal"}
MENTOR_A1 = {"mentor_a1": "mentor"}


@pytest.mark.parametrize(
    ("scenario", "rule", "expected"),
    [
        (lambda s: month_absence(s, OCT, absent=120), Rule.STEP_2, MENTOR_A1),
        (
            lambda s: month_absence(s, OCT, absent=160),
            Rule.STEP_3,
            # 004: the mentor reports to the EHT and informs the principal, who gives the
            # counsellor the mapping; the special educator maps, the nurse may hold a talk.
            {
                "mentor_a1": "mentor",
                "principal_a": "principal",
                "counsellor_a": "counsellor",
                "nurse_a": "school_nurse",
                "special_educator_a": "special_educator",
            },
        ),
        (lambda s: month_absence(s, OCT, absent=250), Rule.STEP_4, PRINCIPAL_A),
        (lambda s: month_absence(s, OCT, absent=450), Rule.SINGLE_MONTH, PRINCIPAL_A),
        (
            lambda s: [month_absence(s, m, absent=220) for m in (SEP, OCT)],
            Rule.TWO_MONTHS,
            PRINCIPAL_A,
        ),
        (_invalid_run, Rule.INVALID_STREAK, PRINCIPAL_A),
        (
            lambda s: [month_absence(s, m, absent=600) for m in (SEP, OCT)],
            Rule.TERM,
            {
                "principal_a": "principal",
                "counsellor_a": "counsellor",
                "nurse_a": "school_nurse",
                "special_educator_a": "special_educator",
                "psychologist_a": "school_psychologist",
            },
        ),
        (lambda s: month_absence(s, OCT, late=5), Rule.LATE, MENTOR_A1),
    ],
    ids=[
        "step_2",
        "step_3",
        "step_4",
        "single_month",
        "two_months",
        "invalid_streak",
        "term",
        "late",
    ],
)
def test_each_rule_reaches_exactly_the_people_who_must_act(world, people, scenario, rule, expected):
    scenario(world.student_a1)
    refresh(SEP, OCT)
    assert recipients_of(world.student_a1, rule) == expected
    # What the capability table says: the alerted capability's roles.
    assert set(expected.values()) == {
        role for capability in RULE_ALERTED[rule] for role in roles_holding(capability)
    }


def test_step_2_goes_to_the_mentor_of_the_students_own_class_only(world, people):
    month_absence(world.student_a1, OCT, absent=120)
    month_absence(world.student_a2, OCT, absent=120)
    refresh(OCT)
    assert recipients_of(world.student_a1, Rule.STEP_2) == {"mentor_a1": "mentor"}
    assert recipients_of(world.student_a2, Rule.STEP_2) == {"mentor_a2": "mentor"}


def test_people_at_another_school_never_receive_an_alert(world, people):
    month_absence(world.student_a1, OCT, absent=160)  # step 3 at school A
    month_absence(world.student_b1, OCT, absent=450)  # step 4 and high month at school B
    refresh(OCT)
    assert recipients_of(world.student_b1, Rule.STEP_4) == {"principal_b": "principal"}
    assert recipients_of(world.student_b1, Rule.SINGLE_MONTH) == {"principal_b": "principal"}
    at_a = set(
        AlertRecipient.objects.filter(alert__student=world.student_a1).values_list(
            "user__username", flat=True
        )
    )
    at_b = set(
        AlertRecipient.objects.filter(alert__student=world.student_b1).values_list(
            "user__username", flat=True
        )
    )
    assert at_a == {"mentor_a1", "principal_a"} | EHT_A - {"psychologist_a"}
    # Entering at step 4, the student also gets the lower steps' work (004, "continued").
    assert at_b == {"principal_b", "mentor_b1", "counsellor_b", "nurse_b"}
    for outsider in ("counsellor_b", "nurse_b", "principal_b", "mentor_b1"):
        assert outsider not in at_a
    for insider in ("principal_a", "counsellor_a", "mentor_a1"):
        assert insider not in at_b


def test_ended_and_future_memberships_receive_nothing(world, people):
    month_absence(world.student_a1, SEP, absent=600)
    month_absence(world.student_a1, OCT, absent=600)  # every rule for principal and EHT
    refresh(SEP, OCT)
    everyone = set(AlertRecipient.objects.values_list("user__username", flat=True))
    assert "principal_a" in everyone and "psychologist_a" in everyone
    assert {"former_psychologist_a", "future_principal_a", "former_mentor_a1"} & everyone == set()
    # Social services, managers and administrators are never recipients.
    assert {"social_worker_n", "referral_forum_n", "manager_m", "manager_a", "admin_m"} & (
        everyone
    ) == set()


def test_an_inactive_account_receives_nothing(world, people):
    User.objects.filter(username="nurse_a").update(is_active=False)
    month_absence(world.student_a1, OCT, absent=160)
    refresh(OCT)
    assert set(recipients_of(world.student_a1, Rule.STEP_3)) == {
        "mentor_a1",
        "principal_a",
        "counsellor_a",
        "special_educator_a",
    }


def test_a_student_who_changed_school_alerts_the_new_school(world, people):
    s = world.student_a1
    month_absence(s, OCT, absent=250)
    s.school, s.mentor_group = world.school_b, world.group_b1
    s.save()
    refresh(OCT)
    assert recipients_of(s, Rule.STEP_4) == {"principal_b": "principal"}


def test_recipients_are_added_once_however_often_the_month_is_evaluated(world, people):
    month_absence(world.student_a1, OCT, absent=160)
    refresh(OCT)
    before = sorted(AlertRecipient.objects.values_list("alert_id", "user_id", "role"))
    refresh(OCT)
    evaluate_month(OCT)
    assert sorted(AlertRecipient.objects.values_list("alert_id", "user_id", "role")) == before
    # A first month at step 3: the step-2 checklist (mentor) and step 3 (five people).
    assert len(before) == 6


def test_a_mentor_who_is_also_the_counsellor_gets_each_task_once(world, people):
    grant(world.mentor_a1, Role.COUNSELLOR, world.school_a)
    month_absence(world.student_a1, OCT, absent=160)
    refresh(OCT)
    rows = AlertRecipient.objects.filter(user=world.mentor_a1, alert__rule=Rule.STEP_3)
    assert sorted(rows.values_list("task", flat=True)) == sorted(
        [DueKind.REPORT_TO_EHT, DueKind.SOCIAL_MAPPING]
    )


# ---------------------------------------------------------------- e-mail notices


def _identities(world) -> list[str]:
    """Every way a student's identity could appear in a message."""
    out = []
    for s in (world.student_a1, world.student_a2, world.student_b1):
        number = s.personnummer
        out += [s.first_name, s.last_name, number.value, str(number), number.ten_digit]
        out += [number.value[2:], number.ten_digit.replace("-", "")]
    return out


def _expected_subject(count: int) -> str:
    with translation.override("sv"):
        return ngettext(
            "You have %(count)d new absence alert", "You have %(count)d new absence alerts", count
        ) % {"count": count}


def test_one_notice_per_recipient_with_the_count_and_no_student_data(world, people, mailoutbox):
    # A first month each: a1 at step 4 and a high month (with steps 2 and 3 below them), a2
    # at step 3 (with step 2), b1 at step 2. One task per person per alert.
    month_absence(world.student_a1, OCT, absent=450)
    month_absence(world.student_a2, OCT, absent=160)
    month_absence(world.student_b1, OCT, absent=120)
    refresh(OCT)
    assert mailoutbox == []  # nothing is sent before the transaction commits

    with translation.override("en"):  # whoever runs it, the notice is in the site language
        assert notices.send_alert_notices() == 7

    by_person = {m.to[0].split("@")[0]: m for m in mailoutbox}
    assert len(mailoutbox) == len(by_person) == 7
    counts = {name: int(re.search(r"\d+", m.subject).group()) for name, m in by_person.items()}
    assert counts == {
        "principal_a": 4,  # a1: step 4, high month, step 3; a2: step 3
        "mentor_a1": 2,  # a1: checklist (step 2), report to the EHT (step 3)
        "mentor_a2": 2,
        "mentor_b1": 1,
        "counsellor_a": 2,  # the mapping of a1 and of a2
        "nurse_a": 2,
        "special_educator_a": 2,
    }

    assert settings.LANGUAGE_CODE == "sv"
    link = settings.SITE_URL.rstrip("/") + reverse("sst:desk")
    for name, message in by_person.items():
        assert message.subject == _expected_subject(counts[name])
        assert message.subject in message.body
        assert link in message.body
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        text = f"{message.subject}\n{message.body}"
        for identity in _identities(world):
            assert identity not in text, f"{name}'s notice shows a student identity"
        assert not find_personnummer(text)

    assert not AlertRecipient.objects.filter(notified_at__isnull=True).exists()


def test_sending_twice_sends_nothing_new(world, people, mailoutbox):
    # One rule, one person: without the lower steps a step-4 month alerts the principal only.
    StaircasePolicy.objects.update_or_create(
        municipality=world.municipality, defaults={"lower_steps_on_entry": False}
    )
    month_absence(world.student_a1, OCT, absent=250)
    refresh(OCT)
    assert notices.send_alert_notices() == 1
    assert notices.send_alert_notices() == 0
    assert [m.to for m in mailoutbox] == [["principal_a@example.se"]]

    month_absence(world.student_a2, OCT, absent=0, late=5)  # a new alert, later
    refresh(OCT)
    assert notices.send_alert_notices() == 1
    assert [m.to for m in mailoutbox] == [["principal_a@example.se"], ["mentor_a2@example.se"]]
    assert mailoutbox[1].subject == _expected_subject(1)


def test_no_notice_without_an_address_or_to_an_inactive_account(world, people, mailoutbox):
    User.objects.filter(username="counsellor_a").update(email="")
    month_absence(world.student_a1, OCT, absent=160)
    refresh(OCT)
    User.objects.filter(username="nurse_a").update(is_active=False)  # after the alert
    assert notices.send_alert_notices() == 3
    assert sorted(m.to[0] for m in mailoutbox) == [
        "mentor_a1@example.se",
        "principal_a@example.se",
        "special_educator_a@example.se",
    ]


def test_evaluation_sends_the_notices_once_it_has_committed(
    world, people, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def send_now() -> int:
        calls.append(1)
        return notices.send_alert_notices()

    monkeypatch.setattr(tasks.send_alert_notices, "delay", send_now)
    month_absence(world.student_a1, OCT, absent=120)
    rollup_month(OCT)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_month(OCT)
    assert calls == [1]
    assert [m.to for m in mailoutbox] == [["mentor_a1@example.se"]]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        evaluate_month(OCT)  # nothing new: no task queued
    assert callbacks == [] and calls == [1]
