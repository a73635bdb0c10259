"""Moving a table through a file: JSON lines, or the CSV of Supabase's table editor.

Export streams the table in key order with one canonical encoding (object keys sorted, no
whitespace, UTF-8), so export -> import -> export gives the same bytes whichever stores are
involved: Postgres' jsonb reorders object keys and drops whitespace, SQLite keeps what it was
given. Import streams the file and writes only the keys whose value differs, one transaction
per batch, so importing twice changes nothing; then it reads the file again and checks every
key against the store. Bad lines and values a store cannot hold are reported with their line
and key, never dropped silently.

The CSV is what the dashboard's "Export to CSV" writes (Papa Parse): a `key,value` header,
CRLF between records and none after the last, a field quoted only when it holds a comma, a
quote, a line break, a BOM or a leading or trailing space, objects and arrays as JSON text.
The dashboard writes a string value bare (`dark`, not `"dark"`) and null as an empty field;
kvgraph writes every value as JSON and reads both.

A stored value kvgraph cannot read as JSON (text that is not JSON, a lone surrogate, nesting
deeper than a decoder goes: see `jsontext`) is exported as its stored text, flagged: a
`{"key": ..., "raw": "<stored text>"}` line, or a CSV record `key,<stored text>,raw` (a third
field `raw`). Import writes such a row's text back as it is, as far as the store can hold it
(SQLite and a text column keep it; a jsonb column refuses text that is not JSON), so the same
bytes come back. Numbers keep their exact digits both ways (`jsontext.Number`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

import orjson

from gql.kv import jsontext
from gql.kv.base import JSON, SCAN_PAGE, Raw, RefusedError, Store, loads

FORMATS = ("jsonl", "csv")
BATCH = 500
CSV_HEADER = ("key", "value")
RAW = "raw"  # the JSON-lines member, and the CSV record's third field, of a raw row
CSV_NEWLINE = b"\r\n"
_CSV_QUOTE_IF = ("\r", "\n", '"', "\ufeff", ",")
_BOM = b"\xef\xbb\xbf"
T = TypeVar("T")


class TransferError(Exception):
    """The file as a whole cannot be read (e.g. a CSV whose header is not key,value)."""


def canonical(value: JSON) -> bytes:
    """The one encoding of a value: sorted object keys, no whitespace, UTF-8, exact numbers."""
    return jsontext.canonical(value)


def format_of(path: str, given: str | None = None) -> str:
    """The format asked for, else `csv` for a .csv file, else JSON lines."""
    if given:
        return given
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def parse_json(text: bytes | str) -> JSON:
    """Parse JSON text exactly (numbers keep their digits, a value nested too deep is kept as
    its text), keeping lone surrogates (the store then says it cannot hold them).

    NaN and Infinity are refused (ValueError), never turned into something else.
    """
    return jsontext.decode(text, lone_surrogates=True)


# ------------------------------------------------------------------------------ export


def csv_field(text: str) -> str:
    """A CSV field quoted the way Papa Parse (the dashboard's exporter) quotes it."""
    escaped = text.replace('"', '""')
    if any(c in escaped for c in _CSV_QUOTE_IF) or escaped[:1] == " " or escaped[-1:] == " ":
        return f'"{escaped}"'
    return escaped


def encode_row(key: str, value: JSON, fmt: str) -> bytes:
    """One row as the format writes it (a CSV record without its line break)."""
    if fmt == "csv":
        return f"{csv_field(key)},{csv_field(canonical(value).decode())}".encode()
    return canonical({"key": key, "value": value}) + b"\n"


def encode_raw_row(key: str, raw: str, fmt: str) -> bytes:
    """A raw row (a value kvgraph cannot read, as its stored text), flagged `raw`."""
    if fmt == "csv":
        return f"{csv_field(key)},{csv_field(raw)},{RAW}".encode()
    return canonical({"key": key, RAW: raw}) + b"\n"


@dataclass(frozen=True)
class RawValue:
    """A value exported as its stored text (or, when even that cannot be written, skipped)."""

    key: str
    reason: str


@dataclass
class ExportReport:
    """How many rows an export wrote, and the values it could not write as JSON."""

    rows: int = 0
    raw: list[RawValue] = field(default_factory=list)  # written as stored text, flagged
    skipped: list[RawValue] = field(default_factory=list)  # not text at all: not written

    @property
    def clean(self) -> bool:
        """Every value was written as JSON."""
        return not (self.raw or self.skipped)


def unreadable_reason(value: JSON | jsontext.Unreadable) -> str | None:
    """Why a decoded stored value cannot be written as JSON (None: it can)."""
    if isinstance(value, jsontext.Unreadable):
        return value.reason
    kept = jsontext.kept(value)
    if not kept:
        return None
    return "; ".join(f"{name} {part.reason}" for name, part in kept.items())


async def export_table(
    store: Store, out: BinaryIO, fmt: str, progress: Callable[[int], None] | None = None
) -> ExportReport:
    """Write every row to `out` in key order, a page at a time; values kvgraph cannot read
    are written as their stored text, flagged, and listed in the report."""
    report = ExportReport()
    if fmt == "csv":
        out.write(",".join(CSV_HEADER).encode())
    async for key, raw in store.iter_prefix_raw(""):
        row = _export_row(key, raw, fmt, report)
        if row is None:
            continue
        out.write(CSV_NEWLINE + row if fmt == "csv" else row)
        report.rows += 1
        if progress is not None and report.rows % SCAN_PAGE == 0:
            progress(report.rows)
    return report


def _export_row(key: str, raw: Raw, fmt: str, report: ExportReport) -> bytes | None:
    value = loads(raw)
    why = unreadable_reason(value)
    if why is None:
        return encode_row(key, value, fmt)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            report.skipped.append(RawValue(key, f"{why}: not written (not UTF-8 text)"))
            return None
    report.raw.append(RawValue(key, why))
    return encode_raw_row(key, raw, fmt)


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Row:
    """A row of the file and the line it starts on: a value, or (`raw`) stored text."""

    line: int
    key: str
    value: JSON
    raw: str | None = None


@dataclass(frozen=True)
class BadLine:
    """A line that holds no row kvgraph can import, and why."""

    line: int
    reason: str


class Reader:
    """The rows of an export file, counting lines and bytes as it goes."""

    def __init__(self, handle: BinaryIO, fmt: str) -> None:
        self.handle, self.fmt = handle, fmt
        self.line = 0
        self.bytes = 0
        self._not_utf8: set[int] = set()

    def __iter__(self) -> Iterator[Row | BadLine]:
        return self._csv() if self.fmt == "csv" else self._jsonl()

    def _lines(self) -> Iterator[bytes]:
        for raw in self.handle:
            self.line += 1
            self.bytes += len(raw)
            yield raw.removeprefix(_BOM) if self.line == 1 else raw

    def _jsonl(self) -> Iterator[Row | BadLine]:
        for raw in self._lines():
            if not raw.strip():
                continue
            try:
                doc = parse_json(raw)
            except ValueError as exc:
                yield BadLine(self.line, f"not JSON ({exc})")
                continue
            yield _jsonl_row(self.line, doc)

    def _text(self) -> Iterator[str]:
        for raw in self._lines():
            try:
                yield raw.decode()
            except UnicodeDecodeError:
                self._not_utf8.add(self.line)
                yield raw.decode(errors="replace")

    def _csv(self) -> Iterator[Row | BadLine]:
        csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # values can be large
        records = csv.reader(self._text(), strict=True)
        header: list[str] | None = None
        while True:
            start = self.line + 1
            try:
                record = next(records)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadLine(start, f"not CSV ({exc})")
                continue
            if not record:
                continue
            if header is None:
                header = _header(record)
                continue
            if self._not_utf8 & set(range(start, self.line + 1)):
                yield BadLine(start, "not UTF-8")
                continue
            yield _csv_row(start, header, record)


def _jsonl_row(line: int, doc: JSON) -> Row | BadLine:
    if isinstance(doc, dict) and isinstance(doc.get("key"), str):
        if set(doc) == {"key", "value"}:
            return Row(line, doc["key"], doc["value"])
        if set(doc) == {"key", RAW} and isinstance(doc[RAW], str):
            return Row(line, doc["key"], None, doc[RAW])
    return BadLine(line, 'not a row: expected {"key": "...", "value": ...} (or "raw": "...")')


def _header(record: list[str]) -> list[str]:
    if sorted(record) != sorted(CSV_HEADER):
        raise TransferError(
            f"the CSV's header is {','.join(record)!r}: expected the columns key and value"
        )
    return record


def _csv_row(line: int, header: list[str], record: list[str]) -> Row | BadLine:
    if len(record) == len(header) + 1 and record[-1] == RAW:
        cells = dict(zip(header, record, strict=False))
        return Row(line, cells["key"], None, cells["value"])
    if len(record) != len(header):
        return BadLine(line, f"{len(record)} fields where the header has {len(header)}")
    cells = dict(zip(header, record, strict=True))
    try:
        return Row(line, cells["key"], csv_value(cells["value"]))
    except ValueError as exc:
        return BadLine(line, f"the value is not JSON ({exc})")


def csv_value(cell: str) -> JSON:
    """A value field: JSON text, or (as the dashboard writes them) a bare string or empty null."""
    if cell == "":
        return None
    try:
        return parse_json(cell)
    except ValueError:
        if cell.lstrip()[:1] in {"{", "[", '"'}:
            raise  # JSON that is broken, not a bare string
        return cell


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Refused:
    """A row the store cannot hold (NUL on Postgres, a lone surrogate), and the store's words."""

    line: int
    key: str
    reason: str


@dataclass
class ImportReport:
    """What an import read, wrote and verified, and everything it could not import."""

    keys: int = 0  # distinct keys the store could hold
    written: int = 0
    unchanged: int = 0
    verified: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Every row imported and found again in the store."""
        return not (self.bad_lines or self.refused or self.mismatched)


@dataclass(frozen=True)
class Step:
    """How far one pass over the file has got."""

    phase: str  # "import" or "verify"
    done: int  # bytes read
    total: int  # bytes in the file
    rows: int


Progress = Callable[[Step], None]


async def import_file(
    store: Store,
    handle: BinaryIO,
    fmt: str,
    *,
    total: int,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an export file (`total` bytes, seekable) in batches, then verify it."""
    report = ImportReport()
    first: dict[str, int] = {}  # key -> the line it was imported from
    reader = Reader(handle, fmt)
    rows = 0
    for chunk in _batches(reader, batch):
        accepted = _accept(chunk, first, report)
        await _write(store, accepted, report)
        rows += len(chunk)
        if progress is not None:
            progress(Step("import", reader.bytes, total, rows))
    refused = {item.key for item in report.refused}
    report.keys = len(first) - len(refused)
    handle.seek(0)
    reader = Reader(handle, fmt)
    rows = 0
    for chunk in _batches(reader, batch):
        wanted = [
            row
            for row in chunk
            if isinstance(row, Row) and first.get(row.key) == row.line and row.key not in refused
        ]
        await _verify(store, wanted, report)
        rows += len(chunk)
        if progress is not None:
            progress(Step("verify", reader.bytes, total, rows))
    return report


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _accept(chunk: list[Row | BadLine], first: dict[str, int], report: ImportReport) -> list[Row]:
    """The rows of a batch to write; bad lines, duplicates and unstorable text reported."""
    accepted = []
    for item in chunk:
        if isinstance(item, BadLine):
            report.bad_lines.append(item)
        elif item.key in first:
            reason = f"duplicate key {item.key!r} (first on line {first[item.key]})"
            report.bad_lines.append(BadLine(item.line, reason))
        else:
            first[item.key] = item.line
            try:
                item.key.encode()
                if item.raw is None:
                    canonical(item.value)
                else:
                    item.raw.encode()
            except (UnicodeEncodeError, orjson.JSONEncodeError):
                reason = "it holds a lone surrogate (not valid UTF-8), which no store can hold"
                report.refused.append(Refused(item.line, item.key, reason))
                continue
            accepted.append(item)
    return accepted


async def _write(store: Store, rows: list[Row], report: ImportReport) -> None:
    """Write a batch in one transaction; if the store refuses it, find the rows it refuses."""
    refused = len(report.refused)
    try:
        written = await _write_changed(store, rows)
    except RefusedError:
        written = 0
        for row in rows:
            try:
                written += await _write_changed(store, [row])
            except RefusedError as exc:
                report.refused.append(Refused(row.line, row.key, str(exc)))
    report.written += written
    report.unchanged += len(rows) - written - (len(report.refused) - refused)


async def _write_changed(store: Store, rows: list[Row]) -> int:
    """Write the rows whose stored value differs (or is missing); return how many."""
    stored = await store.get_many_raw([row.key for row in rows])
    changed = [row for row, raw in zip(rows, stored, strict=True) if not _holds(raw, row)]
    values = {row.key: row.value for row in changed if row.raw is None}
    raws = {row.key: row.raw for row in changed if row.raw is not None}
    if values:
        await store.set_many(values)
    if raws:
        await store.set_many_raw(raws)
    return len(changed)


def _holds(stored: Raw | None, row: Row) -> bool:
    """Whether the stored text already holds the row (its value, or its exact raw text)."""
    if stored is None:
        return False
    if row.raw is not None:
        return stored == row.raw
    return _canonical(loads(stored)) == canonical(row.value)


def _canonical(value: JSON) -> bytes | None:
    """The canonical bytes of a stored value (None: it cannot be read)."""
    try:
        return canonical(value)
    except orjson.JSONEncodeError:
        return None


def _normalized(stored: Raw, raw: str) -> bool:
    """Whether a raw row's text was kept as the same JSON, normalized by the store (a
    Postgres jsonb column respells a value nested too deep for a decoder)."""
    try:
        text = stored.decode() if isinstance(stored, bytes) else stored
        return jsontext.canonical_text(text) == jsontext.canonical_text(raw)
    except (jsontext.Undecodable, UnicodeDecodeError):
        return False


async def _verify(store: Store, rows: list[Row], report: ImportReport) -> None:
    raws = await store.get_many_raw([row.key for row in rows])
    for row, raw in zip(rows, raws, strict=True):
        if raw is None:
            report.mismatched.append(f"{row.key!r} (line {row.line}) is missing from the store")
        elif _holds(raw, row) or (row.raw is not None and _normalized(raw, row.raw)):
            report.verified += 1
        else:
            report.mismatched.append(f"{row.key!r} (line {row.line}) holds another value")
