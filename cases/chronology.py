"""Selectors for the case pages: the chronology, the school's case list and the desk counts.

The chronology merges the case's own entries (``CaseEvent``) with the student's absence
alerts (``attendance.Alert``), which are not copied into the case but read here, newest
first. Entries restricted to one profession are blanked *in the query*: the summary and a
note's text of an entry the reader may not see never leave the database, so no template can
show them by mistake.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.models import Alert
from attendance.templatetags.absence import alert_value, period
from sst import access
from sst.access import Capability
from sst.models import School, Student

from .models import ENDED_STATES, Case, CaseEvent, CaseState, EventKind, Note

# The professions a note can be restricted to, and their labels, belong to the policy.
NOTE_PROFESSIONS = access.NOTE_PROFESSIONS
restricted_label = access.restricted_label
visible_only_to_label = access.visible_only_to_label


# ---------------------------------------------------------------- the chronology


@dataclass(frozen=True)
class Entry:
    """One line of the chronology as a reader may see it."""

    kind: str
    kind_label: str
    happened_at: datetime.datetime
    who: str
    summary: str
    text: str = ""
    restricted_to: str = ""
    hidden: bool = False
    # Shown instead of the time when the entry is about a period (an absence alert's month).
    when_label: str = ""

    @property
    def restriction(self) -> str:
        if not self.restricted_to:
            return ""
        if self.hidden:
            return restricted_label(self.restricted_to)
        return visible_only_to_label(self.restricted_to)


@dataclass(frozen=True)
class Chronology:
    entries: list[Entry]
    kinds: frozenset[str]
    hidden_count: int = 0
    roles: frozenset[str] = field(default_factory=frozenset)


def _readable(roles: Iterable[str]) -> Q:
    return Q(restricted_to="") | Q(restricted_to__in=list(roles))


def _who(row: dict[str, Any]) -> str:
    """The recorder's full name (as ``User.get_full_name``), else username, else a dash."""
    full_name = f"{row['recorded_by__first_name'] or ''} {row['recorded_by__last_name'] or ''}"
    return full_name.strip() or row["recorded_by__username"] or "–"


def _alert_window(case: Case) -> Q:
    """The alerts that belong to this case: after the previous case closed, and until this
    one closed (the alerts before the first case are what led to it)."""
    window = Q(student_id=case.student_id)
    previous = case.previous_case
    if previous is not None and previous.closed_at is not None:
        window &= Q(created_at__gt=previous.closed_at)
    if case.closed_at is not None:
        window &= Q(created_at__lte=case.closed_at)
    return window


def _placed_at(alert: Alert) -> datetime.datetime:
    """Where an absence alert stands in the chronology: at the end of the period it is about
    (or when it was computed, if that came first, as in the current month) — not at the
    moment it was computed, which for data imported later says nothing about the student."""
    end_of_period = timezone.make_aware(
        datetime.datetime.combine(alert.period_end, datetime.time(23, 59))
    )
    return min(alert.created_at, end_of_period)


