"""Benchmark the term report at Stockholm scale on a throwaway PostgreSQL database.

    createdb -h 127.0.0.1 -U postgres sst_rbench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_rbench manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_rbench manage.py bench_reports

The same safety rules and the same fictitious city as ``bench_attendance``
(``attendance.benchdata``). Setup, not measured: the city, then the monthly rollups written
directly in SQL for three like autumn terms (15 months for every student). Measured, each
``--runs`` times: the bare aggregates over the same monthly rows, the report's figures
(``reports.figures``) for the municipality and the latest term, and the whole PDF. See
docs/PERFORMANCE.md, "The term report benchmark".
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from attendance import generator
from attendance.benchdata import (
    BENCH_MUNICIPALITY_CODE,
    GRADES,
    City,
    Phase,
    build_city,
    checkpoint,
    clear_bench_data,
    load_average,
    mb,
    measure,
    phase_json,
    quiet,
    refuse_unless_throwaway,
    server_settings,
    vacuum,
)
from attendance.models import next_month

TARGET_FIGURES_RATIO = 1.5
TARGET_PDF_SECONDS = 5.0
TARGET_PDF_MB = 300.0
LIKE_TERMS = 3
AUTUMN_MONTHS = (8, 9, 10, 11, 12)  # the default term months (HT: August–December)
SEED = 0.2026  # setseed(): the same absence every run

# The monthly rows in one statement. Each student draws a base rate once — most 2–8 %, a tail
# to 15, 25, 40 and 75 % — and a valid share (30–90 % of the absence); each month varies the
# rate by ± 50 %, and each term a little (the later terms slightly higher: a trend to show).
# Scheduled minutes: the month's school days × 240 (F–3), 300 (4–6) or 330 (7–9) a day.
# The step is the default staircase's (≥ 10 %, ≥ 15 %, > 20 % of the month's minutes).
# Rows go in month by month, as the nightly rollup writes them: a month's rows lie together.
_MONTHLY_SQL = """
WITH students AS MATERIALIZED (
    SELECT st.id, st.school_id, st.grade, random() AS u, random() AS w, random() AS v
    FROM sst_student st
    JOIN sst_school sc ON sc.id = st.school_id
    JOIN sst_district d ON d.id = sc.district_id
    JOIN sst_municipality mu ON mu.id = d.municipality_id
    WHERE mu.code = %(municipality)s
    ORDER BY st.id
), base AS (
    SELECT id, school_id, grade,
        CASE WHEN u < 0.75 THEN 0.02 + 0.06 * w
             WHEN u < 0.87 THEN 0.08 + 0.07 * w
             WHEN u < 0.95 THEN 0.15 + 0.10 * w
             WHEN u < 0.985 THEN 0.25 + 0.15 * w
             ELSE 0.40 + 0.35 * w END AS rate,
        0.3 + 0.6 * v AS valid_share
    FROM students
), months AS (
    SELECT * FROM unnest(%(months)s::date[], %(days)s::int[], %(trend)s::float8[])
        AS t(month, days, trend)
), minutes AS (
    SELECT base.id, base.school_id, base.grade, months.month, months.days,
        months.days * (CASE WHEN base.grade IN ('F', '1', '2', '3') THEN 240
                            WHEN base.grade IN ('4', '5', '6') THEN 300 ELSE 330 END)
            AS scheduled,
        LEAST(0.95, base.rate * months.trend * (0.5 + random())) AS rate,
        base.valid_share
    FROM base CROSS JOIN months
), absent AS (
    SELECT id, school_id, grade, month, days, scheduled, valid_share,
        round(scheduled * rate)::int AS absent
    FROM minutes
)
INSERT INTO attendance_monthlyabsence
    (student_id, month, school_id, grade, scheduled_min, valid_min, invalid_min, late_count,
     lesson_count, step, computed_at)
