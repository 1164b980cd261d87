"""The demo's team work is seeded whatever the day: also in the summer holiday and the
Christmas break, when the 4–6 weeks after a follow-up end beyond a break (make demo in July
stopped with "the date cannot be in the future" before the scenarios started earlier)."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from followup import demo as followup_demo
from followup.models import FollowUp

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "day",
    [datetime.date(2027, 7, 12), datetime.date(2026, 12, 30)],
    ids=["summer-holiday", "christmas-break"],
)
def test_the_teams_work_is_seeded_in_the_holidays(day, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    moment = datetime.datetime.combine(day, datetime.time(10), STOCKHOLM)
    with time_machine.travel(moment):
        out = io.StringIO()
        call_command("seed_demo", students=240, stdout=out, stderr=out)
    assert "The team's work: 6 action plans" in out.getvalue()
    found = followup_demo.counts()
    assert (found["closed"], found["maintenance"]) == (2, 1) and found["aftercare"] >= 1
    held = FollowUp.objects.filter(held_on__isnull=False)
    assert held.count() >= 7 and all(f.held_on <= day for f in held)
    # The overdue scenario's follow-up is overdue, not pushed past the break.
    assert FollowUp.objects.filter(
        held_on__isnull=True, cancelled=False, planned_on__lt=day
    ).exists()
