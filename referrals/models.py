"""The team's side of the flow (DOMAIN.md §4.4–4.6): the referral, the referral forum with
its meetings, decisions, minutes and queue, the assignment of a social worker, the
information and start-up meetings, and the family's consent.

The referral is anonymous: it holds no name, no personnummer and no link a forum member
could follow to the student. It points at its case (the school's record) so the school and,
with a valid consent, the assigned social worker can find it; the forum's pages never
follow that link (``selectors.py``).

Consent is an access rule (``consent.py`` builds it into the case query); these are only
its records.
"""

from __future__ import annotations

import uuid

from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sst import textlimits

# ---------------------------------------------------------------- the municipality's choices


class ForumScope(models.TextChoices):
    DISTRICT = "district", _("One forum per district")
    MUNICIPALITY = "municipality", _("One forum for the whole municipality")


class ConsentTiming(models.TextChoices):
    BEFORE_REFERRAL = "before_referral", _("Before the referral (Trosa, SST plus)")
    AFTER_ACCEPTANCE = (
        "after_acceptance",
        _("After the forum's acceptance, at the information meeting (Stockholm, Avesta)"),
    )


# The ages a municipality may set for the student's own consent (the consent query has one
# clause per age, so the range is bounded).
MIN_STUDENT_CONSENT_AGE = 12
MAX_STUDENT_CONSENT_AGE = 18


class TeamPolicy(models.Model):
    """How a municipality runs its school social team: one row per municipality."""

    municipality = models.OneToOneField(
        "sst.Municipality",
        on_delete=models.CASCADE,
        related_name="team_policy",
        verbose_name=_("municipality"),
    )
    forum_scope = models.CharField(
        _("referral forum"),
        max_length=12,
        choices=ForumScope.choices,
        default=ForumScope.DISTRICT,
    )
    consent_timing = models.CharField(
        _("consent is taken"),
        max_length=16,
        choices=ConsentTiming.choices,
        default=ConsentTiming.AFTER_ACCEPTANCE,
    )
    student_consent_age = models.PositiveSmallIntegerField(
        _("the student's own consent is required from the age of"),
        default=15,
        validators=[
            MinValueValidator(MIN_STUDENT_CONSENT_AGE),
            MaxValueValidator(MAX_STUDENT_CONSENT_AGE),
        ],
    )
    younger_grades_first = models.BooleanField(
        _("agenda and queue put grades F–6 first"), default=False
    )

    class Meta:
        verbose_name = _("team policy")
        verbose_name_plural = _("team policies")

    def __str__(self) -> str:
        return str(self.municipality)


# ---------------------------------------------------------------- the forum and its meetings


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Every week")
    FORTNIGHTLY = "fortnightly", _("Every other week")
    MONTHLY = "monthly", _("Every month")


