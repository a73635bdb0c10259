"""`check` and `repair`: find and fix index/entity inconsistencies in the KV table.

`scan` makes one paged pass over the whole table and keeps only ids per index (and the
elements of the few index values that are not plain arrays of strings), never whole
records. It reports dangling index ids (the entity is missing, or its record does not belong
in that index: another owner, or filtered out like a suggestion that is no longer active),
unlisted entities (not listed by an index their record belongs to), duplicate ids within one
index, orphans (children whose parent is missing: an item whose trip is gone, a trip's
`items:index:` after the trip was deleted), and invalid records, including index values or
elements kvgraph cannot read (an index with one bad element is still checked element by
element). A trip shared with a collaborator (`collaborator:{tripId}:{userId}`) belongs in
the collaborator's `trips:index:` (how they list it): unlisted there it is reported, listed
there without the entry it is dangling. What the app uses on purpose is kept and at most
noted: saved place ids the catalog does not know (external ids such as Google's `ChIJ...`,
in `saved:{userId}` or as a `saved:{userId}:{placeId}` key),
and a record whose status kvgraph does not know in a filtered
index (`pending` in `suggestions:active:`). A stored value that cannot be decoded (not JSON,
not text) or that has members kept as stored text (nested too deep, a lone surrogate: see
`jsontext`) is reported as invalid with its key; the rest of the scan goes on.

`repair` rewrites each index it fixes in one transaction that re-reads the index and the
entities concerned, so concurrent writers lose nothing; it keeps the elements of an index it
does not understand and the stored form of the others, never recreates the child index of a
missing parent, deletes orphans only when asked to (`delete_orphans`), and never touches
invalid records (they need a human).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Any

from gql.kv import indexes, jsontext
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import Store, Transaction
from gql.kv.entities import (
    APIKEY,
    INDEX_TARGET,
    KEY_PARENT,
    LISTS,
    LOCATIONS,
    SHARED_BY,
    SPECS,
    EntitySpec,
    key_parent,
    place_refs,
    share_key,
)
from gql.kv.indexes import Element, IndexValue
from gql.kv.mapping import IDENTITY, AppMapping
from gql.kv.repo import atomic
from gql.kv.secrets import SecretBox

PROGRESS_EVERY = 10_000
# Entity kinds whose keys are remembered during a scan: what an index lists, what has
# children, what shares a record with a user.
_TRACKED = (
    {spec.name for spec in INDEX_TARGET.values() if spec}
    | set(LOCATIONS)
    | {spec.parent.pattern.name for spec in SPECS.values() if spec.parent}
    | {spec.name for spec in KEY_PARENT.values()}
    | {pattern.name for pattern in SHARED_BY.values()}
)


class Kind(StrEnum):
    DANGLING = "dangling"
    UNLISTED = "unlisted"
    DUPLICATE = "duplicate"
    ORPHAN = "orphan"
    INVALID = "invalid"
    NOTE = "note"  # not a problem: something unusual that is kept as it is


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: the key concerned (an index, a record) and the id within it.

    `parent` is the missing parent's key of an orphan.
    """

    key: str
    kind: Kind
    id: str = ""
    detail: str = ""
    parent: str = ""

    def line(self) -> str:
        """Describe the finding in one line."""
        what = f" {self.id}" if self.id else ""
        return f"{self.kind:<9}  {self.key}{what}: {self.detail}"

    def as_json(self) -> dict[str, str]:
        """The finding as a JSON object (empty fields left out)."""
        return {name: str(value) for name, value in asdict(self).items() if value}


