"""The links from the desk's inbox (``attendance.inbox``) to the pages in this app where
each task is done. Registered in ``CasesConfig.ready``, so attendance never imports cases.

A task without a page here (contacting the guardian about late arrivals, considering
intensive support, the team's look at continued late arrivals) is acknowledged instead.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from attendance import inbox
from attendance.models import Alert, DueKind
from sst.models import Student


def _checklist(student: Student, alert: Alert) -> str:
    return f"{reverse('cases:checklist_new', args=[student.public_id])}?larm={alert.public_id}"


def _student_page(name: str) -> inbox.ActionUrl:
    return lambda student, _alert: reverse(name, args=[student.public_id])


# Each task, the words on its link and where it leads.
ACTIONS: tuple[tuple[DueKind, Promise, inbox.ActionUrl], ...] = (
    (DueKind.CHECKLIST, _("Fill in the checklist"), _checklist),
    (
        DueKind.REPORT_TO_EHT,
        _("Follow up the checklist and report to the student health team"),
        _student_page("cases:checklist_list"),
    ),
    (DueKind.SOCIAL_MAPPING, _("Write the mapping"), _student_page("cases:mapping_overview")),
    (
        DueKind.PEDAGOGICAL_MAPPING,
        _("Record the pedagogical mapping"),
        _student_page("cases:pedagogical_mapping_create"),
    ),
    (
        DueKind.HEALTH_TALK,
        _("Record the health talk"),
        _student_page("cases:health_talk_create"),
    ),
    (
        DueKind.ASSIGN_MAPPING,
        _("The student health team's decision"),
        lambda student, _alert: reverse("cases:eht_school", args=[student.school.unit_code]),
    ),
    (
        DueKind.ESCALATION,
        _("Record the decision or the report"),
        _student_page("cases:principal_student"),
    ),
    (
        DueKind.REPORT,
        _("Record the decision or the report"),
        _student_page("cases:principal_student"),
    ),
)


def register_actions() -> None:
    for task, label, url in ACTIONS:
        inbox.register_action(task=task, label=label, url=url)
