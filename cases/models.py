"""Students and their guardians. Cases and their chronology come with later issues."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from sst import crypto
from sst.models import MentorGroup, School
from sst.personnummer import Personnummer


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

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["school", "grade"])]

    def __str__(self) -> str:
        return self.full_name


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
