"""A fixed day for test modules whose rows are dated from ``TODAY``.

Such a module builds its rows from ``TODAY`` and then asks the application, which reads
``timezone.localdate()``. The two must agree for the whole module, also in a run that crosses
midnight in Stockholm or falls in the summer holiday (``SST_TEST_CLOCK`` in conftest.py runs
the suite at such an instant). ``pinned_clock(day)`` gives the module an autouse fixture that
moves the clock to 10:00 Stockholm time on ``day`` before the module's world is built, and
lets it tick from there::

    TODAY = datetime.date(2026, 11, 18)
    _clock = pinned_clock(TODAY)
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.conf import settings


def pinned_clock(day: datetime.date, hour: int = 10) -> Callable[..., object]:
    @pytest.fixture(autouse=True, scope="module")
    def _pinned_clock() -> Iterator[None]:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        with time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), zone)):
            yield

    return _pinned_clock
