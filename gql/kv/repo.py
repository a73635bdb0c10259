"""The repository: create, update, delete and reorder records, indexes kept in step.

Every write runs in one store transaction that reads (and locks) the entity and every index
that lists it, so concurrent writers never lose an index entry and a crash leaves either all
of a write or none of it. A transaction that loses a race (Postgres deadlock) runs again.

Creating a child (an item, a message) locks and re-reads its parent first in the same
transaction, so a concurrent delete of the parent either wins (the create is NotFound) or
sees the child and deletes it too. Index values are read and edited through `indexes`, which
keeps every element kvgraph does not understand; a value that is not a list at all is never
overwritten (UnreadableIndex). Every string given to a write is checked by the text rule
(`text`), so both stores accept and refuse the same data.

A write that may change what a trip spent (an item's cost, currency or trip, an item added or
deleted, the budget itself, the trip's currency) ends by comparing the trip's spending with
its budget's thresholds (`spending`) and appends the alerts now due to
`budget:alerts:{tripId}` in the same transaction. It locks the budget key, then the alert
list (one order everywhere), so concurrent writers record each threshold once. An alert list
that is not a list is side data like an unreadable `suggestions:active:` index: the write goes
on without recording into it, reports it (`Repository.report`) and leaves it as it is.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from pydantic.alias_generators import to_camel

from gql.kv import indexes, spending
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import ConflictError, Store, Transaction
from gql.kv.entities import BUDGET, ITEM, SPECS, SUGGESTION, TRIP, EntitySpec
from gql.kv.jsontext import Unreadable
from gql.kv.mapping import IDENTITY, AppMapping
from gql.kv.scalars import is_postgres_text, postgres_utc
from gql.kv.text import text_problem

T = TypeVar("T")
log = logging.getLogger("kvgraph.records")
RETRIES = 8
EPOCH_MS_FROM = 20_000_000_000  # a larger epoch number is milliseconds (pydantic's rule too)


class RepoError(Exception):
    """An expected failure of a write (not found, id taken, invalid data)."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


class NotFound(RepoError):
    code = "NOT_FOUND"


class IdTaken(RepoError):
    code = "CONFLICT"


class InvalidData(RepoError):
    code = "BAD_USER_INPUT"


class UnreadableRecord(RepoError):
    """A write needs a stored value kvgraph cannot read: refused, never overwritten, and
    never the client's fault."""

    code = "INVALID_RECORD"

    def __init__(self, key: str, why: str) -> None:
        super().__init__(
            f"cannot change {key}: {why}; kvgraph leaves it as it is (fix it by hand, see "
            "`kvgraph check`)"
        )
        self.key = key