@dataclass
class Report:
    """What one scan found: problems to fix, and notes on what is kept as it is."""

    scanned: int = 0
    unknown: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether no problem was found (notes do not count)."""
        return not self.problems

    def counts(self) -> dict[Kind, int]:
        """The number of problems of each kind (every kind present, zero included)."""
        counts: dict[Kind, int] = {kind: 0 for kind in Kind if kind is not Kind.NOTE}
        for problem in self.problems:
            counts[problem.kind] += 1
        return counts

    def of(self, kind: Kind) -> list[Problem]:
        """The findings of one kind."""
        return [p for p in (self.notes if kind is Kind.NOTE else self.problems) if p.kind is kind]

    def as_json(self) -> dict[str, Any]:
        """The whole report as a JSON object, for scripts."""
        return {
            "scanned": self.scanned,
            "unknown": self.unknown,
            "clean": self.clean,
            "counts": {str(kind): n for kind, n in self.counts().items()},
            "problems": [p.as_json() for p in self.problems],
            "notes": [p.as_json() for p in self.notes],
        }


def valid_record(
    spec: EntitySpec, key: str, value: Any, mapping: AppMapping = IDENTITY
) -> m.Record | m.InvalidRecord:
    """The record stored at `key`, or why it is invalid (its key fields must match its key)."""
    return spec.validate(key, value, mapping)


def model_field_alias(model: type[m.Record], name: str) -> str:
    """A model field's camelCase name."""
    return model.model_fields[name].alias or name


def kept_detail(kept: dict[str, jsontext.Kept]) -> str:
    """What a value's members kept as stored text are, in one line."""
    parts = [f"{name} {part.reason}" for name, part in kept.items()]
    return f"{'; '.join(parts)}: kept as stored (never rewritten), not read"


def index_keys_of(spec: EntitySpec, key: str, record: m.Record) -> list[str] | m.InvalidRecord:
    """The index keys that should list a record, or why they cannot be built."""
    found = index_entries_of(spec, key, record)
    return found if isinstance(found, m.InvalidRecord) else [index_key for index_key, _ in found]


def index_entries_of(
    spec: EntitySpec, key: str, record: m.Record
) -> list[tuple[str, str]] | m.InvalidRecord:
    """The (index key, id it lists) pairs that should list a record, or why they cannot be
    built (a collaborator entry lists its trip in the collaborator's `trips:index:`)."""
    try:
        return spec.index_entries(record)
    except (ValueError, TypeError) as exc:
        return m.InvalidRecord(key, f"cannot build its index keys: {exc}")


def target_keys(index_pattern: k.KeyPattern, id_: str) -> list[str]:
    """The entity keys an id in this index may point to (empty if the id cannot be a key)."""
    target = INDEX_TARGET.get(index_pattern.name)
    if target is None:  # `saved:` lists places of any kind
        return [LOCATIONS[kind].pattern.key(i) for kind, i in place_refs(id_)]
    return [target.pattern.key(id_)] if k.is_id(id_) else []


def names_catalog_kind(ref: str) -> bool:
    """Whether a saved entry names a catalog kind (`restaurant:r1`): a catalog reference.

    Other entries the catalog does not know may be ids of another service (Google's
    `ChIJ...`): they are kept.
    """
    kind, sep, _ = ref.partition(":")
    return bool(sep) and kind in LOCATIONS


def related_keys(parsed: k.ParsedKey, id_: str) -> list[str]:
    """The keys that decide whether an index may list `id_`: its targets and share key."""
    share = share_key(parsed, id_)
    return [*target_keys(parsed.pattern, id_), *([share] if share else [])]


