"""Lessons, monthly rollups, the staircase policy, alerts and import runs."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from sst import textlimits
from sst.models import Grade, Municipality, School


class AbsenceType(models.TextChoices):
    PRESENT = "", _("Present")
    VALID = "valid", _("Valid absence")
    INVALID = "invalid", _("Invalid absence")
    LATE = "late", _("Late arrival")


class LessonQuerySet(models.QuerySet["Lesson"]):
    def at_current_school(self) -> LessonQuerySet:
        """Lessons from the day the student came to their current school (all, if they never
        moved): a school never sees the absence a previous school recorded."""
        return self.filter(
            models.Q(student__enrolled_on__isnull=True)
            | models.Q(date__gte=models.F("student__enrolled_on"))
        )


class MonthlyAbsenceQuerySet(models.QuerySet["MonthlyAbsence"]):
    def at_current_school(self) -> MonthlyAbsenceQuerySet:
        """Months that began at the student's current school: the month of a move mixes two
        schools' lessons, so it is not shown to the new school (the cautious default)."""
        return self.filter(
            models.Q(student__enrolled_on__isnull=True)
            | models.Q(month__gte=models.F("student__enrolled_on"))
        )


class Lesson(models.Model):
    """One scheduled lesson of one student, as the attendance system exported it.

    The natural key is (student, date, start time): importing the same lesson again updates
    it. Late-arrival minutes count as invalid absence, and the lesson as a late arrival.
    """

    # No foreign-key constraints in the database for these two: checking them for every one of
    # millions of imported rows was a third of the import's time (docs/PERFORMANCE.md). The
    # importer resolves every student and school inside the same transaction, and Django
    # still applies CASCADE and PROTECT when a student or school is deleted (a student's
    # deletion waits for running imports and rollups: ``attendance.locks``). The student has
    # no index of its own: the natural key's index starts with it, and each index costs
    # every imported row. The school keeps one, for PROTECT's look-up when a school is deleted.
    student = models.ForeignKey(
        "sst.Student",
        on_delete=models.CASCADE,
        related_name="lessons",
        db_constraint=False,
        db_index=False,
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    date = models.DateField()
    start_time = models.TimeField()
    end_time = models.TimeField()
    subject = models.CharField(max_length=80, blank=True)
    scheduled_min = models.PositiveSmallIntegerField()
    absent_min = models.PositiveSmallIntegerField(default=0)
    absence_type = models.CharField(max_length=8, choices=AbsenceType.choices, blank=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "date", "start_time"], name="lesson_natural_key"
            ),
            models.CheckConstraint(
                name="lesson_absent_within_scheduled",
                condition=models.Q(scheduled_min__gt=0)
                & models.Q(absent_min__lte=models.F("scheduled_min")),
            ),
        ]
        indexes = [models.Index(fields=["date"], name="lesson_date_idx")]

    def __str__(self) -> str:
        return f"{self.date} {self.start_time:%H:%M} {self.subject}"


def percent(minutes: int, scheduled: int) -> Decimal:
    """Share of scheduled minutes, one decimal: how every absence percentage is computed."""
    if not scheduled:
        return Decimal(0)
    return (Decimal(minutes) * 100 / scheduled).quantize(Decimal("0.1"))


class AbsencePercentages:
    """Percentages of anything with scheduled, valid and invalid minutes (minutes-weighted)."""

    scheduled_min: int
    valid_min: int
    invalid_min: int

    @property
    def absent_min(self) -> int:
        return self.valid_min + self.invalid_min

    @property
    def absent_pct(self) -> Decimal:
        return percent(self.absent_min, self.scheduled_min)

    @property
    def valid_pct(self) -> Decimal:
        return percent(self.valid_min, self.scheduled_min)

    @property
    def invalid_pct(self) -> Decimal:
        return percent(self.invalid_min, self.scheduled_min)


