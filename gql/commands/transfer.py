"""`kvgraph export` and `kvgraph import`: move a table through a file, progress on stderr.

Export needs only to read the table (SELECT: it creates and writes nothing); import needs
everything `serve` needs, so both run the table check first and stop on the problems that
concern them (row-level security included: an export of the rows a policy lets through would
look complete and not be, so it is refused unless allowed, and then said once).

`-o PATH` writes a regular file beside PATH (`PATH.partial`) and renames it only once it is
complete; anything else that exists at PATH (a device such as /dev/null, a named pipe) is
written into directly and never replaced.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from gql.commands.check import rls_warning, table_lines
from gql.commands.progress import Bar
from gql.kv.base import Fault, Store, StoreError, TableProblem, blocking, open_and_inspect
from gql.kv.transfer import (
    ExportReport,
    ImportReport,
    TransferError,
    export_table,
    format_of,
    import_file,
)
from gql.web.settings import Settings

# What stops an export: what stops reading (a table without a primary key reads fine).
READING = {Fault.UNREACHABLE, Fault.MISSING_TABLE, Fault.NO_READ, Fault.RLS}


def export_main(settings: Settings, output: str, fmt: str | None) -> int:
    """Write the whole table to `output` ("-": standard output); exit code (1 when values
    kvgraph cannot read were written as their stored text, 2 when nothing could be)."""
    fmt = format_of(output, fmt)
    try:
        report = asyncio.run(export_command(settings, output, fmt))
    except (StoreError, OSError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 2
    if report is None:
        return 2
    where = sys.stderr if output == "-" else sys.stdout
    print("\n".join(export_lines(report, output, fmt)), file=where)
    return 0 if report.clean else 1


def export_lines(report: ExportReport, output: str, fmt: str) -> list[str]:
    """What an export wrote, then every value it could not write as JSON, by key."""
    lines = [f"exported {report.rows:,} keys to {output} ({fmt})"]
    if report.raw:
        lines.append(
            f"{len(report.raw):,} value(s) kvgraph cannot read, written as their stored text "
            '(flagged "raw"; import puts them back as they are):'
        )
        lines += [f"  {item.key}: {item.reason}" for item in report.raw]
    if report.skipped:
        lines.append(f"{len(report.skipped):,} value(s) not exported:")
        lines += [f"  {item.key}: {item.reason}" for item in report.skipped]
    return lines


@contextmanager
def _target(output: str) -> Iterator[BinaryIO]:
    """Standard output; an existing device or pipe, written into as it is; or a regular file
    written beside `output` and renamed over it only when complete."""
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    path = Path(output)
    if path.is_symlink():
        path = path.resolve()  # replace the file the link names, never the link
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        with path.open("wb") as out:  # /dev/null, a named pipe: theirs, never replaced
            yield out
        return
    partial = path.with_name(f"{path.name}.partial")
    try:
        with partial.open("wb") as out:
            yield out
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


async def export_command(settings: Settings, output: str, fmt: str) -> ExportReport | None:
    """Stream the table into `output`; what was written, or None if the table cannot be read."""
    store = settings.make_store()
    bar = Bar()
    try:
        if not await _usable(store, settings, READING, what="exported"):
            return None
        with _target(output) as out:
            return await export_table(store, out, fmt, lambda rows: bar.count("export", rows))
    finally:
        bar.done()
        await store.close()


def import_main(settings: Settings, path: str, fmt: str | None, batch: int) -> int:
    """Import an export file into the store; exit code (1 if anything was not imported)."""
    try:
        with Path(path).open("rb") as handle:
            total = os.fstat(handle.fileno()).st_size
            command = import_command(settings, handle, format_of(path, fmt), total, batch)
            report = asyncio.run(command)
    except (StoreError, TransferError, OSError) as exc:
        print(f"import failed: {exc}", file=sys.stderr)
        return 2
    if report is None:
        return 2
    print("\n".join(describe(report, path)))
    return 0 if report.clean else 1


async def import_command(
    settings: Settings, handle: BinaryIO, fmt: str, total: int, batch: int
) -> ImportReport | None:
    """Import in batches with a progress bar; None if the table cannot take the rows."""
    store = settings.make_store()
    bar = Bar()
    try:
        if not await _usable(store, settings, set(Fault), what="checked by the verification"):
            return None
        return await import_file(
            store,
            handle,
            fmt,
            total=total,
            batch=batch,
            progress=lambda step: bar.update(step.phase, step.done, step.total, step.rows),
        )
    finally:
        bar.done()
        await store.close()


async def _usable(store: Store, settings: Settings, faults: set[Fault], *, what: str) -> bool:
    """Open the store (for writing when the command can meet NO_WRITE); print the table
    problems among `faults` and say whether there were none; an allowed row-level security
    is said once."""
    found = await open_and_inspect(store, writes=Fault.NO_WRITE in faults)
    problems: list[TableProblem] = [
        p for p in blocking(found, allow_rls=settings.allow_rls) if p.code in faults
    ]
    if problems:
        lines = ["the table cannot be used as it is:", *table_lines(problems)]
        print("\n".join(lines), file=sys.stderr)
        return False
    for line in rls_warning(found, settings.allow_rls, what):
        print(line, file=sys.stderr)
    return True


def describe(report: ImportReport, path: str) -> list[str]:
    """The import's counts, then every line and key that was not imported."""
    lines = [
        f"imported {path}: {report.written:,} keys written, {report.unchanged:,} unchanged",
        f"verified: {report.verified:,} of {report.keys:,} keys in the store with equal values",
    ]
    if report.bad_lines:
        lines.append(f"{len(report.bad_lines):,} line(s) not imported:")
        lines += [f"  line {bad.line}: {bad.reason}" for bad in report.bad_lines]
    if report.refused:
        lines.append(f"{len(report.refused):,} key(s) the store refused:")
        lines += [f"  line {r.line}, key {r.key!r}: {r.reason}" for r in report.refused]
    if report.mismatched:
        lines.append(f"{len(report.mismatched):,} key(s) not found as imported:")
        lines += [f"  {line}" for line in report.mismatched]
    return lines
