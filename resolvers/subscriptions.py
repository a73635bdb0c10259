"""Subscriptions: what each one watches, reads again on a change, and emits.

Each subscription checks at its start that the viewer may read what it names (else a
`NOT_FOUND`/`UNAUTHENTICATED` error and nothing is delivered), remembers the state it has
seen (message ids, alert objects, records), and waits on the store's change feed for the
keys that state is read from. On each change (or a resync, when changes may have been
missed: `gql.kv.changes`) it reads again with fresh loaders (`Context.renew`; the values
fetched once for every subscription handling the same event: `gql.kv.changes.EventReads`),
asks the access rules again, as the viewer is now, and emits only what is new or changed and
readable then. Events the viewer may not read at that moment are skipped, not delivered
later. A store that fails during a re-read is tried again shortly, as a resync.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

import orjson

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import StoreError
from gql.kv.changes import Watcher
from resolvers.access import own_conversation, readable_trip, readable_trip_ids, records
from resolvers.context import Context, usable
from resolvers.errors import NOT_FOUND, ClientError, unauthenticated

T = TypeVar("T")
log = logging.getLogger("kvgraph.subscriptions")
STORE_RETRY = 1.0  # seconds before a re-read the store failed is tried again
Step = Callable[[set[str] | None], Awaitable[list[T]]]


class Events(AsyncIterator[T]):
    """A subscription's source stream: stops watching when closed, even before its first
    event (a generator never started runs no `finally` when closed)."""

    def __init__(self, source: AsyncGenerator[T, None], watcher: Watcher) -> None:
        self.source, self.watcher = source, watcher

    def __aiter__(self) -> Events[T]:
        return self

    async def __anext__(self) -> T:
        return await self.source.__anext__()

    async def aclose(self) -> None:
        """Stop watching and close the source."""
        self.watcher.close()
        await self.source.aclose()


async def _started(
    ctx: Context, keys: Iterable[str], initial: Callable[[], Awaitable[T]]
) -> tuple[Watcher, T]:
    """Watch `keys`, then read the initial state (so no change in between is missed)."""
    watcher = ctx.store.changes.watcher(keys)
    try:
        return watcher, await initial()
    except BaseException:
        watcher.close()
        raise
    finally:
        watcher.ready()  # (a closed one stays inactive)


def _stream(ctx: Context, watcher: Watcher, step: Step[T]) -> Events[T]:
    """The events of `step`, run on each change of the watched keys."""
    return Events(_steps(ctx, watcher, step), watcher)


async def _steps(ctx: Context, watcher: Watcher, step: Step[T]) -> AsyncGenerator[T, None]:
    """Run `step` on each change of the watched keys (None: a resync), with fresh loaders and
    the event deadline running, and yield what it found; stop watching when closed."""
    with watcher:
        retry = False
        while True:
            ctx.idle()
            shared = None  # a retry reads afresh
            if retry:
                await asyncio.sleep(STORE_RETRY)
                changed: set[str] | None = None
            else:
                changed = await watcher.changes()
                shared = watcher.reads()
            await ctx.busy()
            ctx.renew(shared)
            try:
                found = await step(changed)
            except StoreError as exc:
                log.warning("subscription re-read failed (retrying): %s", exc)
                retry = True
                continue
            retry = False
            for value in found:
                yield value


def _not_found(what: str) -> ClientError:
    return ClientError(f"{what} not found", NOT_FOUND)


async def message_added(ctx: Context, conversation_id: str) -> Events[m.Message]:
    """Each message added to a conversation the viewer owns (`messages:index:{id}`)."""
    if await own_conversation(ctx, conversation_id) is None:
        raise _not_found("conversation")
    index = k.MESSAGES_INDEX.key(conversation_id)

    async def initial() -> set[str]:
        return set((await ctx.loaders.index(index)).ids)

    watcher, seen = await _started(ctx, [index], initial)

    async def step(changed: set[str] | None) -> list[m.Message]:
        listing, readable = await asyncio.gather(  # one round trip
            ctx.loaders.index(index), own_conversation(ctx, conversation_id)
        )
        new = [i for i in listing.ids if i not in seen]
        seen.update(new)
        if not new or readable is None:
            return []
        return [found for found in await records(ctx, e.MESSAGE, listed=True)(new) if found]

    return _stream(ctx, watcher, step)


def _canonical(value: Any) -> bytes:
    """One text per JSON value, whatever its members' order (to count list elements by)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)