SELECT id, month, school_id, grade, scheduled,
    round(absent * valid_share)::int,
    absent - round(absent * valid_share)::int,
    floor(random() * 3)::int,
    days * 6,
    CASE WHEN absent * 100 > 20 * scheduled THEN 4
         WHEN absent * 100 >= 15 * scheduled THEN 3
         WHEN absent * 100 >= 10 * scheduled THEN 2
         ELSE 0 END,
    now()
FROM absent
ORDER BY month, id
"""

# The bare aggregates the figures need, over the same rows, with nothing around them: absence
# per grade for the term (with the number of students), each student's absence per like term
# for the shares above 15/25/40 %, and the steps per month of the term. The same shapes as
# reports.figures' queries, less what a report adds: the scope (the rows of its schools)
# and the months named one by one. Every bench row is in the scope, so the rows are the same.
_BARE_GRADES_SQL = """
SELECT m.grade, COUNT(DISTINCT m.student_id), SUM(m.scheduled_min), SUM(m.valid_min),
    SUM(m.invalid_min)
FROM attendance_monthlyabsence m
WHERE m.month >= %s AND m.month < %s AND m.scheduled_min > 0
GROUP BY m.grade
"""
_BARE_SHARES_SQL = """
SELECT term, COUNT(*),
    COUNT(*) FILTER (WHERE absent * 1000 > 150 * scheduled),
    COUNT(*) FILTER (WHERE absent * 1000 > 250 * scheduled),
    COUNT(*) FILTER (WHERE absent * 1000 > 400 * scheduled)
FROM (
    SELECT m.student_id, CASE {which_term} END AS term, SUM(m.scheduled_min) AS scheduled,
        SUM(m.valid_min + m.invalid_min) AS absent
    FROM attendance_monthlyabsence m
    WHERE m.month = ANY(%s::date[])
    GROUP BY 1, 2
) per_student
WHERE scheduled > 0
GROUP BY term
"""
_BARE_STEPS_SQL = """
SELECT month, step, COUNT(*) FROM attendance_monthlyabsence
WHERE month >= %s AND month < %s AND scheduled_min > 0
GROUP BY month, step
"""


class NotYetAvailable(Exception):
    """The lead's code for this phase is not on this branch yet: the phase is skipped."""


@dataclass(frozen=True)
class BenchTerm:
    code: str
    months: tuple[datetime.date, ...]

    @property
    def end(self) -> datetime.date:
        """The first day after the term's last month."""
        return next_month(self.months[-1])


@dataclass
class Runs:
    """One measured phase's runs."""

    name: str
    runs: list[Phase] = field(default_factory=list)
    note: str = ""

    @property
    def seconds(self) -> list[float]:
        return [run.seconds for run in self.runs]

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rss_delta(self) -> int:
        """The largest peak RSS above the run's start (the first, cold run's, usually)."""
        return max(run.rss_peak - run.rss_start for run in self.runs)

    @property
    def rss_peak(self) -> int:
        return max(run.rss_peak for run in self.runs)

    def as_json(self) -> dict[str, Any]:
        if not self.runs:
            return {"note": self.note, "runs": []}
        return {
            "best_s": round(self.best, 3),
            "median_s": round(self.median, 3),
            "rss_peak_delta_mb": round(self.rss_delta / 2**20, 1),
            "rss_peak_mb": round(self.rss_peak / 2**20, 1),
            "note": self.note,
            "runs": [phase_json(run) for run in self.runs],
        }


def like_autumn_terms(today: datetime.date, count: int = LIKE_TERMS) -> list[BenchTerm]:
    """The last ``count`` autumn terms that have ended (HT2023–HT2025 in 2026)."""
    last = today.year - 1
    return [
        BenchTerm(f"HT{year}", tuple(datetime.date(year, month, 1) for month in AUTUMN_MONTHS))
        for year in range(last - count + 1, last + 1)
    ]


