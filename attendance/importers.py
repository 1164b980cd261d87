"""CSV imports: school register, student register, lesson attendance.

Every import is one transaction: all rows or none. The file is streamed (memory stays flat
whatever its size): bytes are decoded line by line with the encoding detected on the way
(UTF-8 with or without BOM, or Windows-1252 as Swedish Excel writes it; a file that mixes
them is refused), parsed as semicolon-separated values with a header row (columns in any
order, names case-insensitive), validated row by row and written in batches. Any error
rolls everything back and the report names row numbers and problems — never the
personnummer itself.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, transaction

try:  # the duplicate check on PostgreSQL relies on the upsert's own refusal
    from psycopg.errors import CardinalityViolation
except ImportError:  # pragma: no cover - psycopg is a dependency
    CardinalityViolation = Exception  # type: ignore[misc,assignment]
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import services as case_services
from cases.models import Grade, Student
from sst import audit, crypto
from sst import personnummer as pnr
from sst.models import District, MentorGroup, Municipality, Role, RoleMembership, School, User

from .models import AbsenceType, ImportKind, ImportRun, ImportStatus

logger = logging.getLogger(__name__)

MAX_ERRORS = 200
BATCH = 20_000
PROGRESS_EVERY = 50_000


class ImportRefused(Exception):
    """The file cannot be imported; nothing was written."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    warnings: list[str] = field(default_factory=list)
    months: set[datetime.date] = field(default_factory=set)


# ---------------------------------------------------------------- reading the file


class _Decoder:
    """Decode lines one by one, settling on UTF-8 or Windows-1252 at the first non-ASCII byte."""

    def __init__(self) -> None:
        self.encoding: str | None = None

    def decode(self, raw: bytes, line_no: int) -> str:
        if b"\x00" in raw:
            raise ImportRefused([_("The file is not a text file (it contains binary data).")])
        if raw.isascii():
            return raw.decode("ascii")
        if self.encoding is None:
            try:
                text = raw.decode("utf-8")
                self.encoding = "utf-8"
                return text
            except UnicodeDecodeError:
                self.encoding = "cp1252"
        if self.encoding == "utf-8":
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ImportRefused(
                    [
                        _("Row %(row)d: the file mixes character encodings (UTF-8 and another).")
                        % {"row": line_no}
                    ]
                ) from None
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise ImportRefused(
                [
                    _("Row %(row)d: the file mixes character encodings (Windows-1252 and UTF-8).")
                    % {"row": line_no}
                ]
            )
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportRefused(
                [_("Row %(row)d: the text is in an unknown character encoding.") % {"row": line_no}]
            ) from None


MAX_LINE_BYTES = 64 * 1024


def _bounded_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """Lines of at most MAX_LINE_BYTES: a file without line breaks never fills memory."""
    line_no = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line_no += 1
        if len(raw) > MAX_LINE_BYTES:
            if b"\x00" in raw:
                raise ImportRefused([_("The file is not a text file (it contains binary data).")])
            raise ImportRefused(
                [
                    _("Row %(row)d is longer than 64 kB: this is not a register export.")
                    % {"row": line_no}
                ]
            )
        yield raw


def _lines(stream: IO[bytes], on_bytes: Any = None) -> Iterator[str]:
    decoder = _Decoder()
    first = True
    for line_no, raw in enumerate(_bounded_lines(stream), 1):
        if on_bytes is not None:
            on_bytes(len(raw))
        if first:
            first = False
            if raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                decoder.encoding = "utf-8"
        yield decoder.decode(raw, line_no)


