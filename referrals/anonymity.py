"""The anonymity check of the referral's free text (issue 10: "no personal data").

Two rules, run by the services on every save and on submit (a forged POST cannot skip them):

- A **personnummer pattern** anywhere in a free-text field is refused, with a message naming
  the field: 10 or 12 digits, with or without '-' or '+' (or a space) before the last four,
  a plausible month and day — also a coordination number's day (61–91). The check digit is
  not asked: a mistyped number is personal data all the same.
- The student's and the guardians' **first and last names** (each part of a double name on
  its own), compared case- and accent-insensitively as whole words, give a **warning**: a
  short name may be an ordinary Swedish word, so the writer confirms that the highlighted
  words are not about the student. What was confirmed is stored on the referral as keyed
  hashes with the number of occurrences per field (never the names themselves), so a new
  occurrence needs a new confirmation.

Nothing here logs or audits the words it finds.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sst.models import Guardian, Student

# The free-text fields of a referral, in the order of the form.
FREE_TEXT_FIELDS: tuple[str, ...] = (
    "cause_student_view",
    "cause_guardian_view",
    "adjustments",
    "assessment_other",
    "school_actions_comment",
    "expected_help",
)

_DAY = r"(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
PERSONNUMMER = re.compile(
    rf"(?<!\d)(?:(?:18|19|20)\d{{2}}|\d{{2}}){_MONTH}{_DAY}[-+ ]?\d{{4}}(?!\d)",
    re.ASCII,
)
_WORD = re.compile(r"\w+", re.UNICODE)
MIN_NAME_LENGTH = 2


def fold(text: str) -> str:
    """Lower case without accents: "Åsa" and "asa", "Zoë" and "zoe" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_parts(names: Iterable[str]) -> frozenset[str]:
    """Each part of each name, folded ("Anna-Karin Öst" → anna, karin, ost)."""
    parts = set()
    for name in names:
        for word in _WORD.findall(name or ""):
            if len(word) >= MIN_NAME_LENGTH and not word.isdigit():
                parts.add(fold(word))
    return frozenset(parts)


def names_of(student: Student) -> frozenset[str]:
    """The student's and every linked guardian's first and last names, folded."""
    names = [student.first_name, student.last_name]
    for guardian in Guardian.objects.filter(custodies__student=student).only(
        "first_name", "last_name"
    ):
        names += [guardian.first_name, guardian.last_name]
    return name_parts(names)


def _key(word: str) -> str:
    """A keyed hash of a folded word: what the referral stores of a confirmed warning."""
    return hmac.new(
        settings.SECRET_KEY.encode(), b"referral-name:" + word.encode(), hashlib.sha256
    ).hexdigest()[:32]


@dataclass(frozen=True)
class NameHit:
    field: str
    word: str  # as written in the text (shown to the writer, never stored)
    key: str  # the keyed hash of the folded word


@dataclass
class Findings:
    personnummer_in: list[str] = field(default_factory=list)  # field names
    hits: list[NameHit] = field(default_factory=list)
    unconfirmed: list[NameHit] = field(default_factory=list)

    def counts(self) -> list[dict[str, object]]:
        """What a confirmation stores: per field and word hash, how many occurrences."""
        tally: dict[tuple[str, str], int] = {}
        for hit in self.hits:
            tally[(hit.field, hit.key)] = tally.get((hit.field, hit.key), 0) + 1
        return [{"field": f, "word": k, "count": n} for (f, k), n in sorted(tally.items())]

    def token(self) -> str:
        """Binds a confirmation to exactly the warnings shown (a forged POST cannot guess it)."""
        text = repr(self.counts())
        return hmac.new(
            settings.SECRET_KEY.encode(), b"referral-confirm:" + text.encode(), hashlib.sha256
        ).hexdigest()[:40]

    def words_by_field(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for hit in self.unconfirmed:
            words = found.setdefault(hit.field, [])
            if hit.word not in words:
                words.append(hit.word)
        return found


def examine(
    texts: Mapping[str, str], names: frozenset[str], confirmed: Iterable[Mapping[str, object]]
) -> Findings:
    """Find personnummer patterns and name words in ``texts`` (field → text)."""
    findings = Findings()
    allowed = {(str(c["field"]), str(c["word"])): int(str(c["count"])) for c in confirmed}
    for name in FREE_TEXT_FIELDS:
        text = texts.get(name) or ""
        if PERSONNUMMER.search(text):
            findings.personnummer_in.append(name)
        hits = [
            NameHit(name, word, _key(fold(word)))
            for word in _WORD.findall(text)
            if fold(word) in names
        ]
        findings.hits += hits
        per_key: dict[str, int] = {}
        for hit in hits:
            per_key[hit.key] = per_key.get(hit.key, 0) + 1
        findings.unconfirmed += [
            hit for hit in hits if per_key[hit.key] > allowed.get((name, hit.key), 0)
        ]
    return findings


class NamesNeedConfirmation(ValidationError):
    """Name words were found that nobody has confirmed; carries the findings for the form."""

    def __init__(self, findings: Findings) -> None:
        super().__init__(
            _(
                "Some words are the same as the student's or a guardian's name. Check the "
                "highlighted words: if they are not about the student, confirm it and save again."
            ),
            code="names",
        )
        self.findings = findings


def refuse_personnummer(findings: Findings, labels: Mapping[str, str]) -> None:
    """Raise a ``ValidationError`` naming each field that holds a personnummer pattern."""
    if findings.personnummer_in:
        raise ValidationError(
            {
                name: ValidationError(
                    _(
                        "“%(field)s” contains what looks like a personal identity number. "
                        "The referral must not contain personal data: remove it."
                    )
                    % {"field": labels.get(name, name)},
                    code="personnummer",
                )
                for name in findings.personnummer_in
            }
        )