def write_monthly_rows(terms: list[BenchTerm]) -> int:
    """Every bench student's monthly rollup for every month of the terms (one INSERT)."""
    months, days, trend = [], [], []
    for index, term in enumerate(terms):
        factor = 1.0 - 0.04 * (len(terms) - 1 - index)
        for month in term.months:
            last_day = next_month(month) - datetime.timedelta(days=1)
            months.append(month)
            days.append(max(1, len(generator.school_days(month, last_day))))
            trend.append(factor)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [SEED])
        cursor.execute(
            _MONTHLY_SQL,
            {
                "municipality": BENCH_MUNICIPALITY_CODE,
                "months": months,
                "days": days,
                "trend": trend,
            },
        )
        return int(cursor.rowcount)


def bare_aggregates(terms: list[BenchTerm]) -> dict[str, int]:
    """The bare ``GROUP BY``s over the monthly rows (see the SQL above); row counts."""
    term = terms[-1]
    months = [month for like in terms for month in like.months]
    which_term = " ".join(
        f"WHEN m.month = ANY(%s::date[]) THEN {index}" for index in range(len(terms))
    )
    with connection.cursor() as cursor:
        cursor.execute(_BARE_GRADES_SQL, [term.months[0], term.end])
        grades = cursor.fetchall()
        cursor.execute(
            _BARE_SHARES_SQL.format(which_term=which_term),
            [*(list(like.months) for like in terms), months],
        )
        shares = cursor.fetchall()
        cursor.execute(_BARE_STEPS_SQL, [term.months[0], term.end])
        steps = cursor.fetchall()
    return {
        "grades": len(grades),
        "students_in_term": sum(int(row[1]) for row in grades),
        "terms": len(shares),
        "step_cells": len(steps),
    }


# ---------------------------------------------------------------- the report's code
# Imported when the phase runs: the phases whose code is not there yet are skipped (and say
# so), the rest of the benchmark runs.


def report_scope(city: City) -> Any:
    """The municipality scope of the bench municipality (``reports.scope``)."""
    try:
        from reports.scope import Scope
    except ImportError as missing:
        raise NotYetAvailable(f"reports.scope is missing ({missing})") from None
    return Scope("municipality", city.municipality)


def report_term(term: BenchTerm, city: City) -> Any:
    """The report's own ``Term`` for ``term.code`` (``reports.terms``): it must cover the
    months the setup wrote."""
    try:
        from reports.terms import parse_term
    except ImportError as missing:
        raise NotYetAvailable(f"reports.terms is missing ({missing})") from None
    found = parse_term(term.code, municipality_id=city.municipality.pk)
    if tuple(found.months) != term.months:
        raise CommandError(
            f"{term.code} has the months {found.months} in reports.terms, the bench wrote "
            f"{term.months}: align AUTUMN_MONTHS with the school calendar."
        )
    return found


def compute_figures(scope: Any, term: Any) -> Any:
    """The figures the term report's tables are made of (``reports.figures``), as
    ``build_term_report`` asks for them: absence per grade for the term and the shares above
    15/25/40 % over the like terms (one query, ``term_figures``), the steps per month of the
    term."""
    try:
        from reports import figures
        from reports.terms import like_terms
    except ImportError as missing:
        raise NotYetAvailable(f"reports.figures is missing ({missing})") from None
    schools = scope.schools()
    terms = like_terms(term, count=LIKE_TERMS, municipality_id=scope.municipality_id)
    return (
        figures.term_figures(schools, terms),
        figures.steps_per_month(schools, term.months),
    )


def build_report(scope: Any, term: Any) -> Any:
    """The whole report before printing: figures, small-count suppression, SVG charts
    (``reports.term_report.build_term_report``)."""
    try:
        from reports.term_report import build_term_report
    except ImportError as missing:
        raise NotYetAvailable(f"reports.term_report is missing ({missing})") from None
    return build_term_report(scope, term)


def render_pdf(scope: Any, term: Any) -> bytes:
    """The whole term report PDF as the background run makes it: ``build_term_report`` (the
    figures, suppression, charts), then ``reports.outputs.term_report_pdf`` (WeasyPrint)."""
    try:
        from reports.outputs import term_report_pdf
        from reports.term_report import build_term_report
    except ImportError as missing:
        raise NotYetAvailable(f"no term report PDF on this branch yet ({missing})") from None
    return bytes(term_report_pdf(build_term_report(scope, term)))


