"""`kvgraph check` and `kvgraph repair`: run a scan of the store and print what it found."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from gql.kv.base import Store, StoreError, TableProblem, blocking, open_and_inspect
from gql.kv.check import Kind, Report, repair, scan
from gql.web.server import explain
from gql.web.settings import Settings

EXAMPLES = 20


def summary(report: Report, limit: int = EXAMPLES) -> list[str]:
    """A short, readable account of a report: counts per kind and a few examples."""
    lines = [f"scanned {report.scanned:,} keys ({report.unknown:,} unknown keys left alone)"]
    if report.clean:
        return [*lines, "no problems found"]
    counts = ", ".join(f"{n:,} {kind}" for kind, n in report.counts().items() if n)
    lines.append(f"problems: {counts}")
    return lines + examples([p.line() for p in report.problems], limit)


def examples(lines: Sequence[str], limit: int = EXAMPLES) -> list[str]:
    """At most `limit` indented lines, then how many more there are."""
    shown = [f"  {line}" for line in lines[:limit]]
    more = len(lines) - limit
    return [*shown, f"  ... and {more:,} more"] if more > 0 else shown


def table_lines(problems: Sequence[TableProblem]) -> list[str]:
    """One indented line per table problem."""
    return [f"  {explain(problem)}" for problem in problems]


def _progress(scanned: int) -> None:
    print(f"scanned {scanned:,} keys…", file=sys.stderr, flush=True)


async def _repair_lines(store: Store, report: Report, apply: bool) -> list[str]:
    changes = await repair(store, report, apply)
    invalid = len(report.of(Kind.INVALID))
    fixes = len(changes) - invalid
    if apply:
        head = f"repaired: {fixes:,} change(s) written" if fixes else "repair: nothing to fix"
    else:
        head = f"repair plan: {fixes:,} change(s)"
    lines = [head, *examples(changes)]
    if invalid:
        lines.append(f"{invalid:,} invalid record(s) left alone: they need a human")
    if not apply:
        lines.append("dry run: nothing written; run with --apply")
    return lines


async def check_command(settings: Settings, *, repair: bool, apply: bool) -> int:
    """Run `check` (exit 1 if anything is found) or `repair` (exit 0) against the store."""
    store = settings.make_store()
    try:
        if problems := blocking(await open_and_inspect(store), allow_rls=settings.allow_rls):
            print("\n".join(["the table cannot be used as it is:", *table_lines(problems)]))
            return 2
        report = await scan(store, progress=_progress)
        lines = summary(report)
        if repair:
            lines += await _repair_lines(store, report, apply)
    except StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    print("\n".join(lines))
    return 0 if repair or report.clean else 1
