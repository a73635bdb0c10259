"""The meter: read limits counted and refused, and an event loop shared while a request runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gql.kv.base import Raw
from resolvers.loaders import KeyBatcher
from resolvers.meter import SLICE, Meter, ReadLimitExceeded, ReadLimits


class Clock:
    """A clock that moves a millisecond each time it is read."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


async def fetch(keys: Sequence[str]) -> list[Raw | None]:
    return [f'"{k}"' for k in keys]


def test_limits_are_counted_and_refused_from_then_on() -> None:
    meter = Meter(ReadLimits(max_records=3, max_bytes=100))
    meter.read(records=3, stored_bytes=100)
    with pytest.raises(ReadLimitExceeded) as refused:
        meter.read(records=1)
    assert refused.value.extensions == {"limit": "records", "max": 3}
    with pytest.raises(ReadLimitExceeded):
        meter.check()  # every later read stops at once
    bytes_meter = Meter(ReadLimits(max_records=3, max_bytes=100))
    bytes_meter.count(stored_bytes=101)
    assert bytes_meter.exceeded is not None and bytes_meter.exceeded.code == "QUERY_TOO_LARGE"


async def test_cached_loads_give_the_loop_back() -> None:
    """Cached loads never suspend; past a slice of the loop the request lets others run."""
    batcher = KeyBatcher(fetch, Meter(clock=Clock()))
    await batcher.load("k")
    ran: list[int] = []

    async def other() -> None:
        ran.append(len(ran))

    neighbour = asyncio.create_task(other())
    for _ in range(int(SLICE / 0.001) + 2):
        await batcher.load("k")  # cached
    assert ran == [0], "the other task did not run while the cached loads went on"
    await neighbour


async def test_no_pause_while_keys_wait_for_the_batch() -> None:
    """A pause then would let the batch go without keys that others are about to add."""
    fetched: list[list[str]] = []

    async def recording(keys: Sequence[str]) -> list[Raw | None]:
        fetched.append(list(keys))
        return await fetch(keys)

    batcher = KeyBatcher(recording, Meter(clock=Clock()))
    await batcher.load("cached")
    fetched.clear()

    async def first() -> None:
        await batcher.load("new-a")

    async def second() -> None:
        for _ in range(int(SLICE / 0.001) * 3):
            await batcher.load("cached")  # past a slice, while new-a waits for its batch
        await batcher.load("new-b")

    await asyncio.gather(first(), second())
    assert fetched == [["new-a", "new-b"]]  # one batch
