"""The fictitious city the benchmarks build, and how they measure (docs/PERFORMANCE.md).

Shared by ``bench_attendance`` and ``reports``' ``bench_reports``: the safety checks (a
throwaway PostgreSQL database whose name ends in ``bench``, holding no students of its own),
150 schools in 13 districts with 90,000 students (municipality code 9998) by bulk insert,
their removal, and the phase timer with its RSS sampler (every 20 ms).
"""

from __future__ import annotations

import datetime
import gc
import logging
import math
import os
import re
import resource
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from attendance import generator
from sst import access, crypto
from sst.models import (
    District,
    Grade,
    MentorGroup,
    Municipality,
    Role,
    RoleMembership,
    School,
    Student,
    User,
)
from sst.personnummer import Personnummer, luhn_check_digit

SAFE_DATABASE = re.compile(r"(^|[_-])bench$|^test_")
BENCH_MUNICIPALITY_CODE = "9998"
BENCH_MUNICIPALITY_NAME = "Benchby kommun (benchmark)"
BENCH_USER_PREFIX = "bench."
BENCH_SEED = 20260301
STUDENTS_PER_SCHOOL = 600
GROUP_SIZE = 25
DISTRICTS = 13
GRADES: tuple[str, ...] = tuple(Grade.values)
SERIALS = range(980, 1000)  # birth serials 980–999: fictitious, as in the demo


# ---------------------------------------------------------------- measuring


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the high-water mark is all we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler(threading.Thread):
    """Samples the resident set size every few milliseconds while a phase runs."""

    def __init__(self, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.perf_counter(), rss_bytes()))
            self.done.wait(self.interval)

    def stop(self) -> None:
        self.done.set()
        self.join()


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    rss_start: int = 0
    rss_peak: int = 0
    rss_at_10pct: int = 0
    maxrss_delta_kb: int = 0
    traced_peak: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_growth(self) -> int:
        """Peak RSS above the RSS at 10 % of the phase's time: flat memory keeps this small."""
        return max(0, self.rss_peak - self.rss_at_10pct)


@contextmanager
def measure(name: str, *, trace: bool) -> Iterator[Phase]:
    phase = Phase(name)
    gc.collect()
    sampler = RssSampler()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    phase.rss_start = rss_bytes()
    if trace:
        tracemalloc.start()
    sampler.start()
    start = time.perf_counter()
    try:
        yield phase
    finally:
        end = time.perf_counter()
        sampler.stop()
        phase.seconds = end - start
        if trace:
            phase.traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        samples = sampler.samples or [(end, phase.rss_start)]
        phase.rss_peak = max(rss for _t, rss in samples)
        early = [rss for t, rss in samples if t <= start + 0.1 * phase.seconds]
        phase.rss_at_10pct = max(early) if early else phase.rss_start
        phase.maxrss_delta_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss


def mb(value: int | None) -> str:
    return "–" if value is None else f"{value / 2**20:,.0f} MB"


