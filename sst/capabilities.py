"""Who may do what: the capability table of the access policy.

This is the one place a newcomer reads to learn who may do what. Each capability names the
roles that hold it at each kind of place (a mentor group, a school, a district, the
municipality). A role held at a place gives its capabilities there and everywhere below it:
a right held at a school covers the school's students and mentor groups, one held at a
district covers the district's schools, one held at the municipality covers all of it.

The table is read by ``sst.access`` (``require``, ``access_case``, ``holders`` …); nothing
else names a role to decide access. Some capabilities are also stored as django-guardian
object permissions (``STORED_AS``) so that the read querysets stay one query; ``GRANTS`` is
derived from the table, never written by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import PlaceKind, Role

# Kinds of place from the narrowest to the widest: a grant at a wider place covers the
# narrower places inside it.
PLACE_ORDER: tuple[PlaceKind, ...] = (
    PlaceKind.MENTOR_GROUP,
    PlaceKind.SCHOOL,
    PlaceKind.DISTRICT,
    PlaceKind.MUNICIPALITY,
)


class Capability(models.TextChoices):
    # Reading identified students.
    VIEW_GROUP_STUDENTS = "view_group_students", _("See the students of the mentor group")
    VIEW_SCHOOL_STUDENTS = "view_school_students", _("See the students of the school")
    # The mentor's step.
    WRITE_CHECKLIST = "write_checklist", _("Write the mentor checklist and its follow-up")
    RECEIVE_CHECKLIST_COPY = "receive_checklist_copy", _("Receive the copy of a mentor checklist")
    # The school's case work.
    WORK_CASES = "work_cases", _("Work the school's cases (open, notes, refer, close)")
    # The referral to the school social team: written by the mentor (of the student's group),
    # the counsellor or the principal (issue 10; Trosa 002).
    WRITE_REFERRAL = (
        "write_referral",
        _("Write, submit and withdraw the school's referral to the school social team"),
    )
    OPEN_CASE_AS_PRINCIPAL = "open_case_as_principal", _("Open a case as the principal")
    OPEN_CASE_FOR_EHT = "open_case_for_eht", _("Open a case for the student health team")
    RECORD_EHT = "record_eht", _("Student health team: meetings, decisions and follow-up")
    BE_RESPONSIBLE_FOR_EHT_DECISIONS = (
        "be_responsible_for_eht_decisions",
        _("Be made responsible for a student health team decision"),
    )
    WRITE_SOCIAL_MAPPING = "write_social_mapping", _("Write the school-social mapping")
    READ_UNSHARED_MAPPINGS = (
        "read_unshared_mappings",
        _("Read mappings the student has not approved for sharing"),
    )
    WRITE_PEDAGOGICAL_MAPPING = "write_pedagogical_mapping", _("Write the pedagogical mapping")
    WRITE_HEALTH_TALK = "write_health_talk", _("Record a health talk")
    READ_HEALTH_NOTES = "read_health_notes", _("Read health-talk notes")
    RECORD_ESCALATIONS = "record_escalations", _("Record escalations (step 4)")
    # Alerts of the absence staircase, one capability per kind of due work: who is alerted
    # (and so may acknowledge that alert).
    ALERTED_CHECKLIST = "alerted_checklist", _("Alerted: a mentor checklist is due")
    ALERTED_EHT_MAPPING = (
        "alerted_eht_mapping",
        _("Alerted: the student is to be reported to the student health team"),
    )
    ALERTED_SOCIAL_MAPPING = (
        "alerted_social_mapping",
        _("Alerted: a school-social mapping is due"),
    )
    ALERTED_PEDAGOGICAL_MAPPING = (
        "alerted_pedagogical_mapping",
        _("Alerted: a pedagogical mapping is due"),
    )
    ALERTED_HEALTH_TALK = "alerted_health_talk", _("Alerted: a health talk may be due")
    ALERTED_STEP_3 = (
        "alerted_step_3",
        _("Alerted: a student is at step 3 (give the counsellor the mapping)"),
    )
    ALERTED_ESCALATION = "alerted_escalation", _("Alerted: an escalation is due")
    ALERTED_REPORT = (
        "alerted_report",
        _("Alerted: a report to the head of schools and social services is due"),
    )
    ALERTED_INTENSIVE = (
        "alerted_intensive",
        _("Alerted: intensive team support is to be considered"),
    )
    ALERTED_GUARDIAN_CONTACT = (
        "alerted_guardian_contact",
        _("Alerted: the guardian is to be contacted"),
    )
    ALERTED_LATE_ARRIVALS = (
        "alerted_late_arrivals",
        _("Alerted: late arrivals continue after the guardian was contacted"),
    )
    # The school's side of a case's follow-ups (the assigned social worker is alerted too).
    ALERTED_FOLLOW_UP = (
        "alerted_follow_up",
        _("Alerted: a follow-up of the team's work is due or overdue"),
    )
    # Registers and administration.
    IMPORT_FOR_SCHOOL = "import_for_school", _("Import the student register and attendance")
    IMPORT_FOR_MUNICIPALITY = "import_for_municipality", _("Import the school register")
    MOVE_STUDENTS = (
        "move_students",
        _("Move students between schools (municipality-wide student register)"),
    )
    ADMINISTER = "administer", _("Administer organisation, users and roles")
    READ_AUDIT_LOG = "read_audit_log", _("Read the audit log")
    # Social services' side (identified data through later apps' conditions only).
    DECIDE_REFERRALS = "decide_referrals", _("Decide referrals (referral forum)")
    COORDINATE = "coordinate", _("Coordinate the team")
    SOCIAL_WORK = "social_work", _("Social work on assigned cases")
    VIEW_REPORTS = "view_reports", _("See aggregated reports")
    # The one identified report for managers: the principals' monthly step-4 report goes to
    # the head of schools for the huvudman (Skollagen 7 kap. 19 a §; DOMAIN.md §3, Trosa).
    READ_STEP4_MONTHLY_REPORT = (
        "read_step4_monthly_report",
        _(
            "Read the principals' monthly step-4 report of repeated absence "
            "(identified; Skollagen 7 kap. 19 a §)"
        ),
    )


_EHT = frozenset(
    {Role.COUNSELLOR, Role.SPECIAL_EDUCATOR, Role.SCHOOL_NURSE, Role.SCHOOL_PSYCHOLOGIST}
)
_SCHOOL_CASE_STAFF = _EHT | {Role.PRINCIPAL}
_MENTOR = frozenset({Role.MENTOR})
_PRINCIPAL = frozenset({Role.PRINCIPAL})
_ADMIN = frozenset({Role.ADMINISTRATOR})


def _at(**kinds: frozenset[Role]) -> Mapping[PlaceKind, frozenset[Role]]:
    return MappingProxyType({PlaceKind(kind): roles for kind, roles in kinds.items()})


CAPABILITIES: Mapping[Capability, Mapping[PlaceKind, frozenset[Role]]] = MappingProxyType(
    {
        Capability.VIEW_GROUP_STUDENTS: _at(mentor_group=_MENTOR),
        Capability.VIEW_SCHOOL_STUDENTS: _at(school=_SCHOOL_CASE_STAFF),
        Capability.WRITE_CHECKLIST: _at(mentor_group=_MENTOR),
        Capability.RECEIVE_CHECKLIST_COPY: _at(school=_PRINCIPAL),
        Capability.WORK_CASES: _at(school=_SCHOOL_CASE_STAFF),
        Capability.WRITE_REFERRAL: _at(
            mentor_group=_MENTOR, school=frozenset({Role.PRINCIPAL, Role.COUNSELLOR})
        ),
        Capability.OPEN_CASE_AS_PRINCIPAL: _at(school=_PRINCIPAL),
        Capability.OPEN_CASE_FOR_EHT: _at(school=_EHT),
        Capability.RECORD_EHT: _at(school=_SCHOOL_CASE_STAFF),
        Capability.BE_RESPONSIBLE_FOR_EHT_DECISIONS: _at(
            mentor_group=_MENTOR, school=_SCHOOL_CASE_STAFF
        ),
        Capability.WRITE_SOCIAL_MAPPING: _at(school=frozenset({Role.COUNSELLOR})),
        Capability.READ_UNSHARED_MAPPINGS: _at(school=frozenset({Role.COUNSELLOR})),
        Capability.WRITE_PEDAGOGICAL_MAPPING: _at(school=frozenset({Role.SPECIAL_EDUCATOR})),
        Capability.WRITE_HEALTH_TALK: _at(school=frozenset({Role.SCHOOL_NURSE})),
        Capability.READ_HEALTH_NOTES: _at(school=frozenset({Role.SCHOOL_NURSE})),
        Capability.RECORD_ESCALATIONS: _at(school=_PRINCIPAL),
        Capability.ALERTED_CHECKLIST: _at(mentor_group=_MENTOR),
        Capability.ALERTED_EHT_MAPPING: _at(mentor_group=_MENTOR),
        Capability.ALERTED_SOCIAL_MAPPING: _at(school=frozenset({Role.COUNSELLOR})),
        Capability.ALERTED_PEDAGOGICAL_MAPPING: _at(school=frozenset({Role.SPECIAL_EDUCATOR})),
        Capability.ALERTED_HEALTH_TALK: _at(school=frozenset({Role.SCHOOL_NURSE})),
        Capability.ALERTED_STEP_3: _at(school=_PRINCIPAL),
        Capability.ALERTED_ESCALATION: _at(school=_PRINCIPAL),
        Capability.ALERTED_REPORT: _at(school=_PRINCIPAL),
        Capability.ALERTED_INTENSIVE: _at(school=_SCHOOL_CASE_STAFF),
        Capability.ALERTED_GUARDIAN_CONTACT: _at(mentor_group=_MENTOR),
        Capability.ALERTED_LATE_ARRIVALS: _at(school=_SCHOOL_CASE_STAFF),
        Capability.ALERTED_FOLLOW_UP: _at(school=frozenset({Role.PRINCIPAL, Role.COUNSELLOR})),
        Capability.IMPORT_FOR_SCHOOL: _at(school=_ADMIN, municipality=_ADMIN),
        Capability.IMPORT_FOR_MUNICIPALITY: _at(municipality=_ADMIN),
        Capability.MOVE_STUDENTS: _at(municipality=_ADMIN),
        Capability.ADMINISTER: _at(municipality=_ADMIN),
        Capability.READ_AUDIT_LOG: _at(municipality=_ADMIN),
        Capability.DECIDE_REFERRALS: _at(
            district=frozenset({Role.REFERRAL_FORUM}), municipality=frozenset({Role.REFERRAL_FORUM})
        ),
        Capability.COORDINATE: _at(
            district=frozenset({Role.COORDINATOR}), municipality=frozenset({Role.COORDINATOR})
        ),
        Capability.SOCIAL_WORK: _at(district=frozenset({Role.SOCIAL_WORKER})),
        Capability.VIEW_REPORTS: _at(
            school=frozenset({Role.MANAGER}),
            district=frozenset({Role.MANAGER}),
            municipality=frozenset({Role.MANAGER}),
        ),
        Capability.READ_STEP4_MONTHLY_REPORT: _at(
            district=frozenset({Role.HEAD_OF_SCHOOLS}),
            municipality=frozenset({Role.HEAD_OF_SCHOOLS}),
        ),
    }
)

# The capabilities that are also stored as django-guardian object permissions on the place,
# so that querysets can join them (one query whatever the number of rows). The codenames
# are declared in the place models' ``Meta.permissions``. Two capabilities may share a
# codename only when the same roles hold them at that kind of place (a test checks it).
STORED_AS: Mapping[Capability, Mapping[PlaceKind, str]] = MappingProxyType(
    {
        Capability.VIEW_GROUP_STUDENTS: {PlaceKind.MENTOR_GROUP: "view_group_students"},
        # The mentor's checklist is written for the group's students: the same rows.
        Capability.WRITE_CHECKLIST: {PlaceKind.MENTOR_GROUP: "view_group_students"},
        Capability.VIEW_SCHOOL_STUDENTS: {PlaceKind.SCHOOL: "view_school_students"},
        Capability.SOCIAL_WORK: {PlaceKind.DISTRICT: "work_district_cases"},
        Capability.DECIDE_REFERRALS: {
            PlaceKind.DISTRICT: "triage_district_referrals",
            PlaceKind.MUNICIPALITY: "triage_municipality_referrals",
        },
        Capability.COORDINATE: {
            PlaceKind.DISTRICT: "coordinate_district",
            PlaceKind.MUNICIPALITY: "coordinate_municipality",
        },
        Capability.VIEW_REPORTS: {
            PlaceKind.SCHOOL: "view_school_reports",
            PlaceKind.DISTRICT: "view_district_reports",
            PlaceKind.MUNICIPALITY: "view_municipality_reports",
        },
        Capability.IMPORT_FOR_SCHOOL: {
            PlaceKind.SCHOOL: "administer_school",
            PlaceKind.MUNICIPALITY: "administer_municipality",
        },
        Capability.IMPORT_FOR_MUNICIPALITY: {PlaceKind.MUNICIPALITY: "administer_municipality"},
        Capability.MOVE_STUDENTS: {PlaceKind.MUNICIPALITY: "administer_municipality"},
        Capability.ADMINISTER: {PlaceKind.MUNICIPALITY: "administer_municipality"},
        Capability.READ_AUDIT_LOG: {PlaceKind.MUNICIPALITY: "administer_municipality"},
    }
)


def derive_grants() -> dict[str, dict[str, tuple[str, ...]]]:
    """role → kind of place → the object-permission codenames it is stored as."""
    grants: dict[str, dict[str, set[str]]] = {}
    for capability, kinds in STORED_AS.items():
        for kind, codename in kinds.items():
            for role in CAPABILITIES[capability].get(kind, frozenset()):
                grants.setdefault(role, {}).setdefault(kind, set()).add(codename)
    return {
        role: {kind: tuple(sorted(codenames)) for kind, codenames in places.items()}
        for role, places in grants.items()
    }


GRANTS: dict[str, dict[str, tuple[str, ...]]] = derive_grants()


def roles_holding(capability: Capability) -> frozenset[Role]:
    """Every role that holds the capability at some kind of place."""
    return frozenset(role for roles in CAPABILITIES[capability].values() for role in roles)


def capabilities_of(held: Mapping[str, frozenset[str] | set[str]]) -> frozenset[Capability]:
    """The capabilities given by ``held`` (kind of place → roles held there covering it)."""
    return frozenset(
        capability
        for capability, kinds in CAPABILITIES.items()
        if any(roles & held.get(kind, set()) for kind, roles in kinds.items())
    )


# Capabilities on a case that need, besides the role, a condition on the case itself that a
# later app registers (assignment to the case, a valid consent; ``access.register_case_condition``).
# With none registered they give nothing identified.
CONDITIONED_ON_CASE: frozenset[Capability] = frozenset({Capability.SOCIAL_WORK})


# ---------------------------------------------------------------- professions

# A note or chronology entry can be restricted to a profession: only someone holding that
# role at the student's school reads it. The value stored on the record is the role's value.
NOTE_PROFESSIONS: list[Role] = [
    Role.COUNSELLOR,
    Role.SCHOOL_NURSE,
    Role.SCHOOL_PSYCHOLOGIST,
    Role.SPECIAL_EDUCATOR,
    Role.PRINCIPAL,
]

RESTRICTED_LABELS: Mapping[str, object] = MappingProxyType(
    {
        Role.COUNSELLOR: _("Restricted entry – visible to the school counsellor"),
        Role.SCHOOL_NURSE: _("Restricted entry – visible to the school nurse"),
        Role.SCHOOL_PSYCHOLOGIST: _("Restricted entry – visible to the school psychologist"),
        Role.SPECIAL_EDUCATOR: _("Restricted entry – visible to the special educator"),
        Role.PRINCIPAL: _("Restricted entry – visible to the principal"),
    }
)
VISIBLE_ONLY_TO_LABELS: Mapping[str, object] = MappingProxyType(
    {
        Role.COUNSELLOR: _("Visible only to the school counsellor"),
        Role.SCHOOL_NURSE: _("Visible only to the school nurse"),
        Role.SCHOOL_PSYCHOLOGIST: _("Visible only to the school psychologist"),
        Role.SPECIAL_EDUCATOR: _("Visible only to the special educator"),
        Role.PRINCIPAL: _("Visible only to the principal"),
    }
)


def profession_label(profession: str) -> str:
    return str(Role(profession).label) if profession in Role.values else profession


def restriction_for(capability: Capability) -> str:
    """The profession a record is restricted to when only ``capability`` may read it."""
    roles = CAPABILITIES[capability].get(PlaceKind.SCHOOL, frozenset())
    if len(roles) != 1:
        raise ValueError(f"{capability} is not held by exactly one profession at a school")
    return str(next(iter(roles)))


# ---------------------------------------------------------------- the table as documentation


def as_markdown() -> str:
    """The capability × role table, for docs/ARCHITECTURE.md (``manage.py capabilities``).
    The doc is in English, whatever the active language."""
    with translation.override("en"):
        return _markdown()


def _markdown() -> str:
    abbreviations = {
        PlaceKind.MENTOR_GROUP: "G",
        PlaceKind.SCHOOL: "S",
        PlaceKind.DISTRICT: "D",
        PlaceKind.MUNICIPALITY: "M",
    }
    roles = list(Role)
    lines = [
        "| capability | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for capability in Capability:
        cells = []
        for role in roles:
            kinds = [
                abbreviations[kind]
                for kind in PLACE_ORDER
                if role in CAPABILITIES[capability].get(kind, frozenset())
            ]
            cells.append(",".join(kinds))
        mark = " ¹" if capability in CONDITIONED_ON_CASE else ""
        lines.append(
            f"| `{capability.value}` – {capability.label}{mark} | " + " | ".join(cells) + " |"
        )
    lines.append("")
    lines.append(
        "G: at a mentor group, S: at a school, D: at a district, M: at the municipality "
        "(a right held at a place covers everything inside it). ¹ Only on cases where the "
        "conditions later apps register hold (assignment, a valid consent); none yet."
    )
    return "\n".join(lines) + "\n"
