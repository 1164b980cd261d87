"""The lesson attendance import: rows checked, staged (COPY on PostgreSQL) and upserted.

One transaction: all rows or none. Lessons are upserted on (student, date, start time), so
re-importing a file never double-counts.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

try:  # the duplicate check on PostgreSQL relies on the upsert's own refusal
    from psycopg.errors import CardinalityViolation
except ImportError:  # pragma: no cover - psycopg is a dependency
    CardinalityViolation = Exception  # type: ignore[misc,assignment]
from django.utils.translation import gettext as _

from sst import access, crypto
from sst.models import (
    School,
    Student,
    User,
)

from ..locks import hold_student_register
from ..models import AbsenceType, ImportKind, ImportRun
from . import reader, runs

# ---------------------------------------------------------------- lesson attendance


BATCH = 20_000  # stage lines held before one COPY

ATTENDANCE_COLUMNS = [
    "personnummer",
    "skolenhetskod",
    "datum",
    "starttid",
    "sluttid",
    "amne",
    "schemalagd_min",
    "franvaro_min",
    "franvarotyp",
]
_TYPES = {
    "": AbsenceType.PRESENT,
    "giltig": AbsenceType.VALID,
    "ogiltig": AbsenceType.INVALID,
    "sen": AbsenceType.LATE,
}
_STAGE_COLUMNS = (
    "line_no",
    "student_id",
    "school_id",
    "date",
    "start_time",
    "end_time",
    "subject",
    "scheduled_min",
    "absent_min",
    "absence_type",
)


class _Problem:
    """What is wrong with a value: the message for its row."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _Memo(dict[Any, Any]):
    """A check memoised over the few distinct values a column has (students, dates, times).

    A file of millions of lessons has a few thousand distinct values per column: each is
    checked once. Memory stays bounded whatever the file: only valid results of short values
    are kept, at most ``limit`` of them; anything else is checked again each time it comes.
    """

    MAX_KEY = 64  # characters; longer values (and all wrong ones) are not kept

    def __init__(self, check: Any, limit: int = 10_000) -> None:
        super().__init__()
        self.check, self.limit = check, limit

    def __missing__(self, key: Any) -> Any:
        value = self.check(key)
        if (
            value.__class__ is not _Problem
            and len(self) < self.limit
            and (len(key) if isinstance(key, str) else sum(map(len, key))) <= self.MAX_KEY
        ):
            self[key] = value
        return value


def _parse_time(text: str) -> datetime.time:
    if len(text) not in (4, 5) or ":" not in text:
        raise ValueError(text)
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _LessonChecks:
    """Each column's check, on raw (unstripped) values; a valid value comes back as its text
    for the stage table (PostgreSQL's COPY text format), a wrong one as a ``_Problem``."""

    def __init__(self, school_scope: School | None, schools: QuerySet[School]) -> None:
        self.scope = school_scope
        self.schools = {s.unit_code: s.pk for s in schools}
        self.known: dict[str, int] | None = None  # every student's lookup hash → id, read once
        self.months: set[datetime.date] = set()

    def student(self, raw: str) -> str | _Problem:
        number = reader.parse_pnr(raw.strip())
        if isinstance(number, str):
            return _Problem(number)
        if self.known is None:
            # A school's file records lessons of its own students only: another school's
            # student is "no student" here (issue 13: nothing says where they are).
            self.known = _student_ids(self.scope)
        found = self.known.get(crypto.lookup_hash(number.value))
        if found is None:
            return _Problem(_("no student with this personal identity number"))
        return str(found)

    def school(self, raw: str) -> str | _Problem:
        school_id = self.schools.get(raw.strip())
        if school_id is None:
            return _Problem(_("unknown school unit code"))
        if self.scope is not None and school_id != self.scope.pk:
            return _Problem(_("the row belongs to another school than yours"))
        return str(school_id)

    def date(self, raw: str) -> str | _Problem:
        # Exactly what the message says: fromisoformat alone also takes 20261129 and ISO week
        # dates (2026-W48-7), which no attendance export writes and no one reading it expects.
        text = raw.strip()
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            day = datetime.date.fromisoformat(text)
        except ValueError:
            return _Problem(_("the date must be YYYY-MM-DD"))
        self.months.add(day.replace(day=1))
        return day.isoformat()

    def times(self, raw: tuple[str, str]) -> str | _Problem:
        try:
            start, end = _parse_time(raw[0].strip()), _parse_time(raw[1].strip())
        except ValueError:
            return _Problem(_("times must be HH:MM"))
        if end <= start:
            return _Problem(_("the lesson ends before it starts"))
        return f"{start.isoformat()}\t{end.isoformat()}"

    def minutes(self, raw: tuple[str, str, str]) -> str | _Problem:
        try:
            scheduled, absent = int(raw[0].strip()), int(raw[1].strip())
        except ValueError:
            return _Problem(_("minutes must be whole numbers"))
        if not 0 < scheduled <= 1440:
            return _Problem(_("scheduled minutes must be above 0"))
        if not 0 <= absent <= scheduled:
            return _Problem(_("absent minutes must be between 0 and the scheduled minutes"))
        kind = _TYPES.get(raw[2].strip().lower())
        if kind is None:
            return _Problem(_("absence type must be empty, giltig, ogiltig or sen"))
        if kind == AbsenceType.PRESENT and absent:
            return _Problem(_("absent minutes without an absence type"))
        return f"{scheduled}\t{absent}\t{kind.value}"

    @staticmethod
    def subject(raw: str) -> str:
        return raw.strip()[:80].translate(_COPY_ESCAPES)