# ---------------------------------------------------------------- the command


class Command(BaseCommand):
    help = (
        "Benchmark the term report for a municipality of 90,000 students over three like "
        "terms (1.35M monthly rows): figures and PDF next to a bare GROUP BY. PostgreSQL "
        "only, on a throwaway database whose name ends in 'bench' (see docs/PERFORMANCE.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=90_000)
        parser.add_argument("--runs", type=int, default=3, help="Runs of each phase (3).")
        parser.add_argument(
            "--keep", action="store_true", help="Leave the bench data in the database."
        )
        parser.add_argument("--json", type=Path, help="Also write the figures to this file.")

    def handle(self, *args: Any, **options: Any) -> None:
        total, runs = int(options["students"]), int(options["runs"])
        if total < 10 or runs < 1:
            raise CommandError("--students at least 10, --runs at least 1.")
        database = refuse_unless_throwaway("bench_reports")
        with quiet("sst.audit", "celery", "kombu", "weasyprint", "fontTools"):
            self._bench(database, total, runs, options)

    def _bench(self, database: str, total: int, runs: int, options: dict[str, Any]) -> None:
        out = self.stdout.write
        today = timezone.localdate()
        terms = like_autumn_terms(today)
        server = server_settings()
        out(
            f"Term report benchmark on {database!r} (PostgreSQL {server['server_version']}; "
            f"shared_buffers {server['shared_buffers']}, work_mem {server['work_mem']}), "
            f"{os.cpu_count()} CPUs, load average {load_average()}: {total} students, "
            f"terms {', '.join(term.code for term in terms)}, {runs} runs a phase."
        )
        out("Setup (not measured):")
        clock = time.perf_counter()
        clear_bench_data()
        city = build_city(total, today, out)
        del city.students[:]  # the generator's lesson profiles: not needed here
        out(f"  organisation and students in {time.perf_counter() - clock:.1f} s")
        try:
            clock = time.perf_counter()
            rows = write_monthly_rows(terms)
            out(
                f"  {rows:,} monthly rows ({len(terms)} terms × {len(terms[0].months)} months) "
                f"in {time.perf_counter() - clock:.1f} s"
            )
            seconds = vacuum(
                "attendance_monthlyabsence", "sst_student", "sst_school", "sst_district"
            )
            out(f"  VACUUM ANALYZE in {seconds:.1f} s")
            bench = _Bench(city, terms, runs, out)
            bench.run()
            out(f"Load average at the end: {load_average()}.")
            bench.table()
        finally:
            if not options["keep"]:
                clock = time.perf_counter()
                clear_bench_data()
                out(f"Bench data removed ({time.perf_counter() - clock:.1f} s; --keep keeps it).")
        if options["json"]:
            figures = {
                "date": today.isoformat(),
                "database": database,
                "server": server,
                "cpus": os.cpu_count(),
                "students": total,
                "schools": len(city.schools),
                "grades": len(GRADES),
                "terms": [term.code for term in terms],
                "term": terms[-1].code,
                "monthly_rows": rows,
                "runs": runs,
                "phases": {name: phase.as_json() for name, phase in bench.phases.items()},
                "figures_ratio": bench.ratio("figures"),
                "build_ratio": bench.ratio("build"),
                "pdf_bytes": bench.pdf_bytes,
                "targets": {
                    "figures_ratio_max": TARGET_FIGURES_RATIO,
                    "pdf_seconds_max": TARGET_PDF_SECONDS,
                    "pdf_rss_mb_max": TARGET_PDF_MB,
                },
            }
            options["json"].write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        failed = [
            f"{name}: {runs.note}"
            for name, runs in bench.phases.items()
            if runs.note.startswith("failed")
        ]
        if failed:
            raise CommandError("The report's code failed (traceback above): " + "; ".join(failed))


class _Bench:
    """The measured phases, each ``runs`` times, interleaved (bare, figures, PDF; again)."""

    def __init__(
        self, city: City, terms: list[BenchTerm], runs: int, out: Callable[[str], None]
    ) -> None:
        self.city, self.terms, self.runs, self.out = city, terms, runs, out
        self.phases: dict[str, Runs] = {
            name: Runs(name) for name in ("bare", "figures", "build", "pdf")
        }
        self.pdf_bytes = 0

    def run(self) -> None:
        out = self.out
        scope: Any = None
        term: Any = None
        try:
            scope = report_scope(self.city)
            term = report_term(self.terms[-1], self.city)
        except NotYetAvailable as missing:
            for name in ("figures", "build", "pdf"):
                self.phases[name].note = str(missing)
        bare_aggregates(self.terms)  # warm-up: the same pages in the cache for every phase
        checkpoint()
        out(f"Measuring ({self.runs} runs, tracemalloc off):")
        for number in range(1, self.runs + 1):
            with measure("bare", trace=False) as phase:
                counts = bare_aggregates(self.terms)
            phase.extra = counts
            self.phases["bare"].runs.append(phase)
            line = f"  run {number}: bare {phase.seconds:.3f} s"
            line += self._one("figures", lambda: compute_figures(scope, term))
            line += self._one("build", lambda: build_report(scope, term))
            line += self._one("pdf", lambda: self._pdf(scope, term))
            out(line)

    def _one(self, name: str, work: Callable[[], object]) -> str:
        runs = self.phases[name]
        if runs.note:
            return f", {name}: skipped"
        try:
            with measure(name, trace=False) as phase:
                work()
        except NotYetAvailable as missing:
            runs.note = str(missing)
            return f", {name}: skipped"
        except Exception as error:  # the report's code failed: say so, measure the rest
            runs.note = f"failed: {type(error).__name__}: {error}"
            self.out(f"  {name} failed:\n{traceback.format_exc()}")
            return f", {name}: FAILED"
        runs.runs.append(phase)
        return f", {name} {phase.seconds:.3f} s (RSS +{mb(phase.rss_peak - phase.rss_start)})"

    def _pdf(self, scope: Any, term: Any) -> None:
        self.pdf_bytes = len(render_pdf(scope, term))

    def ratio(self, name: str) -> float | None:
        runs = self.phases[name]
        if not runs.runs:
            return None
        return runs.median / self.phases["bare"].median

    def table(self) -> None:
        out = self.out

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        header = ("phase", "best", "median", "RSS peak Δ", "RSS peak", "target")
        rows = [header]
        for name, label in (
            ("bare", "bare GROUP BYs"),
            ("figures", "reports.figures"),
            ("build", "build_term_report"),
            ("pdf", "term report PDF"),
        ):
            runs = self.phases[name]
            if not runs.runs:
                rows.append((label, "–", "–", "–", "–", f"not measured: {runs.note}"))
                continue
            if name == "bare":
                target = "baseline"
            elif name == "build":
                target = f"× {self.ratio('build') or 0.0:.2f} bare (figures, suppression, charts)"
            elif name == "figures":
                ratio = self.ratio("figures") or 0.0
                target = f"× {ratio:.2f} bare (≤ {TARGET_FIGURES_RATIO}): " + verdict(
                    ratio <= TARGET_FIGURES_RATIO
                )
            else:
                ok = runs.median <= TARGET_PDF_SECONDS and runs.rss_delta <= TARGET_PDF_MB * 2**20
                target = (
                    f"≤ {TARGET_PDF_SECONDS:.0f} s and ≤ {TARGET_PDF_MB:.0f} MB: {verdict(ok)} "
                    f"({self.pdf_bytes / 1024:,.0f} kB)"
                )
            rows.append(
                (
                    label,
                    f"{runs.best:.3f} s",
                    f"{runs.median:.3f} s",
                    mb(runs.rss_delta),
                    mb(runs.rss_peak),
                    target,
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        out("")
        for number, row in enumerate(rows):
            out(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                out("-+-".join("-" * width for width in widths))
        out("")
