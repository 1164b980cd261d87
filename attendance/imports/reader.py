"""Reading a register export: blocks, decoding, CSV records, the header and its columns.

The file is streamed in 1 MB blocks (memory stays flat whatever its size), decoded with the
encoding detected on the way (UTF-8 with or without BOM, or Windows-1252 as Swedish Excel
writes it; a file that mixes them is refused) and parsed as semicolon-separated values with
a header row (columns in any order, names case-insensitive). Binary data and over-long lines
make the whole file "not a register export": they are refused as soon as the block holding
them is read, before the rows ahead of them. Errors name row numbers and problems — never the
personnummer itself.
"""

from __future__ import annotations

import csv
import datetime
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sst import personnummer as pnr

MAX_ERRORS = 200


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


def lines(stream: IO[bytes], on_bytes: Any = None) -> Iterator[str]:
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


def records(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
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


def header(
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


def width_error(values: list[str], width: int) -> str:
    return _("has %(got)d columns, the header has %(want)d") % {"got": len(values), "want": width}


def is_blank(values: list[str]) -> bool:
    return all(not v.strip() for v in values)


def read_rows(
    stream: IO[bytes],
    required: list[str],
    optional: Sequence[str] = (),
    on_bytes: Any = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (row number, {column: value}) for each data row; refuse a bad header at once."""
    rows = records(lines(stream, on_bytes))
    names = header(rows, required, list(optional))
    wanted = [(names.index(name), name) for name in [*required, *optional] if name in names]
    width = len(names)
    rows_seen = 0
    for line_no, values in rows:
        if is_blank(values):
            continue
        rows_seen += 1
        if len(values) != width:
            yield line_no, {"__error__": width_error(values, width)}
            continue
        yield line_no, {name: values[index].strip() for index, name in wanted}
    if rows_seen == 0:
        raise ImportRefused([_("The file has a header but no rows.")])


class RowErrors:
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


def too_long(row: dict[str, str], models: dict[str, Any], fields: dict[str, str]) -> str:
    """A message for the first value longer than its database column, else ''."""
    for column, model in models.items():
        limit = model._meta.get_field(fields[column]).max_length
        if limit and len(row.get(column, "")) > limit:
            return _("%(column)s is longer than %(limit)d characters") % {
                "column": column,
                "limit": limit,
            }
    return ""


def parse_pnr(value: str) -> pnr.Personnummer | str:
    try:
        return pnr.parse(value)
    except ValidationError as error:
        return str(error.messages[0])