def import_attendance(
    stream: IO[bytes],
    *,
    by: User | None,
    school_scope: School | None = None,
    run: ImportRun | None = None,
    stage_seconds: StageSeconds | None = None,
) -> reader.ImportResult:
    """Lessons upserted on (student, date, start time); re-importing never double-counts.

    The loop is the import's hot path (millions of rows): each value is looked up in a memo
    of its column's checks, and a valid row becomes one line of the stage's COPY text.
    """
    result, errors = reader.ImportResult(), reader.RowErrors()
    bytes_read = [0]

    def on_bytes(count: int) -> None:
        bytes_read[0] += count
        if run is not None:
            runs.import_run_progress(run, bytes_read[0])

    checks = _LessonChecks(school_scope, access.schools_importable_by(by))
    # 200,000 students: Stockholm, the largest municipality, has about 90,000 in compulsory
    # school. The other columns have a few dozen distinct values in a real export.
    students = _Memo(checks.student, limit=200_000)
    schools, dates = _Memo(checks.school), _Memo(checks.date)
    times, minutes, subjects = _Memo(checks.times), _Memo(checks.minutes), _Memo(checks.subject)
    with transaction.atomic():
        hold_student_register()
        records = reader.records(reader.lines(stream, on_bytes))
        names = reader.header(records, ATTENDANCE_COLUMNS, [])
        width = len(names)
        i_pnr, i_school, i_date, i_start, i_end, i_subject, i_scheduled, i_absent, i_type = (
            names.index(column) for column in ATTENDANCE_COLUMNS
        )
        stage = _Stage(connection.vendor, stage_seconds or StageSeconds())
        lines, batch = stage.lines, BATCH
        rows = 0
        for row_no, v in records:
            if len(v) != width:
                if not reader.is_blank(v):
                    rows += 1
                    errors.add(row_no, reader.width_error(v, width))
                continue
            student = students[v[i_pnr]]
            school = schools[v[i_school]]
            day = dates[v[i_date]]
            period = times[v[i_start], v[i_end]]
            amounts = minutes[v[i_scheduled], v[i_absent], v[i_type]]
            rows += 1
            if (
                student.__class__ is _Problem
                or school.__class__ is _Problem
                or day.__class__ is _Problem
                or period.__class__ is _Problem
                or amounts.__class__ is _Problem
            ):
                if student.__class__ is _Problem and reader.is_blank(v):
                    rows -= 1  # a row of separators only is skipped, like an empty line
                    continue
                # A school's file knows only its own students, so a row of another school
                # is about the school first (its student is "unknown" too).
                first = (school, student) if checks.scope is not None else (student, school)
                problem = next(
                    value for value in (*first, day, period, amounts) if value.__class__ is _Problem
                )
                errors.add(row_no, problem.message)
                continue
            if errors.count:
                continue  # keep validating, stop writing
            lines.append(
                f"{row_no}\t{student}\t{school}\t{day}\t{period}\t{subjects[v[i_subject]]}"
                f"\t{amounts}\n"
            )
            if len(lines) >= batch:
                stage.flush()
        if rows == 0:
            raise reader.ImportRefused([_("The file has a header but no rows.")])
        result.rows = rows
        errors.raise_if_any()
        merged = stage.merge()
        if merged is None:
            raise reader.ImportRefused(
                [
                    _("Rows %(first)d and %(second)d: the same student, date and start time twice.")
                    % {"first": a, "second": b}
                    for a, b in stage.duplicates()
                ]
            )
        result.created, result.updated = merged
        result.months = checks.months
        runs.audit_import(
            by,
            ImportKind.ATTENDANCE,
            result,
            run,
            detail={"students": len(set(students.values()))},
        )
    return result


def _student_ids(school: School | None = None) -> dict[str, int]:
    """Every student's (of ``school``, if given) lookup hash → id in one query: a file names
    thousands of students, and one query each would be a network round trip each (the
    import's largest cost)."""
    students = Student.objects.order_by()
    if school is not None:
        students = students.filter(school=school)
    return dict(students.values_list("personnummer_hash", "pk"))


