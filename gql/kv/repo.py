"""The repository: create, update, delete and reorder records, indexes kept in step.

Every write runs in one store transaction that reads (and locks) the entity and every index
that lists it, so concurrent writers never lose an index entry and a crash leaves either all
of a write or none of it. A transaction that loses a race (Postgres deadlock) runs again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import ConflictError, Store, Transaction
from gql.kv.entities import SPECS, EntitySpec

T = TypeVar("T")
RETRIES = 8


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


def now() -> str:
    """The current UTC time as ISO-8601 with milliseconds and `Z`, as the seed writes it."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def insert_id(ids: list[str], id_: str, position: int | None = None) -> list[str]:
    """Return `ids` with `id_` at `position` (end when None, clamped), never twice."""
    rest = [i for i in ids if i != id_]
    at = len(rest) if position is None else max(0, min(position, len(rest)))
    return [*rest[:at], id_, *rest[at:]]


def as_id_list(value: Any) -> list[str]:
    """Read a stored index value as a list of ids (missing or malformed -> empty)."""
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _validated(spec: EntitySpec, key: str, value: Any) -> m.Record:
    record = m.validate(spec.model, key, value)
    if isinstance(record, m.InvalidRecord):
        raise InvalidData(f"invalid {spec.name}: {record.message}")
    return record


def _key_changed(spec: EntitySpec, record: m.Record, key_args: Sequence[str]) -> bool:
    """Whether `record` sets a key field to something other than its key says.

    A key field the record leaves out is fine: the seed's `context:{conversationId}` value
    holds only the context, not its conversation id.
    """
    pairs = zip(spec.key_fields, key_args, strict=True)
    return any(getattr(record, name, None) not in (None, arg) for name, arg in pairs)


def _stamp(spec: EntitySpec, data: dict[str, Any], *, created: bool) -> None:
    fields = spec.model.model_fields
    stamp = now()
    if created and "created_at" in fields:
        data.setdefault("createdAt", stamp)
    if "updated_at" in fields:
        data["updatedAt"] = stamp


class _NewRecord:
    """A record about to be created: validated, with its key and the indexes to list it in."""

    def __init__(self, spec: EntitySpec, raw: dict[str, Any], position: int | None) -> None:
        self.spec, self.raw, self.position = spec, raw, position
        self.record = _validated(spec, "(new)", raw)
        try:
            self.key = spec.key_for(self.record)
            self.index_keys = spec.index_keys(self.record)
        except ValueError as exc:  # an id that cannot form a key (empty, contains ':')
            raise InvalidData(str(exc), spec.key_fields[0] if spec.key_fields else None) from None

    @classmethod
    def prepare(cls, spec: EntitySpec, data: Mapping[str, Any], position: int | None) -> _NewRecord:
        """Fill in the id (absent or explicit null) and timestamps, then validate."""
        raw = dict(data)
        if spec.key_fields == ("id",) and raw.get("id") is None:
            raw["id"] = new_id()
        _stamp(spec, raw, created=True)
        return cls(spec, raw, position)

    async def apply(self, tx: Transaction, write: dict[str, Any]) -> m.Record:
        """Add this record and its index entries to `write` (an existing id: only indexes)."""
        spec, key, index_keys = self.spec, self.key, self.index_keys
        stored, *indexes = await tx.get_many([key, *index_keys])
        result = self.record
        if stored is not None:
            result = _validated(spec, key, stored)
            if spec.index_keys(result) != index_keys:
                raise IdTaken(f"{spec.name} id already in use", "id")
        else:
            write[key] = self.raw
        rid: str = getattr(result, "id", "")
        for index_key, ids in zip(index_keys, indexes, strict=True):
            current = as_id_list(write.get(index_key, ids))
            if rid not in current:
                write[index_key] = insert_id(current, rid, self.position)
        return result


