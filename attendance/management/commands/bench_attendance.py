"""Benchmark lesson attendance at Stockholm scale on a throwaway PostgreSQL database.

    createdb -h 127.0.0.1 -U postgres sst_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_bench manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_bench manage.py bench_attendance

It refuses SQLite, production settings, and any database whose name does not say it is a
throwaway (``…bench``, or a Django test database ``test_…``) or that holds students of
its own. It creates a fictitious municipality with bulk inserts (not measured), writes a
month of lessons to a temporary CSV file with ``attendance.generator``, and measures the
real code paths beside bare PostgreSQL baselines: ``import_attendance`` next to a bare
``COPY`` of the same file, ``rollup_month`` next to a bare ``GROUP BY``, ``evaluate_month``,
and the school overview page. See docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Count
from django.test import Client
from django.test.utils import override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from attendance import generator, staircase
from attendance.benchdata import (
    BENCH_SEED,
    City,
    Phase,
    build_city,
    checkpoint,
    clear_bench_data,
    empty_tables,
    load_average,
    mb,
    measure,
    phase_json,
    quiet,
    refuse_unless_throwaway,
    server_settings,
    vacuum,
)
from attendance.imports import lessons
from attendance.models import MonthlyAbsence, next_month
from attendance.rollup import _SUMS_SQL, month_start, rollup_month
from sst.models import School, Student, User

TARGET_IMPORT_ROWS_PER_S = 100_000
TARGET_ROLLUP_RATIO = 1.5
TARGET_OVERVIEW_P95_MS = 150.0
TARGET_IMPORT_GROWTH_MB = 64.0  # "flat": RSS may not grow more than this after the first 10 %


# ---------------------------------------------------------------- the fictitious city


def _bench_days(days: int, today: datetime.date) -> list[datetime.date]:
    """``days`` school days in one recent month before this one, if a month has that many."""
    month = month_start(today)
    for _ in range(24):
        month = month_start(month - datetime.timedelta(days=1))
        in_month = generator.school_days(month, next_month(month) - datetime.timedelta(days=1))
        if len(in_month) >= days:
            return in_month[:days]
    months_back = math.ceil(days / 18) + 1
    start = month_start(today)
    for _ in range(months_back):
        start = month_start(start - datetime.timedelta(days=1))
    return generator.school_days_from(start, days)


# ---------------------------------------------------------------- the command


class Command(BaseCommand):
    help = (
        "Benchmark the attendance import, rollup, staircase and school overview at "
        "Stockholm scale (default 90,000 students × 20 school days ≈ 10M lessons). "
        "PostgreSQL only, on a throwaway database whose name ends in 'bench' "
        "(see docs/PERFORMANCE.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--students", type=int, default=90_000)
        parser.add_argument("--days", type=int, default=20, help="School days (default 20).")
        parser.add_argument(
            "--requests", type=int, default=50, help="Overview page requests to time."
        )
        parser.add_argument(
            "--memory-pass",
            action=argparse.BooleanOptionalAction,
            default=True,
            help=(
                "After the timed pass, run each phase again under tracemalloc for its Python "
                "allocation peak (tracemalloc slows Python several-fold, so the timed pass "
                "runs without it)."
            ),
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="Leave the bench data in the database and the CSV file on disk.",
        )
        parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
        parser.add_argument(
            "--csv-dir", type=Path, default=None, help="Where the temporary CSV goes."
        )

    # ------------------------------------------------------------ safety

    def _refuse_unless_throwaway(self) -> str:
        return refuse_unless_throwaway("bench_attendance")

    # ------------------------------------------------------------ the run

    def handle(self, *args: Any, **options: Any) -> None:
        total, day_count = options["students"], options["days"]
        if total < 10 or day_count < 1 or options["requests"] < 1:
            raise CommandError("--students at least 10, --days and --requests at least 1.")
        database = self._refuse_unless_throwaway()
        with quiet("sst.audit", "celery", "kombu"):
            self._bench(database, total, day_count, options)

    def _bench(self, database: str, total: int, day_count: int, options: dict[str, Any]) -> None:
        out = self.stdout.write
        today = timezone.localdate()
        days = _bench_days(day_count, today)
        server = server_settings()
        out(
            f"Benchmark on {database!r} (PostgreSQL {server['server_version']}; "
            f"shared_buffers {server['shared_buffers']}, max_wal_size {server['max_wal_size']}, "
            f"autovacuum {server['autovacuum']}), "
            f"{os.cpu_count()} CPUs, load average {load_average()}: {total} students × {len(days)} "
            f"school days ({days[0]} – {days[-1]})."
        )
        out("Setup (not measured):")
        clock = time.perf_counter()
        clear_bench_data()
        city = build_city(total, today, out)
        out(f"  organisation and students in {time.perf_counter() - clock:.1f} s")

        csv_dir = options["csv_dir"] or Path(tempfile.gettempdir())
        fd, name = tempfile.mkstemp(prefix="bench_attendance_", suffix=".csv", dir=csv_dir)
        path = Path(name)
        try:
            clock = time.perf_counter()
            with os.fdopen(fd, "wb") as stream:
                rows = generator.write_csv(
                    generator.lesson_rows(city.students, days, seed=BENCH_SEED), stream
                )
            size = path.stat().st_size
            out(
                f"  CSV: {rows} lessons ({rows / total / len(days):.1f} a day), "
                f"{size / 2**20:,.0f} MB, written in {time.perf_counter() - clock:.1f} s"
            )
            del city.students[:]
            bench = _Bench(path, rows, city, options["requests"], out)
            bench.timed_pass()
            if options["memory_pass"]:
                bench.memory_pass()
            out(f"Load average at the end: {load_average()}.")
            bench.table()
        finally:
            if options["keep"]:
                out(f"CSV kept: {path}")
            else:
                path.unlink(missing_ok=True)
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
                "days": len(days),
                "first_day": days[0].isoformat(),
                "last_day": days[-1].isoformat(),
                "rows": rows,
                "csv_mb": round(size / 2**20, 1),
                "phases": {name: phase_json(phase) for name, phase in bench.phases.items()},
                "traced": {name: round(peak / 2**20, 1) for name, peak in bench.traced.items()},
            }
            options["json"].write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


class _Bench:
    """The measured phases. ``timed_pass`` first; ``memory_pass`` re-runs them traced."""

    def __init__(
        self, path: Path, rows: int, city: City, requests: int, out: Callable[[str], None]
    ) -> None:
        self.path, self.rows, self.city, self.requests, self.out = path, rows, city, requests, out
        self.phases: dict[str, Phase] = {}
        self.traced: dict[str, int] = {}  # phase → tracemalloc peak (bytes)
        self.months: list[datetime.date] = []

    # ------------------------------------------------------------ timed

    def timed_pass(self) -> None:
        out = self.out
        out("Measuring (tracemalloc off):")
        self._import()
        self._bare_copy()
        seconds = vacuum("attendance_lesson")
        out(f"  (VACUUM ANALYZE of the lessons, not measured: {seconds:.1f} s)")
        self._rollup()
        self._staircase()
        seconds = vacuum(
            "attendance_monthlyabsence", "attendance_alert", "attendance_alertrecipient"
        )
        out(f"  (VACUUM ANALYZE of the rollup and alerts, not measured: {seconds:.1f} s)")
        self._overview()

    def _import(self) -> None:
        """The real import; its database steps timed by the import itself (``StageSeconds``)."""
        stage = lessons.StageSeconds()
        commit_time = [0.0]
        original_commit = connection.commit

        def commit() -> None:
            start = time.perf_counter()
            try:
                original_commit()
            finally:
                commit_time[0] += time.perf_counter() - start

        checkpoint()
        connection.commit = commit  # type: ignore[method-assign]
        try:
            with self.path.open("rb") as stream, measure("import", trace=False) as phase:
                result = lessons.import_attendance(stream, by=None, stage_seconds=stage)
        finally:
            del connection.commit
        self.months = sorted(result.months)
        python = phase.seconds - stage.duplicates - stage.merge - commit_time[0]
        phase.extra = {
            "rows": result.rows,
            "created": result.created,
            "rows_per_s": result.rows / phase.seconds,
            "read_validate_copy_to_stage_s": python,
            "duplicate_check_s": stage.duplicates,
            "upsert_s": stage.merge,
            "commit_s": commit_time[0],
        }
        self.phases["import"] = phase
        self.out(
            f"  import_attendance: {result.rows} rows in {phase.seconds:.1f} s: read, validate "
            f"and COPY to the stage {python:.1f} s, duplicate check "
            f"{stage.duplicates:.1f} s, upsert {stage.merge:.1f} s, commit "
            f"{commit_time[0]:.1f} s"
        )

    def _bare_copy(self) -> None:
        checkpoint()
        with connection.cursor() as cursor:
            cursor.execute(
                """CREATE TABLE bench_bare_copy (personnummer text, skolenhetskod text,
                    datum date, starttid time, sluttid time, amne text, schemalagd_min integer,
                    franvaro_min integer, franvarotyp text)"""
            )
            with (
                self.path.open("rb") as stream,
                measure("bare_copy", trace=False) as phase,
                cursor.cursor.copy(
                    "COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', HEADER true)"
                ) as copy,
            ):
                while block := stream.read(1 << 20):
                    copy.write(block)
            cursor.execute("SELECT COUNT(*) FROM bench_bare_copy")
            copied = int(cursor.fetchone()[0])
            cursor.execute("DROP TABLE bench_bare_copy")
        phase.extra = {"rows": copied, "rows_per_s": copied / phase.seconds}
        self.phases["bare_copy"] = phase
        self.out(f"  bare COPY: {copied} rows in {phase.seconds:.1f} s")

    def _bare_aggregate(self, *, serial: bool = False) -> int:
        sql = f"""SELECT student_id, {_SUMS_SQL} FROM attendance_lesson
            WHERE date >= %s AND date < %s GROUP BY student_id"""  # noqa: S608 (constant SQL)
        count = 0
        with transaction.atomic(), connection.cursor() as cursor:
            if serial:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            for month in self.months:
                cursor.execute(sql, [month, next_month(month)])
                count += len(cursor.fetchall())
        return count

    def _rollup(self) -> None:
        self._bare_aggregate()  # warm-up: the same pages for everyone
        checkpoint()
        with measure("bare_aggregate", trace=False) as phase:
            phase.extra = {"students": self._bare_aggregate()}
        self.phases["bare_aggregate"] = phase
        with measure("bare_aggregate_serial", trace=False) as phase:
            phase.extra = {"students": self._bare_aggregate(serial=True)}
        self.phases["bare_aggregate_serial"] = phase
        checkpoint()
        with measure("rollup", trace=False) as phase:
            rolled = sum(rollup_month(month) for month in self.months)
        bare = self.phases["bare_aggregate"].seconds
        phase.extra = {"rows": rolled, "ratio": phase.seconds / bare}
        self.phases["rollup"] = phase
        # The nightly re-run: the same lessons, so no row changes (nothing is written).
        with measure("rollup_again", trace=False) as again:
            for month in self.months:
                rollup_month(month)
        again.extra = {"ratio": again.seconds / bare}
        self.phases["rollup_again"] = again
        self.out(
            f"  rollup_month: {rolled} students in {phase.seconds:.2f} s (again, lessons "
            f"unchanged: {again.seconds:.2f} s); bare GROUP BY {bare:.2f} s "
            f"({self.phases['bare_aggregate_serial'].seconds:.2f} s without parallel workers)"
        )

    def _staircase(self) -> None:
        checkpoint()
        with measure("staircase", trace=False) as phase:
            evaluations = [staircase.evaluate_month(month) for month in self.months]
        phase.extra = {
            "hits": sum(e.hits for e in evaluations),
            "new_alerts": sum(e.new_alerts for e in evaluations),
            "new_recipients": sum(e.new_recipients for e in evaluations),
        }
        self.phases["staircase"] = phase
        self.out(
            f"  evaluate_month: {phase.extra['hits']} rule hits, {phase.extra['new_alerts']} "
            f"alerts, {phase.extra['new_recipients']} recipients in {phase.seconds:.1f} s"
        )

    def _overview(self) -> None:
        school = self.city.schools[0]
        with measure("overview", trace=False) as phase:
            timings, what = _time_overview(
                self.city.principal, school, self.months[-1], self.requests
            )
        timings_ms = sorted(t * 1000 for t in timings)
        phase.extra = {
            "what": what,
            "requests": len(timings_ms),
            "median_ms": statistics.median(timings_ms),
            "p95_ms": timings_ms[min(len(timings_ms) - 1, math.ceil(0.95 * len(timings_ms)) - 1)],
            "max_ms": timings_ms[-1],
            "students_in_school": Student.objects.filter(school=school).count(),
        }
        self.phases["overview"] = phase
        self.out(f"  overview: {what}")

    # ------------------------------------------------------------ traced

    def memory_pass(self) -> None:
        """Each phase again under tracemalloc, for its Python allocation peak (not timed).

        The import runs on the first quarter of the file and on the whole file's first
        ``4 ×`` that (re-imports: the rows exist and are updated, the same code path): if
        memory is flat, four times the rows need about the same peak.
        """
        out = self.out
        out("Memory pass (tracemalloc on; these runs are not timed):")
        small = max(1, min(100_000, self.rows // 4))
        for label, count in (("import_small", small), ("import_large", 4 * small)):
            head = _head(self.path, count)
            try:
                with head.open("rb") as stream, measure(label, trace=True) as phase:
                    lessons.import_attendance(stream, by=None)
            finally:
                head.unlink(missing_ok=True)
            self.traced[label] = phase.traced_peak or 0
            self.phases[label] = phase
            phase.extra = {"rows": min(count, self.rows)}
            out(f"  import of {min(count, self.rows)} rows: Python peak {mb(phase.traced_peak)}")
        with measure("rollup_traced", trace=True) as phase:
            for month in self.months:
                rollup_month(month)
        self.traced["rollup"] = phase.traced_peak or 0
        empty_tables(
            "attendance_alertrecipient", "attendance_alert"
        )  # the alerts again, from nothing
        with measure("staircase_traced", trace=True) as phase:
            for month in self.months:
                staircase.evaluate_month(month)
        self.traced["staircase"] = phase.traced_peak or 0
        with measure("overview_traced", trace=True) as phase:
            _time_overview(self.city.principal, self.city.schools[0], self.months[-1], 5)
        self.traced["overview"] = phase.traced_peak or 0
        out(
            f"  rollup {mb(self.traced['rollup'])}, staircase {mb(self.traced['staircase'])}, "
            f"overview {mb(self.traced['overview'])}"
        )

    # ------------------------------------------------------------ report

    def table(self) -> None:
        out, phases, traced = self.out, self.phases, self.traced
        imp, copy = phases["import"], phases["bare_copy"]
        rollup, bare = phases["rollup"], phases["bare_aggregate"]
        serial, again = phases["bare_aggregate_serial"], phases["rollup_again"]
        stairs, overview = phases["staircase"], phases["overview"]
        ratio = rollup.extra["ratio"]
        p95 = overview.extra["p95_ms"]

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        lines = [
            (
                "import_attendance",
                f"{imp.extra['rows_per_s']:,.0f} rows/s ({imp.seconds:.1f} s)",
                f"≥ {TARGET_IMPORT_ROWS_PER_S:,} rows/s: "
                + verdict(imp.extra["rows_per_s"] >= TARGET_IMPORT_ROWS_PER_S),
                imp,
                traced.get("import_large"),
            ),
            (
                "  bare COPY, unindexed",
                f"{copy.extra['rows_per_s']:,.0f} rows/s ({copy.seconds:.1f} s)",
                "baseline",
                copy,
                None,
            ),
            (
                "rollup_month",
                f"{rollup.seconds:.2f} s (× {ratio:.2f} the bare GROUP BY)",
                f"≤ {TARGET_ROLLUP_RATIO} × bare: " + verdict(ratio <= TARGET_ROLLUP_RATIO),
                rollup,
                traced.get("rollup"),
            ),
            (
                "  again, unchanged",
                f"{again.seconds:.2f} s (× {again.extra['ratio']:.2f} the bare GROUP BY)",
                "–",
                again,
                None,
            ),
            ("  bare GROUP BY", f"{bare.seconds:.2f} s", "baseline", bare, None),
            (
                "  bare, no parallel",
                f"{serial.seconds:.2f} s (rollup × {rollup.seconds / serial.seconds:.2f})",
                "baseline",
                serial,
                None,
            ),
            (
                "evaluate_month",
                f"{stairs.seconds:.2f} s ({stairs.extra['new_alerts']:,} alerts)",
                "–",
                stairs,
                traced.get("staircase"),
            ),
            (
                "school overview",
                f"median {overview.extra['median_ms']:.0f} ms, p95 {p95:.0f} ms",
                f"p95 ≤ {TARGET_OVERVIEW_P95_MS:.0f} ms: " + verdict(p95 <= TARGET_OVERVIEW_P95_MS),
                overview,
                traced.get("overview"),
            ),
        ]
        header = ("phase", "figure", "target", "Python peak", "RSS peak Δ", "ru_maxrss Δ")
        table = [header] + [
            (
                name,
                figure,
                target,
                mb(peak),
                mb(phase.rss_peak - phase.rss_start),
                mb(phase.maxrss_delta_kb * 1024),
            )
            for name, figure, target, phase, peak in lines
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        out("")
        for number, row in enumerate(table):
            out(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
            if number == 0:
                out("-+-".join("-" * width for width in widths))
        out("")
        flat_rss = imp.rss_growth <= TARGET_IMPORT_GROWTH_MB * 2**20
        line = (
            f"Import memory: RSS {mb(imp.rss_at_10pct)} at 10 % of the import, peak "
            f"{mb(imp.rss_peak)} (growth {mb(imp.rss_growth)}, flat ≤ "
            f"{TARGET_IMPORT_GROWTH_MB:.0f} MB: {verdict(flat_rss)})"
        )
        if "import_small" in traced:
            small, large = traced["import_small"], traced["import_large"]
            rows_small = phases["import_small"].extra["rows"]
            rows_large = phases["import_large"].extra["rows"]
            flat_traced = large <= 1.25 * small + 2**20
            line += (
                f"; Python peak {mb(small)} for {rows_small} rows, {mb(large)} for "
                f"{rows_large} rows (flat: ≤ 1.25 ×: {verdict(flat_traced)})"
            )
        out(line + ".")
        out(f"Overview: {overview.extra['what']}.")


def _head(path: Path, rows: int) -> Path:
    """A copy of the file's header and first ``rows`` rows."""
    fd, name = tempfile.mkstemp(prefix="bench_head_", suffix=".csv", dir=path.parent)
    with path.open("rb") as source, os.fdopen(fd, "wb") as target:
        for number, line in enumerate(source):
            if number > rows:
                break
            target.write(line)
    return Path(name)