class _Scan:
    """The state of one pass: ids per index, which entities exist and where they belong."""

    def __init__(self, mapping: AppMapping = IDENTITY, secret_box: SecretBox | None = None) -> None:
        self.mapping, self.secret_box = mapping, secret_box
        self.report = Report()
        self.indexes: dict[str, tuple[k.ParsedKey, IndexValue]] = {}
        self.unreadable: set[str] = set()
        self.expected: dict[str, list[str]] = defaultdict(list)
        self.unsure: dict[str, set[str]] = defaultdict(set)  # filtered index -> ids it may keep
        self.present: set[str] = set()
        self.invalid: set[str] = set()
        self.parents: dict[str, str] = {}  # a child's key -> its parent's key
        self.saved: dict[str, str] = {}  # a `saved:{userId}:{placeId}` key -> its place ref

    def add(self, key: str, value: Any) -> None:
        """Classify one stored key."""
        self.report.scanned += 1
        parsed = k.parse(key)
        if parsed is None or (parsed.role is k.Role.ENTITY and parsed.pattern.name not in SPECS):
            self.report.unknown += 1
            return
        if parsed.role is k.Role.ENTITY:
            self._entity(SPECS[parsed.pattern.name], key, parsed.params, value)
            return
        if (parent := key_parent(parsed)) is not None:
            self.parents[key] = parent
        if parsed.role is k.Role.INDEX:
            self._index(parsed, key, value)
        elif isinstance(value, jsontext.Unreadable):
            self._invalid(key, value.reason)
        elif not isinstance(value, list):
            self._invalid(key, f"expected a JSON array, found {type(value).__name__}")
        elif kept := jsontext.kept(value):
            self._invalid(key, kept_detail(kept))
        else:
            self._elements(parsed, key, value)

    def _elements(self, parsed: k.ParsedKey, key: str, value: list[Any]) -> None:
        """Report the objects of a list key (`budget:alerts:`) that are not valid records of
        its element model, as `key[position]` (kept: they need a human)."""
        listed = LISTS.get(parsed.pattern.name)
        if listed is None:
            return
        for n, element in enumerate(value):
            found = m.validate(listed.model, f"{key}[{n}]", element, self.mapping)
            if isinstance(found, m.InvalidRecord):
                self._invalid(found.key, found.message)

    def _invalid(self, key: str, message: str) -> None:
        self.report.problems.append(Problem(key, Kind.INVALID, detail=message))

    def _note(self, key: str, id_: str, message: str) -> None:
        self.report.notes.append(Problem(key, Kind.NOTE, id_, message))

    def _entity(self, spec: EntitySpec, key: str, params: dict[str, str], value: Any) -> None:
        if spec.name in _TRACKED:
            self.present.add(key)
        record = valid_record(spec, key, value, self.mapping)
        found = (
            record if isinstance(record, m.InvalidRecord) else index_entries_of(spec, key, record)
        )
        if isinstance(found, m.InvalidRecord):
            self.invalid.add(key)
            self._invalid(key, found.message)
            return
        if kept := jsontext.kept(value):  # readable, but not all of it: reported, kept
            self._invalid(key, kept_detail(kept))
        if spec.name == APIKEY.name and isinstance(record, m.Record):
            self._api_key(key, record)
        if isinstance(record, m.Record):
            self._elements_of(key, record)
        for index_key, listed in found:
            self.expected[index_key].append(listed)
        for link in spec.indexes:
            if link.unsure(record):
                self.unsure[link.key_for(record)].add(link.listed_id(record))
        parent = spec.parent.key_for(record, params) if spec.parent else None
        if parent is not None:
            self.parents[key] = parent
        if isinstance(record, m.SavedPlace):
            kind = record.location_type
            self.saved[key] = f"{kind}:{record.place_id}" if kind in LOCATIONS else record.place_id

    def _elements_of(self, key: str, record: m.Record) -> None:
        """Report the objects of a record's list fields (a log's `entries`) that are not
        valid, as `key.field[n]` (kept: they need a human)."""
        for name, model in m.ELEMENTS.get(type(record), {}).items():
            where = f"{key}.{model_field_alias(type(record), name)}"
            for n, element in enumerate(getattr(record, name, None) or ()):
                found = m.validate(model, f"{where}[{n}]", element, self.mapping)
                if isinstance(found, m.InvalidRecord):
                    self._invalid(found.key, found.message)

    def _api_key(self, key: str, record: m.Record) -> None:
        """An API key kvgraph cannot decrypt is reported (and kept: it needs a human); the
        message never shows what the record holds."""
        sealed = getattr(record, "ciphertext", None)
        if sealed is None:
            detail = "holds no encrypted key (ciphertext): kept; kvgraph never stores one in clear"
            self._invalid(key, detail)
        elif self.secret_box is None:
            self._note(key, "", "not decrypted: KVGRAPH_API_KEY_SECRET is not set")
        elif (why := self.secret_box.opens(sealed, key)) is not None:
            self._invalid(key, f"cannot be decrypted with KVGRAPH_API_KEY_SECRET: {why}; kept")

    def _index(self, parsed: k.ParsedKey, key: str, value: Any) -> None:
        found = indexes.read(value)
        if found.unreadable is not None:
            self.unreadable.add(key)
            self._invalid(key, found.unreadable)
            return
        if (problem := found.problem()) is not None:
            self._invalid(key, problem)
        if found.encoded:
            self._note(key, "", "stored as a JSON string holding the array; read as that array")
        self.indexes[key] = (parsed, found)

    def finish(self) -> Report:
        """Compare what the indexes list with what the entities say, once all is read."""
        orphans = {c: p for c, p in self.parents.items() if p not in self.present}
        for child, parent in orphans.items():
            detail = f"its parent {parent} is missing"
            self.report.problems.append(Problem(child, Kind.ORPHAN, "", detail, parent))
        for key in sorted(self.indexes.keys() - orphans.keys()):
            self._check_index(key)
        for key in sorted(self.expected):
            self._check_unlisted(key, self.expected[key], orphans)
        for key, ref in self.saved.items():
            places = target_keys(k.SAVED, ref)
            if not any(t in self.present or t in self.invalid for t in places):
                self._note(key, "", "its place is not in the catalog (an external place id?): kept")
        self.report.problems.sort()
        self.report.notes.sort()
        return self.report

    def _check_index(self, key: str) -> None:
        parsed, value = self.indexes[key]
        counts: dict[str, int] = defaultdict(int)
        for id_ in value.ids:
            counts[id_] += 1
        expected = set(self.expected.get(key, ()))
        for id_, count in counts.items():
            if count > 1:
                detail = f"listed {count} times"
                self.report.problems.append(Problem(key, Kind.DUPLICATE, id_, detail))
            if id_ in expected:
                continue
            if id_ in self.unsure.get(key, ()):
                detail = "its status is not one kvgraph knows: kept (not added, not removed)"
                self._note(key, id_, detail)
                continue
            saved = parsed.pattern.name == k.SAVED.name
            judged = self._place(id_) if saved else self._dangling(parsed, id_)
            if judged is not None:
                kind, why = judged
                target = self.report.notes if kind is Kind.NOTE else self.report.problems
                target.append(Problem(key, kind, id_, why))

    def _place(self, ref: str) -> tuple[Kind, str] | None:
        """A saved entry: fine when the catalog has it, else dangling or an external id."""
        places = target_keys(k.SAVED, ref)
        if any(t in self.present or t in self.invalid for t in places):
            return None
        if names_catalog_kind(ref) and places:
            return Kind.DANGLING, f"{places[0]} is missing"
        return Kind.NOTE, "not in the catalog (an external place id?): kept"

    def _dangling(self, parsed: k.ParsedKey, id_: str) -> tuple[Kind, str] | None:
        targets = target_keys(parsed.pattern, id_)
        if not targets:
            return Kind.DANGLING, "not a valid id"
        target = targets[0]
        if target in self.invalid:
            return None
        if target not in self.present:
            return Kind.DANGLING, f"{target} is missing"
        share = share_key(parsed, id_)
        if share is not None and share in self.present:
            return None  # shared with this user (a collaborator)
        return (
            Kind.DANGLING,
            f"{target} does not belong in this index (filtered out or another owner)",
        )

    def _check_unlisted(self, key: str, ids: list[str], orphans: dict[str, str]) -> None:
        if key in self.unreadable:
            return
        parsed = k.parse(key)
        target = INDEX_TARGET.get(parsed.pattern.name) if parsed else None
        listed = set(self.indexes[key][1].ids) if key in self.indexes else set()
        detail = "not listed" if key in self.indexes else "not listed (the index key is missing)"
        for id_ in sorted(set(ids) - listed):
            if target is not None and (
                target.pattern.key(id_) in orphans or target.pattern.key(id_) not in self.present
            ):
                continue  # an orphan's index, or a share of a missing trip (an orphan itself)
            self.report.problems.append(Problem(key, Kind.UNLISTED, id_, detail))


