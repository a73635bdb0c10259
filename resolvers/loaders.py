"""Per-request loaders over the KV store.

`index` reads index arrays, `objects` lists of objects without ids, and `entity`/`entities`
records; all of them feed one key batch per event-loop tick, so every batch is exactly one
`get_many` and a level of the query that needs records and index arrays at once still costs
one round trip. `listed` reads the keys under a prefix (`collaborator:{tripId}:`) with their
values: the prefixes of one tick in one `list_prefixes_raw`, whose values later loads reuse.
Values arrive as the stored JSON text; a record is decoded (orjson) and validated (pydantic)
at most once per request, and not at all when the same text was validated before under the
same key (`models.validate_raw`).

The batcher is ours rather than Strawberry's DataLoader: a list level of thousands of keys
then costs one future, not one per key, and a failed batch is not cached (the next load tries
again), which also makes the loaders safe to keep for a long-lived connection.

A subscription's loaders for one change event fetch through that event's `EventReads`
(`gql.kv.changes`), shared with every subscription handling the same event: a value is
fetched once for all of them, and each one's loaders still decode, validate and check it on
their own.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import weakref
from collections.abc import Awaitable, Callable, Iterable, Sequence
from itertools import repeat
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

from gql.kv import indexes, jsontext
from gql.kv.base import Raw, Store
from gql.kv.changes import EventReads
from gql.kv.entities import EntitySpec
from gql.kv.keys import is_id
from gql.kv.mapping import IDENTITY, AppMapping
from gql.kv.models import (
    Identity,
    InvalidRecord,
    Record,
    validate,
    validate_raw,
    validate_raws,
)
from gql.kv.recent import Recent
from resolvers.meter import Meter

P = ParamSpec("P")
R = TypeVar("R")
Loaded = Record | InvalidRecord | None
V = TypeVar("V", Raw, tuple[tuple[str, Raw], ...])
Fetch = Callable[[Sequence[str]], Awaitable[list[V | None]]]
Report = Callable[[InvalidRecord], None]
Rows = tuple[tuple[str, Raw], ...]  # (key, stored text) pairs under one prefix, by key
Number = Callable[[Sequence[Any]], Sequence[int]]  # a list's objects -> sequence numbers


def weakly(method: Callable[P, R]) -> Callable[P, R]:
    """`method` called through a weak reference to its object: a callback that does not keep
    it alive (ReferenceError once it is gone)."""
    bound: Any = method  # a bound method: its function and (weakly) its object
    function, ref, name = bound.__func__, weakref.ref(bound.__self__), method.__qualname__

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        obj = ref()
        if obj is None:
            raise ReferenceError(f"{name}: its object is gone")
        return function(obj, *args, **kwargs)

    return call


def _keys(prefixes: Iterable[str], ids: Sequence[str]) -> list[str]:
    """Each id's key under its prefix; "" for an id that cannot form one (empty, holds ':'),
    which reads as missing."""
    pairs = zip(prefixes, ids, strict=False)  # (the prefixes may be endless: `repeat`)
    return [prefix + i if is_id(i) else "" for prefix, i in pairs]


def _rows_size(rows: Rows) -> int:
    return sum(len(raw) for _, raw in rows)


class _Batch:
    """One fetch of keys. Each reader waits on a future of its own, so a cancelled reader
    cancels only its wait, never the fetch others wait for (no `asyncio.shield`, whose
    outer future costs two more event-loop rounds)."""

    __slots__ = ("done", "error", "traceback", "waiters")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.traceback: TracebackType | None = None
        self.waiters: list[asyncio.Future[None]] = []

    async def wait(self) -> None:
        """Until the fetch is over; its error, if it failed."""
        if not self.done:
            waiter = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter
        if self.error is not None:  # raised by each reader from where it failed (as Future does)
            raise self.error.with_traceback(self.traceback)

    def finish(self, error: BaseException | None = None) -> None:
        """The fetch is over: wake every reader still waiting."""
        self.done, self.error = True, error
        self.traceback = error.__traceback__ if error is not None else None
        for waiter in self.waiters:
            if not waiter.done():
                if isinstance(error, asyncio.CancelledError):
                    waiter.cancel()
                else:
                    waiter.set_result(None)
        self.waiters.clear()


class KeyBatcher(Generic[V]):
    """Collects the keys (or prefixes) asked for in one tick and fetches them with one call;
    what the fetched values hold is charged to the meter (`size`).

    The batch's task is made with its first key, so its first step, the fetch, comes in the
    next round of the event loop, after the other loads of that tick joined it: a read that
    does not wait (SQLite's inline one) is over in that round and its readers go on in the next.
    """

    def __init__(
        self,
        fetch: Fetch[V],
        meter: Meter | None = None,
        size: Callable[[V], int] = len,
    ) -> None:
        self._fetch: Fetch[V] = fetch
        self._size: Callable[[V], int] = size
        self._meter = meter or Meter()
        self._cache: dict[str, V | None] = {}
        self._loading: dict[str, _Batch] = {}
        self._pending: dict[str, None] = {}
        self._next: _Batch | None = None
        self._starting = False  # while the next batch's task is being made
        self._tasks: set[asyncio.Task[None]] = set()

    async def load_many(self, keys: Iterable[str]) -> list[V | None]:
        """The stored JSON text of `keys` (None for missing), in order."""
        self._meter.check()
        keys = list(keys)
        cache = self._cache
        absent = [key for key in keys if key not in cache]
        if absent:
            for batch in self._waits(absent):
                await batch.wait()
            self._meter.check()
        else:
            await self.pace()
        return list(map(cache.__getitem__, keys))

    async def pace(self) -> None:
        """Let other tasks run if the request has kept the loop for a while (`Meter.pace`),
        but never while keys wait for the next batch: others may still join it."""
        if self._next is None:
            await self._meter.pace()

    def prefetch(self, keys: Iterable[str]) -> None:
        """Add keys to the next batch without waiting for them."""
        cache = self._cache
        absent = [key for key in keys if key not in cache]
        if absent:
            self._waits(absent)

    async def load(self, key: str) -> V | None:
        """The stored JSON text of one key."""
        return (await self.load_many([key]))[0]

    def _waits(self, keys: list[str]) -> set[_Batch]:
        """The batches that will bring `keys` (none cached): those loading them, and the
        next one for the others (added to it)."""
        loading = self._loading
        waits = {loading[key] for key in keys if key in loading} if loading else set()
        pending = [key for key in keys if key not in loading] if waits else keys
        if pending:
            self._pending.update(dict.fromkeys(pending))
            batch = self._next
            if batch is None:
                batch = self._next = _Batch()
                self._starting = True
                try:
                    task = asyncio.get_running_loop().create_task(self._run(batch))
                finally:
                    self._starting = False
                self._tasks.add(task)  # keep a reference until it finishes
                task.add_done_callback(functools.partial(self._ended, batch))
            waits.add(batch)
        return waits

    async def _run(self, batch: _Batch) -> None:
        """Fetch the next batch: its task's first step comes after every load of the tick
        that made it has added its keys."""
        if self._starting:  # started at once (an eager task factory): let the tick end first
            await asyncio.sleep(0)
        keys = list(self._pending)
        self._pending, self._next = {}, None
        for key in keys:
            self._loading[key] = batch
        try:
            values = await self._fetch(keys)
            if len(values) != len(keys):
                raise ValueError(f"a fetch of {len(keys)} keys gave {len(values)} values")
        except asyncio.CancelledError as exc:
            batch.finish(exc)
            raise
        except Exception as exc:  # every load waiting on this batch re-raises it
            batch.finish(exc)
        else:
            self._cache.update(zip(keys, values, strict=True))  # (checked above)
            batch.finish()
            present: Iterable[V] = filter(None, values)  # (an empty value has size 0 anyway)
            self._meter.count(stored_bytes=sum(map(self._size, present)))
        finally:
            for key in keys:
                self._loading.pop(key, None)

    def _ended(self, batch: _Batch, task: asyncio.Task[None]) -> None:
        """A batch's task is over. If it ended without finishing the batch (cancelled
        before its first step, or failed past the fetch), its readers get what ended it, and
        the next load starts a batch of its own."""
        self._tasks.discard(task)
        if not batch.done:
            if self._next is batch:
                self._pending, self._next = {}, None
            error = None if task.cancelled() else task.exception()
            batch.finish(error or asyncio.CancelledError())

    def forget(self, key: str) -> None:
        """Drop one cached value."""
        self._cache.pop(key, None)

    def keep(self, found: Iterable[tuple[str, V]]) -> None:
        """Cache values read (and charged) some other way: a later load costs no round trip."""
        for key, value in found:
            self._cache.setdefault(key, value)

    def forget_under(self, key: str) -> None:
        """Drop the cached values of every prefix `key` falls under."""
        for prefix in [p for p in self._cache if key.startswith(p)]:
            del self._cache[prefix]


class _IndexIds(Recent[str, tuple[Raw, tuple[str, ...], str | None]]):
    """Index texts read before, by their key: the same text read again under that key, by
    this request or a later one, is not decoded and de-duplicated again, and its ids are the
    very strings of last time (their hashes known); a changed text replaces the one before
    (as `models.validate_raws` keeps records). At most `chars` characters of text are kept
    (the ids take a few times that in memory), the least recently read dropped first; a
    text longer than `longest` is read each time."""

    def __init__(self, chars: int, longest: int) -> None:
        super().__init__(chars)
        self.longest = longest

    def read(self, key: str, raw: Raw | None) -> tuple[tuple[str, ...], str | None]:
        """The distinct ids, in order, of the index text `raw` stored at `key`, and why it
        could not be read completely (None: it could); missing (None): nothing."""
        if raw is None:
            return (), None
        kept = self.get(key)
        if kept is not None and (kept[0] is raw or kept[0] == raw):
            return kept[1], kept[2]
        value = indexes.read_raw(raw)
        ids, problem = tuple(dict.fromkeys(value.ids)), value.problem()
        if len(raw) <= self.longest:
            self.keep(key, (raw, ids, problem), len(raw))
        return ids, problem


INDEX_IDS = _IndexIds(chars=1_000_000, longest=65_536)  # (65,536 characters: ~1,600 ids)


class Listing:
    """What an index lists: its distinct ids in first-occurrence order, read, de-duplicated
    and counted once per request and shared by every parent that pages through it."""

    __slots__ = ("_at", "counts", "ids", "problem")

    def __init__(
        self, ids: Iterable[str], problem: str | None = None, *, distinct: bool = False
    ) -> None:
        # (`distinct`: the ids are distinct already, not de-duplicated again; a tuple is kept)
        self.ids: tuple[str, ...] = tuple(ids) if distinct else tuple(dict.fromkeys(ids))
        self.problem = problem  # why the stored value could not be read completely
        # The number of readable records per kind, counted (or being counted) once.
        self.counts: dict[str, asyncio.Future[int]] = {}
        self._at: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, ref: str) -> int | None:
        """Where `ref` stands in the list (None: not listed)."""
        if self._at is None:
            self._at = {ref: i for i, ref in enumerate(self.ids)}
        return self._at.get(ref)

    def gone(self, ref: str, offset: int) -> int:
        """Where a cursor points whose `ref` has left the list: the `offset` it had."""
        return min(offset, len(self))


class Stored(Listing):
    """A list key's objects (`budget:alerts:{tripId}`: a JSON array of objects without ids),
    listed by position ("0", "1", ...): a cursor keeps its place while the list grows at its
    end, which is how apps add to such a list. A list that also drops its oldest objects
    (`context:history:`) is listed by their sequence numbers instead (`numbers`, increasing):
    a cursor then keeps its place as the front is dropped too."""

    __slots__ = ("_numbers", "values")

    def __init__(
        self,
        values: Sequence[Any] = (),
        problem: str | None = None,
        numbers: Sequence[int] | None = None,
    ) -> None:
        refs = range(len(values)) if numbers is None else numbers
        super().__init__((str(i) for i in refs), problem)
        self.values = tuple(values)
        self._numbers = None if numbers is None else tuple(numbers)

    def at(self, ref: str) -> int:
        """The position of a listed object's reference."""
        found = self.position(ref)
        if found is None:
            raise KeyError(ref)
        return found

    def gone(self, ref: str, offset: int) -> int:
        """Where a cursor whose object has left the list points: by sequence number, the
        first newer object; by position, the offset it had."""
        if self._numbers is not None and ref.isdigit():
            return bisect.bisect_right(self._numbers, int(ref))
        return super().gone(ref, offset)