def chronology(user: access.AnyUser, case: Case, *, kinds: Iterable[str] = ()) -> Chronology:
    """Every entry of the case and the student's alerts, newest first, for this reader.

    ``kinds`` filters by entry kind (empty: all). Four queries however long the case is:
    the reader's roles, the entries, the readable notes and the alerts.
    """
    wanted = frozenset(kinds) & set(EventKind.values)
    roles = access.professions_at(user, case.student)
    readable = _readable(roles)
    # Values, not model instances: the summary column itself is never read, only the
    # annotation that is empty where the reader may not see it.
    events = (
        CaseEvent.objects.filter(case=case)
        .annotate(
            readable=models.Case(
                models.When(readable, then=models.Value(True)),
                default=models.Value(False),
                output_field=models.BooleanField(),
            ),
            readable_summary=models.Case(
                models.When(readable, then=models.F("summary")),
                default=models.Value(""),
                output_field=models.CharField(),
            ),
        )
        .order_by("-happened_at", "-id")
        .values(
            "kind",
            "happened_at",
            "restricted_to",
            "ref_type",
            "ref_id",
            "readable",
            "readable_summary",
            "recorded_by__first_name",
            "recorded_by__last_name",
            "recorded_by__username",
        )
    )
    if wanted:
        events = events.filter(kind__in=wanted)
    rows = list(events)

    note_ids = [row["ref_id"] for row in rows if row["ref_type"] == "note" and row["readable"]]
    note_texts: dict[str, str] = {}
    if note_ids:
        note_texts = {
            str(public_id): text
            for public_id, text in Note.objects.filter(case=case, public_id__in=note_ids)
            .filter(readable)
            .values_list("public_id", "text")
        }

    kind_labels = dict(EventKind.choices)
    entries = [
        Entry(
            kind=row["kind"],
            kind_label=str(kind_labels.get(row["kind"], row["kind"])),
            happened_at=row["happened_at"],
            who=_who(row),
            summary=row["readable_summary"],
            text=note_texts.get(row["ref_id"], "") if row["ref_type"] == "note" else "",
            restricted_to=row["restricted_to"],
            hidden=not row["readable"],
        )
        for row in rows
    ]

    if not wanted or EventKind.ALERT in wanted:
        automatic = _("Attendance data (automatic)")
        alert_label = str(EventKind.ALERT.label)
        for alert in Alert.objects.filter(_alert_window(case)).order_by("-created_at"):
            entries.append(
                Entry(
                    kind=EventKind.ALERT,
                    kind_label=alert_label,
                    happened_at=_placed_at(alert),
                    when_label=period(alert.period_start, alert.period_end),
                    who=automatic,
                    summary=_("%(rule)s, %(period)s: %(value)s")
                    % {
                        "rule": alert.get_rule_display(),
                        "period": period(alert.period_start, alert.period_end),
                        "value": alert_value(alert),
                    },
                )
            )
        entries.sort(key=lambda entry: entry.happened_at, reverse=True)

    return Chronology(
        entries=entries,
        kinds=wanted,
        hidden_count=sum(1 for entry in entries if entry.hidden),
        roles=roles,
    )


# ---------------------------------------------------------------- cases of a school, a student


def case_schools_of(user: access.AnyUser) -> QuerySet[School]:
    """Schools where the user is the principal or on the student health team today."""
    return access.schools_where(user, Capability.WORK_CASES).order_by("name")


def case_roles_of(user: access.AnyUser) -> frozenset[str]:
    """The principal and student-health roles the user holds today (for the audit trail)."""
    return access.roles_giving_anywhere(user, Capability.WORK_CASES)


def _open_first(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.annotate(
        ended=models.Case(
            models.When(state__in=list(ENDED_STATES), then=models.Value(1)),
            default=models.Value(0),
            output_field=models.IntegerField(),
        )
    ).order_by("ended", "-opened_at", "-id")


def case_list(
    user: access.AnyUser, *, state: str = "", school_id: int | None = None
) -> QuerySet[Case]:
    """The cases the user may read, open cases first, newest first within each."""
    cases = access.cases_visible_to(user).select_related(
        "school", "student__mentor_group", "opened_by"
    )
    if state == "open":
        cases = cases.exclude(state__in=list(ENDED_STATES))
    elif state == "ended":
        cases = cases.filter(state__in=list(ENDED_STATES))
    elif state:
        cases = cases.filter(state=state)
    if school_id is not None:
        cases = cases.filter(school_id=school_id)
    return _open_first(cases)


def student_cases(user: access.AnyUser, student: Student) -> list[Case]:
    """The student's cases the user may read, open first, then newest first."""
    return list(_open_first(access.cases_visible_to(user).filter(student=student)))


def previous_case_for_new(student: Student) -> Case | None:
    """The case a new case should link to: the student's latest ended case not yet followed.

    Read without the user filter on purpose: it is used only after the caller has checked
    that the user may open a case for this student, and it links, it does not show.
    """
    return (
        Case.objects.filter(
            student=student,
            school_id=student.school_id,
            state__in=list(ENDED_STATES),
            next_case__isnull=True,
        )
        .order_by("-opened_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class SchoolCaseCounts:
    school: School
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def by_state(self) -> list[tuple[str, str, int]]:
        """(state, label, count) in the order of the flow, only states with cases."""
        return [
            (state.value, str(state.label), self.counts[state.value])
            for state in CaseState
            if self.counts.get(state.value)
        ]


def open_case_counts(user: access.AnyUser) -> list[SchoolCaseCounts] | None:
    """Open cases per state at each school where the user works with cases; ``None`` when the
    user has no such role. Two queries."""
    schools = list(case_schools_of(user))
    if not schools:
        return None
    rows = (
        access.cases_visible_to(user)
        .exclude(state__in=list(ENDED_STATES))
        .values("student__school_id", "state")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = {school.pk: {} for school in schools}
    for row in rows:
        counts.setdefault(row["student__school_id"], {})[row["state"]] = row["count"]
    return [SchoolCaseCounts(school=school, counts=counts[school.pk]) for school in schools]
