"""Fixtures shared by the case tests."""

from __future__ import annotations

import pytest

from cases import transitions


@pytest.fixture
def referral_recorded(monkeypatch):
    """A submitted (or withdrawn) referral is recorded, as the referrals app answers the
    guards of ``refer`` and ``withdraw``: the referral's own records and its services,
    which move the case, are tested in tests/referrals."""
    for name in ("referral_submitted", "referral_withdrawn"):
        monkeypatch.setitem(transitions.GUARD_CHECKS, name, lambda case: True)
