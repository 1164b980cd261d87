"""Organisation, people (staff with role memberships; the student and guardian register),
and the audit trail."""

from __future__ import annotations

import datetime
import uuid

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from . import crypto
from .personnummer import Personnummer


class User(AbstractUser):
    """A member of staff. Children and guardians are never users."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Municipality(models.Model):
    """The municipality (kommun, huvudman) that runs the service."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.CharField(
        _("municipality code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A municipality code has four digits."))],
    )

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]
        permissions = [
            ("administer_municipality", _("Can administer the municipality")),
            ("view_municipality_reports", _("Can see the municipality's aggregated reports")),
            ("triage_municipality_referrals", _("Can triage referrals for the municipality")),
            ("coordinate_municipality", _("Can coordinate the municipality's team")),
        ]

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A district (stadsdel): social services are organised per district."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="districts",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="district_unique_name_in_municipality"
            )
        ]
        permissions = [
            ("work_district_cases", _("Can work the district's assigned cases")),
            ("triage_district_referrals", _("Can triage the district's referrals")),
            ("coordinate_district", _("Can coordinate the district's team")),
            ("view_district_reports", _("Can see the district's aggregated reports")),
        ]

    def __str__(self) -> str:
        return self.name


class School(models.Model):
    """A school unit (skolenhet), identified by its 8-digit skolenhetskod."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="schools", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=160)
    unit_code = models.CharField(
        _("school unit code"),
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^\d{8}$", _("A school unit code has eight digits."))],
        help_text=_("The 8-digit skolenhetskod from the Swedish school register."),
    )

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]
        permissions = [
            ("view_school_students", _("Can see the school's students")),
            ("view_school_reports", _("Can see the school's aggregated reports")),
            ("administer_school", _("Can administer the school's registers and imports")),
        ]

    def __str__(self) -> str:
        return self.name


class MentorGroup(models.Model):
    """A class or mentor group at a school (e.g. 7B)."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="mentor_groups", verbose_name=_("school")
    )
    name = models.CharField(_("name"), max_length=40)
    pending_mentor_email = models.EmailField(
        _("mentor e-mail waiting for an account"),
        blank=True,
        help_text=_("From the student register; the mentor gets the class when this user exists."),
    )

    class Meta:
        verbose_name = _("mentor group")
        verbose_name_plural = _("mentor groups")
        ordering = ["school__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="group_unique_name_in_school")
        ]
        permissions = [("view_group_students", _("Can see the mentor group's students"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.school.name})"


# The student and guardian register: the people both attendance and cases work with.


class Grade(models.TextChoices):
    F = "F", _("Preschool class (F)")
    G1 = "1", "1"
    G2 = "2", "2"
    G3 = "3", "3"
    G4 = "4", "4"
    G5 = "5", "5"
    G6 = "6", "6"
    G7 = "7", "7"
    G8 = "8", "8"
    G9 = "9", "9"


class Gender(models.TextChoices):
    """Gender as recorded in the student register."""

    GIRL = "girl", _("Girl")
    BOY = "boy", _("Boy")
    OTHER = "other", _("Other / not recorded")


class EncryptedIdentity(models.Model):
    """A personnummer stored encrypted, with a keyed hash for exact lookup.

    Read it with ``.personnummer`` (decrypts); set it through the services, which validate
    and normalise first. It is never used in URLs: objects are addressed by ``public_id``.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    personnummer_ciphertext = models.TextField(editable=False)
    personnummer_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_coordination_number = models.BooleanField(_("coordination number"), default=False)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def personnummer(self) -> Personnummer:
        return Personnummer(crypto.decrypt(self.personnummer_ciphertext))

    def set_personnummer(self, value: Personnummer) -> None:
        self.personnummer_ciphertext = crypto.encrypt(value.value)
        self.personnummer_hash = crypto.lookup_hash(value.value)
        self.is_coordination_number = value.is_coordination_number

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Student(EncryptedIdentity):
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="students", verbose_name=_("school")
    )
    mentor_group = models.ForeignKey(
        MentorGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="students",
        verbose_name=_("mentor group"),
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    gender = models.CharField(
        _("gender (as recorded)"), max_length=8, choices=Gender.choices, default=Gender.OTHER
    )
    # Set when a municipality administrator moves the student here from another school: the
    # school sees the absence recorded from this day on, never what the previous school saw.
    # From the personnummer (set with it): the consent rule asks the student's age in the
    # query. When the number leaves the day or month open, the earliest possible date.
    earliest_birth_date = models.DateField(null=True, blank=True, editable=False)
    enrolled_on = models.DateField(
        _("at this school since"),
        null=True,
        blank=True,
        help_text=_("Set by a move between schools; empty: since before the records begin."),
    )

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["school", "grade"])]

    def __str__(self) -> str:
        return self.full_name

    def set_personnummer(self, value: Personnummer) -> None:
        super().set_personnummer(value)
        self.earliest_birth_date = value.earliest_birth_date


class StudentMove(models.Model):
    """A student moved from one school to another by a municipality administrator (a
    municipality-wide student register import). Written only by ``sst.services.student_move``."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="moves")
    from_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("from school")
    )
    to_school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("to school")
    )
    moved_on = models.DateField(_("moved on"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("move between schools")
        verbose_name_plural = _("moves between schools")
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.moved_on}"


class Guardian(EncryptedIdentity):
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name


class Custody(models.Model):
    """A guardian of a student; ``has_custody`` marks vårdnadshavare with legal custody."""

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="custodies")
    guardian = models.ForeignKey(Guardian, on_delete=models.CASCADE, related_name="custodies")
    has_custody = models.BooleanField(_("has custody"), default=True)

    class Meta:
        verbose_name = _("guardianship")
        verbose_name_plural = _("guardianships")
        constraints = [
            models.UniqueConstraint(fields=["student", "guardian"], name="custody_unique_pair")
        ]

    def __str__(self) -> str:
        return f"{self.guardian} → {self.student}"