class MonthlyAbsence(AbsencePercentages, models.Model):
    """A student's absence in one calendar month, computed from lessons (never typed).

    Written only by ``attendance.rollup`` as an upsert keyed by (student, month). ``step`` is
    the staircase step the policy gives this month (0 below the first threshold).

    ``school`` and ``grade`` are where the student register had the student in that month:
    taken from the register while the month is the current one (or a later one), and kept as
    they are once it is over, so a term report of an earlier term counts a student at the
    school and in the grade of that term, not of today.
    """

    # Like the lessons it is computed from: no foreign-key check per row (it was a fifth of the
    # rollup's time) and no index besides the (student, month) key, which starts with it.
    student = models.ForeignKey(
        "sst.Student",
        on_delete=models.CASCADE,
        related_name="monthly_absence",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(help_text=_("The first day of the month."))
    # No index: the reports filter on month and school together and read most of a month's
    # rows anyway; a school with lessons cannot be deleted (the lessons protect it), so the
    # look-up PROTECT makes here happens only for schools without any.
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    grade = models.CharField(max_length=1, choices=Grade.choices)
    scheduled_min = models.PositiveIntegerField(default=0)
    valid_min = models.PositiveIntegerField(default=0)
    invalid_min = models.PositiveIntegerField(default=0, help_text=_("Including late arrivals."))
    late_count = models.PositiveIntegerField(default=0)
    lesson_count = models.PositiveIntegerField(default=0)
    step = models.PositiveSmallIntegerField(default=0)
    computed_at = models.DateTimeField()

    objects = MonthlyAbsenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly absence")
        verbose_name_plural = _("monthly absence")
        constraints = [
            models.UniqueConstraint(fields=["student", "month"], name="monthly_absence_key")
        ]
        indexes = [models.Index(fields=["month", "step"], name="monthly_month_step_idx")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.absent_pct} %"

    @property
    def month_end(self) -> datetime.date:
        return next_month(self.month) - datetime.timedelta(days=1)


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


class StaircasePolicy(models.Model):
    """The absence staircase as data: thresholds and switchable rules (Trosa's defaults).

    Steps use "at least" except the top step's "more than", as DOMAIN.md §3 says.
    """

    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.CASCADE,
        related_name="staircase_policy",
        verbose_name=_("municipality"),
    )
    step2_pct = models.DecimalField(
        _("step 2 (mentor checklist) at least, %"), max_digits=4, decimal_places=1, default=10
    )
    step3_pct = models.DecimalField(
        _("step 3 (student health team and mapping) at least, %"),
        max_digits=4,
        decimal_places=1,
        default=15,
    )
    step4_pct = models.DecimalField(
        _("step 4 (principal) more than, %"), max_digits=4, decimal_places=1, default=20
    )
    single_month_enabled = models.BooleanField(
        _("alert the principal at a high month"), default=True
    )
    single_month_pct = models.DecimalField(
        _("high month: at least, %"), max_digits=4, decimal_places=1, default=40
    )
    two_months_enabled = models.BooleanField(
        _("alert the principal at two consecutive months"), default=True
    )
    two_months_pct = models.DecimalField(
        _("two consecutive months: each at least, %"), max_digits=4, decimal_places=1, default=20
    )
    invalid_streak_enabled = models.BooleanField(
        _("alert at continuous invalid absence"), default=True
    )
    invalid_streak_school_days = models.PositiveSmallIntegerField(
        _("continuous invalid absence: more than this many school days"),
        default=10,
        help_text=_("Ten school days are two school weeks; weekends and holidays do not count."),
    )
    invalid_day_share_pct = models.DecimalField(
        _("a school day counts as invalid absence from this share of its lessons' minutes, %"),
        max_digits=4,
        decimal_places=1,
        default=50,
    )
    term_enabled = models.BooleanField(_("alert at high absence over a term"), default=True)
    term_pct = models.DecimalField(
        _("term: at least, %"), max_digits=4, decimal_places=1, default=50
    )
    late_enabled = models.BooleanField(_("alert at repeated late arrivals"), default=True)
    late_count = models.PositiveSmallIntegerField(
        _("repeated late arrivals: at least this many in a month"), default=5
    )
    # "Continued" (004): each step follows the one before. Where municipalities differ, a
    # switch; Trosa's reading is the default.
    lower_steps_on_entry = models.BooleanField(
        _("a student who enters above step 2 also gets the lower steps' work"),
        default=True,
        help_text=_(
            "A first month at step 3 or 4 also makes the mentor's checklist (and at step 4 the "
            "student health team's mapping) due, unless the student was already at that step "
            "the month before."
        ),
    )
    principal_at_step_3 = models.BooleanField(
        _("the principal is alerted at step 3 (and gives the counsellor the mapping)"),
        default=True,
    )
    late_continued_enabled = models.BooleanField(
        _("alert the principal and the student health team when late arrivals continue"),
        default=True,
    )
    late_continued_months = models.PositiveSmallIntegerField(
        _("late arrivals continue: repeated late arrivals in this many consecutive months"),
        default=2,
        validators=[MinValueValidator(2)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("staircase policy")
        verbose_name_plural = _("staircase policies")

    def __str__(self) -> str:
        return str(_("Staircase policy for %(name)s") % {"name": self.municipality.name})


class Rule(models.TextChoices):
    STEP_2 = "step_2", _("Step 2: monthly absence at the mentor threshold")
    STEP_3 = "step_3", _("Step 3: monthly absence at the student health team threshold")
    STEP_4 = "step_4", _("Step 4: monthly absence above the principal threshold")
    SINGLE_MONTH = "single_month", _("High absence in one month")
    TWO_MONTHS = "two_months", _("High absence in two consecutive months")
    INVALID_STREAK = "invalid_streak", _("Continuous invalid absence")
    TERM = "term", _("High absence over the term")
    LATE = "late", _("Repeated late arrivals")
    LATE_CONTINUED = "late_continued", _("Late arrivals continue")


# Most urgent first: the desk's inbox sorts a student by the most urgent rule that fired.
RULE_URGENCY: dict[str, int] = {
    Rule.INVALID_STREAK: 9,
    Rule.SINGLE_MONTH: 8,
    Rule.TWO_MONTHS: 7,
    Rule.STEP_4: 6,
    Rule.TERM: 5,
    Rule.STEP_3: 4,
    Rule.LATE_CONTINUED: 3,
    Rule.STEP_2: 2,
    Rule.LATE: 1,
}


class DueKind(models.TextChoices):
    CHECKLIST = "checklist", _("Checklist conversation with student and guardian")
    EHT_MAPPING = "eht_mapping", _("Report to the student health team; school-social mapping")
    ESCALATION = "escalation", _("Principal's decision: head of schools, SST coordinator")
    REPORT = "report", _("Report to the head of schools and social services")
    INTENSIVE = "intensive", _("Consider intensive team support")
    GUARDIAN_CONTACT = "guardian_contact", _("Contact the guardian about late arrivals")
    # What each person alerted by a step-3 or late-arrival rule does (AlertRecipient.task).
    REPORT_TO_EHT = "report_to_eht", _("Report the student to the student health team")
    SOCIAL_MAPPING = "social_mapping", _("School-social mapping")
    PEDAGOGICAL_MAPPING = "pedagogical_mapping", _("Pedagogical mapping")
    HEALTH_TALK = "health_talk", _("Health talk, if the absence is due to illness")
    ASSIGN_MAPPING = "assign_mapping", _("Give the counsellor the school-social mapping")
    LATE_REPORT = "late_report", _("Late arrivals continue: the principal and the team act")


class AcknowledgeReason(models.TextChoices):
    """Why a task was acknowledged rather than done (kept with the acknowledgement)."""

    SEEN = "seen", _("Seen; nothing more to do now")
    HANDLED_ELSEWHERE = "handled_elsewhere", _("Already handled (outside the system)")
    ALREADY_UNDER_WAY = "already_under_way", _("Work already under way for this student")
    NOT_APPLICABLE = "not_applicable", _("Does not apply to this student")


class Alert(models.Model):
    """A rule hit for a student in a period. Unique per (student, rule, period)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("sst.Student", on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    value_pct = models.DecimalField(max_digits=5, decimal_places=1, null=True)
    value_count = models.PositiveIntegerField(null=True)
    due = models.CharField(max_length=20, choices=DueKind.choices)
    due_done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("absence alert")
        verbose_name_plural = _("absence alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "rule", "period_start"], name="alert_unique_per_period"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.period_start}–{self.period_end}"


class AlertRecipient(models.Model):
    """One person's task from an alert: what they do (``task``), done by doing it
    (``done_at``, set by the service that records the work) or acknowledged with a reason."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absence_alerts"
    )
    role = models.CharField(max_length=32)
    task = models.CharField(max_length=20, choices=DueKind.choices)
    done_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_reason = models.CharField(
        max_length=20, choices=AcknowledgeReason.choices, blank=True
    )
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "user", "task"], name="alert_recipient_task_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["user", "acknowledged_at", "done_at"], name="alert_recipient_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.user_id}"

    @property
    def is_open(self) -> bool:
        return self.done_at is None and self.acknowledged_at is None