def checkpoint() -> bool:
    """Start each phase with no dirty buffers left over from the last one (superuser only)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:  # not allowed for this user: the figures are a little noisier
        return False
    return True


# ---------------------------------------------------------------- the fictitious city


def bench_personnummer(
    grade_index: int, number_in_grade: int, school_year: int
) -> tuple[str, bool]:
    """A fictitious number: birth year from the grade, serial 980–999, then +60 day numbers."""
    year = school_year - 6 - grade_index
    day_of_year = number_in_grade % 365
    serial = SERIALS[(number_in_grade // 365) % len(SERIALS)]
    coordination = number_in_grade // (365 * len(SERIALS))
    if coordination > 1:
        raise CommandError(f"At most {2 * 365 * len(SERIALS) * len(GRADES)} students.")
    born = datetime.date(year, 1, 1) + datetime.timedelta(days=day_of_year)
    yymmdd = f"{born:%y%m}{born.day + 60 * coordination:02d}"
    check = luhn_check_digit(f"{yymmdd}{serial}")
    return f"{year:04d}{yymmdd[2:]}{serial}{check}", bool(coordination)


@dataclass
class City:
    municipality: Municipality
    schools: list[School]
    students: list[generator.GenStudent]
    principal: User
    groups: int = 0
    users: int = 0


def build_city(total: int, today: datetime.date, out: Callable[[str], None]) -> City:
    """Schools, groups, students and staff with bulk inserts; returns what the bench needs."""
    municipality = Municipality.objects.create(
        code=BENCH_MUNICIPALITY_CODE, name=BENCH_MUNICIPALITY_NAME
    )
    districts = District.objects.bulk_create(
        District(municipality=municipality, name=f"Bench-stadsdel {n + 1:02d}")
        for n in range(DISTRICTS)
    )
    school_count = max(1, math.ceil(total / STUDENTS_PER_SCHOOL))
    schools = School.objects.bulk_create(
        School(
            district=districts[n % len(districts)],
            name=f"Benchskolan {n + 1:03d}",
            unit_code=f"98{n + 1:06d}",
        )
        for n in range(school_count)
    )
    # Students: school by school, grade by grade, classes of about GROUP_SIZE.
    per_school = math.ceil(total / school_count)
    plan: list[tuple[int, int, int]] = []  # (school, grade, group) per student
    group_keys: dict[tuple[int, int, int], None] = {}
    for index in range(total):
        school, position = divmod(index, per_school)
        in_school = min(per_school, total - school * per_school)
        grade = position * len(GRADES) // in_school
        per_grade = max(1, math.ceil(in_school / len(GRADES)))
        groups_in_grade = max(1, round(per_grade / GROUP_SIZE))
        key = (school, grade, position % groups_in_grade)
        plan.append(key)
        group_keys.setdefault(key)
    groups = dict(
        zip(
            group_keys,
            MentorGroup.objects.bulk_create(
                (
                    MentorGroup(school=schools[s], name=f"{GRADES[g]}{chr(65 + n)}")
                    for s, g, n in group_keys
                ),
                batch_size=5000,
            ),
            strict=True,
        )
    )
    school_year = today.year if today.month >= 7 else today.year - 1
    in_grade = [0] * len(GRADES)
    profiles = generator.profiles(total, seed=BENCH_SEED)
    rows, students = [], []
    for index, (school, grade, group) in enumerate(plan):
        number, coordination = bench_personnummer(grade, in_grade[grade], school_year)
        in_grade[grade] += 1
        rows.append(
            Student(
                personnummer_ciphertext=crypto.encrypt(number),
                personnummer_hash=crypto.lookup_hash(number),
                is_coordination_number=coordination,
                earliest_birth_date=Personnummer(number).earliest_birth_date,
                first_name="Bench",
                last_name=f"Elev {index + 1}",
                school=schools[school],
                mentor_group=groups[school, grade, group],
                grade=GRADES[grade],
                gender="other",
            )
        )
        students.append(
            generator.GenStudent(number, schools[school].unit_code, GRADES[grade], profiles[index])
        )
    Student.objects.bulk_create(rows, batch_size=5000)

    # Staff: a principal and a counsellor per school, a mentor per group (alert recipients).
    password = make_password(None)
    people: list[tuple[str, str, School | None, MentorGroup | None]] = []
    for unit in schools:
        people.append((f"rektor.{unit.unit_code}", Role.PRINCIPAL, unit, None))
        people.append((f"kurator.{unit.unit_code}", Role.COUNSELLOR, unit, None))
    for mentor_group in groups.values():
        name = f"mentor.{mentor_group.school.unit_code}.{mentor_group.name}"
        people.append((name, Role.MENTOR, None, mentor_group))
    users = User.objects.bulk_create(
        (
            User(username=f"{BENCH_USER_PREFIX}{name}", password=password, first_name="Bench")
            for name, *_rest in people
        ),
        batch_size=5000,
    )
    RoleMembership.objects.bulk_create(
        (
            RoleMembership(user=user, role=role, school=school, mentor_group=group)
            for user, (_name, role, school, group) in zip(users, people, strict=True)
        ),
        batch_size=5000,
    )
    principal = users[0]
    access.sync_user_permissions(principal)
    out(
        f"  {len(schools)} schools in {len(districts)} districts, {len(groups)} mentor groups, "
        f"{total} students, {len(users)} staff"
    )
    return City(municipality, schools, students, principal, len(groups), len(users))


def empty_tables(*tables: str) -> None:
    """TRUNCATE (the checks made sure only bench data is there); DELETE inside a test's
    transaction, where deferred foreign-key checks still pending forbid TRUNCATE."""
    names = [connection.ops.quote_name(table) for table in tables]
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            for name in names:
                cursor.execute(f"DELETE FROM {name}")  # noqa: S608 (our own table names)
        else:
            cursor.execute(f"TRUNCATE {', '.join(names)} CASCADE")


def clear_bench_data() -> None:
    """Remove what an earlier run left (the checks ensure there is nothing else to remove)."""
    municipality = Municipality.objects.filter(code=BENCH_MUNICIPALITY_CODE).first()
    empty_tables(
        "attendance_lesson",
        "attendance_monthlyabsence",
        "attendance_alertrecipient",
        "attendance_alert",
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
    User.objects.filter(username__startswith=BENCH_USER_PREFIX).delete()
    if municipality is None:
        return
    schools = School.objects.filter(district__municipality=municipality)
    Student.objects.filter(school__in=schools)._raw_delete(connection.alias)  # type: ignore[attr-defined]
    MentorGroup.objects.filter(school__in=schools).delete()
    schools.delete()
    District.objects.filter(municipality=municipality).delete()
    municipality.delete()


def refuse_unless_throwaway(command: str) -> str:
    """The safety checks (docs/PERFORMANCE.md): the database's name, settings and content."""
    if settings.PRODUCTION:
        raise CommandError(f"{command} refuses to run in production (SST_ENVIRONMENT=production).")
    if connection.vendor != "postgresql":
        raise CommandError(
            f"{command} needs PostgreSQL; this database is {connection.vendor}. "
            "Create a throwaway database and point DATABASE_URL at it, e.g.\n"
            "  createdb -h 127.0.0.1 -U postgres sst_bench\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_bench "
            "manage.py migrate\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/sst_bench "
            f"manage.py {command}"
        )
    name = str(connection.settings_dict["NAME"])
    if not SAFE_DATABASE.search(name):
        raise CommandError(
            f"The database {name!r} is not a throwaway benchmark database: its name must "
            "end in 'bench' (e.g. sst_bench). The benchmark writes and deletes millions "
            "of rows; it never runs against a database with real data."
        )
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError(f"Run `manage.py migrate` on {name!r} first.")
    others = Student.objects.exclude(
        school__district__municipality__code=BENCH_MUNICIPALITY_CODE
    ).count()
    if others:
        raise CommandError(
            f"The database {name!r} holds {others} students the benchmark did not create: "
            "use an empty database made for benchmarking."
        )
    return name


