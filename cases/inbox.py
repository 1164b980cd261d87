"""The links from the desk's inbox (``attendance.inbox``) to the pages in this app where
each task is done. Registered in ``CasesConfig.ready``, so attendance never imports cases.

A task without a page here (contacting the guardian about late arrivals, considering
intensive support, the team's look at continued late arrivals) is acknowledged instead.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from attendance import inbox
from attendance.models import Alert, DueKind
from sst.models import Student


def _checklist(student: Student, alert: Alert) -> str:
    return f"{reverse('cases:checklist_new', args=[student.public_id])}?larm={alert.public_id}"


def _student_page(name: str) -> inbox.ActionUrl:
    return lambda student, _alert: reverse(name, args=[student.public_id])


def register_actions() -> None:
    inbox.register_action(task=DueKind.CHECKLIST, label=_("Fill in the checklist"), url=_checklist)
    inbox.register_action(
        task=DueKind.REPORT_TO_EHT,
        label=_("Follow up the checklist and report to the student health team"),
        url=_student_page("cases:checklist_list"),
    )
    inbox.register_action(
        task=DueKind.SOCIAL_MAPPING,
        label=_("Write the mapping"),
        url=_student_page("cases:mapping_overview"),
    )
    inbox.register_action(
        task=DueKind.PEDAGOGICAL_MAPPING,
        label=_("Record the pedagogical mapping"),
        url=_student_page("cases:pedagogical_mapping_create"),
    )
    inbox.register_action(
        task=DueKind.HEALTH_TALK,
        label=_("Record the health talk"),
        url=_student_page("cases:health_talk_create"),
    )
    inbox.register_action(
        task=DueKind.ASSIGN_MAPPING,
        label=_("The student health team's decision"),
        url=lambda student, _alert: reverse("cases:eht_school", args=[student.school.unit_code]),
    )
    for task in (DueKind.ESCALATION, DueKind.REPORT):
        inbox.register_action(
            task=task,
            label=_("Record the decision or the report"),
            url=_student_page("cases:principal_student"),
        )