class Role(models.TextChoices):
    """The roles of DOMAIN.md §2. A person may hold several, at several places."""

    MENTOR = "mentor", _("Mentor")
    PRINCIPAL = "principal", _("Principal")
    COUNSELLOR = "counsellor", _("School counsellor")
    SPECIAL_EDUCATOR = "special_educator", _("Special educator")
    SCHOOL_NURSE = "school_nurse", _("School nurse")
    SCHOOL_PSYCHOLOGIST = "school_psychologist", _("School psychologist")
    SOCIAL_WORKER = "social_worker", _("School social worker")
    REFERRAL_FORUM = "referral_forum", _("Referral forum member")
    COORDINATOR = "coordinator", _("Coordinator")
    MANAGER = "manager", _("Manager")
    # The head of schools (skolchef): receives the principals' monthly step-4 report for the
    # huvudman (Skollagen 7 kap. 19 a §), the one identified report of the reports app.
    HEAD_OF_SCHOOLS = "head_of_schools", _("Head of schools")
    ADMINISTRATOR = "administrator", _("Administrator")


class PlaceKind(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    DISTRICT = "district", _("District")
    SCHOOL = "school", _("School")
    MENTOR_GROUP = "mentor_group", _("Mentor group")


# Where each role can be held. The access policy (sst/access.py) decides what it grants.
ROLE_PLACES: dict[str, frozenset[str]] = {
    Role.MENTOR: frozenset({PlaceKind.MENTOR_GROUP}),
    Role.PRINCIPAL: frozenset({PlaceKind.SCHOOL}),
    Role.COUNSELLOR: frozenset({PlaceKind.SCHOOL}),
    Role.SPECIAL_EDUCATOR: frozenset({PlaceKind.SCHOOL}),
    Role.SCHOOL_NURSE: frozenset({PlaceKind.SCHOOL}),
    Role.SCHOOL_PSYCHOLOGIST: frozenset({PlaceKind.SCHOOL}),
    Role.SOCIAL_WORKER: frozenset({PlaceKind.DISTRICT}),
    Role.REFERRAL_FORUM: frozenset({PlaceKind.DISTRICT, PlaceKind.MUNICIPALITY}),
    Role.COORDINATOR: frozenset({PlaceKind.DISTRICT, PlaceKind.MUNICIPALITY}),
    Role.MANAGER: frozenset({PlaceKind.SCHOOL, PlaceKind.DISTRICT, PlaceKind.MUNICIPALITY}),
    Role.HEAD_OF_SCHOOLS: frozenset({PlaceKind.DISTRICT, PlaceKind.MUNICIPALITY}),
    Role.ADMINISTRATOR: frozenset({PlaceKind.SCHOOL, PlaceKind.MUNICIPALITY}),
}


class RoleMembershipQuerySet(models.QuerySet["RoleMembership"]):
    def active_on(self, day: datetime.date) -> RoleMembershipQuerySet:
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))

    def active(self) -> RoleMembershipQuerySet:
        return self.active_on(timezone.localdate())