@contextmanager
def quiet(*names: str) -> Iterator[None]:
    """The audit trail echoes every write and the overview's every request to the log."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def server_settings() -> dict[str, str]:
    names = (
        "server_version",
        "shared_buffers",
        "max_wal_size",
        "synchronous_commit",
        "work_mem",
        "autovacuum",
    )
    with connection.cursor() as cursor:
        values = {}
        for name in names:
            cursor.execute(f"SHOW {name}")
            values[name] = str(cursor.fetchone()[0])
    return values


def vacuum(*tables: str) -> float:
    """What autovacuum does after a bulk write (it may be off, as on a CI database server):
    visibility map, hint bits and planner statistics. Tests run inside a transaction, where
    VACUUM is not allowed: ANALYZE only."""
    clock = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            cursor.execute(f"{verb} {connection.ops.quote_name(table)}")
    return time.perf_counter() - clock


def phase_json(phase: Phase) -> dict[str, Any]:
    return {
        "seconds": round(phase.seconds, 3),
        "rss_start_mb": round(phase.rss_start / 2**20, 1),
        "rss_peak_mb": round(phase.rss_peak / 2**20, 1),
        "rss_growth_after_10pct_mb": round(phase.rss_growth / 2**20, 1),
        "ru_maxrss_delta_mb": round(phase.maxrss_delta_kb / 1024, 1),
        "tracemalloc_peak_mb": None
        if phase.traced_peak is None
        else round(phase.traced_peak / 2**20, 1),
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in phase.extra.items()},
    }
