"""Memory given back after a burst of sockets (`gql.web.release`): the release, and the switch
of Python's small-object allocation to malloc while a burst is on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from itertools import repeat

from gql.web.release import ALLOCATION, Allocation, Release

BURST = textwrap.dedent(
    """
    import ctypes, gc, sys
    from gql.web.release import Allocation

    def resident():
        return int(open("/proc/self/statm").read().split()[1]) * 4096

    allocation = Allocation()
    assert allocation.possible
    base = resident()
    allocation.use_malloc(sys.argv[1] == "malloc")
    burst, kept = [], []
    for n in range(200_000):  # about 100 MiB of small objects, as sockets' are
        burst.append({"n": n, "text": f"message {n}", "pair": (n, str(n))})
        if n % 500 == 0:
            kept.append(f"renewed {n}")  # what the process renews meanwhile, kept
    peak = resident()
    allocation.use_malloc(False)
    del burst
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)
    print((resident() - base) / (peak - base))
    """
)


def _kept_after_burst(how: str) -> float:
    """The share of a burst's resident memory a process keeps after freeing it."""
    run = subprocess.run(
        [sys.executable, "-c", BURST, how], capture_output=True, text=True, check=True
    )
    return float(run.stdout)


def test_a_burst_allocated_through_malloc_is_given_back() -> None:
    """Through pymalloc, a few objects kept from the burst pin nearly all of its arenas;
    through malloc, the trim returns every page the burst freed."""
    assert _kept_after_burst("pymalloc") > 0.5
    assert _kept_after_burst("malloc") < 0.1


def test_the_switch_applies_in_this_process() -> None:
    assert ALLOCATION.possible  # CPython's pymalloc and no hook: what CI and `serve` run


def _pymalloc_blocks(count: int) -> tuple[int, list[object]]:
    """How many of pymalloc's blocks `count` new small objects took, and the objects (made
    without temporaries: a block malloc made and pymalloc freed would count -1, as
    `sys.getallocatedblocks()` counts such blocks when freed, not when made)."""
    before = sys.getallocatedblocks()
    made = [object() for _ in repeat(None, count)]
    return sys.getallocatedblocks() - before, made


def test_allocating_through_malloc_takes_no_pymalloc_block() -> None:
    """Switched, new objects come from malloc; each is freed by its own allocator after
    switching back (pymalloc's free hands back what is not its own)."""
    allocation = Allocation()
    taken, pymalloced = _pymalloc_blocks(20_000)
    assert taken >= 20_000
    allocation.use_malloc(True)
    try:
        assert allocation.malloc
        taken, malloced = _pymalloc_blocks(20_000)
    finally:
        allocation.use_malloc(False)
    assert abs(taken) < 2_000
    assert not allocation.malloc
    del pymalloced, malloced
    taken, _made = _pymalloc_blocks(20_000)
    assert taken >= 20_000


def test_another_hook_is_left_alone() -> None:
    """Under tracemalloc's hooks (or the debug ones) the allocation is not switched."""
    allocation = Allocation()
    tracemalloc.start()
    try:
        allocation.use_malloc(True)
        assert not allocation.malloc
        assert not Allocation().possible  # made under a hook: never switches
    finally:
        tracemalloc.stop()
    allocation.use_malloc(True)
    try:
        assert allocation.malloc
    finally:
        allocation.use_malloc(False)


async def test_a_burst_allocates_through_malloc_until_its_release() -> None:
    release = Release(floor=4, delay=60, allocation=Allocation())
    for _ in range(3):
        release.opened()
    assert not release.allocation.malloc  # fewer than the floor: no burst
    release.opened()
    assert release.allocation.malloc
    for _ in range(2):
        release.closed()
    release.release()  # 2 open of 4: below the floor, pymalloc again
    assert not release.allocation.malloc
    for _ in range(2):
        release.closed()


async def test_fewer_sockets_than_the_floor_allocate_through_pymalloc() -> None:
    """Without a release (the peak did not halve), the switch goes back below the floor."""
    release = Release(floor=64, delay=60, allocation=Allocation())
    for _ in range(100):
        release.opened()
    for _ in range(36):
        release.closed()
    assert release.allocation.malloc  # 64 open
    release.closed()
    assert not release.allocation.malloc and release._timer is None  # 63: no burst
    for _ in range(63):
        release.closed()


async def test_a_release_with_a_burst_still_open_keeps_malloc() -> None:
    release = Release(floor=4, delay=60, allocation=Allocation())
    for _ in range(10):
        release.opened()
    for _ in range(5):
        release.closed()
    release.release()  # 5 still open: still a burst
    assert release.allocation.malloc
    release.allocation.use_malloc(False)


def test_a_release_lets_go_of_attribute_names_made_at_run_time() -> None:
    """The type attribute cache keeps the names of recent lookups (by address): a name built
    at run time, as graphql-core's `f"{operation.value}_type"`, would outlive its socket."""

    class Probe:
        pass

    name = "".join(["made_", "at_run_time"])  # a new string, not an interned one
    held = sys.getrefcount(name)
    getattr(Probe(), name, None)
    assert sys.getrefcount(name) == held + 1  # the cache holds it
    Release().release()
    assert sys.getrefcount(name) == held


def test_a_release_prunes_the_caches_given_to_it() -> None:
    pruned: list[int] = []
    Release(prune=[lambda: pruned.append(1)]).release()
    assert pruned == [1]


async def test_a_release_waits_for_the_peak_to_halve() -> None:
    release = Release(floor=4, delay=60, allocation=Allocation())
    for _ in range(10):
        release.opened()
    for _ in range(4):
        release.closed()
    assert release._timer is None  # 6 open of a peak of 10
    release.closed()
    assert release._timer is not None  # 5: half
    release.closed()
    release.opened()  # the burst goes on: still one timer
    release.release()
    assert (release.open, release.peak, release.releases) == (5, 5, 1)
    release.allocation.use_malloc(False)