class RoleMembership(models.Model):
    """A person holds a role at one place from a start date through an end date (inclusive).

    Changes go through the services in ``sst.services``, which re-grant the person's object
    permissions at once; an ended membership gives nothing.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("municipality"),
    )
    district = models.ForeignKey(
        District,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("district"),
    )
    school = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("school"),
    )
    mentor_group = models.ForeignKey(
        MentorGroup,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("mentor group"),
    )
    starts_on = models.DateField(_("starts on"), default=timezone.localdate)
    ends_on = models.DateField(
        _("ends on"),
        null=True,
        blank=True,
        help_text=_("Last day of the membership; empty if open."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RoleMembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("role membership")
        verbose_name_plural = _("role memberships")
        ordering = ["user", "role"]
        constraints = [
            models.CheckConstraint(
                name="membership_exactly_one_place",
                condition=(
                    Q(
                        municipality__isnull=False,
                        district__isnull=True,
                        school__isnull=True,
                        mentor_group__isnull=True,
                    )
                    | Q(
                        municipality__isnull=True,
                        district__isnull=False,
                        school__isnull=True,
                        mentor_group__isnull=True,
                    )
                    | Q(
                        municipality__isnull=True,
                        district__isnull=True,
                        school__isnull=False,
                        mentor_group__isnull=True,
                    )
                    | Q(
                        municipality__isnull=True,
                        district__isnull=True,
                        school__isnull=True,
                        mentor_group__isnull=False,
                    )
                ),
            ),
            models.CheckConstraint(
                name="membership_ends_after_start",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.place}"

    @property
    def place(self) -> Municipality | District | School | MentorGroup | None:
        return self.mentor_group or self.school or self.district or self.municipality

    @property
    def place_kind(self) -> PlaceKind | None:
        for kind, field in (
            (PlaceKind.MENTOR_GROUP, "mentor_group_id"),
            (PlaceKind.SCHOOL, "school_id"),
            (PlaceKind.DISTRICT, "district_id"),
            (PlaceKind.MUNICIPALITY, "municipality_id"),
        ):
            if getattr(self, field) is not None:
                return kind
        return None

    def is_active_on(self, day: datetime.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def clean(self) -> None:
        places = [self.municipality_id, self.district_id, self.school_id, self.mentor_group_id]
        if sum(p is not None for p in places) != 1:
            raise ValidationError(_("Choose exactly one place for the role."))
        kind = self.place_kind
        if kind not in ROLE_PLACES.get(self.role, frozenset()):
            raise ValidationError(
                _("%(role)s cannot be held at a %(kind)s.")
                % {"role": self.get_role_display(), "kind": kind.label if kind else ""}
            )
        if self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The end date is before the start date.")})


# django-guardian object permissions with direct foreign keys (fast joins, real integrity).
class MunicipalityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Municipality, on_delete=models.CASCADE)


class DistrictUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class SchoolUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(School, on_delete=models.CASCADE)


class MentorGroupUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(MentorGroup, on_delete=models.CASCADE)


class AuditAction(models.TextChoices):
    """What an audit event records. The audit log page shows the label beside the object
    type's ("Läste" + "Frånvaro"), so a label is a past-tense verb."""

    VIEW = "view", _("Viewed")
    LIST = "list", _("Listed")
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Exported")
    LOGIN = "login", _("Signed in")
    LOGIN_FAILED = "login_failed", _("Failed sign-in")
    LOGOUT = "logout", _("Signed out")
    ACCESS_DENIED = "access_denied", _("Access denied")
    OTP_VERIFIED = "otp_verified", _("Verified second factor")
    OTP_FAILED = "otp_failed", _("Failed second factor")
    OTP_ENROLLED = "otp_enrolled", _("Enrolled second factor")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged")
    MOVE = "move", _("Moved between schools")


