"""CSV imports: school register, student register, lesson attendance.

Every import is one transaction: all rows or none. The file is streamed in 1 MB blocks
(memory stays flat whatever its size), decoded with the encoding detected on the way (UTF-8
with or without BOM, or Windows-1252 as Swedish Excel writes it; a file that mixes them is
refused), parsed as semicolon-separated values with a header row (columns in any order,
names case-insensitive), validated row by row and written in batches. Any error rolls
everything back and the report names row numbers and problems — never the personnummer
itself. Binary data and over-long lines make the whole file "not a register export": they
are refused as soon as the block holding them is read, before the rows ahead of them.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import logging
import re
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

from sst import audit, crypto
from sst import personnummer as pnr
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
from sst.services import student_upsert

from .locks import hold_student_register
from .models import AbsenceType, ImportKind, ImportRun, ImportStatus

logger = logging.getLogger(__name__)

MAX_ERRORS = 200
BATCH = 20_000


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
BLOCK_BYTES = 1 << 20


def _raw_blocks(stream: IO[bytes], on_bytes: Any = None) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, whole lines) in blocks of about BLOCK_BYTES.

    Memory stays bounded: a line longer than MAX_LINE_BYTES (its line break included) is
    refused as soon as it is seen, and binary data (a NUL byte) at once.
    """
    rest = b""
    line_no = 1
    while chunk := stream.read(BLOCK_BYTES):
        if on_bytes is not None:
            on_bytes(len(chunk))
        if b"\x00" in chunk:
            raise ImportRefused([_("The file is not a text file (it contains binary data).")])
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        block, rest = data[:cut], data[cut:]
        if block:
            lines = block.count(b"\n")
            if len(block) > MAX_LINE_BYTES and max(map(len, block.split(b"\n"))) >= MAX_LINE_BYTES:
                _refuse_long_line(block, line_no)
            yield line_no, block
            line_no += lines
        if len(rest) > MAX_LINE_BYTES:
            _refuse_long_line(rest, line_no)
    if rest:
        yield line_no, rest


def _refuse_long_line(block: bytes, line_no: int) -> None:
    for offset, line in enumerate(block.split(b"\n")):
        if len(line) >= MAX_LINE_BYTES:
            raise ImportRefused(
                [
                    _("Row %(row)d is longer than 64 kB: this is not a register export.")
                    % {"row": line_no + offset}
                ]
            )


class _Unterminated(str):
    """The file's last line when no line break ends it."""


def _lines(stream: IO[bytes], on_bytes: Any = None) -> Iterator[str]:
    """The file's lines as text, without their line breaks (a final empty line is dropped).

    A block that decodes as UTF-8 in one go is split at once; otherwise its lines go through
    ``_Decoder`` one by one, which settles the encoding and names the row of a mix.
    """
    decoder = _Decoder()
    first = True
    for line_no, block in _raw_blocks(stream, on_bytes):
        if first:
            first = False
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
                decoder.encoding = "utf-8"
        if not block.endswith(b"\n"):  # the last line, without a line break
            yield _Unterminated(decoder.decode(block, line_no))
            continue
        block = block[:-1]
        if decoder.encoding != "cp1252":
            try:
                text = block.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if decoder.encoding is None and not block.isascii():
                    decoder.encoding = "utf-8"
                yield from text.split("\n")
                continue
        for offset, raw in enumerate(block.split(b"\n")):
            yield decoder.decode(raw, line_no + offset)


class _BrokenQuoting(ImportRefused):
    pass