async def budget_alert_raised(ctx: Context, trip_id: str) -> Events[m.BudgetAlert]:
    """Each alert added to `budget:alerts:{tripId}` of a trip the viewer may read."""
    if await readable_trip(ctx, trip_id) is None:
        raise _not_found("trip")
    key = k.BUDGET_ALERTS.key(trip_id)

    async def initial() -> Counter[bytes]:
        return Counter(_canonical(v) for v in (await ctx.loaders.objects(key)).values)

    watcher, seen = await _started(ctx, [key], initial)

    async def step(changed: set[str] | None) -> list[m.BudgetAlert]:
        stored = await ctx.loaders.objects(key)
        now = Counter[bytes]()
        new = []
        for at, value in enumerate(stored.values):
            text = _canonical(value)
            now[text] += 1
            if now[text] > seen[text]:
                new.append(at)
        seen.clear()
        seen.update(now)
        if not new or not (await readable_trip_ids(ctx, [trip_id]))[0]:
            return []
        found = [usable(ctx, ctx.loaders.element(m.BudgetAlert, key, stored, at)) for at in new]
        return [alert for alert in found if alert is not None]

    return _stream(ctx, watcher, step)


async def _itinerary(ctx: Context, trip_id: str) -> tuple[Any, tuple[str, ...], list[Any]]:
    """The trip, its itinerary ids and their items, as stored now (unchecked)."""
    trip = await ctx.loaders.entity(e.TRIP, trip_id)
    listing = await ctx.loaders.index(k.ITEMS_INDEX.key(trip_id))
    return trip, listing.ids, await ctx.loaders.entities(e.ITEM, listing.ids)


def _itinerary_keys(trip_id: str, ids: Iterable[str]) -> list[str]:
    pattern = e.ITEM.pattern
    return [e.TRIP.pattern.key(trip_id), k.ITEMS_INDEX.key(trip_id)] + [
        pattern.literal_prefix + i for i in ids
    ]


async def itinerary_changed(ctx: Context, trip_id: str) -> Events[m.Trip]:
    """The trip, each time it or its itinerary (order, items) changes, while readable."""
    if await readable_trip(ctx, trip_id) is None:
        raise _not_found("trip")
    watcher, state = await _started(
        ctx, _itinerary_keys(trip_id, ()), lambda: _itinerary(ctx, trip_id)
    )
    watcher.watch(_itinerary_keys(trip_id, state[1]))

    async def step(changed: set[str] | None) -> list[m.Trip]:
        nonlocal state
        now = await _itinerary(ctx, trip_id)
        watcher.watch(_itinerary_keys(trip_id, now[1]))
        if now == state:
            return []
        state = now
        trip = await readable_trip(ctx, trip_id)
        return [trip] if trip is not None else []

    return _stream(ctx, watcher, step)


async def suggestion_changed(ctx: Context) -> Events[m.Suggestion]:
    """Each of the viewer's suggestions that is new or changed (status, content...)."""
    viewer = ctx.viewer_id
    if viewer is None:
        raise unauthenticated()
    index = k.SUGGESTIONS_INDEX.key(viewer)
    watcher, state = await _started(ctx, [index], lambda: _suggestions(ctx, index))
    watcher.watch(_suggestion_keys(index, state))

    async def step(changed: set[str] | None) -> list[m.Suggestion]:
        nonlocal state
        now = await _suggestions(ctx, index)
        watcher.watch(_suggestion_keys(index, now))
        fresh = [s for i, s in now.items() if s is not None and state.get(i) != s]
        state = now
        return fresh

    return _stream(ctx, watcher, step)


async def _suggestions(ctx: Context, index: str) -> dict[str, m.Suggestion | None]:
    """The viewer's suggestions by id, in index order (None: unreadable or invalid)."""
    ids: Sequence[str] = (await ctx.loaders.index(index)).ids
    return dict(zip(ids, await records(ctx, e.SUGGESTION, listed=True)(ids), strict=True))


def _suggestion_keys(index: str, state: dict[str, Any]) -> list[str]:
    return [index] + [e.SUGGESTION.pattern.literal_prefix + i for i in state]
