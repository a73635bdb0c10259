"""The key batcher: one fetch per tick, shared fairly, failures not cached."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Sequence
from typing import Any

import pytest

from gql.kv.base import Raw
from resolvers.loaders import KeyBatcher, _IndexIds, weakly


class FakeStore:
    """Records every fetch; fails while `failing` is set."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.failing = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self, keys: Sequence[str]) -> list[Raw | None]:
        self.calls.append(list(keys))
        await self.gate.wait()
        if self.failing:
            raise RuntimeError("store down")
        return [f'"{k}"' if k != "missing" else None for k in keys]


async def test_one_fetch_per_tick_in_key_order() -> None:
    store = FakeStore()
    batcher = KeyBatcher(store.fetch)
    a, b, c = await asyncio.gather(
        batcher.load_many(["x", "y"]), batcher.load("missing"), batcher.load_many(["y", "z", "x"])
    )
    assert store.calls == [["x", "y", "missing", "z"]]
    assert (a, b, c) == (['"x"', '"y"'], None, ['"y"', '"z"', '"x"'])
    assert await batcher.load("z") == '"z"'
    assert len(store.calls) == 1  # cached


async def test_a_cancelled_reader_does_not_cancel_the_batch() -> None:
    store = FakeStore()
    store.gate.clear()
    batcher = KeyBatcher(store.fetch)
    first = asyncio.create_task(batcher.load("k"))
    second = asyncio.create_task(batcher.load("k"))
    await asyncio.sleep(0.01)
    first.cancel()
    store.gate.set()
    assert await second == '"k"'
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_failed_batch_is_not_cached() -> None:
    store = FakeStore()
    store.failing = True
    batcher = KeyBatcher(store.fetch)
    with pytest.raises(RuntimeError, match="store down"):
        await batcher.load("k")
    store.failing = False
    assert await batcher.load("k") == '"k"'
    assert store.calls == [["k"], ["k"]]


async def test_prefetch_joins_the_next_batch() -> None:
    store = FakeStore()
    batcher = KeyBatcher(store.fetch)
    batcher.prefetch(["p1", "p2"])
    assert await batcher.load("q") == '"q"'
    assert store.calls == [["p1", "p2", "q"]]
    assert await batcher.load_many(["p2", "p1"]) == ['"p2"', '"p1"']
    assert len(store.calls) == 1


async def test_the_fetch_runs_in_a_task_of_its_own() -> None:
    """A driver may need a current task (asyncpg's connect enters `asyncio.timeout`)."""

    async def fetch(keys: Sequence[str]) -> list[Raw | None]:
        async with asyncio.timeout(5):
            await asyncio.sleep(0)
            return [f'"{k}"' for k in keys]

    assert await KeyBatcher(fetch).load("k") == '"k"'


async def test_a_read_that_does_not_wait_costs_two_rounds() -> None:
    """The batch is fetched in the round after its keys were asked for, and its readers go on
    in the next: no round for a dispatch of its own, none for a shielded future's relay."""

    async def fetch(keys: Sequence[str]) -> list[Raw | None]:
        return [f'"{k}"' for k in keys]  # SQLite's inline read: it never waits

    rounds = 0

    async def count() -> None:
        nonlocal rounds
        while True:
            await asyncio.sleep(0)
            rounds += 1

    counter = asyncio.create_task(count())
    await asyncio.sleep(0)  # the counter runs once per round from here on
    rounds = 0
    assert await KeyBatcher(fetch).load("a") == '"a"'
    counter.cancel()
    assert rounds <= 2  # (with a dispatch callback, a task and a shielded future: 4)


async def test_a_batch_cancelled_before_it_fetched_cancels_its_readers() -> None:
    """Its task cancelled before its first step (a request stopped at its deadline cancels
    every task it made): its readers are cancelled, not left waiting, and a later load
    fetches afresh."""
    store = FakeStore()
    batcher = KeyBatcher(store.fetch)
    reader = asyncio.create_task(batcher.load("k"))
    await asyncio.sleep(0)  # the reader asked: the batch's task is made, not yet started
    (task,) = batcher._tasks
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(reader, 1)
    assert store.calls == []
    assert await batcher.load("k") == '"k"'
    assert store.calls == [["k"]]