def _time_overview(
    principal: User, school: School, month: datetime.date, requests: int
) -> tuple[list[float], str]:
    """Request the school overview as its principal; its step-count query if there is none."""
    try:
        url = reverse("attendance:school_overview", kwargs={"unit_code": school.unit_code})
    except NoReverseMatch:
        url = None
    if url is not None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client = Client()
        device, _created = TOTPDevice.objects.get_or_create(
            user=principal, name="bench", defaults={"confirmed": True}
        )
        client.force_login(principal)
        session = client.session
        session["otp_device_id"] = device.persistent_id  # as after a verified code
        session.save()
        query = {"month": f"{month:%Y-%m}"}
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            first = client.get(url, query)
            if first.status_code == 200:
                for _ in range(2):  # warm-up
                    client.get(url, query)
                timings = []
                for _ in range(requests):
                    start = time.perf_counter()
                    response = client.get(url, query)
                    timings.append(time.perf_counter() - start)
                    if response.status_code != 200:
                        raise CommandError(f"The overview answered {response.status_code}.")
                return timings, (
                    f"GET {url}?month={month:%Y-%m} as the school's principal "
                    f"(django.test.Client in-process, {requests} requests after 3 warm-up)"
                )
        note = f"the overview page answered {first.status_code}; timed its query instead"
    else:
        note = "no school overview page yet; timed the step-count query instead"
    steps = (
        MonthlyAbsence.objects.filter(month=month, student__school=school)
        .values("step")
        .annotate(n=Count("pk"))
    )
    list(steps)
    timings = []
    for _ in range(requests):
        start = time.perf_counter()
        list(steps.all())
        timings.append(time.perf_counter() - start)
    return timings, note
