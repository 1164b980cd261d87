"""The desk's inbox: one row per student with the rules folded in, each person's own tasks,
most urgent first, paged, a bulk acknowledge with a reason (audited), tasks closed by doing
the work, and a constant number of queries whatever the number of students."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from attendance import inbox
from attendance.models import AcknowledgeReason, Alert, AlertRecipient, DueKind, Rule
from attendance.rollup import rollup_month
from attendance.staircase import evaluate_month
from cases import escalation
from cases.mapping import services as mapping_services
from cases.models import EscalationKind
from sst.models import AuditEvent, Role

from ..conftest import verified_login
from ..factories import StudentFactory, UserFactory, grant
from .lessons import month_absence

SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)


def refresh(*months: datetime.date) -> None:
    for month in months:
        rollup_month(month)
        evaluate_month(month)


def desk(client, user, query: str = "") -> str:
    verified_login(client, user)
    response = client.get(reverse("sst:desk") + query)
    assert response.status_code == 200
    return response.content.decode()


def inbox_html(page: str) -> str:
    return page.split('class="mb-5 inbox"', 1)[1].split("</section>", 1)[0]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def high(world):
    """a1: step 2 in September, 25 % in October (step 4, and the step 3 it climbed past);
    a2: a first month at 16 % in October (steps 2 and 3)."""
    grant(UserFactory(username="special_educator_a"), Role.SPECIAL_EDUCATOR, world.school_a)
    month_absence(world.student_a1, SEP, absent=120)
    month_absence(world.student_a1, OCT, absent=250)
    month_absence(world.student_a2, OCT, absent=160)
    refresh(SEP, OCT)
    return world


def test_one_row_per_student_with_the_rules_folded_in(client, high):
    html = inbox_html(desk(client, high.mentor_a1))
    rows = html.count('class="list-group-item inbox-row"')
    assert rows == 1  # a1 has three alerts for the mentor (two checklists' months, step 3)
    assert html.count(f'name="elev" value="{high.student_a1.public_id}"') == 1
    shown = text(html)
    assert "sep 2025" in shown.lower() or "september 2025" in shown.lower()
    assert "oktober 2025" in shown.lower()


def test_most_urgent_first(client, high):
    html = inbox_html(desk(client, high.principal_a))
    # a1 is at step 4 (the principal's decision), a2 at step 3 (give the mapping).
    assert html.index(high.student_a1.last_name) < html.index(high.student_a2.last_name)


@pytest.mark.parametrize(
    ("person", "theirs", "not_theirs"),
    [
        ("mentor_a1", [DueKind.CHECKLIST, DueKind.REPORT_TO_EHT], [DueKind.SOCIAL_MAPPING]),
        ("counsellor_a", [DueKind.SOCIAL_MAPPING], [DueKind.HEALTH_TALK, DueKind.CHECKLIST]),
        ("nurse_a", [DueKind.HEALTH_TALK], [DueKind.SOCIAL_MAPPING, DueKind.ESCALATION]),
        (
            "special_educator_a",
            [DueKind.PEDAGOGICAL_MAPPING],
            [DueKind.SOCIAL_MAPPING, DueKind.HEALTH_TALK],
        ),
        ("principal_a", [DueKind.ESCALATION, DueKind.ASSIGN_MAPPING], [DueKind.SOCIAL_MAPPING]),
    ],
)
def test_each_role_sees_the_tasks_that_are_theirs(client, high, person, theirs, not_theirs):
    from django.utils.translation import override

    from sst.models import User

    shown = text(inbox_html(desk(client, User.objects.get(username=person))))
    with override("sv"):
        for task in theirs:
            assert str(task.label) in shown, task
        for task in not_theirs:
            assert str(task.label) not in shown, task


def test_each_task_links_to_where_it_is_done(client, high):
    a1 = high.student_a1.public_id
    html = inbox_html(desk(client, high.mentor_a1))
    assert reverse("cases:checklist_new", args=[a1]) + "?larm=" in html
    assert reverse("cases:checklist_list", args=[a1]) in html
    html = inbox_html(desk(client, high.counsellor_a))
    assert reverse("cases:mapping_overview", args=[a1]) in html
    html = inbox_html(desk(client, high.nurse_a))
    assert reverse("cases:health_talk_create", args=[a1]) in html
    html = inbox_html(desk(client, high.principal_a))
    assert reverse("cases:principal_student", args=[a1]) in html
    assert reverse("cases:eht_school", args=[high.school_a.unit_code]) in html


def test_a_task_is_done_by_doing_it_for_everyone_who_had_it(client, high):
    second_nurse = UserFactory(username="nurse_a2")
    grant(second_nurse, Role.SCHOOL_NURSE, high.school_a)
    refresh(OCT)  # existing alerts keep their recipients; a new person gets new alerts only
    mapping_services.health_talk_add(
        student=high.student_a1, held_on=timezone.localdate(), note="", by=high.nurse_a
    )
    talks = AlertRecipient.objects.filter(alert__student=high.student_a1, task=DueKind.HEALTH_TALK)
    assert talks.exists() and all(t.done_at is not None for t in talks)
    # The other student's health talk is still open.
    assert AlertRecipient.objects.filter(
        alert__student=high.student_a2, task=DueKind.HEALTH_TALK, done_at__isnull=True
    ).exists()
    html = inbox_html(desk(client, high.nurse_a))
    assert f'value="{high.student_a1.public_id}"' not in html  # no longer a row to act on
    assert f'value="{high.student_a2.public_id}"' in html


def test_the_principals_decision_closes_the_step_4_task(high):
    escalation.escalation_record(
        student=high.student_a1,
        kind=EscalationKind.HEAD_OF_SCHOOLS,
        decided_on=timezone.localdate(),
        by=high.principal_a,
    )
    tasks = dict(
        AlertRecipient.objects.filter(
            alert__student=high.student_a1, user=high.principal_a
        ).values_list("task", "done_at")
    )
    assert tasks[DueKind.ESCALATION] is not None
    assert tasks[DueKind.ASSIGN_MAPPING] is None  # that one is the mapping's


def test_bulk_acknowledge_records_the_reason_and_is_audited(client, high):
    verified_login(client, high.principal_a)
    url = reverse("attendance:inbox_acknowledge")
    assert client.get(url).status_code == 405
    students = [str(high.student_a1.public_id), str(high.student_a2.public_id)]
    # Without a reason nothing changes.
    client.post(url, {"elev": students})
    assert not AlertRecipient.objects.filter(acknowledged_at__isnull=False).exists()
    response = client.post(
        url, {"elev": students, "reason": AcknowledgeReason.HANDLED_ELSEWHERE, "next": "/"}
    )
    assert response.status_code == 302
    mine = AlertRecipient.objects.filter(user=high.principal_a)
    assert mine.exists()
    assert set(mine.values_list("acknowledged_reason", flat=True)) == {
        AcknowledgeReason.HANDLED_ELSEWHERE
    }
    # Only the principal's own tasks: the mentor's stay open.
    assert AlertRecipient.objects.filter(user=high.mentor_a1, acknowledged_at__isnull=True).exists()
    events = AuditEvent.objects.filter(action="acknowledge", actor_username="principal_a")
    assert {e.student_id for e in events} == {high.student_a1.public_id, high.student_a2.public_id}
    assert all(e.detail["reason"] == "handled_elsewhere" for e in events)
    assert "inbox-rows" not in desk(client, high.principal_a)


def test_bulk_acknowledge_refuses_students_without_tasks_of_the_user(client, high):
    month_absence(high.student_b1, OCT, absent=250)
    refresh(OCT)
    verified_login(client, high.principal_a)
    response = client.post(
        reverse("attendance:inbox_acknowledge"),
        {"elev": [str(high.student_b1.public_id)], "reason": AcknowledgeReason.SEEN},
    )
    assert response.status_code == 404
    assert not AlertRecipient.objects.filter(acknowledged_at__isnull=False).exists()


def test_paged_with_show_all(client, high, monkeypatch):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 1)
    html = inbox_html(desk(client, high.principal_a))
    assert html.count('class="list-group-item inbox-row"') == 1
    assert "?inkorg=2" in html and f"?inkorg={inbox.SHOW_ALL}" in html
    second = inbox_html(desk(client, high.principal_a, "?inkorg=2"))
    assert high.student_a2.last_name in second and high.student_a1.last_name not in second
    everything = inbox_html(desk(client, high.principal_a, f"?inkorg={inbox.SHOW_ALL}"))
    assert everything.count('class="list-group-item inbox-row"') == 2


def _alerts_for(user, role, students) -> None:
    """Four alerts with a task each for the user, per student (made directly, for speed)."""
    for student in students:
        for month, rule in (
            (SEP, Rule.STEP_2),
            (OCT, Rule.STEP_3),
            (OCT, Rule.STEP_4),
            (OCT, Rule.LATE),
        ):
            alert = Alert.objects.create(
                student=student,
                rule=rule,
                period_start=month,
                period_end=month + datetime.timedelta(days=27),
                value_pct="21.0",
                due=DueKind.ESCALATION,
            )
            AlertRecipient.objects.create(
                alert=alert, user=user, role=role, task=DueKind.ESCALATION
            )


def test_the_desk_runs_the_same_number_of_queries_for_3_and_30_students(client, world):
    def queries_for(count: int) -> int:
        students = [StudentFactory(mentor_group=world.group_a1) for _ in range(count)]
        _alerts_for(world.principal_a, Role.PRINCIPAL, students)
        verified_login(client, world.principal_a)
        client.get(reverse("sst:desk"))  # the day's first request syncs the person's rights
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("sst:desk") + f"?inkorg={inbox.SHOW_ALL}")
        assert response.status_code == 200
        assert response.content.decode().count('class="list-group-item inbox-row"') >= count
        AlertRecipient.objects.all().delete()
        Alert.objects.all().delete()
        return len(captured)

    assert queries_for(3) == queries_for(30)


def test_the_inbox_selector_runs_at_most_five_queries(world, django_assert_max_num_queries):
    students = [StudentFactory(mentor_group=world.group_a1) for _ in range(40)]
    _alerts_for(world.principal_a, Role.PRINCIPAL, students)
    with django_assert_max_num_queries(5):
        found = inbox.inbox(world.principal_a, page="2")
        assert len(found.rows) == 40 - inbox.PAGE_SIZE
        assert all(len(row.alerts) == 4 for row in found.rows)