async def scan(
    store: Store,
    progress: Callable[[int], None] | None = None,
    *,
    every: int = PROGRESS_EVERY,
    mapping: AppMapping = IDENTITY,
    secret_box: SecretBox | None = None,
) -> Report:
    """Read the whole table once and report every inconsistency found (records read
    through `mapping`, the app's names; API keys opened with `secret_box`)."""
    state = _Scan(mapping, secret_box)
    async for key, value in store.iter_prefix(""):
        state.add(key, value)
        if progress is not None and state.report.scanned % every == 0:
            progress(state.report.scanned)
    return state.finish()


class Verdict(Enum):
    LIST = "list"
    DROP = "drop"
    LEAVE = "leave"


@dataclass(frozen=True)
class Change:
    """One change repair makes (or, in a dry run, would make), or a finding it leaves alone."""

    key: str
    action: str  # "remove dangling id", "remove duplicate", "append unlisted id",
    # "delete orphan", or "leave"
    id: str = ""
    detail: str = ""

    @property
    def writes(self) -> bool:
        """Whether this is a change (not a finding left alone)."""
        return self.action != "leave"

    def line(self) -> str:
        """Describe the change in one line."""
        what = f" {self.id}" if self.id else ""
        detail = f" ({self.detail})" if self.detail else ""
        if not self.writes:
            return f"{self.key}{what}: left alone{detail}"
        return f"{self.key}: {self.action}{what}{detail}"

    def as_json(self) -> dict[str, str]:
        """The change as a JSON object (empty fields left out)."""
        return {name: value for name, value in asdict(self).items() if value}


