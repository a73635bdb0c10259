"""Relay paging over an ordered list of references (an index array), in one function.

Real indexes hold duplicates, ids whose record is gone and records that fail validation.
A list is read as its distinct references in first-occurrence order (a `Listing`, built once
per request for each index and shared by every parent paging through it); a page is filled with
readable records only (reading further when some are skipped), so a page is never empty
while readable records remain in its direction, and walking forward or backward visits
every readable record exactly once. A cursor names its reference and offset: the reference
keeps a page boundary in place when records are inserted before it; the offset is used
once the reference has left the list. `totalCount` reads every record of the list once per
request and kind, whatever the number of parents asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from resolvers.eager import gather_eagerly
from resolvers.errors import bad_input
from resolvers.ids import cursor, parse_cursor
from resolvers.loaders import Listing

DEFAULT_PAGE = 20
MAX_PAGE = 100

Load = Callable[[Sequence[str]], Awaitable[Sequence[Any | None]]]
"""Read the records of some references, in order; None for one that is not readable."""
Prefetch = Callable[[Sequence[str]], None]
"""Start reading what the next query level will need for these references (same batch)."""


@dataclass(slots=True)
class PageArgs:
    """Relay arguments of a connection field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(slots=True)
class Edge:
    cursor: str
    node: Any


@dataclass(slots=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


class Page:
    """A resolved connection: its nodes; edges and page info built when asked; the count on
    demand."""

    __slots__ = ("_found", "_has", "_kind", "_listing", "_load", "nodes")

    def __init__(
        self,
        listing: Listing,
        load: Load,
        found: list[tuple[int, Any]],
        has: tuple[bool, bool],
        kind: str,
    ) -> None:
        self._listing, self._load, self._found, self._has = listing, load, found, has
        self._kind = kind
        self.nodes = [record for _, record in found]

    def _cursor(self, at: int) -> str:
        return cursor(at, self._listing.ids[at])

    @property
    def edges(self) -> list[Edge]:
        return [Edge(self._cursor(at), record) for at, record in self._found]

    @property
    def page_info(self) -> PageInfo:
        found = self._found
        first = self._cursor(found[0][0]) if found else None
        last = self._cursor(found[-1][0]) if found else None
        return PageInfo(self._has[0], self._has[1], first, last)

    @classmethod
    def empty(cls) -> Page:
        """A page of an empty list."""
        return cls(Listing(()), _nothing, [], (False, False), "")

    async def count(self) -> int:
        """How many readable records the whole list holds (read once per list and kind:
        parents asking at the same time share one count)."""
        counts, kind = self._listing.counts, self._kind
        counting = counts.get(kind)
        if counting is None:
            counting = counts[kind] = asyncio.ensure_future(self._count())
            counting.add_done_callback(lambda done: _forget_failed(counts, kind, done))
        # Shielded: one cancelled reader must not cancel a count others wait for.
        return await asyncio.shield(counting)

    async def _count(self) -> int:
        return sum(record is not None for record in await self._load(self._listing.ids))

    @staticmethod
    async def counts(pages: Sequence[Page]) -> list[int]:
        """`count()` of several pages, read together (a page shared by parents counted once)."""
        distinct = list({id(page): page for page in pages}.values())
        counted = await gather_eagerly(page.count() for page in distinct)
        found = {id(page): n for page, n in zip(distinct, counted, strict=True)}
        return [found[id(page)] for page in pages]


def _forget_failed(
    counts: dict[str, asyncio.Future[int]], kind: str, done: asyncio.Future[int]
) -> None:
    """A count that failed is not kept (the next one tries again)."""
    if (done.cancelled() or done.exception() is not None) and counts.get(kind) is done:
        del counts[kind]


async def _nothing(refs: Sequence[str]) -> list[Any]:
    return [None] * len(refs)


def _size(name: str, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_PAGE:
        raise bad_input(f"`{name}` must be between 0 and {MAX_PAGE}")


def _position(listing: Listing, token: str) -> tuple[int, bool]:
    """Where a cursor points: (offset, whether its reference is still in the list)."""
    offset, ref = parse_cursor(token)
    found = listing.position(ref)
    return (found, True) if found is not None else (listing.gone(ref, offset), False)


async def _walk(
    refs: Sequence[str], order: range, want: int, load: Load, prefetch: Prefetch | None
) -> list[tuple[int, Any]]:
    """Read `order`'s references chunk by chunk until `want` readable records are found."""
    found: list[tuple[int, Any]] = []
    start, stop, step = order.start, order.stop, order.step
    while (start < stop if step > 0 else start > stop) and len(found) < want:
        chunk = range(start, stop, step)[: want - len(found)]
        wanted = [refs[i] for i in chunk]
        if prefetch is not None:
            prefetch(wanted)
        records = await load(wanted)
        found += [(i, r) for i, r in zip(chunk, records, strict=True) if r is not None]
        start = chunk.stop
    return found


async def paginate(
    refs: Listing | Sequence[str],
    args: PageArgs,
    load: Load,
    prefetch: Prefetch | None = None,
    kind: str = "",
) -> Page:
    """One page of `refs` (duplicates read once) by Relay arguments; default 20, max 100.

    `kind` names what `load` reads (its `totalCount` is counted once per list and kind).
    """
    _size("first", args.first)
    _size("last", args.last)
    if args.first is not None and args.last is not None:
        raise bad_input("pass `first` or `last`, not both")
    listing = refs if isinstance(refs, Listing) else Listing(refs)
    ids = listing.ids
    low, high = 0, len(ids)
    if args.after:
        offset, kept = _position(listing, args.after)
        low = offset + 1 if kept else offset
    if args.before:
        high = max(low, _position(listing, args.before)[0])
    if args.last is not None:
        found = await _walk(ids, range(high - 1, low - 1, -1), args.last + 1, load, prefetch)
        more, found = len(found) > args.last, found[: args.last][::-1]
        has = (high < len(ids), more)
    else:
        size = DEFAULT_PAGE if args.first is None else args.first
        found = await _walk(ids, range(low, high), size + 1, load, prefetch)
        more, found = len(found) > size, found[:size]
        has = (more, low > 0)
    return Page(listing, load, found, has, kind)