def read_rows(
    stream: IO[bytes],
    required: list[str],
    optional: list[str] = (),
    on_bytes: Any = None,  # type: ignore[assignment]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {column: value}) for each data row; refuse a bad header at once."""
    reader = csv.reader(_lines(stream, on_bytes), delimiter=";")
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRefused([_("The file is empty.")]) from None
    except csv.Error:
        raise ImportRefused([_("The first row could not be read as a header.")]) from None
    names = [name.strip().lower() for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise ImportRefused(
            [
                _("Columns missing: %(missing)s. Expected: %(expected)s (separated by ;).")
                % {"missing": ", ".join(missing), "expected": ";".join(required + list(optional))}
            ]
        )
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        raise ImportRefused([_("Columns repeated: %(cols)s.") % {"cols": ", ".join(duplicates)}])
    wanted = [(names.index(name), name) for name in [*required, *optional] if name in names]
    width = len(names)
    rows_seen = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:
            raise ImportRefused(
                [_("Row %(row)d could not be read (broken quoting).") % {"row": reader.line_num}]
            ) from None
        if not values or all(not v.strip() for v in values):
            continue
        rows_seen += 1
        if len(values) != width:
            yield (
                reader.line_num,
                {
                    "__error__": _("has %(got)d columns, the header has %(want)d")
                    % {"got": len(values), "want": width}
                },
            )
            continue
        yield reader.line_num, {name: values[index].strip() for index, name in wanted}
    if rows_seen == 0:
        raise ImportRefused([_("The file has a header but no rows.")])


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.count = 0

    def add(self, row: int, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(_("Row %(row)d: %(message)s") % {"row": row, "message": message})

    def raise_if_any(self) -> None:
        if self.count:
            items = list(self.items)
            if self.count > len(items):
                items.append(_("… and %(more)d more problems.") % {"more": self.count - len(items)})
            raise ImportRefused(items)


def _too_long(row: dict[str, str], models: dict[str, Any], fields: dict[str, str]) -> str:
    """A message for the first value longer than its database column, else ''."""
    for column, model in models.items():
        limit = model._meta.get_field(fields[column]).max_length
        if limit and len(row.get(column, "")) > limit:
            return _("%(column)s is longer than %(limit)d characters") % {
                "column": column,
                "limit": limit,
            }
    return ""


def _parse_pnr(value: str) -> pnr.Personnummer | str:
    try:
        return pnr.parse(value)
    except ValidationError as error:
        return str(error.messages[0])


# ---------------------------------------------------------------- school register


SCHOOL_COLUMNS = ["skolenhetskod", "namn", "stadsdel"]


def import_schools(
    stream: IO[bytes], *, municipality: Municipality, by: User | None, run: ImportRun | None = None
) -> ImportResult:
    result, errors = ImportResult(), _Errors()
    with transaction.atomic():
        districts = {d.name.lower(): d for d in municipality.districts.all()}
        schools = {s.unit_code: s for s in School.objects.select_related("district")}
        seen: set[str] = set()
        for row_no, row in read_rows(stream, SCHOOL_COLUMNS):
            result.rows += 1
            if "__error__" in row:
                errors.add(row_no, row["__error__"])
                continue
            code, name, district_name = row["skolenhetskod"], row["namn"], row["stadsdel"]
            if not (len(code) == 8 and code.isascii() and code.isdigit()):
                errors.add(row_no, _("the school unit code must have 8 digits"))
                continue
            if code in seen:
                errors.add(row_no, _("the school unit code appears twice in the file"))
                continue
            seen.add(code)
            if not name or not district_name:
                errors.add(row_no, _("name and district are required"))
                continue
            too_long = _too_long(
                row, {"namn": School, "stadsdel": District}, {"namn": "name", "stadsdel": "name"}
            )
            if too_long:
                errors.add(row_no, too_long)
                continue
            if errors.count:
                continue
            district = districts.get(district_name.lower())
            if district is None:
                district = District.objects.create(municipality=municipality, name=district_name)
                districts[district_name.lower()] = district
            school = schools.get(code)
            if school is None:
                School.objects.create(unit_code=code, name=name, district=district)
                result.created += 1
            elif school.district.municipality_id != municipality.pk:
                errors.add(row_no, _("the school belongs to another municipality"))
            elif (school.name, school.district_id) != (name, district.pk):
                school.name, school.district = name, district
                school.save(update_fields=["name", "district"])
                result.updated += 1
        errors.raise_if_any()
        _audit_import(by, ImportKind.SCHOOLS, result, run)
    return result


# ---------------------------------------------------------------- student register


STUDENT_COLUMNS = ["personnummer", "fornamn", "efternamn", "skolenhetskod", "klass", "arskurs"]
STUDENT_OPTIONAL = ["mentor_epost", "kon"]
_GENDERS = {
    "flicka": "girl",
    "f": "girl",
    "k": "girl",
    "pojke": "boy",
    "p": "boy",
    "m": "boy",
    "annat": "other",
    "": "other",
}
_GRADES = {g.value for g in Grade}


def import_students(
    stream: IO[bytes],
    *,
    by: User | None,
    school_scope: School | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    result, errors = ImportResult(), _Errors()
    with transaction.atomic():
        schools = {s.unit_code: s for s in School.objects.all()}
        groups = {(g.school_id, g.name.lower()): g for g in MentorGroup.objects.all()}
        mentors = {
            u.email.lower(): u for u in User.objects.exclude(email="").filter(is_active=True)
        }
        seen: set[str] = set()
        for row_no, row in read_rows(stream, STUDENT_COLUMNS, STUDENT_OPTIONAL):
            result.rows += 1
            if "__error__" in row:
                errors.add(row_no, row["__error__"])
                continue
            number = _parse_pnr(row["personnummer"])
            if isinstance(number, str):
                errors.add(row_no, number)
                continue
            if number.value in seen:
                errors.add(row_no, _("the same personal identity number appears twice"))
                continue
            seen.add(number.value)
            school = schools.get(row["skolenhetskod"])
            if school is None:
                errors.add(row_no, _("unknown school unit code"))
                continue
            if school_scope is not None and school.pk != school_scope.pk:
                errors.add(row_no, _("the row belongs to another school than yours"))
                continue
            grade = row["arskurs"].upper()
            if grade not in _GRADES:
                errors.add(row_no, _("grade must be F or 1–9"))
                continue
            gender = _GENDERS.get(row.get("kon", "").lower())
            if gender is None:
                errors.add(row_no, _("gender must be flicka, pojke or annat (or empty)"))
                continue
            if not row["fornamn"] or not row["efternamn"] or not row["klass"]:
                errors.add(row_no, _("first name, last name and class are required"))
                continue
            too_long = _too_long(
                row,
                {
                    "fornamn": Student,
                    "efternamn": Student,
                    "klass": MentorGroup,
                    "mentor_epost": MentorGroup,
                },
                {
                    "fornamn": "first_name",
                    "efternamn": "last_name",
                    "klass": "name",
                    "mentor_epost": "pending_mentor_email",
                },
            )
            if too_long:
                errors.add(row_no, too_long)
                continue
            if row.get("mentor_epost"):
                try:
                    validate_email(row["mentor_epost"])
                except ValidationError:
                    errors.add(row_no, _("the mentor e-mail is not a valid address"))
                    continue
            if errors.count:
                continue  # keep validating, stop writing
            group = groups.get((school.pk, row["klass"].lower()))
            if group is None:
                group = MentorGroup.objects.create(school=school, name=row["klass"])
                groups[(school.pk, row["klass"].lower())] = group
            _student, created = case_services.student_upsert(
                personnummer=number,
                first_name=row["fornamn"],
                last_name=row["efternamn"],
                school=school,
                mentor_group=group,
                grade=grade,
                gender=gender,
                by=by,
            )
            result.created += created
            result.updated += not created
            email = row.get("mentor_epost", "").lower()
            if email:
                mentor = mentors.get(email)
                if mentor is None:
                    if group.pending_mentor_email != email:
                        group.pending_mentor_email = email
                        group.save(update_fields=["pending_mentor_email"])
                    result.warnings.append(
                        _(
                            "Row %(row)d: no user has the mentor e-mail yet; the mentor gets the "
                            "class when their account exists."
                        )
                        % {"row": row_no}
                    )
                else:
                    _ensure_mentor(mentor, group, by)
        errors.raise_if_any()
        _audit_import(by, ImportKind.STUDENTS, result, run)
    return result


def _ensure_mentor(user: User, group: MentorGroup, by: User | None) -> None:
    from sst import services as sst_services

    if (
        not RoleMembership.objects.active()
        .filter(user=user, role=Role.MENTOR, mentor_group=group)
        .exists()
    ):
        sst_services.membership_save(
            membership=RoleMembership(user=user, role=Role.MENTOR, mentor_group=group), by=by
        )


def link_pending_mentors(user: User, *, by: User | None = None) -> int:
    """Give a new or changed user the classes whose register named their e-mail."""
    if not user.email:
        return 0
    groups = list(MentorGroup.objects.filter(pending_mentor_email__iexact=user.email))
    for group in groups:
        _ensure_mentor(user, group, by)
        group.pending_mentor_email = ""
        group.save(update_fields=["pending_mentor_email"])
    return len(groups)


# ---------------------------------------------------------------- lesson attendance


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


class _Cache(dict[str, Any]):
    """Memoise a parser over the few distinct values a column has (dates, times)."""

    def __init__(self, parse: Any) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, key: str) -> Any:
        try:
            value = self.parse(key)
        except ValueError:
            value = None
        if len(self) < 100_000:
            self[key] = value
        return value


def _parse_time(text: str) -> datetime.time:
    if len(text) not in (4, 5) or ":" not in text:
        raise ValueError(text)
    hours, minutes = text.split(":")
    return datetime.time(int(hours), int(minutes))


def import_attendance(
    stream: IO[bytes],
    *,
    by: User | None,
    school_scope: School | None = None,
    run: ImportRun | None = None,
) -> ImportResult:
    """Lessons upserted on (student, date, start time); re-importing never double-counts."""
    result, errors = ImportResult(), _Errors()
    bytes_read = [0]

    def on_bytes(count: int) -> None:
        bytes_read[0] += count

    dates = _Cache(datetime.date.fromisoformat)
    times = _Cache(_parse_time)
    schools = {s.unit_code: s.pk for s in School.objects.all()}
    students: dict[str, int | str] = {}
    known: dict[str, int] | None = None  # every student's lookup hash → id, read once
    vendor = connection.vendor
    with transaction.atomic():
        stage = _Stage(vendor)
        for row_no, row in read_rows(stream, ATTENDANCE_COLUMNS, on_bytes=on_bytes):
            result.rows += 1
            if "__error__" in row:
                errors.add(row_no, row["__error__"])
                continue
            raw_pnr = row["personnummer"]
            student_id = students.get(raw_pnr)
            if student_id is None:
                if known is None:
                    known = _student_ids()
                student_id = _student_id(raw_pnr, known)
                students[raw_pnr] = student_id
            if isinstance(student_id, str):
                errors.add(row_no, student_id)
                continue
            school_id = schools.get(row["skolenhetskod"])
            if school_id is None:
                errors.add(row_no, _("unknown school unit code"))
                continue
            if school_scope is not None and school_id != school_scope.pk:
                errors.add(row_no, _("the row belongs to another school than yours"))
                continue
            day = dates[row["datum"]]
            if day is None:
                errors.add(row_no, _("the date must be YYYY-MM-DD"))
                continue
            start, end = times[row["starttid"]], times[row["sluttid"]]
            if start is None or end is None:
                errors.add(row_no, _("times must be HH:MM"))
                continue
            if end <= start:
                errors.add(row_no, _("the lesson ends before it starts"))
                continue
            try:
                scheduled, absent = int(row["schemalagd_min"]), int(row["franvaro_min"])
            except ValueError:
                errors.add(row_no, _("minutes must be whole numbers"))
                continue
            if not 0 < scheduled <= 1440:
                errors.add(row_no, _("scheduled minutes must be above 0"))
                continue
            if not 0 <= absent <= scheduled:
                errors.add(row_no, _("absent minutes must be between 0 and the scheduled minutes"))
                continue
            kind = _TYPES.get(row["franvarotyp"].lower())
            if kind is None:
                errors.add(row_no, _("absence type must be empty, giltig, ogiltig or sen"))
                continue
            if kind == AbsenceType.PRESENT and absent:
                errors.add(row_no, _("absent minutes without an absence type"))
                continue
            if errors.count:
                continue
            result.months.add(day.replace(day=1))
            stage.add(
                (
                    row_no,
                    student_id,
                    school_id,
                    day,
                    start,
                    end,
                    row["amne"][:80],
                    scheduled,
                    absent,
                    kind.value,
                )
            )
            if result.rows % PROGRESS_EVERY == 0 and run is not None:
                _progress(run, bytes_read[0])
        errors.raise_if_any()
        merged = stage.merge()
        if merged is None:
            raise ImportRefused(
                [
                    _("Rows %(first)d and %(second)d: the same student, date and start time twice.")
                    % {"first": a, "second": b}
                    for a, b in stage.duplicates()
                ]
            )
        result.created, result.updated = merged
        _audit_import(
            by,
            ImportKind.ATTENDANCE,
            result,
            run,
            detail={"students": sum(1 for v in students.values() if isinstance(v, int))},
        )
    return result


def _student_ids() -> dict[str, int]:
    """Every student's lookup hash → id in one query: a file names thousands of students, and
    one query each would be a network round trip each (the import's largest cost)."""
    return dict(Student.objects.order_by().values_list("personnummer_hash", "pk"))


def _student_id(raw: str, known: dict[str, int] | None = None) -> int | str:
    number = _parse_pnr(raw)
    if isinstance(number, str):
        return number
    digest = crypto.lookup_hash(number.value)
    if known is not None:
        found = known.get(digest)
    else:
        found = (
            Student.objects.filter(personnummer_hash=digest).values_list("pk", flat=True).first()
        )
    return found if found is not None else _("no student with this personal identity number")


class _Stage:
    """Rows go to a temporary table (COPY on PostgreSQL), then one upsert into lessons."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.buffer: list[tuple[Any, ...]] = []
        self.cursor = connection.cursor()
        self.cursor.execute("DROP TABLE IF EXISTS attendance_stage")
        temp = "TEMPORARY" if vendor in {"postgresql", "sqlite"} else ""
        self.cursor.execute(
            f"""CREATE {temp} TABLE attendance_stage (
                line_no integer, student_id bigint, school_id bigint, date date,
                start_time time, end_time time, subject varchar(80), scheduled_min integer,
                absent_min integer, absence_type varchar(8))"""
        )

    def add(self, row: tuple[Any, ...]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        if self.vendor == "postgresql":
            raw = self.cursor.cursor  # psycopg 3 cursor
            with raw.copy(
                f"COPY attendance_stage ({', '.join(_STAGE_COLUMNS)}) FROM STDIN"
            ) as copy:
                for row in self.buffer:
                    copy.write_row(row)
        else:
            self.cursor.executemany(
                f"INSERT INTO attendance_stage VALUES ({', '.join(['%s'] * len(_STAGE_COLUMNS))})",
                [
                    (*r[:3], r[3].isoformat(), r[4].isoformat(), r[5].isoformat(), *r[6:])
                    for r in self.buffer
                ],
            )
        self.buffer.clear()

    def duplicates(self) -> list[tuple[int, int]]:
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


# ---------------------------------------------------------------- bookkeeping


def _audit_import(
    by: User | None,
    kind: str,
    result: ImportResult,
    run: ImportRun | None,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        user=by,
        action=audit.AuditAction.CREATE,
        object_type=f"import_{kind}",
        object_id=str(run.public_id) if run else "",
        detail={
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            **(detail or {}),
        },
    )


def _progress_key(run: ImportRun) -> str:
    return f"attendance-import-progress:{run.public_id}"


def _progress(run: ImportRun, bytes_read: int) -> None:
    cache.set(_progress_key(run), bytes_read, timeout=3600)


def progress_pct(run: ImportRun) -> int:
    """How far the import has read its file, in per cent.

    Kept in the cache: the import's own transaction is not visible to others until it ends.
    """
    if run.status in {ImportStatus.SUCCEEDED, ImportStatus.FAILED}:
        return 100
    if not run.file_size:
        return 0
    return min(99, int(int(cache.get(_progress_key(run)) or 0) * 100 / run.file_size))


IMPORTERS = {
    ImportKind.SCHOOLS: import_schools,
    ImportKind.STUDENTS: import_students,
    ImportKind.ATTENDANCE: import_attendance,
}


def run_import(
    run: ImportRun, stream: IO[bytes], *, municipality: Municipality | None = None
) -> ImportRun:
    """Run an import and record its outcome on ``run`` (outside the import's transaction)."""
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)
    try:
        if run.kind == ImportKind.SCHOOLS:
            municipality = municipality or _municipality_of(run)
            result = import_schools(stream, municipality=municipality, by=run.uploaded_by, run=run)
        else:
            result = IMPORTERS[run.kind](  # type: ignore[operator]
                stream, by=run.uploaded_by, school_scope=run.school_scope, run=run
            )
    except ImportRefused as refused:
        run.status, run.errors = ImportStatus.FAILED, refused.errors
        months = []
    except Exception:
        # A bug must not leave the run "running" for ever; the details go to the log only.
        logger.exception("Import %s stopped on an unexpected error", run.public_id)
        run.status = ImportStatus.FAILED
        run.errors = [_("The import stopped on an unexpected error. Nothing was imported.")]
        months = []
    else:
        run.status = ImportStatus.SUCCEEDED
        run.rows_total = run.rows_done = result.rows
        run.created_count, run.updated_count = result.created, result.updated
        run.warnings = result.warnings[:MAX_ERRORS]
        months = sorted(result.months)
    run.finished_at = timezone.now()
    run.save(
        update_fields=[
            "status",
            "errors",
            "warnings",
            "rows_total",
            "rows_done",
            "created_count",
            "updated_count",
            "finished_at",
        ]
    )
    if run.status == ImportStatus.SUCCEEDED and run.kind == ImportKind.ATTENDANCE:
        from .tasks import rollup_and_evaluate

        # The months the file touched are recomputed, oldest first (rules look back a month).
        for month in months:
            transaction.on_commit(lambda m=month: rollup_and_evaluate.delay(m.isoformat()))
    return run


def _municipality_of(run: ImportRun) -> Municipality:
    membership = (
        RoleMembership.objects.active()
        .filter(user=run.uploaded_by, role=Role.ADMINISTRATOR, municipality__isnull=False)
        .select_related("municipality")
        .first()
    )
    if membership is not None:
        return membership.municipality  # type: ignore[return-value]
    return Municipality.objects.get()


def stored_file(run: ImportRun) -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR) / f"{run.public_id}.csv"


def run_stored_import(import_run_id: int) -> str:
    """The background task's body: import the uploaded file, then delete it."""
    run = ImportRun.objects.select_related("uploaded_by", "school_scope").get(pk=import_run_id)
    if run.status not in {ImportStatus.QUEUED, ImportStatus.RUNNING}:
        return run.status  # already done: running it twice changes nothing
    path = stored_file(run)
    if not path.exists():
        run.status, run.errors = ImportStatus.FAILED, [_("The uploaded file is gone.")]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "errors", "finished_at"])
        return run.status
    try:
        with path.open("rb") as stream:
            run_import(run, io.BufferedReader(stream, buffer_size=1 << 20))  # type: ignore[arg-type]
    finally:
        path.unlink(missing_ok=True)
    return run.status