class Repository:
    """Writes records of any registered entity through one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, spec: EntitySpec, *key_args: str) -> m.Record | m.InvalidRecord | None:
        """Read and validate one record; None when missing."""
        key = spec.pattern.key(*key_args)
        value = await self.store.get(key)
        return None if value is None else m.validate(spec.model, key, value)

    async def create(
        self, spec: EntitySpec, data: Mapping[str, Any], *, position: int | None = None
    ) -> m.Record:
        """Store a new record and list it in its indexes; idempotent for a supplied id.

        A create repeated with the same id returns the stored record unchanged (a retried
        request does not duplicate anything); an id owned by another parent is IdTaken.
        """
        return (await self.create_all([(spec, data, position)]))[0]

    async def create_all(
        self,
        entries: Sequence[tuple[EntitySpec, Mapping[str, Any], int | None]],
        *,
        touch: Sequence[tuple[EntitySpec, str]] = (),
    ) -> list[m.Record]:
        """Create several records (spec, camelCase data, index position) in one transaction.

        `touch` names existing records (spec, id) whose `updatedAt` the same transaction sets,
        e.g. the conversation a new message belongs to; a missing one is NotFound.
        """
        news = [_NewRecord.prepare(spec, data, position) for spec, data, position in entries]
        touched = [spec.pattern.key(id_) for spec, id_ in touch]

        async def work(tx: Transaction) -> list[m.Record]:
            write: dict[str, Any] = {}
            for key, stored in zip(touched, await tx.get_many(touched), strict=True):
                if not isinstance(stored, dict):
                    raise NotFound(f"{key.partition(':')[0]} not found", "id")
                write[key] = {**stored, "updatedAt": now()}
            created = [await new.apply(tx, write) for new in news]
            await tx.set_many(write)
            return created

        return await atomic(self.store, work)

    async def update(
        self,
        spec: EntitySpec,
        key_args: Sequence[str],
        patch: Mapping[str, Any],
        *,
        check: Callable[[m.Record], None] | None = None,
    ) -> m.Record:
        """Merge camelCase `patch` into the stored record, keeping fields kvgraph doesn't know.

        `check` sees the merged record inside the transaction and may raise RepoError to
        refuse it. A filtered index (active suggestions) follows the record's new state.
        """
        key = spec.pattern.key(*key_args)

        async def work(tx: Transaction) -> m.Record:
            stored = await tx.get(key)
            if stored is None:
                raise NotFound(f"{spec.name} not found", "id")
            before = _validated(spec, key, stored)
            merged = {**stored, **patch}
            _stamp(spec, merged, created=False)
            after = _validated(spec, key, merged)
            if _key_changed(spec, after, key_args):
                raise InvalidData(f"the key fields of a {spec.name} cannot change")
            if check is not None:
                check(after)
            write: dict[str, Any] = {key: merged}
            await self._reindex(tx, spec, before, after, write)
            await tx.set_many(write)
            return after

        return await atomic(self.store, work)

    async def _reindex(
        self,
        tx: Transaction,
        spec: EntitySpec,
        before: m.Record,
        after: m.Record,
        write: dict[str, Any],
    ) -> None:
        old, new = set(spec.index_keys(before)), set(spec.index_keys(after))
        changed = sorted(old ^ new)
        if not changed:
            return
        rid: str = after.id  # type: ignore[attr-defined]
        for index_key, ids in zip(changed, await tx.get_many(changed), strict=True):
            current = as_id_list(ids)
            if index_key in new:
                write[index_key] = insert_id(current, rid)
            else:
                write[index_key] = [i for i in current if i != rid]

    async def delete(self, spec: EntitySpec, *key_args: str) -> m.Record:
        """Delete a record, take it out of its indexes and delete what it owns."""
        key = spec.pattern.key(*key_args)
        # Scanned before the transaction: a scan inside it would need a second pooled
        # connection while this one holds the index locks (a deadlock once the pool is full).
        scoped = await self._prefixed(spec, key_args)

        async def work(tx: Transaction) -> m.Record:
            stored = await tx.get(key)
            if stored is None:
                raise NotFound(f"{spec.name} not found", "id")
            record = m.validate(spec.model, key, stored)
            doomed = [key]
            if isinstance(record, m.Record):
                await self._unlist(tx, spec, record)
                doomed += await self._owned(tx, spec, key_args) + scoped
            await tx.delete_many(doomed)
            if isinstance(record, m.InvalidRecord):
                raise InvalidData(f"invalid {spec.name} deleted: {record.message}")
            return record

        return await atomic(self.store, work)

    async def _unlist(self, tx: Transaction, spec: EntitySpec, record: m.Record) -> None:
        index_keys = [link.key_for(record) for link in spec.indexes]
        rid: str = getattr(record, "id", "")
        updates = {}
        for index_key, ids in zip(index_keys, await tx.get_many(index_keys), strict=True):
            current = as_id_list(ids)
            if rid in current:
                updates[index_key] = [i for i in current if i != rid]
        await tx.set_many(updates)

    async def _prefixed(self, spec: EntitySpec, key_args: Sequence[str]) -> list[str]:
        """The keys under the prefixes `spec` owns (collaborators of a trip)."""
        owned: list[str] = []
        for pattern in spec.owned_prefixes:
            scope = pattern.template.split("{", 1)[0] + key_args[0] + ":"
            owned += [key async for key, _ in self.store.iter_prefix(scope)]
        return owned

    async def _owned(self, tx: Transaction, spec: EntitySpec, key_args: Sequence[str]) -> list[str]:
        owned = [p.key(*key_args) for p in spec.owned_keys]
        child_index_keys = [p.key(*key_args) for p, _ in spec.child_indexes]
        for (_, child), ids in zip(
            spec.child_indexes, await tx.get_many(child_index_keys), strict=True
        ):
            owned += [SPECS[child].pattern.key(i) for i in as_id_list(ids) if k.is_id(i)]
        return owned

    async def move(self, index_key: str, id_: str, position: int) -> list[str]:
        """Move `id_` to `position` within an index (itinerary order); NotFound if absent."""

        async def work(tx: Transaction) -> list[str]:
            ids = as_id_list(await tx.get(index_key))
            if id_ not in ids:
                raise NotFound("id is not in this list", "id")
            moved = insert_id(ids, id_, position)
            await tx.set(index_key, moved)
            return moved

        return await atomic(self.store, work)

    async def add_to_list(self, index_key: str, id_: str) -> list[str]:
        """Append `id_` to an index unless it is there (saved places)."""

        async def work(tx: Transaction) -> list[str]:
            ids = as_id_list(await tx.get(index_key))
            if id_ not in ids:
                ids = insert_id(ids, id_)
                await tx.set(index_key, ids)
            return ids

        return await atomic(self.store, work)

    async def remove_from_list(self, index_key: str, id_: str) -> list[str]:
        """Remove `id_` from an index (absent is fine)."""

        async def work(tx: Transaction) -> list[str]:
            ids = as_id_list(await tx.get(index_key))
            if id_ in ids:
                ids = [i for i in ids if i != id_]
                await tx.set(index_key, ids)
            return ids

        return await atomic(self.store, work)


__all__ = ["SPECS", "IdTaken", "InvalidData", "NotFound", "RepoError", "Repository", "k"]
