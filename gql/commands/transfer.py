"""`kvgraph export` and `kvgraph import`: move a table through a file, progress on stderr.

Export needs only to read the table; import needs everything `serve` needs, so both run the
table check first and stop on the problems that concern them (row-level security included:
an export of the rows a policy lets through would look complete and not be).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from gql.commands.check import table_lines
from gql.commands.progress import Bar
from gql.kv.base import Fault, Store, StoreError, TableProblem, blocking, open_and_inspect
from gql.kv.transfer import ImportReport, TransferError, export_table, format_of, import_file
from gql.web.settings import Settings

READING = {Fault.UNREACHABLE, Fault.MISSING_TABLE, Fault.NO_READ, Fault.RLS}


def export_main(settings: Settings, output: str, fmt: str | None) -> int:
    """Write the whole table to `output` ("-": standard output); exit code."""
    fmt = format_of(output, fmt)
    try:
        count = asyncio.run(export_command(settings, output, fmt))
    except (StoreError, OSError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 2
    if count is None:
        return 2
    where = sys.stderr if output == "-" else sys.stdout
    print(f"exported {count:,} keys to {output} ({fmt})", file=where)
    return 0


@contextmanager
def _target(output: str) -> Iterator[BinaryIO]:
    """Standard output, or a file written beside `output` and renamed only when complete."""
    if output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    partial = Path(f"{output}.partial")
    try:
        with partial.open("wb") as out:
            yield out
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


async def export_command(settings: Settings, output: str, fmt: str) -> int | None:
    """Stream the table into `output`; the row count, or None if the table cannot be read."""
    store = settings.make_store()
    bar = Bar()
    try:
        if not await _usable(store, settings, READING):
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
        if not await _usable(store, settings, set(Fault)):
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


async def _usable(store: Store, settings: Settings, faults: set[Fault]) -> bool:
    """Open the store; print the table problems among `faults` and say whether there were none."""
    found = blocking(await open_and_inspect(store), allow_rls=settings.allow_rls)
    problems: list[TableProblem] = [p for p in found if p.code in faults]
    if problems:
        lines = ["the table cannot be used as it is:", *table_lines(problems)]
        print("\n".join(lines), file=sys.stderr)
    return not problems


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