class ImportKind(models.TextChoices):
    SCHOOLS = "schools", _("School register")
    STUDENTS = "students", _("Student register")
    ATTENDANCE = "attendance", _("Lesson attendance")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Imported")
    FAILED = "failed", _("Refused")


class ImportRun(models.Model):
    """One import: who, when, which file, how many rows, and the outcome."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=12, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    school_scope = models.ForeignKey(
        School,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Set when a school's administrator imported: only that school's rows."),
    )
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default="queued")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Which delivery of the task works on the run (imports.runs.import_run_claim): one claim
    # at a time, taken by one conditional UPDATE; the final write checks the token.
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Deliveries of the import task that started on this run.")
    )
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claim_task_id = models.CharField(max_length=64, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    requeued_at = models.DateTimeField(null=True, blank=True, editable=False)
    bytes_read = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.file_name} ({self.get_status_display()})"


class PendingMonthRefresh(models.Model):
    """A month whose lessons changed and whose rollup and staircase evaluation are due.

    Written in the same transaction as the lessons (an import); removed in the transaction
    that recomputes the month, only if no import marked it again meanwhile (``generation``).
    The scheduled ``refresh_pending_months`` works the list until it is empty, so a month is
    recomputed even when the task queued for it was lost.
    """

    month = models.DateField(unique=True, help_text=_("The first day of the month."))
    generation = models.PositiveIntegerField(default=1)
    marked_at = models.DateTimeField()

    class Meta:
        verbose_name = _("month awaiting recomputation")
        verbose_name_plural = _("months awaiting recomputation")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


# ---------------------------------------------------------------- the school calendar


def school_year_of(day: datetime.date) -> int:
    """The school year a day belongs to, named by the year it starts (1 July to 30 June)."""
    return day.year if day.month >= 7 else day.year - 1


class Season(models.TextChoices):
    AUTUMN = "HT", _("Autumn term")
    SPRING = "VT", _("Spring term")


class BreakKind(models.TextChoices):
    """A break in a school year. The first four have a built-in default (attendance.calendar):
    a municipality's own break of that kind replaces the default for its school year."""

    AUTUMN = "hostlov", _("Autumn break")
    SPORTS = "sportlov", _("Sports break")
    EASTER = "pasklov", _("Easter break")
    ASCENSION = "klamdag", _("Day off after Ascension Day")
    CHRISTMAS = "jullov", _("Christmas break")
    STUDY_DAY = "studiedag", _("Study day")
    OTHER = "other", _("Other day off")


