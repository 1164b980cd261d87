"""Who sees which referral: built only from the access policy's answers (``sst.access``).

- The forum's members see the submitted referrals of the schools their forum covers —
  anonymous content only; the pages never follow the referral to its case or student.
- Coordinators see the same referrals (the queue and the assignments).
- A social worker sees the referrals they are assigned to (anonymous unless a valid consent
  covers the case: that is the case query's business, ``consent.identified_for``).
- The school's staff reach the referrals of the cases they may read, drafts included,
  through the case (``referral_services`` and the case page's section).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from sst import access
from sst.access import AnyUser, Capability
from sst.models import User

from .models import Forum, Referral, ReferralState


def _staff(user: AnyUser) -> User | None:
    return user if isinstance(user, User) and user.is_authenticated and user.is_active else None


def forum_referrals_of(user: AnyUser) -> QuerySet[Referral]:
    """Submitted referrals (every version) the user decides on as a forum member."""
    if _staff(user) is None:
        return Referral.objects.none()
    return Referral.objects.exclude(state=ReferralState.DRAFT).filter(
        school__in=access.schools_where(user, Capability.DECIDE_REFERRALS)
    )


def coordinated_referrals_of(user: AnyUser) -> QuerySet[Referral]:
    if _staff(user) is None:
        return Referral.objects.none()
    return Referral.objects.exclude(state=ReferralState.DRAFT).filter(
        school__in=access.schools_where(user, Capability.COORDINATE)
    )


def assigned_referrals_of(user: AnyUser) -> QuerySet[Referral]:
    """The referrals whose case the social worker is assigned to now."""
    staff = _staff(user)
    if staff is None:
        return Referral.objects.none()
    return Referral.objects.filter(
        school__in=access.schools_where(user, Capability.SOCIAL_WORK),
        case__assignments__social_worker=staff,
        case__assignments__ended_at__isnull=True,
    ).exclude(state=ReferralState.DRAFT)


def forums_of(
    user: AnyUser, capability: Capability = Capability.DECIDE_REFERRALS
) -> QuerySet[Forum]:
    """The forums covering a school where the user holds ``capability`` (members: decide)."""
    if _staff(user) is None:
        return Forum.objects.none()
    schools = access.schools_where(user, capability)
    return Forum.objects.filter(
        Q(district__schools__in=schools)
        | Q(district__isnull=True, municipality__districts__schools__in=schools)
    ).distinct()
