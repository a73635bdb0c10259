"""Awaiting many coroutines without a task for each that never waits.

A level of a query fans out over its parents (50 trips: 50 index reads, 50 pages), and most
of those coroutines finish without waiting (a loader hit, a field that is an attribute):
`asyncio.gather` still wraps each in a task, an event-loop round and a context switch apiece.
Here each runs at once until it first waits (Python 3.12's eager task factory does this for
every task); only those that wait are gathered, one alone is awaited in place. Loaders batch
as before: every coroutine reaches its first load in the same tick.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Coroutine, Generator, Iterable
from typing import Any, TypeVar

T = TypeVar("T")


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, Any]:
    """Go on with a coroutine stepped by hand until it yielded `yielded` (to its task)."""
    while True:
        try:
            sent = yield yielded
        except BaseException as exc:  # the task's cancellation, handed to the coroutine
            try:
                yielded = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _awaited(left: Any) -> Any:
    """A native coroutine of `_resume`'s (what `asyncio.gather` accepts on every version)."""
    return await left


async def gather_eagerly(coros: Iterable[Awaitable[T]]) -> list[T]:
    """The results of `coros` in order, each run at once until it first waits; the first error
    cancels the others (none is left suspended) and propagates."""
    started: list[Coroutine[Any, Any, T]] = [
        aw if asyncio.iscoroutine(aw) else _awaited(aw) for aw in coros
    ]
    results: list[Any] = [None] * len(started)
    waiting: list[tuple[int, Any]] = []
    for at, coro in enumerate(started):
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            results[at] = stop.value
        except BaseException:
            for left in started[:at] + started[at + 1 :]:
                left.close()  # started or not: none is left suspended
            raise
        else:
            waiting.append((at, _resume(coro, yielded)))
    if len(waiting) == 1:
        at, left = waiting[0]
        results[at] = await left
    elif waiting:
        done = await _gather_cancelling(*(_awaited(left) for _, left in waiting))
        for (at, _), value in zip(waiting, done, strict=True):
            results[at] = value
    return results


async def _gather_cancelling(*aws: Any) -> list[Any]:
    """`asyncio.gather`, cancelling the others when one fails (graphql-core's way)."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            if not task.done():
                task.cancel()
        raise