def _from_copy_text(line: str) -> list[str]:
    """A stage line's values (for SQLite, which has no COPY)."""
    values = line[:-1].split("\t")
    subject = values[6]
    if "\\" in subject:
        subject = re.sub(r"\\(.)", lambda m: _COPY_UNESCAPES.get(m[1], m[1]), subject)
    values[6] = subject
    return values


_COPY_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


@dataclass
class StageSeconds:
    """Where an import's database time went after the rows were staged (the benchmark reads
    it; pass one to ``import_attendance``): the duplicate check and the upsert."""

    duplicates: float = 0.0
    merge: float = 0.0

    @contextmanager
    def timing(self, part: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            setattr(self, part, getattr(self, part) + time.perf_counter() - start)


class _Stage:
    """Rows go to a temporary table (COPY on PostgreSQL), then one upsert into lessons.

    ``lines`` holds rows in COPY's text format (tab-separated, the subject escaped).
    """

    def __init__(self, vendor: str, seconds: StageSeconds) -> None:
        self.vendor = vendor
        self.seconds = seconds
        self.lines: list[str] = []
        self.cursor = connection.cursor()
        self.cursor.execute("DROP TABLE IF EXISTS attendance_stage")
        temp = "TEMPORARY" if vendor in {"postgresql", "sqlite"} else ""
        self.cursor.execute(
            f"""CREATE {temp} TABLE attendance_stage (
                line_no integer, student_id bigint, school_id bigint, date date,
                start_time time, end_time time, subject varchar(80), scheduled_min integer,
                absent_min integer, absence_type varchar(8))"""
        )

    def flush(self) -> None:
        if not self.lines:
            return
        if self.vendor == "postgresql":
            raw = self.cursor.cursor  # psycopg 3 cursor
            with raw.copy(
                f"COPY attendance_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN"
            ) as copy:
                copy.write("".join(self.lines))
        else:
            self.cursor.executemany(
                f"INSERT INTO attendance_stage VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                [_from_copy_text(line) for line in self.lines],
            )
        self.lines.clear()

    def duplicates(self) -> list[tuple[int, int]]:
        with self.seconds.timing("duplicates"):
            return self._duplicates()

    def _duplicates(self) -> list[tuple[int, int]]:
        self.flush()
        self.cursor.execute(
            """SELECT MIN(line_no), MAX(line_no) FROM attendance_stage
               GROUP BY student_id, date, start_time HAVING COUNT(*) > 1
               ORDER BY 1 LIMIT 20"""
        )
        return [(int(a), int(b)) for a, b in self.cursor.fetchall()]

    _UPSERT = """INSERT INTO attendance_lesson (student_id, school_id, date, start_time,
                   end_time, subject, scheduled_min, absent_min, absence_type)
               SELECT student_id, school_id, date, start_time, end_time, subject,
                   scheduled_min, absent_min, absence_type FROM attendance_stage WHERE true
               ON CONFLICT (student_id, date, start_time) DO UPDATE SET
                   school_id = EXCLUDED.school_id, end_time = EXCLUDED.end_time,
                   subject = EXCLUDED.subject, scheduled_min = EXCLUDED.scheduled_min,
                   absent_min = EXCLUDED.absent_min, absence_type = EXCLUDED.absence_type"""

    def merge(self) -> tuple[int, int] | None:
        """Upsert the staged rows; (added, updated), or None when the file repeats a lesson."""
        with self.seconds.timing("merge"):
            return self._merge()

    def _merge(self) -> tuple[int, int] | None:
        self.flush()
        if self.vendor == "postgresql":
            # PostgreSQL refuses an upsert that meets the same key twice: that is the
            # duplicate check, at no cost when there is none. (xmax = 0) marks new rows.
            try:
                with transaction.atomic():
                    self.cursor.execute(
                        f"""WITH upserted AS ({self._UPSERT} RETURNING (xmax = 0) AS added)
                            SELECT COUNT(*) FILTER (WHERE added), COUNT(*) FROM upserted"""
                    )
                    added, total = self.cursor.fetchone()
            except DatabaseError as error:
                if not isinstance(error.__cause__, CardinalityViolation):
                    raise
                return None
        else:
            # SQLite would let the last of two equal rows win: look for repeats first.
            if self.duplicates():
                return None
            self.cursor.execute(
                """SELECT COUNT(*), SUM(CASE WHEN l.id IS NULL THEN 1 ELSE 0 END)
                   FROM attendance_stage s LEFT JOIN attendance_lesson l
                   ON l.student_id = s.student_id AND l.date = s.date
                  AND l.start_time = s.start_time"""
            )
            total, added = self.cursor.fetchone()
            self.cursor.execute(self._UPSERT)
        self.cursor.execute("DROP TABLE attendance_stage")
        return int(added or 0), int(total) - int(added or 0)
