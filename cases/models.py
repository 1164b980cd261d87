"""The case, its chronology and notes, and the school's records on it (checklist, EHT, mapping).

Students and guardians are the register in ``sst.models``."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import Student


class CaseState(models.TextChoices):
    """The flow of DOMAIN.md §4, with the two end states of a referral decision."""

    SCHOOL_INVESTIGATION = "school_investigation", _("Investigated by the school")
    REFERRED = "referred", _("Referred to the school social team")
    QUEUED = "queued", _("Accepted, waiting in queue")
    ACCEPTED = "accepted", _("Accepted")
    CONSENT = "consent", _("Awaiting consent")
    PLAN = "plan", _("Action plan being made")
    IMPLEMENTATION = "implementation", _("Implementation")
    MAINTENANCE = "maintenance", _("Maintenance")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Referral rejected")
    REDIRECTED = "redirected", _("Redirected to other support")


ENDED_STATES = frozenset({CaseState.CLOSED, CaseState.REJECTED, CaseState.REDIRECTED})


class CaseOpening(models.TextChoices):
    STAIRCASE = "staircase", _("Staircase work started")
    PRINCIPAL = "principal", _("Opened by the principal")
    EHT = "eht", _("Opened by the student health team")
    # The student, a guardian or social services asked the team directly; the coordinator
    # registered the referral and the case with it.
    REFERRAL = "referral", _("Referred from outside the school")


class ClosureReason(models.TextChoices):
    """Why a case was closed (DOMAIN.md §4.10); some need a few words of detail."""

    GOALS_MET = "goals_met", _("Goals met")
    OTHER_SUPPORT = "other_support", _("Needs other support")
    ENDED_BY_FAMILY = "ended_by_family", _("The student or guardian ended it")
    MOVED = "moved", _("Moved")
    DECLINED = "declined", _("Declined the offer")
    OTHER = "other", _("Other")


# "Needs other support" says which; "other" says what.
CLOSURE_DETAIL_REQUIRED = frozenset({ClosureReason.OTHER_SUPPORT, ClosureReason.OTHER})


class Case(models.Model):
    """One student's case (ärende). At most one open case per student at a time."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="cases")
    # The school whose case it is: who may read it follows this, not the student's current
    # school, so a student's move never hands a case (or its records) to the new school.
    school = models.ForeignKey(
        "sst.School", on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    state = models.CharField(
        _("state"),
        max_length=24,
        choices=CaseState.choices,
        default=CaseState.SCHOOL_INVESTIGATION,
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opening = models.CharField(_("opened because"), max_length=12, choices=CaseOpening.choices)
    previous_case = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="next_case",
        verbose_name=_("previous case"),
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(
        _("closure reason"), max_length=16, choices=ClosureReason.choices, blank=True
    )
    closure_detail = models.CharField(_("closure detail"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                # In declaration order, so the condition reads the same in every migration.
                condition=~models.Q(
                    state__in=[state.value for state in CaseState if state in ENDED_STATES]
                ),
                name="case_one_open_per_student",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_state_display()} ({self.opened_at:%Y-%m-%d})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A case is opened at the student's school of the day (``workflow.case_open`` says so
        # explicitly; this keeps fixtures that create cases directly honest).
        if self.school_id is None and self.student_id is not None:
            self.school_id = Student.objects.values_list("school_id", flat=True).get(
                pk=self.student_id
            )
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.state not in ENDED_STATES


class EventKind(models.TextChoices):
    STATE_CHANGE = "state_change", _("State change")
    ALERT = "alert", _("Absence alert")
    CONVERSATION = "conversation", _("Conversation")
    CHECKLIST = "checklist", _("Mentor checklist")
    FOLLOW_UP = "follow_up", _("Follow-up")
    EHT_DECISION = "eht_decision", _("Student health team decision")
    MAPPING = "mapping", _("School-social mapping")
    PEDAGOGICAL_MAPPING = "pedagogical_mapping", _("Pedagogical mapping")
    HEALTH_TALK = "health_talk", _("Health talk")
    MEETING = "meeting", _("Meeting")
    DECISION = "decision", _("Decision")
    DOCUMENT = "document", _("Document")
    NOTE = "note", _("Note")


class CaseEvent(models.Model):
    """One entry of a case's chronology. Written only by services, never edited.

    ``summary`` is what everyone who may see the case reads; content restricted to one
    profession lives in the linked record (e.g. a ``Note``) and ``restricted_to`` says so.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    happened_at = models.DateTimeField(_("when"))
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300)
    restricted_to = models.CharField(
        _("restricted to profession"),
        max_length=32,
        blank=True,
        help_text=_("Empty: everyone who may see the case."),
    )
    ref_type = models.CharField(max_length=40, blank=True)
    ref_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("chronology entry")
        verbose_name_plural = _("chronology")
        ordering = ["-happened_at", "-id"]
        indexes = [models.Index(fields=["case", "-happened_at"], name="case_event_time_idx")]

    def __str__(self) -> str:
        return f"{self.happened_at:%Y-%m-%d} {self.get_kind_display()}"


class Note(models.Model):
    """Free text on a case; may be restricted to one profession (as health records are)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(
        _("note"), max_length=textlimits.TEXT, validators=[textlimits.limit(textlimits.TEXT)]
    )
    restricted_to = models.CharField(_("visible only to"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d}"


class YesNo(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")


class MentorChecklist(models.Model):
    """The mentor's checklist at repeated absence (Trosa 004, appendix 1), with its follow-ups.

    A copy goes to the principal; the one-week follow-up is due ``follow_up_due_on``; the
    student health team (EHT) records its own follow-up part.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="checklists")
    alert = models.ForeignKey(
        "attendance.Alert", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mentor = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    mentor_name = models.CharField(_("mentor"), max_length=150)
    talked_with_student_on = models.DateField(_("talk with the student"), null=True, blank=True)
    talked_with_guardian_on = models.DateField(_("talk with the guardian"), null=True, blank=True)
    illness = models.CharField(_("Illness?"), max_length=3, choices=YesNo.choices)
    illness_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    thrives = models.CharField(_("Thrives at school?"), max_length=3, choices=YesNo.choices)
    thrives_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    has_friends = models.CharField(_("Has friends?"), max_length=3, choices=YesNo.choices)
    has_friends_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    schoolwork_difficulties = models.CharField(
        _("Difficulties with school work?"), max_length=3, choices=YesNo.choices
    )
    schoolwork_difficulties_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    pattern = models.CharField(
        _("Can a pattern be seen in the absence?"), max_length=3, choices=YesNo.choices
    )
    pattern_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    principal_notified_at = models.DateTimeField(null=True, blank=True)
    # One week later
    follow_up_due_on = models.DateField(_("follow-up due"))
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    continued_absence = models.CharField(
        _("Continued repeated absence?"), max_length=3, choices=YesNo.choices, blank=True
    )
    follow_up_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    follow_up_reminded_at = models.DateTimeField(null=True, blank=True)
    reported_to_eht_at = models.DateTimeField(null=True, blank=True)
    # The EHT's part
    eht_guardian_contact_by = models.ForeignKey(
        "sst.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("contacts the guardian"),
    )
    eht_guardian_contact_on = models.DateField(_("guardian contacted on"), null=True, blank=True)
    eht_feedback_by = models.ForeignKey(
        "sst.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("feedback to the mentor by"),
    )
    eht_feedback_on = models.DateField(_("feedback to the mentor on"), null=True, blank=True)
    eht_no_further_follow_up = models.BooleanField(_("no further follow-up needed"), default=False)
    eht_comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    eht_recorded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("mentor checklist")
        verbose_name_plural = _("mentor checklists")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.mentor_name}"


class EhtMeeting(models.Model):
    """A meeting of a school's student health team (elevhälsoteam)."""

    school = models.ForeignKey("sst.School", on_delete=models.CASCADE, related_name="eht_meetings")
    meets_on = models.DateField(_("date"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("student health team meeting")
        verbose_name_plural = _("student health team meetings")
        ordering = ["meets_on"]
        constraints = [
            models.UniqueConstraint(fields=["school", "meets_on"], name="eht_meeting_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.school} {self.meets_on}"


class EhtDecisionKind(models.TextChoices):
    COUNSELLOR_MAPPING = "counsellor_mapping", _("The counsellor does the school-social mapping")
    PEDAGOGICAL_MAPPING = (
        "pedagogical_mapping",
        _("The special educator does a pedagogical mapping"),
    )
    HEALTH_TALK = "health_talk", _("The school nurse offers a health talk")
    PSYCHOLOGIST = "psychologist", _("The school psychologist is consulted")
    PRINCIPAL_ESCALATES = "principal_escalates", _("The principal escalates")
    MENTOR_CONTINUES = "mentor_continues", _("The mentor continues the follow-up")
    OTHER = "other", _("Other")


class EhtDecision(models.Model):
    """A decision about one student, taken at (or for) a student health team meeting."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="eht_decisions")
    meeting = models.ForeignKey(
        EhtMeeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    kind = models.CharField(_("decision"), max_length=24, choices=EhtDecisionKind.choices)
    responsible = models.ForeignKey(
        "sst.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible"),
    )
    due_on = models.DateField(_("to be done by"), null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    decided_on = models.DateField(_("decided on"))
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("student health team decision")
        verbose_name_plural = _("student health team decisions")
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.decided_on} {self.get_kind_display()}"


class CauseGroup(models.TextChoices):
    SCHOOL = "school", _("School-related")
    INDIVIDUAL = "individual", _("Individual")
    FAMILY = "family", _("Family")
    OTHER = "other", _("Other")


class CauseFactor(models.Model):
    """The configurable catalogue of cause factors, in the four groups (000, 004 app. 4)."""

    group = models.CharField(_("group"), max_length=12, choices=CauseGroup.choices)
    label = models.CharField(_("factor"), max_length=120)
    active = models.BooleanField(_("in use"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("cause factor")
        verbose_name_plural = _("cause factors")
        ordering = ["group", "order", "label"]
        constraints = [
            models.UniqueConstraint(fields=["group", "label"], name="cause_factor_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_group_display()}: {self.label}"


class AbsenceKind(models.TextChoices):
    """Absence types (004 appendix 3)."""

    FULL_ATTENDANCE = "full_attendance", _("Full attendance")
    SCATTERED = "scattered", _("Scattered absence")
    SYSTEMATIC = "systematic", _("Systematic absence (subjects, teachers, rooms)")
    REGULAR_LONG = "regular_long", _("Regular long absence")
    TOTAL = "total", _("100 % absence")
    HOMEBOUND = "homebound", _("Does not leave home")


class Agreement(models.TextChoices):
    AGREES = "agrees", _("Agrees")
    PARTLY = "partly", _("Partly")
    DISAGREES = "disagrees", _("Does not agree")


class MappingApproval(models.TextChoices):
    PENDING = "pending", _("Not yet asked")
    APPROVED = "approved", _("Approved")
    NOT_APPROVED = "not_approved", _("Not approved")


class SchoolSocialMapping(models.Model):
    """The counsellor's school-social mapping (004 appendix 2). Shared at the EHT only when the
    student has approved it; otherwise visible to the counsellor profession alone."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mappings")
    counsellor = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    conducted_on = models.DateField(_("conversation held on"), null=True, blank=True)
    school_situation = models.TextField(
        _("The school situation"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    wellbeing = models.TextField(
        _("Emotional well-being"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    home_and_leisure = models.TextField(
        _("Home and leisure"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    support_needed = models.TextField(
        _("Support needed for attendance"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    causes = models.ManyToManyField(CauseFactor, blank=True, verbose_name=_("cause factors"))
    absence_kind = models.CharField(
        _("type of absence"), max_length=20, choices=AbsenceKind.choices, blank=True
    )
    analysis = models.JSONField(_("analysis statements"), default=dict, blank=True)
    support_wanted = models.TextField(
        _("Support the student wants"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    approval = models.CharField(
        _("student's approval to share at the EHT"),
        max_length=14,
        choices=MappingApproval.choices,
        default=MappingApproval.PENDING,
    )
    approval_on = models.DateField(_("approval given on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("school-social mapping")
        verbose_name_plural = _("school-social mappings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d}"


class TimeStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ATTENDED = "attended", _("Attended")
    MISSED = "missed", _("Missed")


class OfferedTime(models.Model):
    """A time offered to the student for the mapping conversation; the third missed time
    notifies the principal."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="offered_times")
    starts_at = models.DateTimeField(_("time"))
    status = models.CharField(
        _("status"), max_length=10, choices=TimeStatus.choices, default=TimeStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    principal_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("offered time")
        verbose_name_plural = _("offered times")
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} {self.get_status_display()}"


class PedagogicalMapping(models.Model):
    """A short pedagogical mapping by the special educator."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pedagogical_mappings")
    special_educator = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    conducted_on = models.DateField(_("done on"))
    findings = models.TextField(
        _("findings"), max_length=textlimits.TEXT, validators=[textlimits.limit(textlimits.TEXT)]
    )
    adjustments = models.TextField(
        _("adjustments proposed"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("pedagogical mapping")
        verbose_name_plural = _("pedagogical mappings")
        ordering = ["-conducted_on"]

    def __str__(self) -> str:
        return f"{self.conducted_on}"


class HealthTalk(models.Model):
    """The school nurse's health talk. Its note is health-record content: nurses only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="health_talks")
    nurse = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    held_on = models.DateField(_("held on"))
    note = models.TextField(
        _("note (school nurses only)"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("health talk")
        verbose_name_plural = _("health talks")
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.held_on}"


class EscalationKind(models.TextChoices):
    HEAD_OF_SCHOOLS = "head_of_schools", _("Reported to the head of schools")
    SST_COORDINATOR = "sst_coordinator", _("Contacted the SST coordinator")
    REPORT_OF_CONCERN = "report_of_concern", _("Report of concern made to social services")


class Escalation(models.Model):
    """The principal's escalation at step 4. A report of concern is recorded as a fact with its
    date only: its content belongs to social services."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="escalations")
    kind = models.CharField(_("escalation"), max_length=20, choices=EscalationKind.choices)
    decided_on = models.DateField(_("date"))
    comment = models.TextField(
        _("comment"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    principal = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-decided_on"]

    def __str__(self) -> str:
        return f"{self.decided_on} {self.get_kind_display()}"
