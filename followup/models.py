"""Follow-ups every 4–6 weeks (DOMAIN.md §4.9), the weekly check-off of interventions given,
closure with its absence figures and satisfaction survey (§4.10), and the after-care checks
at 3 and 6 months.

Absence figures are never typed: each record keeps the period it names and the minutes the
rollup code path (``attendance.rollup``) computed for it when the record was made, so the
figure a meeting saw stays on record while it can be recomputed and compared at any time.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from actionplans.models import Goal, PlanIntervention
from attendance.models import AbsencePercentages
from cases.models import Case
from sst import textlimits


class FollowUpPolicy(models.Model):
    """A municipality's follow-up rules; without a row, the defaults below hold."""

    municipality = models.OneToOneField(
        "sst.Municipality", on_delete=models.CASCADE, related_name="followup_policy"
    )
    first_after_weeks = models.PositiveSmallIntegerField(
        _("first follow-up, weeks after the start-up"),
        default=5,
        validators=[MinValueValidator(4), MaxValueValidator(6)],
    )
    every_weeks = models.PositiveSmallIntegerField(
        _("later follow-ups, weeks apart"),
        default=5,
        validators=[MinValueValidator(4), MaxValueValidator(6)],
    )
    survey_link_days = models.PositiveSmallIntegerField(
        _("a survey link is valid this many days"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    closure_period_months = models.PositiveSmallIntegerField(
        _("absence at intake and at closure: full months counted"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
    )

    class Meta:
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policies")

    def __str__(self) -> str:
        return str(self.municipality)


class AbsenceSnapshot(AbsencePercentages, models.Model):
    """A named period and the minutes the rollup code computed for it (abstract)."""

    period_start = models.DateField()
    period_end = models.DateField()  # inclusive
    scheduled_min = models.PositiveIntegerField(default=0)
    valid_min = models.PositiveIntegerField(default=0)
    invalid_min = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class FollowUp(models.Model):
    """A follow-up meeting: booked ahead, then held (with its results) or cancelled."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="followups")
    number = models.PositiveSmallIntegerField()
    planned_on = models.DateField(_("planned for"))
    held_on = models.DateField(_("held on"), null=True, blank=True)
    cancelled = models.BooleanField(default=False)
    notes = models.TextField(
        _("notes"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
        blank=True,
    )
    # ORS (Outcome Rating Scale): four scales 0–10, optional as a whole.
    ors_individual = models.PositiveSmallIntegerField(
        _("individually (personal well-being)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    ors_interpersonal = models.PositiveSmallIntegerField(
        _("interpersonally (family, close relationships)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    ors_social = models.PositiveSmallIntegerField(
        _("socially (school, friends)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    ors_overall = models.PositiveSmallIntegerField(
        _("overall (general sense of well-being)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
    recorded_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    # The content-free notices (due, overdue) go out once each (idempotent beat task).
    due_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="followup_number_unique")
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.planned_on}"

    @property
    def ors_total(self) -> int | None:
        scales = (self.ors_individual, self.ors_interpersonal, self.ors_social, self.ors_overall)
        if any(value is None for value in scales):
            return None
        return sum(value for value in scales if value is not None)


class FollowUpAbsence(AbsenceSnapshot):
    """The absence a follow-up saw: since the last follow-up, and since the start."""

    class Span(models.TextChoices):
        SINCE_LAST = "since_last", _("Since the last follow-up")
        SINCE_START = "since_start", _("Since the start-up")

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="absences")
    span = models.CharField(max_length=12, choices=Span.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["followup", "span"], name="followup_absence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.span} {self.period_start}–{self.period_end}"


class GoalResult(models.TextChoices):
    MET = "met", _("Met")
    PARTLY = "partly", _("Partly met")
    NOT_MET = "not_met", _("Not met")


class GoalReview(models.Model):
    """A goal's result at a follow-up."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="reviews")
    goal = models.ForeignKey(Goal, on_delete=models.PROTECT, related_name="reviews")
    result = models.CharField(_("result"), max_length=8, choices=GoalResult.choices)
    comment = models.CharField(_("comment"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["followup", "goal"], name="goal_review_unique")
        ]

    def __str__(self) -> str:
        return self.get_result_display()


class Delivery(models.Model):
    """How much of an intervention was actually given in a week (the weekly check-off)."""

    intervention = models.ForeignKey(
        PlanIntervention, on_delete=models.PROTECT, related_name="deliveries"
    )
    week = models.DateField(_("week (its Monday)"))
    given = models.BooleanField(_("given"), default=True)
    sessions = models.PositiveSmallIntegerField(_("sessions"), default=0)
    minutes = models.PositiveIntegerField(_("minutes"), default=0)
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["intervention", "week"]
        constraints = [
            models.UniqueConstraint(fields=["intervention", "week"], name="delivery_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.week}: {self.sessions}"


class Satisfied(models.TextChoices):
    YES = "yes", _("Yes")
    PARTLY = "partly", _("Partly")
    NO = "no", _("No")


class Closure(models.Model):
    """The closing record of a case (avslut): why, goals met, absence at intake and at
    closure. Written by the social worker or the school; after closure a social worker
    reads only the closure record they wrote."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="closure")
    goals_met = models.CharField(
        _("were the plan's goals met?"), max_length=8, choices=Satisfied.choices, blank=True
    )
    # "Needs other support" names which (also on the case as closure_detail).
    other_support = models.CharField(_("which other support"), max_length=200, blank=True)
    summary = models.TextField(
        _("closing summary"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
        blank=True,
    )
    closed_on = models.DateField(_("closed on"))
    closed_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed = models.BooleanField(_("completed (not ended early)"), default=False)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")

    def __str__(self) -> str:
        return str(self.closed_on)


class ClosureAbsence(AbsenceSnapshot):
    class Span(models.TextChoices):
        INTAKE = "intake", _("At intake")
        CLOSURE = "closure", _("At closure")

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="absences")
    span = models.CharField(max_length=8, choices=Span.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["closure", "span"], name="closure_absence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.span} {self.period_start}–{self.period_end}"


class Respondent(models.TextChoices):
    STUDENT = "student", _("Student")
    GUARDIAN = "guardian", _("Guardian")


class SurveyLink(models.Model):
    """A one-time link to the satisfaction survey. Only the token's hash is kept; the link
    names no one, and the answers it leads to are not tied to a person."""

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="survey_links")
    respondent = models.CharField(max_length=8, choices=Respondent.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.respondent} {self.expires_at:%Y-%m-%d}"


class SurveyChannel(models.TextChoices):
    MEETING = "meeting", _("At the closing meeting")
    LINK = "link", _("Through the one-time link")


SATISFACTION_SCALE = [MinValueValidator(1), MaxValueValidator(5)]


class SurveyAnswer(models.Model):
    """One anonymous answer: which kind of respondent and the scores, never who."""

    closure = models.ForeignKey(Closure, on_delete=models.CASCADE, related_name="answers")
    respondent = models.CharField(max_length=8, choices=Respondent.choices)
    channel = models.CharField(max_length=8, choices=SurveyChannel.choices)
    satisfied = models.PositiveSmallIntegerField(validators=SATISFACTION_SCALE)
    helped = models.PositiveSmallIntegerField(validators=SATISFACTION_SCALE)
    listened_to = models.PositiveSmallIntegerField(validators=SATISFACTION_SCALE)
    # The week only, so an answer cannot be matched to a link's use by its time.
    answered_week = models.DateField()

    def __str__(self) -> str:
        return f"{self.respondent} {self.answered_week}"


class AfterCareCheck(AbsenceSnapshot):
    """The check 3 or 6 months after closure (003): absence over the period from data."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="aftercare_checks")
    months_after = models.PositiveSmallIntegerField(choices=[(3, "3"), (6, "6")])
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done on"), null=True, blank=True)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    passing_grades = models.BooleanField(_("passing grades in all subjects"), null=True, blank=True)
    done_by = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["case", "months_after"]
        constraints = [
            models.UniqueConstraint(fields=["case", "months_after"], name="aftercare_unique")
        ]

    def __str__(self) -> str:
        return f"{self.months_after} {self.due_on}"
