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
and aiohttp's free lists) that happened to be renewed during the burst. So while a burst is
on, the process allocates through malloc: from `floor` sockets open until fewer are,
Python's small objects come from glibc's malloc instead of pymalloc (`Allocation`), and are
freed as ever (pymalloc's free hands back what is not its own). What the burst allocated and
what the process renewed meanwhile then sit in glibc's heap, where the trim returns every
free page, not in arenas a single object keeps; the arenas filled before the burst are kept
as they are. Allocating through malloc costs CPU (docs/operations.md has the figures), paid
only while that many sockets are open.

Other C libraries (musl, macOS) have no `malloc_trim`: the collection alone runs there.
The switch is made only over CPython's own pymalloc with no hook installed (not under
`tracemalloc`, `-X dev`, `PYTHONMALLOC`, nor another implementation).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("kvgraph.memory")
RAW, MEM, OBJ = 0, 1, 2  # CPython's allocator domains (PyMemAllocatorDomain)
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


class _Allocator(ctypes.Structure):
    """CPython's `PyMemAllocatorEx`."""

    NAMES = ("ctx", "malloc", "calloc", "realloc", "free")
    _fields_ = [(name, ctypes.c_void_p) for name in NAMES]

    def same(self, other: _Allocator) -> bool:
        """The same functions and context."""
        return all(getattr(self, name) == getattr(other, name) for name in self.NAMES)


class Allocation:
    """Switches Python's small-object allocation between pymalloc and malloc at run time.

    Installed with `PyMem_SetAllocator` over pymalloc, it allocates through the raw
    domain's malloc and leaves freeing and resizing to pymalloc, which hands any block it
    did not allocate to the raw domain (CPython's obmalloc tells its own blocks by address).
    So a block is always freed by the allocator that made it, whichever way the switch
    stood. It relies on that behaviour of CPython's pymalloc, not on a documented contract
    (a late allocator is documented as one that wraps the one it replaces), hence the checks
    before it is used. One visible effect: `sys.getallocatedblocks()` counts the blocks
    pymalloc hands to malloc when it frees them but not when the hook made them, so after a
    burst it reads low (even below zero); nothing in kvgraph reads it.
    """

    def __init__(self) -> None:
        self.malloc = False  # allocating through malloc now
        # (PyMem_GetAllocator, PyMem_SetAllocator, pymalloc, the hook): None where no switch
        self._switch: tuple[Any, Any, _Allocator, _Allocator] | None = None
        try:
            api = ctypes.pythonapi
            get, put = api.PyMem_GetAllocator, api.PyMem_SetAllocator
        except (AttributeError, ValueError):
            return  # not CPython
        for call in (get, put):
            call.argtypes, call.restype = [ctypes.c_int, ctypes.POINTER(_Allocator)], None
        raw, mem, obj = _Allocator(), _Allocator(), _Allocator()
        for domain, into in ((RAW, raw), (MEM, mem), (OBJ, obj)):
            get(domain, into)
        hooked = raw.ctx or mem.ctx or obj.ctx  # tracemalloc's or the debug hooks
        if hooked or not mem.same(obj) or obj.malloc == raw.malloc:
            return  # not plain pymalloc (PYTHONMALLOC=malloc already, or hooks installed)
        hook = _Allocator(None, raw.malloc, raw.calloc, obj.realloc, obj.free)
        self._switch = (get, put, obj, hook)

    @property
    def possible(self) -> bool:
        """Whether this process allocates through plain pymalloc, so the switch applies."""
        return self._switch is not None

    def use_malloc(self, on: bool) -> None:
        """Allocate through malloc (on) or pymalloc again; leaves another hook alone."""
        if self._switch is None or on == self.malloc:
            return
        get, put, pymalloc, hook = self._switch
        was, now = (pymalloc, hook) if on else (hook, pymalloc)
        current = _Allocator()
        for domain in (MEM, OBJ):
            get(domain, current)
            if not current.same(was):
                log.debug("another allocator hook is installed (tracemalloc?): no switch")
                return
        for domain in (MEM, OBJ):
            put(domain, now)
        self.malloc = on


class Release:
    """Counts the open sockets and releases memory after a burst of them closed."""

    def __init__(
        self,
        floor: int = FLOOR,
        delay: float = DELAY,
        prune: Sequence[Callable[[], object]] = (),
        allocation: Allocation | None = None,
    ) -> None:
        self.floor, self.delay, self.prune = floor, delay, prune
        self.allocation = ALLOCATION if allocation is None else allocation
        self.open = 0
        self.peak = 0  # most sockets open at once since the last release
        self.releases = 0
        self._trim = _malloc_trim()
        self._timer: asyncio.TimerHandle | None = None

    def opened(self) -> None:
        """A socket opened."""
        self.open += 1
        self.peak = max(self.peak, self.open)
        if self.open >= self.floor:
            self.allocation.use_malloc(True)  # a burst: its objects in glibc's heap

    def closed(self) -> None:
        """A socket closed: release once the burst is over, if it halved the peak."""
        self.open -= 1
        if self.open < self.floor:
            self.allocation.use_malloc(False)  # no burst any more: pymalloc again
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
            "memory released after %d sockets closed (%d open, allocating through %s): "
            "%d objects collected in %.0f ms, %s in %.0f ms",
            self.peak - self.open,
            self.open,
            "malloc" if self.allocation.malloc else "pymalloc",
            collected,
            collecting * 1000,
            "no malloc_trim here" if trimmed is None else "trimmed",
            (time.perf_counter() - began - collecting) * 1000,
        )
        self.releases += 1
        self.peak = self.open


ALLOCATION = Allocation()  # the process's one allocator, shared by every app in it
