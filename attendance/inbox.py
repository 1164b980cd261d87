"""The desk's inbox: one row per student, with the person's open tasks and the rules that
fired folded into it, most urgent first, paged.

Each alert gives each person alerted a task (``AlertRecipient.task``). A task is closed by
doing the work — the service that records it calls ``services.tasks_done`` — or acknowledged
with a reason. The pages that do the work belong to later apps (the checklist, the mapping,
the principal's decision are in ``cases``), which register a link for their task here in
their ``AppConfig.ready``, so this app never imports them:

    inbox.register_action(task=DueKind.CHECKLIST, label=..., url=lambda student, alert: ...)

The inbox runs a fixed number of queries whatever the number of students or alerts.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, Max, Q, QuerySet, Value, When
from django.utils.functional import Promise

from sst import access
from sst.models import Student

from .models import RULE_URGENCY, Alert, AlertRecipient, DueKind

PAGE_SIZE = 25
SHOW_ALL = "alla"
DONE_LIMIT = 10

ActionUrl = Callable[[Student, Alert], str]


@dataclass(frozen=True)
class Action:
    label: str | Promise
    url: ActionUrl


_actions: dict[str, Action] = {}


def register_action(*, task: DueKind, label: str | Promise, url: ActionUrl) -> None:
    """The page that does ``task``: its link text and its address for a student and alert."""
    _actions[task] = Action(label, url)


def action_for(task: str) -> Action | None:
    return _actions.get(task)


# ---------------------------------------------------------------- rows


@dataclass
class InboxTask:
    task: str
    label: str
    action_label: str | None
    action_url: str | None


@dataclass
class RuleGroup:
    """One rule that fired, with each period it fired for (oldest first)."""

    rule: str
    label: str
    alerts: list[Alert]


@dataclass
class InboxRow:
    student: Student
    urgency: int
    alerts: list[Alert] = field(default_factory=list)
    tasks: list[InboxTask] = field(default_factory=list)

    @property
    def rules(self) -> list[RuleGroup]:
        """The rules that fired, the most urgent first, each with its periods folded in."""
        groups: dict[str, RuleGroup] = {}
        for alert in self.alerts:
            group = groups.get(alert.rule)
            if group is None:
                group = groups[alert.rule] = RuleGroup(
                    alert.rule, str(alert.get_rule_display()), []
                )
            group.alerts.append(alert)
        return list(groups.values())


@dataclass
class Inbox:
    rows: list[InboxRow]
    page: Page[dict[str, object]] | None
    student_count: int
    show_all: bool
    done: list[AlertRecipient]

    @property
    def is_paged(self) -> bool:
        return self.page is not None and self.page.paginator.num_pages > 1


def _urgency() -> Case:
    return Case(
        *(When(alert__rule=rule, then=Value(rank)) for rule, rank in RULE_URGENCY.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def open_tasks_of(user: access.AnyUser) -> QuerySet[AlertRecipient]:
    """The user's open tasks about students they can still see."""
    return AlertRecipient.objects.filter(  # type: ignore[misc]
        user_id=user.pk,
        acknowledged_at__isnull=True,
        done_at__isnull=True,
        alert__student__in=access.students_visible_to(user),
    )


def inbox(user: access.AnyUser, *, page: str | None = None) -> Inbox:
    """The user's inbox: five queries at most (students of the page, their count, their
    tasks, the recently closed tasks), however many students and alerts there are."""
    if not user.is_authenticated:
        return Inbox([], None, 0, False, [])
    open_tasks = open_tasks_of(user)
    students = (
        open_tasks.values("alert__student_id")
        .annotate(urgency=Max(_urgency()), latest=Max("alert__period_end"))
        .order_by("-urgency", "-latest", "alert__student_id")
    )
    show_all = page == SHOW_ALL
    paged: Page[dict[str, object]] | None = None
    if show_all:
        listed = list(students)
        count = len(listed)
    else:
        paged = Paginator(students, PAGE_SIZE).get_page(page)
        listed = list(paged.object_list)
        count = paged.paginator.count
    order = {row["alert__student_id"]: i for i, row in enumerate(listed)}
    rows: dict[int, InboxRow] = {}
    if order:
        for recipient in (
            open_tasks.filter(alert__student_id__in=list(order))
            .select_related("alert__student__mentor_group", "alert__student__school")
            .order_by("alert__period_start", "pk")
        ):
            _add(rows, recipient)
    closed = list(
        AlertRecipient.objects.filter(  # type: ignore[misc]
            user_id=user.pk, alert__student__in=access.students_visible_to(user)
        )
        .filter(Q(done_at__isnull=False) | Q(acknowledged_at__isnull=False))
        .select_related("alert__student")
        .order_by("-acknowledged_at", "-done_at", "-pk")[:DONE_LIMIT]
    )
    ordered = sorted(rows.values(), key=lambda row: order[row.student.pk])
    for row in ordered:
        row.alerts.sort(key=lambda a: (-RULE_URGENCY.get(a.rule, 0), a.period_start))
    return Inbox(ordered, paged, count, show_all, closed)


def _add(rows: dict[int, InboxRow], recipient: AlertRecipient) -> None:
    alert = recipient.alert
    row = rows.get(alert.student_id)
    if row is None:
        row = rows[alert.student_id] = InboxRow(student=alert.student, urgency=0)
    row.urgency = max(row.urgency, RULE_URGENCY.get(alert.rule, 0))
    if all(a.pk != alert.pk for a in row.alerts):
        row.alerts.append(alert)
    if all(t.task != recipient.task for t in row.tasks):
        action = action_for(recipient.task)
        row.tasks.append(
            InboxTask(
                task=recipient.task,
                label=str(DueKind(recipient.task).label)
                if recipient.task in DueKind.values
                else recipient.task,
                action_label=str(action.label) if action else None,
                action_url=action.url(alert.student, alert) if action else None,
            )
        )


def open_tasks_for_students(user: access.AnyUser, student_ids: list[str]) -> list[AlertRecipient]:
    """The user's open tasks about these students (by public id), for the bulk acknowledge."""
    return list(
        open_tasks_of(user)
        .filter(alert__student__public_id__in=student_ids)
        .select_related("alert__student")
    )


def period_of(alerts: list[Alert]) -> tuple[datetime.date, datetime.date]:
    return min(a.period_start for a in alerts), max(a.period_end for a in alerts)