@dataclass
class IndexFix:
    """What a scan says is wrong with one index."""

    dangling: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)

    def plan(self, key: str) -> list[Change]:
        """Describe the fix without writing it."""
        return [
            *(Change(key, "remove dangling id", i) for i in self.dangling),
            *(Change(key, "remove duplicate", i, "keep the first") for i in self.duplicates),
            *(Change(key, "append unlisted id", i) for i in self.unlisted),
        ]


def index_fixes(report: Report) -> dict[str, IndexFix]:
    """Group the index problems of a report by index key, in key order."""
    fixes: dict[str, IndexFix] = {}
    lists = {
        Kind.DANGLING: lambda fix: fix.dangling,
        Kind.DUPLICATE: lambda fix: fix.duplicates,
        Kind.UNLISTED: lambda fix: fix.unlisted,
    }
    for problem in report.problems:
        if problem.kind in lists:
            lists[problem.kind](fixes.setdefault(problem.key, IndexFix())).append(problem.id)
    return fixes


def verdict(
    index_key: str,
    parsed: k.ParsedKey,
    id_: str,
    values: dict[str, Any],
    mapping: AppMapping = IDENTITY,
) -> Verdict:
    """Whether an index should list `id_`, judged on freshly read values of `related_keys`."""
    targets = target_keys(parsed.pattern, id_)
    spec = INDEX_TARGET.get(parsed.pattern.name)
    if spec is None:  # `saved:`: only a catalog reference to a missing place is dropped
        if any(values.get(t) is not None for t in targets):
            return Verdict.LIST
        return Verdict.DROP if names_catalog_kind(id_) and targets else Verdict.LEAVE
    if not targets:
        return Verdict.DROP
    value = values.get(targets[0])
    if value is None:
        return Verdict.DROP
    record = valid_record(spec, targets[0], value, mapping)
    if isinstance(record, m.InvalidRecord):
        return Verdict.LEAVE
    found = index_keys_of(spec, targets[0], record)
    if isinstance(found, m.InvalidRecord):
        return Verdict.LEAVE
    if index_key in found:
        return Verdict.LIST
    if index_key in spec.unsure_index_keys(record):  # a status kvgraph does not know
        return Verdict.LEAVE
    share = share_key(parsed, id_)
    return Verdict.LIST if share is not None and values.get(share) is not None else Verdict.DROP


def rebuild(
    key: str, current: IndexValue, unlisted: Iterable[str], verdicts: dict[str, Verdict]
) -> tuple[IndexValue, list[Change]]:
    """The fixed index (first occurrences in order, unlisted ids appended, elements kvgraph
    does not understand kept in place) and the changes made."""
    kept: list[Element] = []
    changes: list[Change] = []
    seen: set[str] = set()
    for element in current.elements:
        id_ = element.id
        if id_ is None:
            kept.append(element)
            continue
        if id_ in seen:
            changes.append(Change(key, "remove duplicate", id_))
        elif verdicts.get(id_) is Verdict.DROP:
            changes.append(Change(key, "remove dangling id", id_))
        else:
            kept.append(element)
        seen.add(id_)
    for id_ in sorted(set(unlisted) - seen):
        if verdicts.get(id_) is Verdict.LIST:
            kept.append(Element(id_, id_))
            changes.append(Change(key, "append unlisted id", id_))
    return current.only(kept), changes


