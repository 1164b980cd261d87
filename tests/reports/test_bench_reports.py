"""``bench_reports``, the term report benchmark (PostgreSQL only; a tiny run)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from attendance.models import MonthlyAbsence
from sst.models import Municipality, Student


def test_bench_reports_refuses_sqlite_and_production(settings, db):
    if connection.vendor == "sqlite":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("bench_reports", students=20, runs=1, stdout=io.StringIO())
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("bench_reports", students=20, runs=1, stdout=io.StringIO())


@pytest.mark.postgres
def test_bench_reports_runs_at_a_tiny_size(on_postgres, db, tmp_path):
    out = io.StringIO()
    figures = tmp_path / "bench.json"
    call_command(
        "bench_reports", students=150, runs=1, json=figures, stdout=out, stderr=io.StringIO()
    )
    text = out.getvalue()
    assert "2,250 monthly rows (3 terms × 5 months)" in text
    assert "bare GROUP BYs" in text and "reports.figures" in text and "term report PDF" in text
    data = json.loads(figures.read_text())
    assert data["monthly_rows"] == 150 * 15 and len(data["terms"]) == 3
    bare = data["phases"]["bare"]
    assert bare["runs"][0]["students_in_term"] == 150 and bare["runs"][0]["terms"] == 3
    # The report's own code ran (the PDF once reports.outputs is there).
    assert len(data["phases"]["figures"]["runs"]) == 1
    assert len(data["phases"]["build"]["runs"]) == 1
    assert data["figures_ratio"] > 0
    # The bench cleans up after itself.
    assert not MonthlyAbsence.objects.exists()
    assert not Student.objects.exists()
    assert not Municipality.objects.filter(code="9998").exists()
