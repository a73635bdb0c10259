"""`check` and `repair`: find and fix index/entity inconsistencies in the KV table.

`scan` makes one paged pass over the whole table and keeps only ids per index (never whole
values). It reports dangling index ids (the entity is missing, or its record does not belong
in that index: another owner, or filtered out like a suggestion that is no longer active),
orphan entities (not listed by an index their record belongs to), duplicate ids within one
index, and invalid records. `repair` rewrites each index it fixes in one transaction that
re-reads the index and the entities concerned, so concurrent writers lose nothing; invalid
records are never touched (they need a human).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import Store, Transaction
from gql.kv.entities import INDEX_TARGET, LOCATIONS, SPECS, EntitySpec, place_refs
from gql.kv.repo import atomic

PROGRESS_EVERY = 10_000
# Entity kinds an index can list: their keys are remembered during a scan.
_LISTED = {spec.name for spec in INDEX_TARGET.values() if spec} | set(LOCATIONS)


class Kind(StrEnum):
    DANGLING = "dangling"
    ORPHAN = "orphan"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(frozen=True, order=True)
class Problem:
    """One inconsistency: the key concerned (an index, or an invalid record) and the id."""

    key: str
    kind: Kind
    id: str = ""
    detail: str = ""

    def line(self) -> str:
        """Describe the problem in one line."""
        what = f" {self.id}" if self.id else ""
        return f"{self.kind:<9}  {self.key}{what}: {self.detail}"


@dataclass
class Report:
    """What one scan found."""

    scanned: int = 0
    unknown: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether nothing at all was found."""
        return not self.problems

    def counts(self) -> dict[Kind, int]:
        """The number of problems of each kind (every kind present, zero included)."""
        counts = dict.fromkeys(Kind, 0)
        for problem in self.problems:
            counts[problem.kind] += 1
        return counts

    def of(self, kind: Kind) -> list[Problem]:
        """The problems of one kind."""
        return [p for p in self.problems if p.kind is kind]


def memberships(spec: EntitySpec, key: str, value: Any) -> list[str] | m.InvalidRecord:
    """The index keys that should list the entity stored at `key`, or why it is invalid."""
    record = m.validate(spec.model, key, value)
    if isinstance(record, m.InvalidRecord):
        return record
    parsed = k.parse(key)
    params = list(parsed.params.values()) if parsed else []
    for name, param in zip(spec.key_fields, params, strict=False):
        stored = getattr(record, name, None)
        if stored is not None and stored != param:
            return m.InvalidRecord(key, f"{name} {stored!r} does not match its key")
    try:
        return spec.index_keys(record)
    except (ValueError, TypeError) as exc:
        return m.InvalidRecord(key, f"cannot build its index keys: {exc}")


def index_problem(value: Any) -> str | None:
    """Why an index value is not a JSON array of strings (None when it is)."""
    if not isinstance(value, list):
        return f"expected a JSON array of ids, found {type(value).__name__}"
    for position, item in enumerate(value):
        if not isinstance(item, str):
            return f"element {position} is {type(item).__name__}, expected a string id"
    return None


def target_keys(index_pattern: k.KeyPattern, id_: str) -> list[str]:
    """The entity keys an id in this index may point to (empty if the id cannot be a key)."""
    target = INDEX_TARGET.get(index_pattern.name)
    if target is None:  # `saved:` lists places of any kind
        return [LOCATIONS[kind].pattern.key(i) for kind, i in place_refs(id_)]
    return [target.pattern.key(id_)] if k.is_id(id_) else []