def test_an_index_text_read_again_gives_the_same_ids() -> None:
    """Read once per text under its key: the same text gives the very tuple of last time
    (distinct ids in order, with why it could not be read completely); a changed text is
    read anew and replaces the one before; at most `chars` characters are kept, the least
    recently read first; a text longer than `longest` is not."""
    index_ids = _IndexIds(chars=60, longest=30)
    first = index_ids.read("i:1", '["a", "b", "a"]')
    assert first == (("a", "b"), None)
    assert index_ids.read("i:1", '["a", "b", "a"]')[0] is first[0]
    assert index_ids.read("i:1", '["b", "a"]') == (("b", "a"), None)
    assert index_ids.held == len('["b", "a"]')  # the text before is not kept beside it
    ids, problem = index_ids.read("i:2", '["a", null]')
    assert ids == ("a",) and problem is not None and "null" in problem
    assert index_ids.read("i:2", '["a", null]') == (ids, problem)  # its problem too, each time
    assert index_ids.read("i:3", None) == ((), None)
    long = "[" + ", ".join(f'"id{n}"' for n in range(10)) + "]"
    assert index_ids.read("i:4", long)[0] == tuple(f"id{n}" for n in range(10))
    assert "i:4" not in index_ids._found
    for n in range(10):
        index_ids.read(f"x:{n}", f'["x{n}"]')
        assert index_ids.held <= index_ids.chars
    assert "i:1" not in index_ids._found  # the least recently read went first
    assert index_ids.held == sum(len(raw) for (raw, _, _), _ in index_ids._found.values())


async def test_a_fetch_that_fails_past_the_store_fails_its_readers() -> None:
    """A fetch that answers for fewer keys than it was asked: its readers get that error
    (not a cancellation), and nothing is cached."""

    async def short(keys: Sequence[str]) -> list[Raw | None]:
        return []

    batcher = KeyBatcher(short)
    with pytest.raises(ValueError, match="a fetch of 1 keys gave 0 values"):
        await batcher.load("k")
    assert batcher._cache == {}


async def test_an_eager_task_factory_still_batches_the_tick() -> None:
    """With a task factory that runs a task's first step at once (Python 3.12's
    `eager_task_factory`, emulated here), the fetch still waits for the tick's other loads."""
    from resolvers.eager import _awaited, _resume

    def eager(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            done = loop.create_future()
            done.set_result(stop.value)
            return done
        return asyncio.Task(_awaited(_resume(coro, yielded)), loop=loop, **kwargs)

    loop = asyncio.get_running_loop()
    previous = loop.get_task_factory()
    loop.set_task_factory(eager)
    try:
        store = FakeStore()
        batcher = KeyBatcher(store.fetch)
        assert await asyncio.gather(batcher.load("a"), batcher.load("b")) == ['"a"', '"b"']
    finally:
        loop.set_task_factory(previous)
    assert store.calls == [["a", "b"]]


def test_a_weak_callback_calls_its_method_without_keeping_its_object() -> None:
    class Counter:
        def __init__(self) -> None:
            self.seen: list[int] = []

        def add(self, value: int, *, twice: bool = False) -> int:
            self.seen += [value] * (2 if twice else 1)
            return len(self.seen)

    counter = Counter()
    add, gone = weakly(counter.add), weakref.ref(counter)
    assert add(1) == 1 and add(2, twice=True) == 3 and counter.seen == [1, 2, 2]
    gc.disable()  # freed by reference counting alone: no cycle holds it
    try:
        del counter
        assert gone() is None
    finally:
        gc.enable()
    with pytest.raises(ReferenceError, match=r"Counter\.add: its object is gone"):
        add(3)
