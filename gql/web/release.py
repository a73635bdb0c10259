"""Giving memory back to the system after a burst of WebSockets closed.

A thousand subscription sockets hold about 50 MiB of small Python objects. When they close,
Python frees every object, but the allocators keep the pages: glibc's malloc keeps freed
chunks in its heap (returned only from the heap's top), and pymalloc keeps an arena of 1 MiB
as long as a single object in it lives (the objects a server allocates for good while
sockets come and go are scattered over the burst's arenas). Resident memory then stays near
its peak.

So once the open sockets have fallen to half of their peak or less, and no socket closed for
`DELAY` seconds (a burst of closes is one release, not one per socket), the process collects
cyclic garbage and asks glibc to return every free page (`malloc_trim(0)`, which also frees
pages inside the heap). The collection is what frees the sockets: about 200 objects each,
its request, transport and handlers among them, are held in reference cycles through the
frames of the tasks cancelled when it closed, which only the cycle collector frees (a full
collection would have to, later). After 1,000 sockets it found 190,000-200,000 objects and
took 180-410 ms of the event loop, the trim 1-13 ms.

First, the caches given to it drop what the burst's clients left behind (the rate limiter's
buckets that have refilled: a client without a bucket has a full one). After the collection
it empties the interpreter's type attribute cache (`sys._clear_type_cache()`), which keeps
a reference to the name of each of its 4,096 most recent attribute lookups, by the name
object's address: a name built at run time (graphql-core's
`getattr(schema, f"{operation.value}_type")` for each subscription and event, aiohttp's
handshake parsing) is a new string each time, so a thousand sockets left about a thousand
such strings alive, scattered over the burst's pymalloc arenas, each keeping its 1 MiB arena
from being returned. The cache fills again on the next lookups, from the arenas in use.

What still pins arenas after that is not per socket: a few hundred objects the process
renews as it works (asyncpg's pool timers and prepared statements, metric values, asyncio's
and aiohttp's free lists) that happened to be renewed during the burst. Their arenas are
returned only when Python allocates through malloc (`PYTHONMALLOC=malloc`, which costs CPU:
docs/operations.md has the figures, docs/scale-out.md what was measured).

Other C libraries (musl, macOS) have no `malloc_trim`: the collection alone runs there.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import sys
import time
from collections.abc import Callable, Sequence

log = logging.getLogger("kvgraph.memory")
FLOOR = 64  # sockets: a smaller peak is not worth a release
DELAY = 1.0  # seconds without a close before the release


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's `malloc_trim(0)`, or None where the C library has none."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


class Release:
    """Counts the open sockets and releases memory after a burst of them closed."""

    def __init__(
        self,
        floor: int = FLOOR,
        delay: float = DELAY,
        prune: Sequence[Callable[[], object]] = (),
    ) -> None:
        self.floor, self.delay, self.prune = floor, delay, prune
        self.open = 0
        self.peak = 0  # most sockets open at once since the last release
        self.releases = 0
        self._trim = _malloc_trim()
        self._timer: asyncio.TimerHandle | None = None

    def opened(self) -> None:
        """A socket opened."""
        self.open += 1
        self.peak = max(self.peak, self.open)

    def closed(self) -> None:
        """A socket closed: release once the burst is over, if it halved the peak."""
        self.open -= 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.peak >= self.floor and self.open <= self.peak // 2:
            self._timer = asyncio.get_running_loop().call_later(self.delay, self.release)

    def release(self) -> None:
        """Collect cyclic garbage and return free pages to the system."""
        if self._timer is not None:
            self._timer.cancel()  # (called before its time: by a test)
            self._timer = None
        for drop in self.prune:  # caches' entries the clients left behind, first
            drop()
        began = time.perf_counter()
        collected = gc.collect()  # (a full collection would free them later anyway)
        collecting = time.perf_counter() - began
        sys._clear_type_cache()  # names it held pinned the burst's arenas (see above)
        trimmed = self._trim() if self._trim is not None else None
        log.info(
            "memory released after %d sockets closed (%d open): %d objects collected in "
            "%.0f ms, %s in %.0f ms",
            self.peak - self.open,
            self.open,
            collected,
            collecting * 1000,
            "no malloc_trim here" if trimmed is None else "trimmed",
            (time.perf_counter() - began - collecting) * 1000,
        )
        self.releases += 1
        self.peak = self.open
