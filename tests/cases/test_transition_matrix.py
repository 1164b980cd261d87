"""Every transition × every case state × every role, with the guards failing closed (as today,
before the later apps register them) and with every guard holding.

A transition is allowed exactly when the flow written out in test_workflow.FLOW says so: the
person holds its capability, the case is in one of its states and its guards hold. The
service then moves the case; otherwise it refuses and nothing changes. The case page, for
whoever may read it, shows the transition's button exactly when the service would accept it.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from cases import transitions, workflow
from cases.models import Case, CaseEvent, CaseOpening, CaseState
from sst import access
from sst.access import Capability
from sst.models import Role

from ..conftest import verified_login
from ..factories import UserFactory, grant
from .test_workflow import FLOW, call

# Each role at its place (school A's student is the case's), and an outsider at school B.
PEOPLE = {
    "mentor": "mentor_a1",
    "principal": "principal_a",
    "counsellor": "counsellor_a",
    "special_educator": None,
    "school_nurse": "nurse_a",
    "school_psychologist": None,
    "social_worker": "social_worker_n",
    "referral_forum": "referral_forum_n",
    "coordinator": None,
    "manager": "manager_a",
    "administrator": "admin_m",
    "outsider": "counsellor_b",
}
# Who works the school's cases (the brief's WORK_CASES); no school role decides referrals.
WORKS_CASES = {"principal", "counsellor", "special_educator", "school_nurse", "school_psychologist"}
MAY_DECIDE = {"referral_forum"}  # at most: the forum, once the capability table grants it


def person_of(world, key: str):
    name = PEOPLE[key]
    if name:
        return getattr(world, name)
    user = UserFactory(username=key)
    place = world.district_n if key == "coordinator" else world.school_a
    grant(user, Role(key), place)
    return user


class Undo(Exception):
    """Raised to roll a successful transition back, so the next starts from the same case."""


def attempt(name: str, case_pk: int, by) -> tuple[bool, Case]:
    """Try the transition; return whether it went through and the case as it was after."""
    case = Case.objects.select_related("student").get(pk=case_pk)
    events = CaseEvent.objects.filter(case_id=case_pk).count()
    try:
        with transaction.atomic():
            moved = call(name, case, by, reason="Ett skäl")
            assert CaseEvent.objects.filter(case_id=case_pk).count() == events + 1
            raise Undo(moved)
    except Undo as undo:
        return True, undo.args[0]
    except (workflow.CapabilityMissing, workflow.TransitionRefused):
        after = Case.objects.get(pk=case_pk)
        assert (after.state, after.version, after.closed_at, after.closure_reason) == (
            case.state,
            case.version,
            case.closed_at,
            case.closure_reason,
        )
        assert CaseEvent.objects.filter(case_id=case_pk).count() == events
        return False, after


def expected(name: str, state: str, capabilities: frozenset, guards_hold: bool) -> bool:
    sources, _target, capability, guards, _asks = FLOW[name]
    # The coordinator also accepts, when assigning from the queue what the forum accepted.
    takers = {capability} | ({Capability.COORDINATE} if name == "accept" else set())
    return bool(takers & capabilities) and state in sources and (guards_hold or not guards)


MATRIX = [(state, key) for state in CaseState for key in PEOPLE]


@pytest.mark.parametrize(
    "state, key", MATRIX, ids=[f"{state.value}-{key}" for state, key in MATRIX]
)
def test_every_transition_for_every_role_from_every_state(client, world, monkeypatch, state, key):
    user = person_of(world, key)
    case = Case.objects.create(student=world.student_a1, state=state, opening=CaseOpening.PRINCIPAL)
    capabilities = access.case_capabilities(user, case)
    assert (Capability.WORK_CASES in capabilities) == (key in WORKS_CASES)
    assert Capability.DECIDE_REFERRALS not in capabilities or key in MAY_DECIDE
    # The team's steps after the decision (consent, plan, implementation, maintenance) are
    # out of every school role's reach, whatever records exist.
    team_side = {Capability.COORDINATE, Capability.SOCIAL_WORK}
    assert not (team_side & capabilities) or key not in WORKS_CASES | {"mentor"}
    verified_login(client, user)
    page_url = reverse("cases:case_detail", args=[case.public_id])

    for guards_hold in (False, True):
        checks = {name: (lambda case: True) for name in transitions.GUARDS} if guards_hold else {}
        monkeypatch.setattr(transitions, "GUARD_CHECKS", checks)
        allowed = set()
        for name in FLOW:
            went, after = attempt(name, case.pk, user)
            assert went == expected(name, state, capabilities, guards_hold), (name, guards_hold)
            if went:
                allowed.add(name)
                assert after.state == FLOW[name][1]
        for to in CaseState:  # nothing to skip with today's school steps
            with pytest.raises((workflow.CapabilityMissing, workflow.TransitionRefused)):
                workflow.case_skip_to(case=Case.objects.get(pk=case.pk), to=to, reason="x", by=user)

        response = client.get(page_url)
        if response.status_code == 404:
            assert key not in WORKS_CASES
            continue
        assert response.status_code == 200
        page = response.content.decode()
        offered = {
            t.name
            for t in transitions.TRANSITIONS
            if reverse("cases:case_transition", args=[case.public_id, t.slug]) in page
        }
        assert offered == allowed, guards_hold
        assert reverse("cases:case_skip", args=[case.public_id]) not in page