async def fix_index(
    store: Store, index_key: str, fix: IndexFix, mapping: AppMapping = IDENTITY
) -> list[Change]:
    """Apply one index's fix in a transaction that re-reads the index and its entities.

    An index whose parent is missing (a deleted trip's `items:index:`) is never written, so
    repair cannot bring it back.
    """
    parsed = k.parse(index_key)
    if parsed is None:
        return []
    candidates = [*fix.dangling, *fix.unlisted]
    parent = key_parent(parsed)
    related = [r for i in candidates for r in related_keys(parsed, i)]

    async def work(tx: Transaction) -> list[Change]:
        # The parent first, locked on its own: the order every writer of its children uses.
        if parent is not None and await tx.get(parent) is None:
            return [Change(index_key, "leave", detail=f"its parent {parent} is missing")]
        stored, *values = await tx.get_many([index_key, *related])
        current = indexes.read(stored)
        fresh = dict(zip(related, values, strict=True))
        if current.unreadable is not None:
            return [Change(index_key, "leave", detail=f"no longer readable: {current.unreadable}")]
        verdicts = {i: verdict(index_key, parsed, i, fresh, mapping) for i in candidates}
        kept, changes = rebuild(index_key, current, fix.unlisted, verdicts)
        if kept != current:
            await tx.set(index_key, kept.stored())
        return changes

    return await atomic(store, work)


def orphans_by_parent(report: Report) -> dict[str, list[str]]:
    """The orphans of a report grouped by their missing parent's key."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for problem in report.of(Kind.ORPHAN):
        grouped[problem.parent].append(problem.key)
    return dict(grouped)


def still_child_of(key: str, value: Any, parent: str, mapping: AppMapping = IDENTITY) -> bool:
    """Whether the stored value at `key` still belongs to `parent` (read again)."""
    parsed = k.parse(key)
    if parsed is None or value is None:
        return False
    if parsed.role is not k.Role.ENTITY:
        return key_parent(parsed) == parent
    spec = SPECS[parsed.pattern.name]
    record = valid_record(spec, key, value, mapping)
    if spec.parent is None or isinstance(record, m.InvalidRecord):
        return False
    return spec.parent.key_for(record, parsed.params) == parent


async def delete_orphans(
    store: Store, parent: str, children: list[str], mapping: AppMapping = IDENTITY
) -> list[Change]:
    """Delete the children of a missing parent in a transaction that re-reads them all.

    The parent is read (and locked) first, as a create of a child does: a parent created
    meanwhile keeps its children.
    """

    async def work(tx: Transaction) -> list[Change]:
        if await tx.get(parent) is not None:
            return [
                Change(c, "leave", detail=f"its parent {parent} exists again") for c in children
            ]
        values = await tx.get_many(children)
        doomed = [
            c
            for c, v in zip(children, values, strict=True)
            if still_child_of(c, v, parent, mapping)
        ]
        await tx.delete_many(doomed)
        return [
            Change(c, "delete orphan", detail=f"its parent {parent} is missing") for c in doomed
        ]

    return await atomic(store, work)


def left_alone(report: Report, delete: bool) -> list[Change]:
    """The findings repair does not change: invalid records, and orphans unless `delete`."""
    changes = [
        Change(p.key, "leave", detail=f"invalid: {p.detail}; fix or delete it by hand")
        for p in report.of(Kind.INVALID)
    ]
    if not delete:
        changes += [
            Change(p.key, "leave", detail=f"orphan: {p.detail}; remove with --delete-orphans")
            for p in report.of(Kind.ORPHAN)
        ]
    return changes


async def repair(
    store: Store,
    report: Report,
    apply: bool,
    *,
    delete_orphans_too: bool = False,
    mapping: AppMapping = IDENTITY,
) -> list[Change]:
    """Plan (or, with apply, write) the fixes for a report; orphans are deleted only when
    `delete_orphans_too`. Returns the changes, then the findings left alone."""
    changes: list[Change] = []
    for index_key, fix in index_fixes(report).items():
        if apply:
            changes += await fix_index(store, index_key, fix, mapping)
        else:
            changes += fix.plan(index_key)
    if delete_orphans_too:
        for parent, children in sorted(orphans_by_parent(report).items()):
            if apply:
                changes += await delete_orphans(store, parent, children, mapping)
            else:
                detail = f"its parent {parent} is missing"
                changes += [Change(c, "delete orphan", detail=detail) for c in children]
    return changes + left_alone(report, delete_orphans_too)
