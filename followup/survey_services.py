"""The satisfaction survey at closure: answers entered at the closing meeting, and one-time
links the student or a guardian answers on their own.

A link's token is made with ``secrets.token_urlsafe`` and shown once; only its SHA-256 hash
is kept. A link works once and until it expires; making a new one voids the old unused one
for the same kind of respondent. An answer keeps the kind of respondent, how it came in,
the three scores and the week — never who answered, nor which link it came through.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import EventKind
from cases.workflow import chronicle
from sst import audit
from sst.models import User

from . import closure_selectors as selectors
from .models import Closure, Respondent, SurveyAnswer, SurveyChannel, SurveyLink

SCALE = range(1, 6)
QUESTIONS = ("satisfied", "helped", "listened_to")
# The longest token the answer page looks up; anything longer is not one of ours.
TOKEN_MAX_LENGTH = 64


@dataclass(frozen=True)
class Scores:
    respondent: str
    satisfied: int
    helped: int
    listened_to: int


class LinkGone(Exception):
    """The link is unknown, used or expired (the page says the same for all three)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _check(scores: Scores) -> None:
    if scores.respondent not in Respondent.values:
        raise ValidationError(_("Choose who answered."), code="respondent")
    for name in QUESTIONS:
        if getattr(scores, name) not in SCALE:
            raise ValidationError(_("Answer each question from 1 to 5."), code="scale")


def _refuse_unless_may(closure: Closure, by: User) -> None:
    if not selectors.closures_readable_by(by).filter(pk=closure.pk).exists():
        raise ValidationError(_("You cannot change this closure record."), code="closure_access")


def _save(closure_id: int, scores: Scores, channel: str) -> SurveyAnswer:
    _check(scores)
    return SurveyAnswer.objects.create(
        closure_id=closure_id,
        respondent=scores.respondent,
        channel=channel,
        satisfied=scores.satisfied,
        helped=scores.helped,
        listened_to=scores.listened_to,
        answered_week=_week_of(timezone.localdate()),
    )


@transaction.atomic
def survey_meeting_record(*, closure: Closure, answers: list[Scores], by: User) -> int:
    """The answers given at the closing meeting, entered by staff; returns how many."""
    _refuse_unless_may(closure, by)
    for scores in answers:
        _save(closure.pk, scores, SurveyChannel.MEETING)
    if answers:
        chronicle(
            case=closure.case,
            kind=EventKind.DOCUMENT,
            summary=_("Satisfaction survey answered at the closing meeting (%(count)s)")
            % {"count": len(answers)},
            by=by,
            ref=closure,
        )
        audit.record(
            user=by,
            action=audit.AuditAction.CREATE,
            object_type=audit.AuditObjectType.SURVEY_ANSWER,
            object_id=str(closure.public_id),
            detail={"channel": SurveyChannel.MEETING, "count": len(answers)},
        )
    return len(answers)


@transaction.atomic
def survey_link_create(*, closure: Closure, respondent: str, by: User) -> str:
    """A new one-time link for a kind of respondent; returns its token (shown once).

    The kind's earlier unused link stops working."""
    _refuse_unless_may(closure, by)
    if respondent not in Respondent.values:
        raise ValidationError(_("Choose who the link is for."), code="respondent")
    now = timezone.now()
    voided = SurveyLink.objects.filter(
        closure=closure, respondent=respondent, used_at__isnull=True, expires_at__gt=now
    ).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    SurveyLink.objects.create(
        closure=closure,
        respondent=respondent,
        token_hash=token_hash(token),
        expires_at=now + datetime.timedelta(days=selectors.survey_link_days(closure.case)),
    )
    chronicle(
        case=closure.case,
        kind=EventKind.DOCUMENT,
        summary=_("Satisfaction survey link made for: %(who)s")
        % {"who": Respondent(respondent).label},
        by=by,
        ref=closure,
    )
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=audit.AuditObjectType.SURVEY_LINK,
        object_id=str(closure.public_id),
        detail={"respondent": respondent, "voided": voided},
    )
    return token


def survey_link_find(token: str) -> SurveyLink:
    """The usable link of ``token`` (one lookup by hash), or ``LinkGone``."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        token = ""
    link = (
        SurveyLink.objects.filter(
            token_hash=token_hash(token), used_at__isnull=True, expires_at__gt=timezone.now()
        )
        .only("pk", "respondent", "closure_id")
        .first()
    )
    if link is None:
        raise LinkGone
    return link


@transaction.atomic
def survey_answer_by_link(*, token: str, scores: Scores) -> SurveyAnswer:
    """Answer through a one-time link: the link is used up in the same transaction, by a
    conditional UPDATE, so a second submit (even at the same moment) finds it gone."""
    link = survey_link_find(token)
    if scores.respondent != link.respondent:
        raise LinkGone
    _check(scores)
    now = timezone.now()
    used = SurveyLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not used:
        raise LinkGone
    return _save(link.closure_id, scores, SurveyChannel.LINK)