def _stored(raw: Raw | None, number: Number | None = None) -> Stored:
    """The objects of a list key's stored text (missing: none); why it cannot be read.
    `number` gives the objects' sequence numbers (None: they are listed by position)."""
    if raw is None:
        return Stored()
    try:
        value = jsontext.decode(raw, exact=False)
    except jsontext.Undecodable as exc:
        return Stored((), str(exc))
    if isinstance(value, jsontext.Unreadable):
        return Stored((), value.reason)
    if not isinstance(value, list):
        return Stored((), f"expected a JSON array, found {type(value).__name__}")
    return Stored(value, numbers=None if number is None else number(value))


class Loaders:
    """The loaders of one request, with its batch counters and its meter."""

    def __init__(
        self,
        store: Store,
        mapping: AppMapping = IDENTITY,
        report: Report | None = None,
        meter: Meter | None = None,
        shared: EventReads | None = None,
    ) -> None:
        self.store, self.mapping = store, mapping
        self.shared = shared  # a change event's reads, shared with its other subscriptions
        self.report = report  # told about each index value that cannot be read completely
        self.meter = meter or Meter()
        self.batches = 0
        self.keys = 0
        # Weakly, as every callback a request's objects hold of one another: a reference cycle
        # would keep all it read (texts, records, listings) until the next garbage collection
        # instead of freeing it with the request.
        self._raw: KeyBatcher[Raw] = KeyBatcher(weakly(self._load_batch), self.meter)
        self._prefix_batcher: KeyBatcher[Rows] | None = None  # made by the first listing
        self._records: dict[str, Loaded] = {}
        self._listings: dict[str, Listing] = {}
        self._prefix_listings: dict[str, Listing] = {}
        self._stored: dict[str, Stored] = {}

    def _prefixes(self) -> KeyBatcher[Rows]:
        if self._prefix_batcher is None:
            self._prefix_batcher = KeyBatcher(weakly(self._list_batch), self.meter, _rows_size)
        return self._prefix_batcher

    async def _load_batch(self, keys: Sequence[str]) -> list[Raw | None]:
        self.batches += 1
        self.keys += len(keys)
        if self.shared is not None:
            return await self.shared.read(keys, self.store.get_many_raw)
        return await self.store.get_many_raw(keys)

    async def _list_batch(self, prefixes: Sequence[str]) -> list[Rows | None]:
        self.batches += 1
        limit = self.meter.limits.max_records + 1

        async def fetch(asked: Sequence[tuple[int, str]]) -> list[list[tuple[str, Raw]]]:
            return await self.store.list_prefixes_raw([p for _, p in asked], limit=limit)

        if self.shared is not None:  # by (limit, prefix): one limit per call
            found = await self.shared.read([(limit, p) for p in prefixes], fetch)
        else:
            found = await fetch([(limit, p) for p in prefixes])
        self.keys += sum(len(rows) for rows in found)
        for rows in found:
            self._raw.keep(rows)  # the records' own loads then cost no round trip
            if len(rows) >= limit:  # longer than the request may read: never shown cut short
                self.meter.count(records=limit)
        return [tuple(rows) for rows in found]

    def prefetch(self, keys: Iterable[str]) -> None:
        """Fetch keys with the next batch (a later load of them costs no round trip)."""
        self._raw.prefetch(keys)

    async def index(self, key: str) -> Listing:
        """What an index key lists (missing: nothing), read once per request (its stored text
        is charged to the meter like any value); what cannot be read is reported each time."""
        listing = self._listings.get(key)
        if listing is None:
            raw = await self._raw.load(key)  # parents asking together share one batch
            listing = self._listings.get(key)  # and the first of them builds the listing
            if listing is None:
                ids, problem = INDEX_IDS.read(key, raw)
                listing = self._listings[key] = Listing(ids, problem, distinct=True)
        else:
            self.meter.check()
            await self._raw.pace()
        if self.report is not None and listing.problem is not None:
            self.report(InvalidRecord(key, listing.problem))
        return listing

    async def has(self, key: str) -> bool:
        """Whether `key` holds a value (read with the next batch, like any key)."""
        return await self._raw.load(key) is not None

    async def listed(self, prefix: str) -> Listing:
        """What a key prefix lists (`collaborator:{tripId}:`): the rest of each key under it
        (the last key parameter), in key order. Every prefix asked for in one tick is read in
        one round trip, the records with it (charged to the meter as they are read, and kept
        for their loads); a listing is read once per request, like an index."""
        listing = self._prefix_listings.get(prefix)
        if listing is None:
            rows = await self._prefixes().load(prefix)
            listing = self._prefix_listings.get(prefix)
            if listing is None:
                start = len(prefix)  # a longer key (`...:{userId}:x`) is not one of these
                listing = Listing(key[start:] for key, _ in rows or () if is_id(key[start:]))
                self._prefix_listings[prefix] = listing
        else:
            self.meter.check()
            await self._raw.pace()
        return listing

    async def objects(self, key: str, number: Number | None = None) -> Stored:
        """The objects a list key holds (missing: none), read once per request like an index;
        a value that is not an array reads as none and is reported each time. `number`: how
        its objects are numbered, for a list that drops its oldest (see `Stored`)."""
        found = self._stored.get(key)
        if found is None:
            raw = await self._raw.load(key)
            found = self._stored.get(key)
            if found is None:
                found = self._stored[key] = _stored(raw, number)
        else:
            self.meter.check()
            await self._raw.pace()
        if self.report is not None and found.problem is not None:
            self.report(InvalidRecord(key, found.problem))
        return found

    def element(self, model: type[Record], key: str, stored: Stored, at: int) -> Loaded:
        """The object at position `at` of a list key, validated as `model` (charged as one
        record); an invalid one is named `key[at]`."""
        self.meter.read(records=1)
        return validate(model, f"{key}[{at}]", stored.values[at], self.mapping)

    async def entity(self, spec: EntitySpec, *key_args: str) -> Loaded:
        """The validated record of `spec` at these key parameters."""
        key = spec.pattern.key(*key_args)
        if key in self._records:
            return self._records[key]
        return self._validated(spec, key, spec.identity(*key_args), await self._raw.load(key))

    async def entities(self, spec: EntitySpec, ids: Sequence[str]) -> list[Loaded]:
        """Validated records of `spec` for each id, in order, in one batch."""
        keys = _keys(repeat(spec.pattern.literal_prefix), ids)
        return await self._records_at(keys, [spec] * len(keys), ids)

    async def records(self, refs: Sequence[tuple[EntitySpec, str]]) -> list[Loaded]:
        """Validated records for (spec, id) pairs of any kinds, in order, in one batch."""
        specs, ids = [spec for spec, _ in refs], [i for _, i in refs]
        keys = _keys((spec.pattern.literal_prefix for spec in specs), ids)
        return await self._records_at(keys, specs, ids)

    async def _records_at(
        self, keys: list[str], specs: Sequence[EntitySpec], ids: Sequence[str]
    ) -> list[Loaded]:
        """The records at `keys` (of `specs[n]`, identified by `ids[n]`), in order.

        A key "" (an id that cannot form one: empty, contains ':') reads as missing. Records
        met before in this request cost a dict lookup; the others are charged to the meter
        together and validated (once per stored text, `models.validate_raws`).
        """
        known = self._records
        new: Sequence[int]
        if "" not in keys and known.keys().isdisjoint(keys):
            new, wanted = range(len(keys)), keys  # none met before: the common case
        else:
            new = [n for n, key in enumerate(keys) if key and key not in known]
            wanted = [keys[n] for n in new]
        if not new:
            await self._raw.load_many(())  # the meter's check and the loop's pacing
            return [known[key] if key else None for key in keys]
        values = await self._raw.load_many(wanted)
        found = dict(zip(wanted, values, strict=True))  # each key once
        if not known.keys().isdisjoint(found):  # validated by another load meanwhile
            found = {key: raw for key, raw in found.items() if key not in known}
        present = [(key, raw) for key, raw in found.items() if raw is not None]
        self.meter.read(records=len(present))
        known.update(dict.fromkeys(found))  # the missing ones: None
        at = dict(zip(wanted, new, strict=True))
        checked = validate_raws(
            (
                (specs[n].model, key, raw, ((specs[n].key_fields[0], ids[n]),))
                for key, raw in present
                for n in (at[key],)
            ),
            self.mapping,
        )
        known.update(zip([key for key, _ in present], checked, strict=True))
        return [known[key] if key else None for key in keys]

    async def load_keys(self, spec: EntitySpec, keys: Sequence[str]) -> list[Loaded]:
        """Validated records of `spec` at these keys (each one of its keys), in one batch."""
        values = await self._raw.load_many(keys)
        return [
            self._validated(spec, key, spec.identity_of(key), raw)
            for key, raw in zip(keys, values, strict=True)
        ]

    def _validated(self, spec: EntitySpec, key: str, identity: Identity, raw: Raw | None) -> Loaded:
        """The record at `key` (validated once per request); its key gives its identity."""
        found = self._records.get(key, self)
        if found is self:
            found = None
            if raw is not None:
                self.meter.read(records=1)
                found = validate_raw(spec.model, key, raw, self.mapping, identity)
            self._records[key] = found
        return found  # type: ignore[return-value]

    def forget(self, *keys: str) -> None:
        """Drop cached values after a write, so the rest of the request reads fresh data."""
        for key in keys:
            self._raw.forget(key)
            self._records.pop(key, None)
            self._listings.pop(key, None)
            self._stored.pop(key, None)
            if self._prefix_batcher is not None:
                self._prefix_batcher.forget_under(key)
            for prefix in [p for p in self._prefix_listings if key.startswith(p)]:
                del self._prefix_listings[prefix]
        self.recount()  # what the viewer may read may have changed

    def recount(self) -> None:
        """Forget every memoized count: the next `totalCount` counts (and reports) afresh."""
        lists = (self._listings, self._prefix_listings, self._stored)
        for listing in (found for each in lists for found in each.values()):
            listing.counts.clear()
