"""The action plan (handlingsplan, DOMAIN.md §4.7), its toolbox catalogue (§4.8), signatures,
the 6-month continuation decision and the maintenance plan (§4.10).

Versions: the plan, its goals and its interventions keep a history table each
(django-simple-history). A revision (``PlanRevision``) is one numbered save of the whole plan;
the plan as it stood at revision *n* is read back with ``history.as_of(revision.made_at)``,
so every earlier version stays readable and nothing is copied by hand. Goals and
interventions are ended, never deleted, so a version that had them can still show them.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.models import Case
from sst import textlimits


class Catalogue(models.TextChoices):
    TOOLBOX = "toolbox", _("The toolbox")
    SCHOOL_MEASURES = "school", _("The school's own measures")


class ToolboxCategory(models.Model):
    """A heading of a municipality's intervention catalogue (DOMAIN.md §4.8)."""

    municipality = models.ForeignKey(
        "sst.Municipality",
        on_delete=models.CASCADE,
        related_name="toolbox_categories",
        verbose_name=_("municipality"),
    )
    catalogue = models.CharField(_("catalogue"), max_length=8, choices=Catalogue.choices)
    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("toolbox category")
        verbose_name_plural = _("toolbox categories")
        ordering = ["municipality", "catalogue", "order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "catalogue", "name"], name="toolbox_category_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ToolboxItem(models.Model):
    """One intervention of the catalogue. Retired items stay for the plans that used them."""

    category = models.ForeignKey(ToolboxCategory, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("offered in new plans"), default=True)

    class Meta:
        verbose_name = _("toolbox intervention")
        verbose_name_plural = _("toolbox interventions")
        ordering = ["category__order", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "name"], name="toolbox_item_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ActionPlan(models.Model):
    """The case's plan. One per case: a re-referral opens a new case with its own plan."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="action_plan")
    starts_on = models.DateField(_("plan starts"))
    ends_on = models.DateField(_("plan ends"))
    # Required when the plan runs longer than six months (DOMAIN.md §4.7: 3–6 months).
    longer_reason = models.TextField(
        _("why the plan runs longer than six months"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
        blank=True,
    )
    school_measures = models.TextField(
        _("the school's own measures (other)"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
        blank=True,
    )
    sip = models.BooleanField(
        _("coordinated individual plan (SIP) with health care"), default=False
    )
    sip_on = models.DateField(_("SIP date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The revision number the plan is at; an edit names the one it started from, and a save
    # from an older one is a conflict (never a silent overwrite).
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(excluded_fields=["created_at", "created_by"])

    class Meta:
        verbose_name = _("action plan")
        verbose_name_plural = _("action plans")

    def __str__(self) -> str:
        return f"{self.starts_on} – {self.ends_on}"


class Perspective(models.TextChoices):
    """SST plus groups sub-goals in three perspectives (optional)."""

    INDIVIDUAL = "individual", _("Individual")
    SCHOOL = "school", _("Pedagogical / school")
    SOCIAL = "social", _("Social")


class Goal(models.Model):
    """A time-bound goal: what, how it is measured, by when."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="goals")
    perspective = models.CharField(
        _("perspective"), max_length=12, choices=Perspective.choices, blank=True
    )
    text = models.CharField(_("goal"), max_length=300)
    measure = models.CharField(_("how it is measured"), max_length=300)
    target_on = models.DateField(_("target date"))
    order = models.PositiveSmallIntegerField(default=0)
    # Set when a revision removes the goal; the goal stays for the versions that had it.
    ended_in = models.PositiveIntegerField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.text


class Side(models.TextChoices):
    SCHOOL = "school", _("School")
    SOCIAL_SERVICES = "social_services", _("Social services")


class PlanIntervention(models.Model):
    """An intervention of the plan, from the toolbox or the school's measures."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="interventions")
    item = models.ForeignKey(
        ToolboxItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("intervention")
    )
    side = models.CharField(_("responsible"), max_length=16, choices=Side.choices)
    responsible = models.ForeignKey(
        "sst.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    how_often = models.CharField(_("how often"), max_length=120)
    starts_on = models.DateField(_("from"))
    ended_on = models.DateField(_("ended"), null=True, blank=True, editable=False)
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("intervention")
        verbose_name_plural = _("interventions")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.item.name


class PlanRevision(models.Model):
    """One numbered save of the plan: who, when, and what changed (for the chronology)."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField()
    made_at = models.DateTimeField()
    made_by = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    # A list of {"change": <kind>, "what": <short text>} entries, never free prose.
    changes = models.JSONField(default=list)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_revision_unique")
        ]

    def __str__(self) -> str:
        return f"v{self.number}"


class Party(models.TextChoices):
    STUDENT = "student", _("Student")
    GUARDIAN = "guardian", _("Guardian")
    SCHOOL = "school", _("School representative")
    SOCIAL_WORKER = "social_worker", _("Social worker")


class SignedHow(models.TextChoices):
    PAPER = "paper", _("Signed on paper at the meeting (recorded by staff)")
    IN_APP = "in_app", _("Signed by the staff member in the app")


class Signature(models.Model):
    """A party's signature on one revision of the plan."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="signatures")
    revision = models.PositiveIntegerField()
    party = models.CharField(_("who signs"), max_length=16, choices=Party.choices)
    guardian = models.ForeignKey(
        "sst.Guardian", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Staff who sign for themselves (school representative, social worker).
    signer = models.ForeignKey(
        "sst.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_on = models.DateField(_("signed on"))
    how = models.CharField(_("how"), max_length=8, choices=SignedHow.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["plan", "revision", "party"]

    def __str__(self) -> str:
        return f"{self.get_party_display()} {self.signed_on}"


class Continuation(models.TextChoices):
    CONTINUE = "continue", _("Continue")
    CLOSE = "close", _("Close")


class ContinuationDecision(models.Model):
    """At six months the team decides: continue (and why) or close (DOMAIN.md §4.7)."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.PROTECT, related_name="continuations")
    decision = models.CharField(_("decision"), max_length=8, choices=Continuation.choices)
    reason = models.TextField(
        _("why"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
    )
    decided_on = models.DateField(_("decided on"))
    decided_by = models.ForeignKey(
        "sst.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "decided_on"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.decided_on}"


class MaintenancePlan(models.Model):
    """How student and team keep in touch while support tapers (vidmakthållandeplan)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="maintenance_plan")
    contact = models.CharField(
        _("how often student and team meet or hear from each other"), max_length=300
    )
    notes = models.TextField(
        _("notes"),
        max_length=textlimits.TEXT,
        validators=[textlimits.limit(textlimits.TEXT)],
        blank=True,
    )
    made_at = models.DateTimeField(auto_now_add=True)
    made_by = models.ForeignKey("sst.User", null=True, on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")

    def __str__(self) -> str:
        return self.contact


class BoosterMeeting(models.Model):
    """A booster meeting (boosterträff) of the maintenance plan."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    maintenance = models.ForeignKey(
        MaintenancePlan, on_delete=models.PROTECT, related_name="boosters"
    )
    planned_on = models.DateField(_("planned for"))
    held_on = models.DateField(_("held on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    cancelled = models.BooleanField(default=False)
    # The content-free reminder is sent once (the beat task is idempotent on this).
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("booster meeting")
        verbose_name_plural = _("booster meetings")
        ordering = ["planned_on"]

    def __str__(self) -> str:
        return str(self.planned_on)