class AuditObjectType(models.TextChoices):
    """What kind of thing an audit event is about.

    ``AuditEvent.object_type`` keeps the plain value and has no ``choices`` on purpose: old
    rows with a value no longer listed here stay valid and are shown raw (``label_for``).
    """

    # People and the organisation
    STUDENT = "student", _("Student")
    STUDENT_MOVE = "student_move", _("Move between schools")
    GUARDIAN = "guardian", _("Guardian")
    MUNICIPALITY = "municipality", _("Municipality")
    DISTRICT = "district", _("District")
    SCHOOL = "school", _("School")
    MENTOR_GROUP = "mentor_group", _("Mentor group")
    SCHOOL_ROLE = "school_role", _("Role at a school")
    ROLE_MEMBERSHIP = "role_membership", _("Role membership")
    # Absence and imports
    STUDENT_ABSENCE = "student_absence", _("Absence")
    ABSENCE_ALERT = "absence_alert", _("Absence alert")
    STAIRCASE_POLICY = "staircase_policy", _("Staircase policy")
    SCHOOL_CALENDAR = "school_calendar", _("School calendar")
    IMPORT_RUN = "import_run", _("Import")
    IMPORT_SCHOOLS = "import_schools", _("School register import")
    IMPORT_STUDENTS = "import_students", _("Student register import")
    IMPORT_ATTENDANCE = "import_attendance", _("Attendance import")
    # The school's steps and the case
    CASE = "case", _("Case")
    MENTOR_CHECKLIST = "mentor_checklist", _("Mentor checklist")
    MENTOR_CHECKLIST_EHT = "mentor_checklist_eht", _("Mentor checklist: student health team part")
    MENTOR_CHECKLIST_FORM = "mentor_checklist_form", _("Mentor checklist form")
    MENTOR_CHECKLIST_FOLLOW_UP = "mentor_checklist_follow_up", _("Mentor checklist follow-up")
    SCHOOL_SOCIAL_WORK = "school_social_work", _("Mapping and student health")
    SCHOOL_SOCIAL_MAPPING = "school_social_mapping", _("School-social mapping")
    OFFERED_TIME = "offered_time", _("Offered time")
    PEDAGOGICAL_MAPPING = "pedagogical_mapping", _("Pedagogical mapping")
    HEALTH_TALK = "health_talk", _("Health talk")
    EHT_STUDENTS = "eht_students", _("Student health team list")
    EHT_AGENDA = "eht_agenda", _("Student health team agenda")
    EHT_MEETING = "eht_meeting", _("Student health team meeting")
    EHT_DECISION = "eht_decision", _("Student health team decision")
    EHT_DECISIONS = "eht_decisions", _("Student health team decisions")
    STEP4_REPORT = "step4_report", _("Step 4 report")
    ESCALATION = "escalation", _("Escalation")
    # The team's side
    REFERRAL = "referral", _("Referral")
    REFERRAL_DECISION = "referral_decision", _("Referral forum decision")
    REFERRAL_QUEUE = "referral_queue", _("Referral queue")
    FORUM = "forum", _("Referral forum")
    FORUM_MEETING = "forum_meeting", _("Referral forum meeting")
    FORUM_MINUTES = "forum_minutes", _("Referral forum minutes")
    ASSIGNMENT = "assignment", _("Assignment of a social worker")
    CASELOAD = "caseload", _("Caseload")
    FAMILY_MEETING = "family_meeting", _("Meeting with the family")
    CONSENT = "consent", _("Consent")
    CONSENT_SCAN = "consent_scan", _("Consent scan")
    CONSENT_FORM = "consent_form", _("Consent form")
    TEAM_POLICY = "team_policy", _("Team policy")
    WORKER_NOTE = "worker_note", _("Social worker's own note")
    ACTION_PLAN = "action_plan", _("Action plan")
    ACTION_PLAN_PDF = "action_plan_pdf", _("Printed action plan")
    TOOLBOX = "toolbox", _("Toolbox")
    FOLLOW_UP = "follow_up", _("Follow-up")
    INTERVENTION_DELIVERY = "intervention_delivery", _("Interventions given (weekly check-off)")
    CLOSURE = "closure", _("Closure record")
    SURVEY_LINK = "survey_link", _("Satisfaction survey link")
    SURVEY_ANSWER = "survey_answer", _("Satisfaction survey answers")
    AFTERCARE_CHECK = "aftercare_check", _("After-care check")
    MAINTENANCE_PLAN = "maintenance_plan", _("Maintenance plan")
    BOOSTER_MEETING = "booster_meeting", _("Booster meeting")
    PARTICIPANT_FOLLOWUP = "participant_followup", _("Participant follow-up export")
    # Reports for managers (aggregated; the head of schools' monthly list is identified)
    TERM_REPORT = "term_report", _("Term report")
    REPORT_RUN = "report_run", _("Report generation")
    DASHBOARD = "dashboard", _("Report dashboard")
    # The application itself
    PAGE = "page", _("Page")
    AUDIT_LOG = "audit_log", _("Audit log")

    @classmethod
    def label_for(cls, value: str) -> str:
        """The label of a stored value; a value this version does not know is shown as is."""
        return str(cls(value).label) if value in cls.values else value


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("The audit trail is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """One read or write of personal data, or a security event. Append-only.

    It holds identifiers, never content: no names, no personnummer. The actor and objects are
    plain values, not foreign keys, so that deleting a user or a student never touches the
    trail (on PostgreSQL a trigger refuses UPDATE and DELETE on this table).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(_("when (UTC)"), default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(_("user id"), null=True, db_index=True)
    actor_username = models.CharField(_("user"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    student_id = models.UUIDField(_("student"), null=True, blank=True, db_index=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    path_name = models.CharField(_("page"), max_length=120, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit trail is append-only.")

    @property
    def object_type_label(self) -> str:
        return AuditObjectType.label_for(self.object_type)

    @property
    def role_labels(self) -> str:
        labels = dict(Role.choices)
        return ", ".join(str(labels.get(code, code)) for code in self.role.split(",") if code)
