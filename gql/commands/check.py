"""`kvgraph check` and `kvgraph repair`: run a scan of the store and print what it found.

A person reads a short summary (counts and the first examples; `--all` or `--limit N` for
more); a script reads `--json`, which always holds every finding and change.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gql.kv.base import Fault, Store, StoreError, TableProblem, blocking, open_and_inspect
from gql.kv.check import Change, Kind, Report, repair, scan
from gql.kv.mapping import AppMapping
from gql.kv.secrets import SecretBox
from gql.web.server import explain
from gql.web.settings import Settings

EXAMPLES = 20


@dataclass(frozen=True)
class Options:
    """What the command line asked for."""

    repair: bool = False
    apply: bool = False
    delete_orphans: bool = False
    limit: int | None = EXAMPLES  # examples shown per list; None: all
    json: bool = False


def summary(report: Report, limit: int | None = EXAMPLES) -> list[str]:
    """A short, readable account of a report: counts per kind and the first examples."""
    lines = [f"scanned {report.scanned:,} keys ({report.unknown:,} unknown keys left alone)"]
    if report.clean:
        lines.append("no problems found")
    else:
        counts = ", ".join(f"{n:,} {kind}" for kind, n in report.counts().items() if n)
        lines.append(f"problems: {counts}")
        lines += examples([p.line() for p in report.problems], limit)
    if report.notes:
        lines.append(f"notes: {len(report.notes):,} (kept as they are)")
        lines += examples([p.line() for p in report.notes], limit)
    return lines


def examples(lines: Sequence[str], limit: int | None = EXAMPLES) -> list[str]:
    """At most `limit` indented lines (None: all), then how many more there are."""
    shown = [f"  {line}" for line in (lines if limit is None else lines[:limit])]
    more = len(lines) - len(shown)
    return [*shown, f"  ... and {more:,} more (--all shows every one)"] if more > 0 else shown


def repair_lines(report: Report, changes: list[Change], options: Options) -> list[str]:
    """A short account of what repair changed (or would change) and what it left alone."""
    writes = sum(1 for c in changes if c.writes)
    if options.apply:
        head = f"repaired: {writes:,} change(s) written" if writes else "repair: nothing to fix"
    else:
        head = f"repair plan: {writes:,} change(s)"
    lines = [head, *examples([c.line() for c in changes], options.limit)]
    if invalid := len(report.of(Kind.INVALID)):
        lines.append(f"{invalid:,} invalid record(s) left alone: they need a human")
    if (orphans := len(report.of(Kind.ORPHAN))) and not options.delete_orphans:
        lines.append(f"{orphans:,} orphan(s) left alone: remove them with --delete-orphans")
    if not options.apply:
        lines.append("dry run: nothing written; run with --apply")
    return lines


def as_json(report: Report, changes: list[Change] | None, options: Options) -> str:
    """The report (and repair's changes) as one JSON document."""
    out: dict[str, Any] = report.as_json()
    if changes is not None:
        out["repair"] = {
            "applied": options.apply,
            "deleteOrphans": options.delete_orphans,
            "changes": [c.as_json() for c in changes],
        }
    return orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()


def table_lines(problems: Sequence[TableProblem]) -> list[str]:
    """One indented line per table problem."""
    return [f"  {explain(problem)}" for problem in problems]


def rls_warning(found: Sequence[TableProblem], allow_rls: bool, what: str) -> list[str]:
    """The one-line warning a command gives when it runs under row-level security it was
    allowed to ignore: the rows the policies hide are not `what` (checked, exported, ...)."""
    if not allow_rls:
        return []
    return [
        f"warning: {p.message.split(':', 1)[0]} is allowed (KVGRAPH_ALLOW_RLS): rows its "
        f"policies hide are not {what}"
        for p in found
        if p.code is Fault.RLS
    ]


async def usable(store: Store, settings: Settings, *, writes: bool, what: str) -> bool:
    """Open the store (`writes`: for a command that writes; otherwise SELECT is enough and
    nothing is created) and print what stops the command, or the allowed-RLS warning."""
    found = await open_and_inspect(store, writes=writes)
    if problems := blocking(found, allow_rls=settings.allow_rls):
        print("\n".join(["the table cannot be used as it is:", *table_lines(problems)]))
        return False
    for line in rls_warning(found, settings.allow_rls, what):
        print(line, file=sys.stderr)
    return True


def _progress(scanned: int) -> None:
    print(f"scanned {scanned:,} keys…", file=sys.stderr, flush=True)


async def _run(
    store: Store, options: Options, mapping: AppMapping, secret_box: SecretBox | None = None
) -> tuple[Report, list[Change] | None]:
    report = await scan(store, progress=_progress, mapping=mapping, secret_box=secret_box)
    if not options.repair:
        return report, None
    changes = await repair(
        store, report, options.apply, delete_orphans_too=options.delete_orphans, mapping=mapping
    )
    return report, changes


async def check_command(settings: Settings, options: Options) -> int:
    """Run `check` (exit 1 if anything is found) or `repair` (exit 1 if it left invalid
    records, which need a human; else 0) against the store."""
    store = settings.make_store()
    what = "repaired" if options.repair else "checked"
    try:
        if not await usable(store, settings, writes=options.repair, what=what):
            return 2
        report, changes = await _run(store, options, settings.mapping(), settings.secret_box())
    except StoreError as exc:
        print(f"store error: {exc}", file=sys.stderr)
        return 2
    finally:
        await store.close()
    if options.json:
        print(as_json(report, changes, options))
    else:
        lines = summary(report, options.limit)
        if changes is not None:
            lines += repair_lines(report, changes, options)
        print("\n".join(lines))
    if options.repair:
        return 1 if report.of(Kind.INVALID) else 0
    return 0 if report.clean else 1
