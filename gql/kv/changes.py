"""The change feed: which keys the store's writes changed, told to whoever watches them.

Subscriptions (`gql.schema.subscriptions`) wait for the keys their state is read from. Every
write transaction of a store records the keys it wrote or deleted and, once it has
committed, publishes them here (in-process fan-out, by exact key, so a write costs what its
own keys are watched by, however many watchers there are). Other processes learn of it
through the backend's relay (Postgres: NOTIFY in the writing transaction and LISTEN on a
session connection; SQLite: a datagram to each process serving the same file), which
publishes on their own feed.

A relay can miss changes (its connection dropped, a datagram was lost, a transaction changed
more keys than a notification holds): it then calls `resync`, and every watcher is told that
anything may have changed. Watchers keep the state they last showed and compare it with what
they read afresh, so a resync costs a re-read and emits only what really changed.

Both relays tell other processes in the same messages (`messages`, `read_message`): the
changed keys as JSON `{"k": [...]}`, split to fit the relay's limit, or one resync marker
`{"all": true}` when they need more messages than the relay sends for one write.

Every watcher told of one publish (or one resync) gets the same `EventReads`: the values the
subscriptions handling that event read, fetched once for all of them. It is made when the
event is published, so everything in it was read after the event's writes committed; each
subscription still validates, and asks the access rules, on its own (fresh loaders per
event), so a broadcast to a thousand subscribers of one conversation costs the reads of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any

import orjson

Fetch = Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]


class EventReads:
    """What the subscriptions handling one change event read from the store, shared: each
    key (or prefix) fetched once, a reader that finds it being fetched waits for it."""

    __slots__ = ("_loading", "_values")

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._loading: dict[Hashable, asyncio.Future[None]] = {}

    def __len__(self) -> int:
        return len(self._values)

    async def read(self, keys: Sequence[Hashable], fetch: Fetch) -> list[Any]:
        """The values of `keys`, in order: fetched by `fetch` (one call for those nobody has
        fetched yet), or as another reader fetched them (again, if that reader failed)."""
        values, loading = self._values, self._loading
        while True:
            missing, waits = [], set()
            for key in dict.fromkeys(keys):
                if key not in values:
                    if (future := loading.get(key)) is None:
                        missing.append(key)
                    else:
                        waits.add(future)
            if missing:
                await self._fetch(missing, fetch)
            elif not waits:
                return [values[key] for key in keys]
            for future in waits:
                await asyncio.shield(future)  # a failed or cancelled fetch: read them again

    async def _fetch(self, keys: list[Hashable], fetch: Fetch) -> None:
        future = asyncio.get_running_loop().create_future()
        for key in keys:
            self._loading[key] = future
        try:
            self._values.update(zip(keys, await fetch(keys), strict=True))
        finally:
            for key in keys:
                del self._loading[key]
            future.set_result(None)


class Watcher:
    """The keys one subscription waits for, and the changes to them not yet taken."""

    __slots__ = (
        "_event",
        "_feed",
        "_keys",
        "_latest",
        "_pending",
        "_resync",
        "_taken",
        "active",
        "closed",
    )

    def __init__(self, feed: ChangeFeed) -> None:
        self._feed = feed
        self._keys: frozenset[str] = frozenset()
        self._pending: set[str] = set()
        self._resync = False
        self._event = asyncio.Event()
        self.closed = False
        self.active = False  # its subscription has read its first state (`ready`)
        self._latest: EventReads | None = None
        self._taken: EventReads | None = None

    @property
    def keys(self) -> frozenset[str]:
        """The keys watched now."""
        return self._keys

    def watch(self, keys: Iterable[str]) -> None:
        """Watch exactly these keys from now on (a listing's members change as it does)."""
        new = frozenset(keys)
        if new != self._keys and not self.closed:
            self._feed._rekey(self, self._keys, new)
            self._keys = new

    def _tell(self, key: str | None, reads: EventReads) -> None:
        self._latest = reads  # the latest event's: read after every change pending
        if key is None:
            self._resync = True
        else:
            self._pending.add(key)
        self._event.set()

    async def changes(self) -> set[str] | None:
        """Wait for the next changes: the watched keys changed since the last call, or None
        when anything may have changed (a resync: read everything again)."""
        await self._event.wait()
        self._event.clear()
        pending, self._pending = self._pending, set()
        self._taken, self._latest = self._latest, None
        if self._resync:
            self._resync = False
            return None
        return pending

    def reads(self) -> EventReads | None:
        """The shared reads of the changes taken last (handed over once, so the watcher keeps
        no event's values while it waits for the next)."""
        taken, self._taken = self._taken, None
        return taken

    def ready(self) -> None:
        """Its subscription has read the state it starts from: from now on it is active (what
        `ChangeFeed.active` and its observers count)."""
        if not (self.active or self.closed):
            self.active = True
            self._feed._count(1)

    def close(self) -> None:
        """Stop watching (idempotent)."""
        if not self.closed:
            self._feed._rekey(self, self._keys, frozenset())
            self._feed._watchers.discard(self)
            self.closed = True
            if self.active:
                self._feed._count(-1)

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ChangeFeed:
    """In-process fan-out of changed keys to the watchers of each key."""

    def __init__(self) -> None:
        self._by_key: dict[str, set[Watcher]] = {}
        self._watchers: set[Watcher] = set()
        self.published = 0  # batches of changed keys published (local and relayed)
        self.resyncs = 0
        self.active = 0  # watchers whose subscription has started (`Watcher.ready`)
        self.observers: list[Callable[[int], None]] = []  # told +1/-1 as `active` changes

    def _count(self, delta: int) -> None:
        self.active += delta
        for observer in self.observers:
            observer(delta)

    def watcher(self, keys: Iterable[str] = ()) -> Watcher:
        """A new watcher of `keys` (close it, or use it as a context manager)."""
        watcher = Watcher(self)
        self._watchers.add(watcher)
        watcher.watch(keys)
        return watcher

    def __len__(self) -> int:
        return len(self._watchers)

    def _rekey(self, watcher: Watcher, old: frozenset[str], new: frozenset[str]) -> None:
        for key in old - new:
            found = self._by_key.get(key)
            if found is not None:
                found.discard(watcher)
                if not found:
                    del self._by_key[key]
        for key in new - old:
            self._by_key.setdefault(key, set()).add(watcher)

    def publish(self, keys: Iterable[str]) -> None:
        """Tell the watchers of each key that it changed (committed)."""
        self.published += 1
        reads = EventReads()
        for key in keys:
            for watcher in self._by_key.get(key, ()):
                watcher._tell(key, reads)

    def resync(self) -> None:
        """Tell every watcher that anything may have changed (changes may have been missed)."""
        self.resyncs += 1
        reads = EventReads()
        for watcher in self._watchers:
            watcher._tell(None, reads)


# ---------------------------------------------------------------- relay messages
def messages(keys: Iterable[str], limit: int, most: int, origin: str | None = None) -> list[bytes]:
    """The messages telling other processes that `keys` changed, each at most `limit` bytes
    (`{"k": [...]}`, with `"o": origin` when given), or one resync marker when they need more
    than `most` messages or a key alone does not fit."""
    envelope = {} if origin is None else {"o": origin}
    head = len(orjson.dumps({**envelope, "k": []}))
    parts: list[list[str]] = [[]]
    size = head
    for key in sorted(set(keys)):
        cost = len(orjson.dumps(key)) + 1  # with its comma
        if head + cost > limit:
            return [resync_marker(origin)]
        if size + cost > limit:
            if len(parts) == most:
                return [resync_marker(origin)]
            parts.append([])
            size = head
        parts[-1].append(key)
        size += cost
    return [orjson.dumps({**envelope, "k": part}) for part in parts if part]


def resync_marker(origin: str | None = None) -> bytes:
    """The message telling other processes that anything may have changed."""
    return orjson.dumps({"all": True} if origin is None else {"o": origin, "all": True})


def read_message(data: str | bytes) -> tuple[str | None, list[str] | None]:
    """(origin, keys) of a message; keys None for a resync marker (or anything unreadable)."""
    try:
        found = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(found, dict):
        return None, None
    origin = found.get("o") if isinstance(found.get("o"), str) else None
    keys = found.get("k")
    if found.get("all") or not isinstance(keys, list):
        return origin, None
    return origin, [key for key in keys if isinstance(key, str)]