class Forum(models.Model):
    """A referral forum (remissforum): for a district, or for the whole municipality.

    Its members are the people holding the referral-forum role there (role memberships,
    asked through ``sst.access``); it meets by its schedule rule."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    municipality = models.ForeignKey(
        "sst.Municipality",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("municipality"),
    )
    district = models.OneToOneField(
        "sst.District",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="forum",
        verbose_name=_("district"),
    )
    name = models.CharField(_("name"), max_length=120)
    frequency = models.CharField(
        _("meets"), max_length=12, choices=Frequency.choices, default=Frequency.MONTHLY
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday (0 = Monday)"), default=2, help_text=_("0 is Monday, 4 is Friday.")
    )
    # Monthly meetings: the n-th such weekday of the month (1–4; 5 means the last).
    week_of_month = models.PositiveSmallIntegerField(_("week of the month"), default=1)
    starts_at = models.TimeField(_("time"), default="13:00")
    duration_minutes = models.PositiveSmallIntegerField(_("length, minutes"), default=90)
    location = models.CharField(_("place"), max_length=120, blank=True)
    # Referrals submitted later than this many days before a meeting go to the next one.
    agenda_closes_days_before = models.PositiveSmallIntegerField(
        _("agenda closes, days before"), default=2
    )

    class Meta:
        verbose_name = _("referral forum")
        verbose_name_plural = _("referral forums")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality"],
                condition=models.Q(district__isnull=True),
                name="forum_one_per_municipality",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MeetingState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class ForumMeeting(models.Model):
    """One meeting of a forum; its minutes are one record across all its referrals."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    forum = models.ForeignKey(Forum, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField(_("time"))
    location = models.CharField(_("place"), max_length=120, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=MeetingState.choices, default=MeetingState.PLANNED
    )
    from_schedule = models.BooleanField(default=False, editable=False)
    # The schedule's day this meeting was planned for (kept when it is moved or cancelled),
    # so planning ahead again never recreates a meeting that was moved or cancelled.
    scheduled_on = models.DateField(null=True, blank=True, editable=False)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    agenda_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Minutes
    present = models.ManyToManyField(
        "sst.User", blank=True, related_name="+", verbose_name=_("present")
    )
    minutes_notes = models.TextField(
        _("notes"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    minutes_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    minutes_approved_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("forum meeting")
        verbose_name_plural = _("forum meetings")
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["forum", "starts_at"], name="forum_meeting_time_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["forum", "scheduled_on"],
                condition=models.Q(scheduled_on__isnull=False),
                name="forum_meeting_once_per_scheduled_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.forum} {self.starts_at:%Y-%m-%d}"

    @property
    def minutes_locked(self) -> bool:
        return self.minutes_approved_at is not None


# ---------------------------------------------------------------- the referral


class ReferralOrigin(models.TextChoices):
    SCHOOL = "school", _("The school")
    STUDENT = "student", _("The student")
    GUARDIAN = "guardian", _("A guardian (the family's own application)")
    SOCIAL_SERVICES = "social_services", _("Social services (report of concern)")


class ReferralState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ON_AGENDA = "on_agenda", _("On an agenda")
    QUEUED = "queued", _("Accepted, in the queue")
    ASSIGNED = "assigned", _("Accepted, social worker assigned")
    REJECTED = "rejected", _("Rejected")
    REDIRECTED = "redirected", _("Redirected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REVISED = "revised", _("Replaced by a revised version")


DECIDED_STATES = frozenset(
    {
        ReferralState.QUEUED,
        ReferralState.ASSIGNED,
        ReferralState.REJECTED,
        ReferralState.REDIRECTED,
    }
)
ACCEPTED_STATES = frozenset({ReferralState.QUEUED, ReferralState.ASSIGNED})
WAITING_STATES = frozenset({ReferralState.SUBMITTED, ReferralState.ON_AGENDA})


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Not known")


class Referral(models.Model):
    """An uppdragsförfrågan: anonymous, one version per row.

    A rejected referral is revised into a new row (``revision_of``); the old one stays
    readable. ``absence`` and ``school_actions`` are filled by the service from records
    (rollups; the checklist, mapping and EHT decisions as dates and kinds), never typed.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A short number the forum and the school say aloud ("2026-0014"): the year and a running
    # number per municipality (``ReferralCounter``); no personal data. Unique within the
    # municipality (the counter hands each number out once), not across municipalities.
    number = models.CharField(_("number"), max_length=20, db_index=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="referrals")
    revision_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revised_as",
        verbose_name=_("revision of"),
    )
    forum = models.ForeignKey(Forum, on_delete=models.PROTECT, related_name="referrals")
    origin = models.CharField(
        _("comes from"),
        max_length=16,
        choices=ReferralOrigin.choices,
        default=ReferralOrigin.SCHOOL,
    )
    state = models.CharField(
        _("state"), max_length=12, choices=ReferralState.choices, default=ReferralState.DRAFT
    )
    # The anonymous content. School, grade and gender are copied when written.
    school = models.ForeignKey("sst.School", on_delete=models.PROTECT, related_name="+")
    grade = models.CharField(_("grade"), max_length=1)
    gender = models.CharField(_("gender"), max_length=8)
    absence = models.JSONField(_("absence, last two full months"), default=list, blank=True)
    cause_student_view = models.TextField(
        _("the cause of the absence, in the student's view"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    cause_guardian_view = models.TextField(
        _("the cause of the absence, in the guardian's view"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    report_of_concern = models.CharField(
        _("report of concern (orosanmälan) in the last six months"),
        max_length=8,
        choices=Answer.choices,
        default=Answer.UNKNOWN,
    )
    adjustments = models.TextField(
        _("adjustments the school has made"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    assessment_psychologist = models.BooleanField(_("psychological assessment"), default=False)
    assessment_speech = models.BooleanField(_("speech therapist's assessment"), default=False)
    assessment_other = models.CharField(_("other assessment"), max_length=200, blank=True)
    school_actions = models.JSONField(_("what the school has done"), default=list, blank=True)
    school_actions_comment = models.TextField(
        _("what else the school has done"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    expected_help = models.TextField(
        _("what the team is expected to help with"),
        blank=True,
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    # Names that the check warned about and the writer confirmed were not personal data.
    name_warnings_confirmed = models.JSONField(default=list, blank=True, editable=False)
    # The trail
    created_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    meeting = models.ForeignKey(
        ForumMeeting,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
        verbose_name=_("on the agenda of"),
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.CharField(_("reason"), max_length=200, blank=True)
    # The queue: lower comes first; set when placed and when moved (with a reason).
    queue_rank = models.FloatField(null=True, blank=True, editable=False)
    # Lead times: submitted → decided → consent → start-up meeting.
    decided_at = models.DateTimeField(null=True, blank=True)
    consent_valid_at = models.DateTimeField(null=True, blank=True)
    startup_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["submitted_at", "created_at"]
        indexes = [
            models.Index(fields=["forum", "state"], name="referral_forum_state_idx"),
            models.Index(fields=["case", "state"], name="referral_case_state_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def younger_grade(self) -> bool:
        return self.grade in {"F", "1", "2", "3", "4", "5", "6"}


class ReferralCounter(models.Model):
    """The last referral number handed out in a municipality in a year (locked while used)."""

    municipality = models.ForeignKey("sst.Municipality", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year"], name="referral_counter_once_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class DecisionKind(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    REDIRECTED = "redirected", _("Redirected")


class AcceptedAs(models.TextChoices):
    ASSIGN = "assign", _("A social worker is assigned now")
    QUEUE = "queue", _("Placed in the queue")


class RedirectTarget(models.TextChoices):
    SOCIAL_SERVICES = "social_services", _("Assessed social-services support")
    CAMHS = "camhs", _("Child and adolescent psychiatry (BUP)")
    STUDENT_HEALTH = "student_health", _("The school's student health")
    OTHER = "other", _("Other")


class Decision(models.Model):
    """The forum's decision on one referral, taken at a meeting by its members."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="decision")
    meeting = models.ForeignKey(ForumMeeting, on_delete=models.PROTECT, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=12, choices=DecisionKind.choices)
    accepted_as = models.CharField(
        _("accepted"), max_length=8, choices=AcceptedAs.choices, blank=True
    )
    redirected_to = models.CharField(
        _("redirected to"), max_length=16, choices=RedirectTarget.choices, blank=True
    )
    reason = models.TextField(
        _("reason"),
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    suggestions = models.TextField(
        _("other measures suggested to the school"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    decided_on = models.DateField(_("decided on"))
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("forum decision")
        verbose_name_plural = _("forum decisions")

    def __str__(self) -> str:
        return f"{self.referral} {self.get_kind_display()}"


class QueueMove(models.Model):
    """A referral moved in the queue, with the reason (moving up needs one)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="queue_moves")
    from_position = models.PositiveIntegerField()
    to_position = models.PositiveIntegerField()
    reason = models.CharField(_("reason"), max_length=200)
    moved_by = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    moved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("queue move")
        verbose_name_plural = _("queue moves")
        ordering = ["moved_at"]

    def __str__(self) -> str:
        return f"{self.referral} {self.from_position} → {self.to_position}"


class Assignment(models.Model):
    """A social worker assigned to a case (through its accepted referral)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assignments")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="assignments")
    social_worker = models.ForeignKey(
        "sst.User", on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "social_worker"],
                condition=models.Q(ended_at__isnull=True),
                name="assignment_one_active_per_worker",
            )
        ]

    # ---------------------------------------------------------------- meetings with the family

    def __str__(self) -> str:
        return f"{self.referral} → {self.social_worker}"


class InformationOutcome(models.TextChoices):
    YES = "yes", _("Said yes")
    NO = "no", _("Said no")
    WANTS_TIME = "wants_time", _("Wants time to think")


class FamilyMeetingKind(models.TextChoices):
    INFORMATION = "information", _("Information meeting")
    STARTUP = "startup", _("Start-up meeting")
    COMBINED = "combined", _("Information and start-up meeting")


class FamilyMeeting(models.Model):
    """An information meeting, a start-up meeting (uppstartsmöte), or both at once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="family_meetings")
    kind = models.CharField(_("meeting"), max_length=12, choices=FamilyMeetingKind.choices)
    starts_at = models.DateTimeField(_("time"))
    location = models.CharField(_("place"), max_length=120, blank=True)
    staff = models.ManyToManyField(
        "sst.User", blank=True, related_name="+", verbose_name=_("staff taking part")
    )
    with_student = models.BooleanField(_("the student takes part"), default=True)
    with_guardians = models.BooleanField(_("the guardians take part"), default=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=InformationOutcome.choices, blank=True
    )
    outcome_note = models.CharField(_("note"), max_length=300, blank=True)
    held = models.BooleanField(_("held"), default=False)
    booked_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    booked_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("meeting with the family")
        verbose_name_plural = _("meetings with the family")
        ordering = ["starts_at"]

    # ---------------------------------------------------------------- consent

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d}"


class Consent(models.Model):
    """The family's consent (samtycke) for one case: its scope and how long it lasts.

    Who gave it is one ``ConsentGiving`` per guardian with custody (and the student's own
    from the municipality's age). Whether it is valid is asked in the query
    (``consent.valid_consent``), never stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="consents")
    # The scope: which parties may share. School ↔ social services is what the team needs.
    scope_school_social_services = models.BooleanField(
        _("the school and social services may share information"), default=True
    )
    scope_student_health = models.BooleanField(
        _("the student health care may share information"), default=False
    )
    scope_camhs = models.BooleanField(
        _("child and adolescent psychiatry (BUP) may share information"), default=False
    )
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Leave empty: valid until the case is closed."),
    )
    student_view = models.TextField(
        _("the student's own view"),
        blank=True,
        max_length=textlimits.COMMENT,
        validators=[textlimits.limit(textlimits.COMMENT)],
    )
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.recorded_at:%Y-%m-%d}"


class ConsentMethod(models.TextChoices):
    SIGNED_FORM = "signed_form", _("Signed form (scan uploaded)")
    IN_PERSON = "in_person", _("Given in person, recorded by two staff")


def private_storage() -> Storage:
    """Where scans live: the "private" storage (settings.STORAGES), never the web root."""
    return storages["private"]


def scan_name(instance: ConsentScan, filename: str) -> str:
    """A generated name: nothing of what the uploader called the file reaches the disk."""
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        instance.content_type, "bin"
    )
    return f"consent/{uuid.uuid4().hex}.{extension}"


class ConsentScan(models.Model):
    """A scanned, signed consent form: stored privately under a generated name."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="scans")
    file = models.FileField(_("file"), max_length=200, storage=private_storage, upload_to=scan_name)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_name = models.CharField(_("uploaded as"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent scan")
        verbose_name_plural = _("consent scans")

    def __str__(self) -> str:
        return self.uploaded_name or self.file.name


class ConsentGiving(models.Model):
    """One person's consent: a guardian with custody, or the student; and its withdrawal."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="givings")
    # Exactly one of the two: a guardian, or the student (``by_student``).
    guardian = models.ForeignKey(
        "sst.Guardian", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_student = models.BooleanField(_("the student's own consent"), default=False)
    given_on = models.DateField(_("given on"))
    method = models.CharField(_("given as"), max_length=12, choices=ConsentMethod.choices)
    scan = models.ForeignKey(
        ConsentScan, null=True, blank=True, on_delete=models.SET_NULL, related_name="givings"
    )
    witnessed_by = models.ManyToManyField(
        "sst.User", blank=True, related_name="+", verbose_name=_("recorded by (two staff)")
    )
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    withdrawn_recorded_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consent given")
        verbose_name_plural = _("consents given")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(by_student=True, guardian__isnull=True)
                    | models.Q(by_student=False, guardian__isnull=False)
                ),
                name="consent_giving_guardian_or_student",
            ),
            models.UniqueConstraint(
                fields=["consent", "guardian"],
                condition=models.Q(guardian__isnull=False),
                name="consent_giving_once_per_guardian",
            ),
            models.UniqueConstraint(
                fields=["consent"],
                condition=models.Q(by_student=True),
                name="consent_giving_once_by_student",
            ),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.given_on}"


class WorkerNote(models.Model):
    """A social worker's own note on an assigned referral, written on its anonymous page
    before (or without) a consent: read only by its author."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="worker_notes")
    author = models.ForeignKey("sst.User", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(
        _("note"), max_length=textlimits.TEXT, validators=[textlimits.limit(textlimits.TEXT)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("own note")
        verbose_name_plural = _("own notes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.created_at:%Y-%m-%d}"