class _Scan:
    """The state of one pass: ids per index, which entities exist and where they belong."""

    def __init__(self) -> None:
        self.report = Report()
        self.indexes: dict[str, list[str]] = {}
        self.patterns: dict[str, k.KeyPattern] = {}
        self.bad_indexes: set[str] = set()
        self.expected: dict[str, list[str]] = defaultdict(list)
        self.present: set[str] = set()
        self.invalid: set[str] = set()

    def add(self, key: str, value: Any) -> None:
        """Classify one stored key."""
        self.report.scanned += 1
        parsed = k.parse(key)
        if parsed is None or (parsed.role is k.Role.ENTITY and parsed.pattern.name not in SPECS):
            self.report.unknown += 1
        elif parsed.role is k.Role.ENTITY:
            self._entity(SPECS[parsed.pattern.name], key, parsed.params, value)
        elif parsed.role is k.Role.INDEX:
            self._index(parsed.pattern, key, value)
        elif not isinstance(value, list):
            self._invalid(key, f"expected a JSON array, found {type(value).__name__}")

    def _invalid(self, key: str, message: str) -> None:
        self.report.problems.append(Problem(key, Kind.INVALID, detail=message))

    def _entity(self, spec: EntitySpec, key: str, params: dict[str, str], value: Any) -> None:
        if spec.name in _LISTED:
            self.present.add(key)
        found = memberships(spec, key, value)
        if isinstance(found, m.InvalidRecord):
            self.invalid.add(key)
            self._invalid(key, found.message)
            return
        for index_key in found:
            self.expected[index_key].append(params["id"])

    def _index(self, pattern: k.KeyPattern, key: str, value: Any) -> None:
        problem = index_problem(value)
        if problem is not None:
            self.bad_indexes.add(key)
            self._invalid(key, problem)
            return
        self.indexes[key], self.patterns[key] = value, pattern

    def finish(self) -> Report:
        """Compare what the indexes list with what the entities say, once all is read."""
        for key in sorted(self.indexes):
            self._check_index(key, self.indexes[key])
        for key in sorted(self.expected):
            self._check_orphans(key, self.expected[key])
        self.report.problems.sort()
        return self.report

    def _check_index(self, key: str, ids: list[str]) -> None:
        counts: dict[str, int] = defaultdict(int)
        for id_ in ids:
            counts[id_] += 1
        expected = set(self.expected.get(key, ()))
        for id_, count in counts.items():
            if count > 1:
                detail = f"listed {count} times"
                self.report.problems.append(Problem(key, Kind.DUPLICATE, id_, detail))
            why = self._dangling(self.patterns[key], id_, expected)
            if why:
                self.report.problems.append(Problem(key, Kind.DANGLING, id_, why))

    def _dangling(self, pattern: k.KeyPattern, id_: str, expected: set[str]) -> str | None:
        targets = target_keys(pattern, id_)
        if not targets:
            return "not a valid id"
        if any(t in self.invalid for t in targets) or id_ in expected:
            return None
        if INDEX_TARGET.get(pattern.name) is None:
            return None if any(t in self.present for t in targets) else "no such place"
        if targets[0] in self.present:
            return f"{targets[0]} does not belong in this index (filtered out or another owner)"
        return f"{targets[0]} is missing"

    def _check_orphans(self, key: str, ids: list[str]) -> None:
        if key in self.bad_indexes:
            return
        listed = set(self.indexes.get(key, ()))
        detail = "not listed" if key in self.indexes else "not listed (the index key is missing)"
        for id_ in sorted(set(ids) - listed):
            self.report.problems.append(Problem(key, Kind.ORPHAN, id_, detail))


async def scan(
    store: Store, progress: Callable[[int], None] | None = None, *, every: int = PROGRESS_EVERY
) -> Report:
    """Read the whole table once and report every inconsistency found."""
    state = _Scan()
    async for key, value in store.iter_prefix(""):
        state.add(key, value)
        if progress is not None and state.report.scanned % every == 0:
            progress(state.report.scanned)
    return state.finish()


class Verdict(Enum):
    LIST = "list"
    DROP = "drop"
    LEAVE = "leave"


