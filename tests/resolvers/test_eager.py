"""`gather_eagerly`: coroutines that never wait cost no task; those that wait are gathered
with graphql-core's cancel-on-error, and cancellation reaches them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.eager import gather_eagerly


async def now(value: Any) -> Any:
    return value


async def later(value: Any, gate: asyncio.Event) -> Any:
    await gate.wait()
    return value


async def fails(after: asyncio.Event | None = None) -> Any:
    if after is not None:
        await after.wait()
    raise ValueError("boom")


def tasks_made(loop: asyncio.AbstractEventLoop) -> list[str]:
    made: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    return made


async def test_results_keep_their_order_and_no_task_is_made_when_none_waits() -> None:
    made = tasks_made(asyncio.get_running_loop())
    assert await gather_eagerly([now(1), now(2), now(3)]) == [1, 2, 3]
    assert made == []


async def test_one_that_waits_is_awaited_in_place() -> None:
    gate = asyncio.Event()
    made = tasks_made(asyncio.get_running_loop())
    asyncio.get_running_loop().call_soon(gate.set)
    assert await gather_eagerly([now("a"), later("b", gate), now("c")]) == ["a", "b", "c"]
    assert made == []


async def test_several_that_wait_run_together() -> None:
    first, second = asyncio.Event(), asyncio.Event()

    async def sets_first() -> str:
        await second.wait()  # only the other coroutine can set `second`
        first.set()
        return "x"

    async def sets_second() -> str:
        second.set()
        await first.wait()
        return "y"

    assert await gather_eagerly([sets_first(), now(0), sets_second()]) == ["x", 0, "y"]


async def test_an_error_at_once_closes_what_was_started_and_what_was_not() -> None:
    gate = asyncio.Event()
    waiting, not_started = later(1, gate), now(2)
    with pytest.raises(ValueError, match="boom"):
        await gather_eagerly([waiting, fails(), not_started])
    assert waiting.cr_frame is None and not_started.cr_frame is None  # closed, not leaked


async def test_an_error_after_waiting_cancels_the_siblings() -> None:
    gate, never = asyncio.Event(), asyncio.Event()
    cancelled: list[bool] = []

    async def sibling() -> None:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    asyncio.get_running_loop().call_soon(gate.set)
    with pytest.raises(ValueError, match="boom"):
        await gather_eagerly([sibling(), fails(gate)])
    await asyncio.sleep(0)
    assert cancelled == [True]


async def test_cancelling_the_caller_reaches_the_coroutine_that_waits() -> None:
    seen: list[str] = []

    async def waits() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    task = asyncio.ensure_future(gather_eagerly([now(1), waits()]))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]