def _records(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(row number, values) for every record, blank ones included, as ``csv.reader`` reads
    them with ``;`` — which the few lines with quotes or stray carriage returns go through.

    The row number is the file line the record ends on, as ``csv.reader.line_num`` counts.
    """
    line_no = 0
    for line in lines:
        line_no += 1
        if '"' not in line:
            if "\r" not in line:
                yield line_no, line.split(";")
                continue
            if line.find("\r") == len(line) - 1:
                yield line_no, line[:-1].split(";")
                continue
        # csv.reader reads only as many lines as the record needs.
        reader = csv.reader(
            (
                more if more.__class__ is _Unterminated else more + "\n"
                for more in itertools.chain([line], lines)
            ),
            delimiter=";",
        )
        try:
            values = next(reader)
        except csv.Error:
            raise _BrokenQuoting(
                [
                    _("Row %(row)d could not be read (broken quoting).")
                    % {"row": line_no + reader.line_num - 1}
                ]
            ) from None
        line_no += reader.line_num - 1
        yield line_no, values


def _header(
    records: Iterator[tuple[int, list[str]]], required: list[str], optional: list[str]
) -> list[str]:
    """The header's column names (lower case); a bad header is refused at once."""
    try:
        _line, header = next(records)
    except StopIteration:
        raise ImportRefused([_("The file is empty.")]) from None
    except _BrokenQuoting:
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
    return names


def _width_error(values: list[str], width: int) -> str:
    return _("has %(got)d columns, the header has %(want)d") % {"got": len(values), "want": width}


def _is_blank(values: list[str]) -> bool:
    return all(not v.strip() for v in values)


def read_rows(
    stream: IO[bytes],
    required: list[str],
    optional: list[str] = (),
    on_bytes: Any = None,  # type: ignore[assignment]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {column: value}) for each data row; refuse a bad header at once."""
    records = _records(_lines(stream, on_bytes))
    names = _header(records, required, list(optional))
    wanted = [(names.index(name), name) for name in [*required, *optional] if name in names]
    width = len(names)
    rows_seen = 0
    for line_no, values in records:
        if _is_blank(values):
            continue
        rows_seen += 1
        if len(values) != width:
            yield line_no, {"__error__": _width_error(values, width)}
            continue
        yield line_no, {name: values[index].strip() for index, name in wanted}
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
            _student, created = student_upsert(
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


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _LessonChecks:
    """Each column's check, on raw (unstripped) values; a valid value comes back as its text
    for the stage table (PostgreSQL's COPY text format), a wrong one as a ``_Problem``."""

    def __init__(self, school_scope: School | None) -> None:
        self.scope = school_scope
        self.schools = {s.unit_code: s.pk for s in School.objects.all()}
        self.known: dict[str, int] | None = None  # every student's lookup hash → id, read once
        self.months: set[datetime.date] = set()

    def student(self, raw: str) -> str | _Problem:
        number = _parse_pnr(raw.strip())
        if isinstance(number, str):
            return _Problem(number)
        if self.known is None:
            self.known = _student_ids()
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
        try:
            day = datetime.date.fromisoformat(raw.strip())
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
) -> ImportResult:
    """Lessons upserted on (student, date, start time); re-importing never double-counts.

    The loop is the import's hot path (millions of rows): each value is looked up in a memo
    of its column's checks, and a valid row becomes one line of the stage's COPY text.
    """
    result, errors = ImportResult(), _Errors()
    bytes_read = [0]

    def on_bytes(count: int) -> None:
        bytes_read[0] += count
        if run is not None:
            _progress(run, bytes_read[0])

    checks = _LessonChecks(school_scope)
    # 200,000 students: Stockholm, the largest municipality, has about 90,000 in compulsory
    # school. The other columns have a few dozen distinct values in a real export.
    students = _Memo(checks.student, limit=200_000)
    schools, dates = _Memo(checks.school), _Memo(checks.date)
    times, minutes, subjects = _Memo(checks.times), _Memo(checks.minutes), _Memo(checks.subject)
    with transaction.atomic():
        hold_student_register()
        records = _records(_lines(stream, on_bytes))
        names = _header(records, ATTENDANCE_COLUMNS, [])
        width = len(names)
        i_pnr, i_school, i_date, i_start, i_end, i_subject, i_scheduled, i_absent, i_type = (
            names.index(column) for column in ATTENDANCE_COLUMNS
        )
        stage = _Stage(connection.vendor)
        lines, batch = stage.lines, BATCH
        rows = 0
        for row_no, v in records:
            if len(v) != width:
                if not _is_blank(v):
                    rows += 1
                    errors.add(row_no, _width_error(v, width))
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
                if student.__class__ is _Problem and _is_blank(v):
                    rows -= 1  # a row of separators only is skipped, like an empty line
                    continue
                problem = next(
                    value
                    for value in (student, school, day, period, amounts)
                    if value.__class__ is _Problem
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
            raise ImportRefused([_("The file has a header but no rows.")])
        result.rows = rows
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
        result.months = checks.months
        _audit_import(
            by,
            ImportKind.ATTENDANCE,
            result,
            run,
            detail={"students": len(set(students.values()))},
        )
    return result


def _student_ids() -> dict[str, int]:
    """Every student's lookup hash → id in one query: a file names thousands of students, and
    one query each would be a network round trip each (the import's largest cost)."""
    return dict(Student.objects.order_by().values_list("personnummer_hash", "pk"))


def _from_copy_text(line: str) -> list[str]:
    """A stage line's values (for SQLite, which has no COPY)."""
    values = line[:-1].split("\t")
    subject = values[6]
    if "\\" in subject:
        subject = re.sub(r"\\(.)", lambda m: _COPY_UNESCAPES.get(m[1], m[1]), subject)
    values[6] = subject
    return values


_COPY_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


class _Stage:
    """Rows go to a temporary table (COPY on PostgreSQL), then one upsert into lessons.

    ``lines`` holds rows in COPY's text format (tab-separated, the subject escaped).
    """

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
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