class SchoolTerm(models.Model):
    """A term of the municipality's school year, first to last day of teaching.

    Its season follows from its first day (July to December: the autumn term; January to
    June: the spring term). A recorded term replaces the built-in one of its season and
    school year (``attendance.calendar``)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="school_terms",
        verbose_name=_("municipality"),
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("school term")
        verbose_name_plural = _("school terms")
        ordering = ["municipality", "starts_on"]
        constraints = [
            models.CheckConstraint(
                name="school_term_ends_after_start",
                condition=models.Q(ends_on__gte=models.F("starts_on")),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def season(self) -> Season:
        return Season.AUTUMN if self.starts_on.month >= 7 else Season.SPRING

    @property
    def name(self) -> str:
        """ "HT26", "VT27": as schools write it."""
        if self.starts_on is None:
            return str(_("new term"))
        return f"{self.season.value}{self.starts_on:%y}"

    def clean(self) -> None:
        super().clean()
        if self.starts_on is None or self.ends_on is None:
            return
        if self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
        year = school_year_of(self.starts_on)
        if self.ends_on > datetime.date(year + 1, 6, 30):
            raise ValidationError(
                {
                    "ends_on": _("A term ends within its school year, by 30 June %(year)d.")
                    % {"year": year + 1}
                }
            )


class SchoolBreak(models.Model):
    """A break, study day or other day off in the municipality's school year (both days
    included). No lessons count on its days, whatever the attendance system says."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="school_breaks",
        verbose_name=_("municipality"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=BreakKind.choices)
    name = models.CharField(
        _("name"),
        max_length=textlimits.NAME,
        blank=True,
        validators=[textlimits.limit(textlimits.NAME)],
        help_text=_('As the school calls it, if not just the kind ("Studiedag för personalen").'),
    )
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))

    class Meta:
        verbose_name = _("school break")
        verbose_name_plural = _("school breaks")
        ordering = ["municipality", "starts_on"]
        constraints = [
            models.CheckConstraint(
                name="school_break_ends_after_start",
                condition=models.Q(ends_on__gte=models.F("starts_on")),
            )
        ]

    def __str__(self) -> str:
        return self.name or str(self.get_kind_display())

    def clean(self) -> None:
        super().clean()
        if self.starts_on is None or self.ends_on is None:
            return
        if self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