@dataclass
class IndexFix:
    """What a scan says is wrong with one index."""

    dangling: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    def plan(self, key: str) -> list[str]:
        """Describe the fix without writing it."""
        return [
            *(f"{key}: remove dangling id {i}" for i in self.dangling),
            *(f"{key}: remove duplicates of {i} (keep the first)" for i in self.duplicates),
            *(f"{key}: append orphan {i}" for i in self.orphans),
        ]


def index_fixes(report: Report) -> dict[str, IndexFix]:
    """Group the fixable problems of a report by index key, in key order."""
    fixes: dict[str, IndexFix] = {}
    for problem in report.problems:
        if problem.kind is Kind.INVALID:
            continue
        fix = fixes.setdefault(problem.key, IndexFix())
        {
            Kind.DANGLING: fix.dangling,
            Kind.DUPLICATE: fix.duplicates,
            Kind.ORPHAN: fix.orphans,
        }[problem.kind].append(problem.id)
    return fixes


def verdict(index_key: str, id_: str, values: dict[str, Any]) -> Verdict:
    """Whether `index_key` should list `id_`, judged on freshly read entity values."""
    parsed = k.parse(index_key)
    if parsed is None:
        return Verdict.LEAVE
    targets = target_keys(parsed.pattern, id_)
    if not targets:
        return Verdict.DROP
    spec = INDEX_TARGET.get(parsed.pattern.name)
    if spec is None:
        return Verdict.LIST if any(values.get(t) is not None for t in targets) else Verdict.DROP
    value = values.get(targets[0])
    if value is None:
        return Verdict.DROP
    found = memberships(spec, targets[0], value)
    if isinstance(found, m.InvalidRecord):
        return Verdict.LEAVE
    return Verdict.LIST if index_key in found else Verdict.DROP


def rebuild(
    ids: Sequence[str], orphans: Iterable[str], verdicts: dict[str, Verdict]
) -> tuple[list[str], list[str]]:
    """Return the fixed id list (first occurrences, order kept, orphans appended) and notes."""
    kept: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for id_ in ids:
        if id_ in seen:
            notes.append(f"removed duplicate {id_}")
        elif verdicts.get(id_) is Verdict.DROP:
            notes.append(f"removed dangling id {id_}")
        else:
            kept.append(id_)
        seen.add(id_)
    for id_ in sorted(set(orphans) - seen):
        if verdicts.get(id_) is Verdict.LIST:
            kept.append(id_)
            notes.append(f"appended orphan {id_}")
    return kept, notes


async def fix_index(store: Store, index_key: str, fix: IndexFix) -> list[str]:
    """Apply one index's fix in a transaction that re-reads the index and its entities."""
    parsed = k.parse(index_key)
    candidates = [*fix.dangling, *fix.orphans]
    entity_keys = [t for i in candidates for t in target_keys(parsed.pattern, i)] if parsed else []

    async def work(tx: Transaction) -> list[str]:
        current, *values = await tx.get_many([index_key, *entity_keys])
        if current is not None and index_problem(current) is not None:
            return [f"{index_key}: skipped, its value is no longer an array of ids"]
        fresh = dict(zip(entity_keys, values, strict=True))
        verdicts = {i: verdict(index_key, i, fresh) for i in candidates}
        ids = current or []
        kept, notes = rebuild(ids, fix.orphans, verdicts)
        if kept != ids:
            await tx.set(index_key, kept)
        return [f"{index_key}: {note}" for note in notes]

    return await atomic(store, work)


def invalid_lines(report: Report) -> list[str]:
    """Say which invalid records repair leaves alone."""
    return [
        f"{p.key}: left alone, invalid ({p.detail}); fix or delete it by hand"
        for p in report.of(Kind.INVALID)
    ]


async def repair(store: Store, report: Report, apply: bool) -> list[str]:
    """Plan (or, with apply, write) the fixes for a report; returns one line per change."""
    lines: list[str] = []
    for index_key, fix in index_fixes(report).items():
        lines += await fix_index(store, index_key, fix) if apply else fix.plan(index_key)
    return lines + invalid_lines(report)
