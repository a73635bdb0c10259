"""What one request may read, and how long it may keep the event loop.

The node budget (`gql/schema/limits.py`) bounds what a response can hold before anything
runs. What a request reads to build it is known only while it runs: a page of 10 reads the
whole index behind it, and `totalCount` reads every record the list names. So the loaders
report every record a request decodes and every character of stored value it reads (index
values included) to its meter; past either ceiling the request stops, with nothing of its
data returned (`QUERY_TOO_LARGE`, naming the limit). Together the two ceilings bound the
memory a request holds.

Loads of cached keys never suspend, so a large query could otherwise keep the event loop to
itself: the execution timeout could not fire and no other request would be answered. Loads
pass `pace()`, which gives the loop back once the request has kept it for a slice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from resolvers.errors import Abort

QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
SLICE = 0.005  # seconds of event loop a request keeps before letting others run


@dataclass(frozen=True)
class ReadLimits:
    """The most one request may read: records decoded, and characters of stored values."""

    max_records: int = 50_000
    max_bytes: int = 16 << 20


class ReadLimitExceeded(Abort):
    """The request read more than its limits allow: it stops, returning no data."""

    def __init__(self, limit: str, maximum: int, what: str) -> None:
        super().__init__(
            f"The query reads more than {maximum:,} {what}, the limit. Ask for smaller "
            "pages or fewer totalCounts, or nest fewer lists.",
            QUERY_TOO_LARGE,
            limit=limit,
            max=maximum,
        )


class Meter:
    """Counts what one request reads, refuses past its limits, and paces its event-loop use."""

    __slots__ = ("_clock", "_parked", "_since", "bytes", "exceeded", "limits", "records")

    def __init__(
        self, limits: ReadLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits, self._clock = limits or ReadLimits(), clock
        self.records = self.bytes = 0
        self.exceeded: ReadLimitExceeded | None = None
        self._since = clock()
        self._parked: list[asyncio.Future[None]] | None = None  # tasks waiting for a round

    def read(self, records: int = 0, stored_bytes: int = 0) -> None:
        """Count what was read, and refuse it past the limits."""
        self.count(records, stored_bytes)
        self.check()

    def count(self, records: int = 0, stored_bytes: int = 0) -> None:
        """Count what was read; past a limit, every later `check` refuses."""
        self.records += records
        self.bytes += stored_bytes
        limits = self.limits
        if self.exceeded is not None:
            return
        if self.records > limits.max_records:
            self.exceeded = ReadLimitExceeded("records", limits.max_records, "records")
        elif self.bytes > limits.max_bytes:
            self.exceeded = ReadLimitExceeded(
                "bytes", limits.max_bytes, "characters of stored values"
            )

    def check(self) -> None:
        """Raise once the request is over its limits (every later read stops at once)."""
        if self.exceeded is not None:
            raise self.exceeded

    async def pace(self) -> None:
        """Let other tasks run once this request has kept the event loop for a slice.

        A request may run as thousands of tasks (graphql-core completes fields concurrently),
        and the loop runs every ready task before it looks for I/O or timers again. So once
        the slice is used, each task of the request that passes here waits for a later round
        of the loop, and one that wakes to a slice used up again waits again: a round of the
        loop runs about one slice of this request, whatever its number of tasks.
        """
        while self._parked is not None or self._clock() - self._since >= SLICE:
            loop = asyncio.get_running_loop()
            if self._parked is None:
                self._parked = []
                loop.call_soon(self._next_round)
            waiting = loop.create_future()
            self._parked.append(waiting)
            await waiting

    def _next_round(self) -> None:
        """A new round of the loop: a fresh slice, and the waiting tasks may try again."""
        parked, self._parked = self._parked or [], None
        self._since = self._clock()
        for waiting in parked:
            if not waiting.done():  # a cancelled waiter is skipped
                waiting.set_result(None)
