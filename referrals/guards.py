"""The case transition table's guards this app answers (registered in ``apps.py``)."""

from __future__ import annotations

from cases.models import Case

from . import consent
from .models import (
    WAITING_STATES,
    Consent,
    Decision,
    DecisionKind,
    FamilyMeeting,
    ReferralState,
)


def _decided(kind: str):  # type: ignore[no-untyped-def]
    def check(case: Case) -> bool:
        latest = case.referrals.exclude(submitted_at=None).order_by("-submitted_at").first()
        return latest is not None and Decision.objects.filter(referral=latest, kind=kind).exists()

    check.__name__ = f"forum_{kind}"
    return check


def referral_submitted(case: Case) -> bool:
    """A referral of the case is submitted and waits for the forum (``referral_submit``)."""
    return case.referrals.filter(state__in=WAITING_STATES).exists()


def referral_withdrawn(case: Case) -> bool:
    """The case's latest submitted referral has been withdrawn (``referral_withdraw``)."""
    latest = case.referrals.exclude(submitted_at=None).order_by("-submitted_at").first()
    return latest is not None and latest.state == ReferralState.WITHDRAWN


def consent_requested(case: Case) -> bool:
    """The family has been asked: an information meeting is booked, or a consent recorded."""
    return (
        FamilyMeeting.objects.filter(case=case).exists()
        or Consent.objects.filter(case=case).exists()
    )


def consent_valid(case: Case) -> bool:
    return consent.consent_valid(case)


CHECKS = {
    "forum_accepted": _decided(DecisionKind.ACCEPTED),
    "forum_rejected": _decided(DecisionKind.REJECTED),
    "forum_redirected": _decided(DecisionKind.REDIRECTED),
    "consent_requested": consent_requested,
    "consent_valid": consent_valid,
    "referral_submitted": referral_submitted,
    "referral_withdrawn": referral_withdrawn,
}
