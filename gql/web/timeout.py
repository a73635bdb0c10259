"""The execution timeout: a /graphql request gets its seconds, then it and all it started stop.

Cancelling the request's own task is not enough: the loaders fetch each batch in a task of its
own (so that one cancelled waiter does not cancel a batch others share), and a batch blocked
in the store (a Postgres read behind a lock) would keep its pooled connection until the read
returns. So the tasks a request creates are remembered (a task factory reads the request's
scope from a context variable, which new tasks inherit) and cancelled with it: asyncpg then
cancels the query in flight and its connection goes back to the pool. An aiosqlite call
cannot be interrupted; its thread finishes the statement.

The answer is 504 with a GraphQL-shaped body, `extensions.code = TIMEOUT`. A handler that
computes without awaiting cannot be interrupted either; the node budget keeps each such
stretch short (see `gql.schema.limits`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from contextvars import ContextVar
from typing import Any, TypeVar

import orjson
from aiohttp import web

from gql.schema.errors import TIMEOUT
from gql.web.media import negotiate
from gql.web.observe import note

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")
log = logging.getLogger("kvgraph")

_SCOPE: ContextVar[set[asyncio.Task[Any]] | None] = ContextVar("kvgraph_tasks", default=None)


class _TaskFactory:
    """Creates tasks as before, adding each to the creating request's scope (if any)."""

    def __init__(self, previous: Any) -> None:
        self.previous, self.users = previous, 0

    def __call__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, T] | Generator[Any, None, T],
        /,
        **kwargs: Any,
    ) -> asyncio.Future[T]:
        if self.previous is not None:
            task = self.previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        tasks = _SCOPE.get()
        if tasks is not None:
            tasks.add(task)  # kept when done, until the request ends (`within`)
        return task


async def task_scopes(app: web.Application) -> AsyncIterator[None]:
    """While the app runs, remember which request created each task (a loop task factory)."""
    loop = asyncio.get_running_loop()
    current = loop.get_task_factory()
    # Another app on this loop may have installed it already.
    factory = current if isinstance(current, _TaskFactory) else _TaskFactory(current)
    loop.set_task_factory(factory)
    factory.users += 1
    try:
        yield
    finally:
        factory.users -= 1
        if not factory.users and loop.get_task_factory() is factory:
            loop.set_task_factory(factory.previous)


def timed_out(seconds: float, accept: str | None = None) -> web.Response:
    """The 504 answer of a request stopped at its deadline, in the media type the client
    asked for (like every other answer of /graphql)."""
    message = f"The request took longer than {seconds:g} s and was stopped."
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": TIMEOUT}}]}
    return web.Response(status=504, body=orjson.dumps(body), content_type=negotiate(accept))


async def within(seconds: float, request: web.Request, handler: Handler) -> web.StreamResponse:
    """`handler(request)`, stopped after `seconds` with every task it started: then a 504.

    The view times each /graphql request (not a WebSocket's handshake: a socket's events
    are timed one by one instead).
    """
    tasks: set[asyncio.Task[Any]] = set()
    token = _SCOPE.set(tasks)
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await handler(request)
    except TimeoutError:
        if not deadline.expired():
            raise
        started = [task for task in tasks if not task.done()]
        for task in started:
            task.cancel()
        log.warning("request stopped after %g s (%d tasks cancelled)", seconds, len(started))
        note(request, TIMEOUT)
        return timed_out(seconds, request.headers.get("Accept"))
    finally:
        _SCOPE.reset(token)
        tasks.clear()  # each task's context holds the set: no cycle left behind