class UnreadableIndex(UnreadableRecord):
    """A write needs an index whose stored value is not a list: refused, never overwritten."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(key, f"its stored value is {why}")


class UnreadableList(RepoError):
    """An append to a record whose list (or the record itself) kvgraph cannot read: refused,
    never overwritten."""

    code = "INVALID_RECORD"

    def __init__(self, key: str, why: str, field: str | None = None) -> None:
        super().__init__(
            f"cannot append to {key}: {why}; kvgraph leaves it as it is (fix it by hand, see "
            "`kvgraph check`)",
            field,
        )
        self.key = key


def now() -> str:
    """The current UTC time as ISO-8601 with milliseconds and `Z`, as the seed writes it."""
    return iso_utc(dt.datetime.now(dt.UTC))


def iso_utc(at: dt.datetime) -> str:
    """An aware time as UTC ISO-8601 with milliseconds and `Z`."""
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stamp_like(previous: Any, at: dt.datetime) -> str | int:
    """`at` (aware) in the format of the stamp a record already has, so the app can still
    compare it: an epoch number stays one (ms or s, as before), a numeric string stays a
    numeric string, Postgres' text form stays one (UTC, `+00`); anything else, or no stamp
    yet, is ISO-8601 UTC with `Z`."""
    ms, s = round(at.timestamp() * 1000), int(at.timestamp())
    if isinstance(previous, int | float) and not isinstance(previous, bool):
        return ms if abs(previous) > EPOCH_MS_FROM else s
    if isinstance(previous, str) and previous.isdigit():
        return str(ms if int(previous) > EPOCH_MS_FROM else s)
    if isinstance(previous, str) and is_postgres_text(previous):
        return postgres_utc(at)
    return iso_utc(at)


def new_id() -> str:
    """A new record id (UUID4 string)."""
    return str(uuid.uuid4())


async def atomic(store: Store, work: Callable[[Transaction], Awaitable[T]]) -> T:
    """Run `work` in a transaction, again (with jitter) if it loses a race."""
    for attempt in range(RETRIES):
        try:
            async with store.transaction() as tx:
                return await work(tx)
        except ConflictError:
            if attempt == RETRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


def editable_index(key: str, value: Any) -> indexes.IndexValue:
    """A stored index value to edit; UnreadableIndex when it is not a list of any kind."""
    found = indexes.read(value)
    if found.unreadable is not None:
        raise UnreadableIndex(key, found.unreadable)
    return found


def _log_skipped(skipped: m.InvalidRecord) -> None:
    """Without a request to tell: log side data a write skipped (see `Repository`)."""
    log.warning("invalid record %s: %s", skipped.key, skipped.message)


def check_text(value: Any, field: str = "") -> None:
    """Refuse (InvalidData, naming the field) a value holding a string no store may keep."""
    if (found := text_problem(value, field)) is not None:
        raise InvalidData(found[1], found[0])


async def require_parent(
    tx: Transaction, spec: EntitySpec, record: m.Record, write: dict[str, Any]
) -> None:
    """Lock and re-read the parent of a child record; NotFound when it is gone.

    Read on its own before the child's other keys, so that every writer of a parent's
    children takes the parent's lock first (as its delete does) and none waits in a cycle.
    A parent created earlier in the same transaction (`write`) counts.
    """
    if spec.parent is None:
        return
    key = spec.parent.key_for(record)
    if key is None or key in write or await tx.get(key) is not None:
        return
    raise NotFound(f"{spec.parent.pattern.name} not found", to_camel(spec.parent.field))


def _validated(spec: EntitySpec, key: str, value: Any, mapping: AppMapping) -> m.Record:
    """The record to write at `key` (a new one: "(new)"); InvalidData if it is not valid."""
    record = spec.validate(key, value, mapping)
    if isinstance(record, m.InvalidRecord):
        raise InvalidData(f"invalid {spec.name}: {record.message}")
    return record


def _stored(spec: EntitySpec, key: str, value: Any, mapping: AppMapping) -> m.Record:
    """The record stored at `key`; UnreadableRecord if kvgraph cannot read it (kept as it is:
    stored data is never the client's fault)."""
    record = spec.validate(key, value, mapping)
    if isinstance(record, m.InvalidRecord):
        raise UnreadableRecord(key, record.message)
    return record


def _checked_patch(spec: EntitySpec, key_args: Sequence[str], patch: Mapping[str, Any]) -> None:
    """Refuse (InvalidData) a camelCase patch holding a string no store may keep, or setting a
    key field to something other than its key says (a record's key never changes)."""
    check_text(patch)
    pairs = zip(spec.key_fields, key_args, strict=True)
    if any(patch.get(to_camel(name), arg) not in (None, arg) for name, arg in pairs):
        raise InvalidData(f"the key fields of a {spec.name} cannot change")


def _stamp(
    spec: EntitySpec,
    mapping: AppMapping,
    data: dict[str, Any],
    stored: Mapping[str, Any] | None = None,
) -> None:
    """Set kvgraph's own `createdAt` (a new record) and `updatedAt` in `data`, under the
    app's names for them and in the format `stored` already uses (see `stamp_like`)."""
    model, at = spec.model, dt.datetime.now(dt.UTC)
    created = mapping.write_name(model, "createdAt", stored)
    if stored is None and "created_at" in model.model_fields:
        data.setdefault(created, iso_utc(at))
    if "updated_at" in model.model_fields:
        old = stored or {}
        previous = old.get(mapping.write_name(model, "updatedAt", stored), old.get(created))
        data[mapping.write_name(model, "updatedAt", stored)] = stamp_like(previous, at)


class _NewRecord:
    """A record about to be created: validated, with its key and the indexes to list it in."""

    def __init__(
        self, spec: EntitySpec, raw: dict[str, Any], position: int | None, mapping: AppMapping
    ) -> None:
        self.spec, self.raw, self.position, self.mapping = spec, raw, position, mapping
        self.new_only = False  # refuse an existing key instead of returning its record
        self.record = _validated(spec, "(new)", raw, mapping)
        try:
            self.key = spec.key_for(self.record)
            self.entries = spec.index_entries(self.record)
        except ValueError as exc:  # an id that cannot form a key (empty, contains ':')
            raise InvalidData(str(exc), spec.key_fields[0] if spec.key_fields else None) from None

    @classmethod
    def prepare(
        cls,
        spec: EntitySpec,
        data: Mapping[str, Any],
        position: int | None,
        mapping: AppMapping = IDENTITY,
    ) -> _NewRecord:
        """Fill in the id (absent or explicit null) and timestamps, write the app's names,
        then validate."""
        check_text(data)
        raw = dict(data)
        if spec.key_fields == ("id",) and raw.get("id") is None:
            raw["id"] = new_id()
        raw = mapping.outgoing(spec.model, raw)
        _stamp(spec, mapping, raw)
        return cls(spec, raw, position, mapping)

    async def apply(self, tx: Transaction, write: dict[str, Any]) -> m.Record:
        """Add this record and its index entries to `write` (an existing id: only indexes)."""
        spec, key, entries = self.spec, self.key, self.entries
        await require_parent(tx, spec, self.record, write)
        stored, *values = await tx.get_many([key, *(index_key for index_key, _ in entries)])
        result = self.record
        if stored is not None and self.new_only:
            raise IdTaken(f"this {spec.name} exists already", to_camel(spec.key_fields[0]))
        if stored is not None:
            result = _stored(spec, key, stored, self.mapping)
            if spec.index_entries(result) != entries:
                raise IdTaken(f"{spec.name} id already in use", "id")
        else:
            write[key] = self.raw
        for (index_key, rid), value in zip(entries, values, strict=True):
            current = editable_index(index_key, write.get(index_key, value))
            if rid not in current.ids:
                write[index_key] = current.with_id(rid, self.position).stored()
        return result


class Repository:
    """Writes records of any registered entity through one store, in the app's names.

    `wrote` hears the keys each committed write changed (a request's loaders forget them:
    whatever a write entails, its owned keys, children, indexes and alerts, is named once,
    here). `report` hears of side data a write skipped because kvgraph cannot read it (an
    alert list that is not a list): the write goes on and leaves that value as it is.
    """

    def __init__(
        self,
        store: Store,
        mapping: AppMapping = IDENTITY,
        *,
        wrote: Callable[[Collection[str]], None] | None = None,
        report: Callable[[m.InvalidRecord], None] | None = None,
    ) -> None:
        self.store, self.mapping = store, mapping
        self.wrote, self.report = wrote, report or _log_skipped

    async def transact(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """`atomic`, then tell `wrote` the keys the committed transaction changed."""
        changed: set[str] = set()

        async def tracked(tx: Transaction) -> T:
            result = await work(tx)
            changed.clear()  # a transaction that lost a race ran again: its keys only
            changed.update(tx.changed)
            return result

        result = await atomic(self.store, tracked)
        if self.wrote is not None:
            self.wrote(changed)
        return result

    async def get(self, spec: EntitySpec, *key_args: str) -> m.Record | m.InvalidRecord | None:
        """Read and validate one record; None when missing."""
        key = spec.pattern.key(*key_args)
        value = await self.store.get(key)
        return None if value is None else spec.validate(key, value, self.mapping)

    async def create(
        self,
        spec: EntitySpec,
        data: Mapping[str, Any],
        *,
        position: int | None = None,
        new_only: bool = False,
    ) -> m.Record:
        """Store a new record and list it in its indexes; idempotent for a supplied id.

        A create repeated with the same id returns the stored record unchanged (a retried
        request does not duplicate anything); an id owned by another parent is IdTaken, and
        so is any existing record with `new_only` (a record keyed by its parent: a budget).
        """
        return (await self.create_all([(spec, data, position)], new_only=new_only))[0]

    async def create_all(
        self,
        entries: Sequence[tuple[EntitySpec, Mapping[str, Any], int | None]],
        *,
        touch: Sequence[tuple[EntitySpec, str]] = (),
        new_only: bool = False,
    ) -> list[m.Record]:
        """Create several records (spec, camelCase data, index position) in one transaction.

        `touch` names existing records (spec, id) whose `updatedAt` the same transaction sets,
        e.g. the conversation a new message belongs to; a missing one is NotFound.
        """
        news = [
            _NewRecord.prepare(spec, data, position, self.mapping)
            for spec, data, position in entries
        ]
        for new in news:
            new.new_only = new_only
        touched = [(spec, spec.pattern.key(id_)) for spec, id_ in touch]

        async def work(tx: Transaction) -> list[m.Record]:
            write: dict[str, Any] = {}
            keys = [key for _, key in touched]
            for (spec, key), stored in zip(touched, await tx.get_many(keys), strict=True):
                if not isinstance(stored, dict):
                    raise NotFound(f"{spec.name} not found", "id")
                write[key] = self._touched(spec, stored)
            created = [await new.apply(tx, write) for new in news]
            await self._watch(
                tx, write, set(), [(n.spec, None, c) for n, c in zip(news, created, strict=True)]
            )
            await tx.set_many(write)
            return created

        return await self.transact(work)

    async def update(
        self,
        spec: EntitySpec,
        key_args: Sequence[str],
        patch: Mapping[str, Any],
        *,
        check: Callable[[m.Record], None] | None = None,
        expect: Callable[[m.Record], None] | None = None,
        create: Sequence[tuple[EntitySpec, Mapping[str, Any], int | None]] = (),
    ) -> m.Record:
        """Merge camelCase `patch` into the stored record, keeping fields kvgraph doesn't know.

        `expect` sees the stored record and `check` the merged one, both inside the
        transaction; either may raise RepoError to refuse the write. `create` names records
        (spec, camelCase data, index position) created in the same transaction: all of it is
        written, or none (accepting a suggestion adds its item). A filtered index (active
        suggestions) follows the record's new state.
        """
        _checked_patch(spec, key_args, patch)  # refused before anything is read

        def patch_of(before: m.Record | None) -> Mapping[str, Any]:
            if expect is not None and before is not None:
                expect(before)
            return patch

        return await self._patched(spec, key_args, patch_of, check=check, create=create)

    async def revise(
        self,
        spec: EntitySpec,
        key_args: Sequence[str],
        change: Callable[[m.Record | None], Mapping[str, Any]],
        *,
        create: bool = False,
    ) -> m.Record:
        """Merge the patch `change(record)` computes from the stored record, both in one
        transaction (a read-modify-write no concurrent writer can interleave: a collection's
        places, a profile). `change` may raise RepoError to refuse. With `create`, a missing
        record is made from its key fields and the patch (`change(None)`), else NotFound.
        """
        return await self._patched(spec, key_args, change, create_missing=create)

    async def _patched(
        self,
        spec: EntitySpec,
        key_args: Sequence[str],
        patch_of: Callable[[m.Record | None], Mapping[str, Any]],
        *,
        create_missing: bool = False,
        check: Callable[[m.Record], None] | None = None,
        create: Sequence[tuple[EntitySpec, Mapping[str, Any], int | None]] = (),
    ) -> m.Record:
        """The one write behind `update`, `revise` and `change`: in one transaction, read the
        record, merge the patch `patch_of` computes from it (or create it, `create_missing`),
        re-check a parent it moves to, follow its indexes, create the `create` records, and
        record what the write entails (`_watch`: budget alerts, expired suggestions)."""
        key = spec.pattern.key(*key_args)
        news = [_NewRecord.prepare(s, data, at, self.mapping) for s, data, at in create]

        async def work(tx: Transaction) -> m.Record:
            stored = await tx.get(key)
            if stored is None and not create_missing:
                raise NotFound(f"{spec.name} not found", "id")
            before = None if stored is None else _stored(spec, key, stored, self.mapping)
            patch = dict(patch_of(before))
            _checked_patch(spec, key_args, patch)
            write: dict[str, Any] = {}
            if stored is None or before is None:
                pairs = zip(spec.key_fields, key_args, strict=True)
                identity = {to_camel(name): arg for name, arg in pairs}
                new = _NewRecord.prepare(spec, {**patch, **identity}, None, self.mapping)
                after = await new.apply(tx, write)
            else:
                after = await self._merge_into(tx, spec, key, stored, before, patch, write, check)
            created = [await new.apply(tx, write) for new in news]
            changes = [
                (spec, before, after),
                *((n.spec, None, c) for n, c in zip(news, created, strict=True)),
            ]
            await self._watch(tx, write, set(), changes)
            await tx.set_many(write)
            return after

        return await self.transact(work)

    async def _merge_into(
        self,
        tx: Transaction,
        spec: EntitySpec,
        key: str,
        stored: dict[str, Any],
        before: m.Record,
        patch: Mapping[str, Any],
        write: dict[str, Any],
        check: Callable[[m.Record], None] | None,
    ) -> m.Record:
        """Merge `patch` into the stored record in `write`: `check` sees the merged record,
        a parent it moves to is locked and re-read (NotFound: gone), its indexes follow."""
        merged = self._merged(spec, stored, patch)
        after = _validated(spec, key, merged, self.mapping)
        if check is not None:
            check(after)
        write[key] = merged
        if spec.parent and spec.parent.key_for(after) != spec.parent.key_for(before):
            await require_parent(tx, spec, after, write)
        await self._reindex(tx, spec, before, after, write)
        return after

    async def append(
        self, spec: EntitySpec, key_args: Sequence[str], field: str, items: Sequence[Any]
    ) -> m.Record:
        """Append `items` to the list field `field` (camelCase) of the record at `key_args`,
        creating the record (its key fields only) when it is missing; one transaction, the
        parent locked first. A record kvgraph cannot read, or whose field is not a list, is
        never overwritten: UnreadableList naming the key. What the list holds is kept as
        stored, and a record stored as the bare list (`m.BARE_LISTS`) stays a bare list."""
        key = spec.pattern.key(*key_args)
        check_text(list(items), field)
        fresh = {to_camel(name): value for name, value in spec.identity(*key_args)}

        async def work(tx: Transaction) -> m.Record:
            write: dict[str, Any] = {}
            parentless = _validated(spec, key, fresh, self.mapping)
            await require_parent(tx, spec, parentless, write)
            stored = await tx.get(key)
            if stored is None:
                raw = self.mapping.outgoing(spec.model, {**fresh, field: list(items)})
                _stamp(spec, self.mapping, raw)
                write[key] = raw
                after = _validated(spec, key, raw, self.mapping)
            elif isinstance(stored, list) and m.BARE_LISTS.get(spec.model) == field:
                write[key] = [*stored, *items]  # the app's bare list stays one
                after = _validated(spec, key, write[key], self.mapping)
            else:
                before = spec.validate(key, stored, self.mapping)
                if isinstance(before, m.InvalidRecord):
                    raise UnreadableList(key, f"it is invalid ({before.message})", field)
                name = self.mapping.write_name(spec.model, field, stored)
                existing = stored.get(name)
                if existing is not None and not isinstance(existing, list):
                    raise UnreadableList(key, f"its {name} is not a list", field)
                merged = self._merged(spec, stored, {field: [*(existing or ()), *items]})
                after = _validated(spec, key, merged, self.mapping)
                write[key] = merged
            await tx.set_many(write)
            return after

        return await self.transact(work)

    def _merged(
        self, spec: EntitySpec, stored: dict[str, Any], patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        """`stored` with kvgraph-named `patch` merged in under the names the record uses.

        What the patch does not name stays as it was read: exact numbers (`jsontext.Number`)
        and members kept as stored text are written back with their stored digits and bytes.
        """
        merged = type(stored)(stored)  # a Partial stays one (see jsontext.Partial)
        merged.update(self.mapping.outgoing(spec.model, patch, stored))
        _stamp(spec, self.mapping, merged, stored)
        return merged

    def _touched(self, spec: EntitySpec, stored: dict[str, Any]) -> dict[str, Any]:
        """`stored` with a new `updatedAt` (its name and format kept)."""
        touched = type(stored)(stored)
        _stamp(spec, self.mapping, touched, stored)
        return touched

    async def _reindex(
        self,
        tx: Transaction,
        spec: EntitySpec,
        before: m.Record,
        after: m.Record,
        write: dict[str, Any],
    ) -> None:
        old, new = dict(spec.index_entries(before)), dict(spec.index_entries(after))
        changed = sorted(old.keys() ^ new.keys())
        if not changed:
            return
        for index_key, value in zip(changed, await tx.get_many(changed), strict=True):
            current = editable_index(index_key, value)
            if index_key in new:
                edited = current.with_id(new[index_key])
            else:
                edited = current.without(old[index_key])
            write[index_key] = edited.stored()

    async def delete(self, spec: EntitySpec, *key_args: str) -> m.Record:
        """Delete a record, take it out of its indexes and delete what it owns."""
        key = spec.pattern.key(*key_args)
        # Scanned before the transaction: a scan inside it would need a second pooled
        # connection while this one holds the index locks (a deadlock once the pool is full).
        scoped = await self._prefixed(spec, key_args)
        scanned: list[str] | None = None  # children found by a scan, once one is needed

        async def work(tx: Transaction) -> m.Record:
            stored = await tx.get(key)
            if stored is None:
                raise NotFound(f"{spec.name} not found", "id")
            record = _stored(spec, key, stored, self.mapping)  # unreadable: kept, refused
            await self._unlist(tx, [(spec, record)])
            await self._unlist_scoped(tx, scoped)
            doomed = [key, *await self._owned(tx, spec, key_args, scanned), *scoped]
            write: dict[str, Any] = {}
            await self._watch(tx, write, set(doomed), [(spec, record, None)])
            await tx.set_many(write)
            await tx.delete_many(doomed)
            return record

        while True:
            try:
                deleted = await self.transact(work)
                break
            except _ScanNeeded:
                scanned = await self._scan_children(spec, key_args[0])
        if spec.owned_prefixes:
            await self._sweep(spec, key_args)
        return deleted

    async def _sweep(self, spec: EntitySpec, key_args: Sequence[str]) -> None:
        """Delete what was added under a deleted record's prefixes after they were scanned
        (a collaborator invited while the trip was being deleted): no more can be added now
        that the record is gone (a child's create needs its parent)."""
        late = await self._prefixed(spec, key_args)
        if not late:
            return

        async def work(tx: Transaction) -> None:
            if await tx.get(spec.pattern.key(*key_args)) is not None:
                return  # created again meanwhile: its entries are its own
            await self._unlist_scoped(tx, late)
            await tx.delete_many(late)

        await self.transact(work)

    async def _watch(
        self,
        tx: Transaction,
        write: dict[str, Any],
        gone: set[str],
        changes: Sequence[tuple[EntitySpec, m.Record | None, m.Record | None]],
    ) -> None:
        """What a write entails in the same transaction: the budget alerts the writes in
        `write` (and the deletes of `gone`) make due, and the expired suggestions of a user
        whose suggestions it writes (`_expire`)."""
        for user_id in sorted({u for change in changes for u in _suggestion_users(*change)}):
            await self._expire(tx, user_id, write)
        for trip_id in sorted({t for change in changes for t in _spending_trips(*change)}):
            await self._alert(tx, trip_id, write, gone)

    async def _expire(self, tx: Transaction, user_id: str, write: dict[str, Any]) -> None:
        """Store status `expired` on the user's active suggestions whose `expiresAt` has passed
        and take them out of `suggestions:active:{userId}` (an index kvgraph cannot read is
        left alone). The index is locked; the suggestions are peeked (one that has expired
        can no longer be accepted or dismissed, so no writer of it is left to race)."""
        if not k.is_id(user_id):
            return
        index_key = k.SUGGESTIONS_ACTIVE.key(user_id)
        found = indexes.read(await _locked(tx, write, index_key))
        if found.unreadable is not None:
            return
        keys = [SUGGESTION.pattern.key(i) for i in dict.fromkeys(found.ids) if k.is_id(i)]
        unread = [key for key in keys if key not in write]
        peeked = dict(zip(unread, await tx.peek_many(unread), strict=True)) if unread else {}
        current, now_ = found, dt.datetime.now(dt.UTC)
        for key in keys:
            stored = write.get(key, peeked.get(key))
            if not isinstance(stored, dict):
                continue
            record = SUGGESTION.validate(key, stored, self.mapping)
            if not isinstance(record, m.Suggestion) or record.user_id != user_id:
                continue
            if record.status == "active" and record.expired(now_):
                write[key] = self._merged(SUGGESTION, stored, {"status": "expired"})
                current = current.without(record.id)
        if current is not found:
            write[index_key] = current.stored()

    async def _alert(
        self, tx: Transaction, trip_id: str, write: dict[str, Any], gone: set[str]
    ) -> None:
        """Append to `budget:alerts:{tripId}` the thresholds the trip's spending now crossed for
        the first time (see `spending`); the budget and the list are locked, the rest peeked."""
        if not k.is_id(trip_id):
            return
        budget_key, alerts_key = BUDGET.pattern.key(trip_id), k.BUDGET_ALERTS.key(trip_id)
        if budget_key in gone:
            return
        # Lock order: the budget key, then its alerts. The budget's lock is taken even when
        # there is no budget: a budget created meanwhile waits, then sees this write.
        stored_budget = await _locked(tx, write, budget_key)
        if stored_budget is None:
            return
        stored_alerts = await _locked(tx, write, alerts_key)
        budget = BUDGET.validate(budget_key, stored_budget, self.mapping)
        if not isinstance(budget, m.Budget):
            return  # nothing to compare with: `check` reports the invalid budget
        trip_currency, items = await self._trip_items(tx, trip_id, write, gone)
        spent = spending.spending(budget, trip_currency, items).spent
        elements = stored_alerts if isinstance(stored_alerts, list) else []
        done = spending.recorded(
            m.validate(m.BudgetAlert, f"{alerts_key}[{n}]", one, self.mapping)
            for n, one in enumerate(elements)
        )
        new = spending.due(budget, spent, done)
        if not new:
            return
        if stored_alerts is not None and not isinstance(stored_alerts, list):
            self.report(_unrecorded(alerts_key, stored_alerts))
            return
        currency = spending.budget_currency(budget, trip_currency)
        at = now()
        added = [
            self.mapping.outgoing(m.BudgetAlert, spending.alert(budget, t, spent, currency, at))
            for t in new
        ]
        write[alerts_key] = [*elements, *added]

    async def _trip_items(
        self, tx: Transaction, trip_id: str, write: dict[str, Any], gone: set[str]
    ) -> tuple[str | None, list[m.Item]]:
        """The trip's currency and its items (each once) as this transaction leaves them.

        Peeked, not locked: the budget's lock already orders every writer that records alerts
        for this trip, and each sees what the ones before it committed.
        """
        trip_key, index_key = TRIP.pattern.key(trip_id), k.ITEMS_INDEX.key(trip_id)
        found = await tx.peek_many([trip_key, index_key])
        stored_trip, stored_index = (
            write.get(key, v) for key, v in zip((trip_key, index_key), found, strict=True)
        )
        trip = TRIP.validate(trip_key, stored_trip, self.mapping) if stored_trip else None
        currency = trip.currency if isinstance(trip, m.Trip) else None
        ids = spending.counted_once(i for i in indexes.read(stored_index).ids if k.is_id(i))
        keys = [ITEM.pattern.key(i) for i in ids]
        unread = [key for key in keys if key not in write and key not in gone]
        peeked = dict(zip(unread, await tx.peek_many(unread), strict=True)) if unread else {}
        items: list[m.Item] = []
        for key in keys:
            value = None if key in gone else write.get(key, peeked.get(key))
            found_item = ITEM.validate(key, value, self.mapping) if value is not None else None
            if isinstance(found_item, m.Item) and found_item.trip_id == trip_id:
                items.append(found_item)
        return currency, items

    async def _unlist(self, tx: Transaction, listed: Sequence[tuple[EntitySpec, m.Record]]) -> None:
        """Take records out of every index that lists them: one read of all those indexes,
        one write of those that change, however many records.

        An index listing a share (a collaborator's `trips:index:`) that kvgraph cannot edit
        is left as it is: revoking the share (deleting the entry) must not wait on it, and
        the id left there lists nothing the user may read (`check` reports it dangling).
        """
        links = [(link, record) for spec, record in listed for link in spec.indexes]
        index_keys = list(dict.fromkeys(link.key_for(record) for link, record in links))
        if not index_keys:
            return
        values = dict(zip(index_keys, await tx.get_many(index_keys), strict=True))
        updates: dict[str, indexes.IndexValue] = {}
        for link, record in links:
            index_key, rid = link.key_for(record), link.listed_id(record)
            current = updates.get(index_key)  # two links naming one index: edited once
            if current is None:
                try:
                    current = editable_index(index_key, values[index_key])
                except UnreadableIndex:
                    if link.shared:
                        continue
                    raise
            if rid in current.ids:
                updates[index_key] = current.without(rid)
        await tx.set_many({index_key: value.stored() for index_key, value in updates.items()})

    async def _unlist_scoped(self, tx: Transaction, scoped: Sequence[str]) -> None:
        """Take the records under a deleted record's prefixes out of their indexes (a deleted
        trip's collaborator entries: the trip leaves each collaborator's `trips:index:`), in
        a fixed number of round trips however many there are."""
        if not scoped:
            return
        listed: list[tuple[EntitySpec, m.Record]] = []
        for key, stored in zip(scoped, await tx.get_many(scoped), strict=True):
            parsed = k.parse(key)
            spec = SPECS.get(parsed.pattern.name) if parsed else None
            if spec is None or not spec.indexes or stored is None:
                continue
            record = spec.validate(key, stored, self.mapping)
            if isinstance(record, m.Record):
                listed.append((spec, record))
        await self._unlist(tx, listed)

    async def _prefixed(self, spec: EntitySpec, key_args: Sequence[str]) -> list[str]:
        """The keys under the prefixes `spec` owns (collaborators of a trip)."""
        owned: list[str] = []
        for pattern in spec.owned_prefixes:
            scope = pattern.template.split("{", 1)[0] + key_args[0] + ":"
            owned += [key async for key, _ in self.store.iter_prefix(scope)]
        return owned

    async def _owned(
        self,
        tx: Transaction,
        spec: EntitySpec,
        key_args: Sequence[str],
        scanned: list[str] | None,
    ) -> list[str]:
        """The keys deleted with a record: its own keys and the children its indexes list.

        A child index that kvgraph cannot read completely (not a list, or elements it does not
        understand) may hide children: then the children found by `_scan_children` are
        deleted too, and without such a scan `_ScanNeeded` asks for one.
        """
        owned = [p.key(*key_args) for p in spec.owned_keys]
        child_index_keys = [p.key(*key_args) for p, _ in spec.child_indexes]
        for (_, child), value in zip(
            spec.child_indexes, await tx.get_many(child_index_keys), strict=True
        ):
            found = indexes.read(value)
            if not found.clean and scanned is None:
                raise _ScanNeeded
            owned += [SPECS[child].pattern.key(i) for i in found.ids if k.is_id(i)]
        return owned + (scanned or [])

    async def _scan_children(self, spec: EntitySpec, parent_id: str) -> list[str]:
        """The keys of every child record of a parent, found by reading all records of the
        child kinds (each child names its parent, e.g. an item's `tripId`).

        Slow on a big table, so used only when a child index cannot be read completely.
        """
        found: list[str] = []
        for _, child in spec.child_indexes:
            child_spec = SPECS[child]
            if child_spec.parent is None:
                continue
            field = to_camel(child_spec.parent.field)
            async for key, value in self.store.iter_prefix(child_spec.pattern.literal_prefix):
                if isinstance(value, dict) and value.get(field) == parent_id:
                    found.append(key)
        return found

    async def move(self, index_key: str, id_: str, position: int) -> list[str]:
        """Move `id_` to `position` within an index (itinerary order); NotFound if absent."""
        check_text(id_, "id")

        async def work(tx: Transaction) -> list[str]:
            current = editable_index(index_key, await tx.get(index_key))
            if id_ not in current.ids:
                raise NotFound("id is not in this list", "id")
            moved = current.with_id(id_, position)
            await tx.set(index_key, moved.stored())
            return moved.ids

        return await self.transact(work)

    async def add_to_list(self, index_key: str, id_: str) -> list[str]:
        """Append `id_` to an index unless it is there (saved places)."""
        check_text(id_, "id")

        async def work(tx: Transaction) -> list[str]:
            current = editable_index(index_key, await tx.get(index_key))
            if id_ not in current.ids:
                current = current.with_id(id_)
                await tx.set(index_key, current.stored())
            return current.ids

        return await self.transact(work)

    async def remove_from_list(
        self, index_key: str, id_: str | None, *, delete: Sequence[str] = ()
    ) -> list[str]:
        """Remove `id_` from an index (absent is fine; None: leave the index) and delete the
        `delete` keys in the same transaction (a place saved under both of the seed's
        patterns, `saved:{userId}` and `saved:{userId}:{placeId}`, is unsaved from both)."""

        async def work(tx: Transaction) -> list[str]:
            current = editable_index(index_key, await tx.get(index_key))
            if id_ is not None and id_ in current.ids:
                current = current.without(id_)
                await tx.set(index_key, current.stored())
            if delete:
                await tx.delete_many(delete)
            return current.ids

        return await self.transact(work)

    async def change(
        self,
        spec: EntitySpec,
        key_args: Sequence[str],
        patch_of: Callable[[m.Record], Mapping[str, Any]],
    ) -> m.Record:
        """Like `update`, with the camelCase patch computed inside the transaction from the
        stored record (a next step that depends on the current one, a history that grows), so
        concurrent changes never act on a stale record. `patch_of` may raise RepoError to
        refuse: then nothing is written."""

        def patch(before: m.Record | None) -> Mapping[str, Any]:
            assert before is not None  # without `create_missing`, a missing record is NotFound
            return patch_of(before)

        return await self._patched(spec, key_args, patch)

    async def create_missing(
        self,
        spec: EntitySpec,
        index_key: str,
        entries: Sequence[Mapping[str, Any]],
        same: Callable[[m.Record, m.Record], bool],
    ) -> tuple[list[m.Record], list[m.Record]]:
        """Create each entry (camelCase data of `spec`) unless a record `index_key` lists is
        `same` as it, in one transaction that locks the parent, the index and the records it
        lists: concurrent callers never record one thing twice. Returns (created, the listed
        records that matched an entry); records the index lists that are missing or invalid
        match nothing."""
        news = [_NewRecord.prepare(spec, data, None, self.mapping) for data in entries]
        if not news:
            return [], []
        if any(index_key not in dict(new.entries) for new in news):
            raise ValueError(f"{index_key} does not list every {spec.name} to create")

        async def work(tx: Transaction) -> tuple[list[m.Record], list[m.Record]]:
            write: dict[str, Any] = {}
            await require_parent(tx, spec, news[0].record, write)
            listed = editable_index(index_key, await tx.get(index_key)).ids
            ids = [i for i in dict.fromkeys(listed) if k.is_id(i)]
            keys = [spec.pattern.key(i) for i in ids]
            existing = [
                record
                for key, value in zip(keys, await tx.get_many(keys), strict=True)
                if value is not None
                and isinstance(record := spec.validate(key, value, self.mapping), m.Record)
            ]
            created: list[m.Record] = []
            matched: list[m.Record] = []
            for new in news:
                found = [old for old in existing if same(old, new.record)]
                if found:  # (an entry like one created just before matches that one)
                    fresh = {id(c) for c in created}
                    matched += [o for o in found if o not in matched and id(o) not in fresh]
                    continue
                created.append(await new.apply(tx, write))
                existing.append(created[-1])
            await tx.set_many(write)
            return created, matched

        return await self.transact(work)


def _spending_trips(spec: EntitySpec, before: m.Record | None, after: m.Record | None) -> list[str]:
    """The trips whose spending (or budget) a change of one record may alter."""
    if spec is ITEM:
        costs = [_cost(r) for r in (before, after)]
        return [c[0] for c in costs if c is not None] if costs[0] != costs[1] else []
    if spec is BUDGET and after is not None:
        return [after.trip_id]  # type: ignore[attr-defined]
    if spec is TRIP and before is not None and after is not None:
        changed = before.currency != after.currency  # type: ignore[attr-defined]
        return [after.id] if changed else []  # type: ignore[attr-defined]
    return []


async def _locked(tx: Transaction, write: Mapping[str, Any], key: str) -> Any:
    """The value of `key` as this transaction leaves it, locked (read only if not written)."""
    return write[key] if key in write else await tx.get(key)


def _suggestion_users(
    spec: EntitySpec, before: m.Record | None, after: m.Record | None
) -> list[str]:
    """The users whose expired suggestions a write of one record sweeps (its owner)."""
    if spec is not SUGGESTION:
        return []
    return [r.user_id for r in (after or before,) if isinstance(r, m.Suggestion)]


def _unrecorded(alerts_key: str, stored: Any) -> m.InvalidRecord:
    """What a write reports when it cannot record the alerts it made due: the alert list is
    not a list (kept as it is, and the write goes on without them)."""
    what = stored.reason if isinstance(stored, Unreadable) else f"a JSON {type(stored).__name__}"
    return m.InvalidRecord(
        alerts_key,
        f"budget alerts now due were not recorded: its stored value is {what}, not a list; "
        "kvgraph leaves it as it is (fix it by hand, see `kvgraph check`)",
    )


def _cost(item: m.Record | None) -> tuple[str, float, str | None] | None:
    """What of an item counts toward its trip's spending (None: nothing)."""
    if not isinstance(item, m.Item) or item.cost is None:
        return None
    return item.trip_id, item.cost, item.currency


class _ScanNeeded(Exception):
    """A delete met a child index it cannot read completely: find the children by a scan."""


__all__ = [
    "SPECS",
    "IdTaken",
    "InvalidData",
    "NotFound",
    "RepoError",
    "Repository",
    "UnreadableList",
    "k",
]
