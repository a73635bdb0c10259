"""Subscriptions over WebSocket (graphql-transport-ws) on /graphql, through the HTTP rules.

Only the graphql-transport-ws protocol (the `graphql-ws` npm client's) is spoken; the legacy
`graphql-ws` subprotocol (subscriptions-transport-ws) is refused (4406). Every rule of an HTTP
request holds for a socket and each operation on it:

- origin: a browser page on another origin may connect only if `gql.web.origins` finds it in
  `KVGRAPH_CORS_ORIGINS` (`*`: any); same-origin pages and non-browser clients always may;
- auth: the upgrade's `Authorization` header (refused with 401 when invalid) or, instead, the
  `Authorization: Bearer <token>` member of the `connection_init` payload (refused with
  close 4403 and the reason); checked with the same keys and claims as HTTP. When the token
  expires, the socket is closed with 4403 "token expired": the client connects again with a
  fresh token (graphql-ws does so by itself and subscribes again);
- each `subscribe`: the rate limiter's debt check, the persisted-query mode (an allow-list
  runs registered documents only, also by `extensions.persistedQuery`), the parse, depth,
  alias, token and node limits, and the rate charge; a refusal is an `error` message with
  the HTTP path's code. Queries and mutations go over HTTP: only subscriptions run here;
- each event runs under the execution timeout (`KVGRAPH_EXECUTION_TIMEOUT`; waiting for an
  event is not timed) with fresh loaders (`Context.renew`) and the access rules asked again;
  its errors are coded, masked and reported by the schema's extensions as an HTTP result's
  (`on_stream_result`), so what is sent here is what HTTP would answer.

Frames are text (JSON): graphql-ws clients refuse binary frames. They are not compressed: a
socket that accepted permessage-deflate (every browser offers it) would hold zlib state of
about 300 KiB for its whole life to shrink messages of a few hundred bytes (1,000 sockets:
300 MiB, docs/scale-out.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from json import JSONDecodeError
from typing import Any

from aiohttp import ClientConnectionResetError, WSMsgType, web
from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.aiohttp.views import AiohttpWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from gql.schema.errors import (
    AUTH_UNAVAILABLE,
    BAD_REQUEST,
    RATE_LIMITED,
    TIMEOUT,
    UNAUTHENTICATED,
    before_execution,
    coded,
)
from gql.web.appkeys import AUTH, LIMITER, RELEASE
from gql.web.auth import AuthError, KeysUnavailable, Verified, Viewer
from gql.web.context import IDENTITY, operation_context
from gql.web.observe import answered
from gql.web.persisted import PersistedQueries, PersistedQueryError
from gql.web.ratelimit import RateLimitedError
from resolvers.context import Context

log = logging.getLogger("kvgraph.subscriptions")
PROTOCOL = "graphql-transport-ws"
FORBIDDEN = 4403  # graphql-ws: the client may connect again (with a fresh token)
TRY_LATER = 1013  # the JWKS did not answer: tokens cannot be checked now
EVENT_SLOTS = 32  # subscriptions of a process starting or working on an event at once


class TextFrames(AiohttpWebSocketAdapter):
    """Sends each message as a text frame (the view encodes JSON as bytes, for HTTP); a frame
    the view's bounded decoding refuses (an array, too deep, a number too long) closes the
    socket 4400 like any message that is not one, instead of escaping as an HTTP 400."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        async for ws_message in self.ws:
            if ws_message.type == WSMsgType.BINARY:
                raise NonTextMessageReceived
            if ws_message.type != WSMsgType.TEXT:
                continue
            try:
                yield self.view.decode_json(ws_message.data)
            except (JSONDecodeError, HTTPException) as exc:
                if not ignore_parsing_errors:
                    raise NonJsonMessageReceived from exc

    async def send_json(self, message: Any) -> None:
        data = self.view.encode_json(message)
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        try:
            await self.ws.send_str(text)
        except (RuntimeError, ClientConnectionResetError) as exc:
            raise WebSocketDisconnected from exc


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler with kvgraph's auth, limits and contexts."""

    identity: Verified | None = None  # who the socket is (None: anonymous), until its `exp`
    _expiry: asyncio.TimerHandle | None = None  # a timer, not a task held per socket
    _expired: asyncio.Task[None] | None = None

    @property
    def request(self) -> web.Request:
        """The upgrade request."""
        request: web.Request = self.context.request
        return request

    async def handle(self) -> None:
        """Serve the socket, counted open meanwhile (`gql.web.release`)."""
        release = self.request.app[RELEASE]
        release.opened()
        try:
            await super().handle()
        finally:
            release.closed()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        if not isinstance(payload, dict):
            await self.websocket.close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self.websocket.close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        if not await self._authenticate(payload):
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _authenticate(self, payload: dict[str, Any]) -> bool:
        """Who the socket is, from the payload's Authorization or else the upgrade's."""
        header = payload.get("Authorization", payload.get("authorization"))
        request = self.request
        if header is None:
            self.identity = request.get(IDENTITY)  # the upgrade's, checked by the view
        else:
            try:
                if not isinstance(header, str):
                    raise AuthError("Authorization must be a string: Bearer <token>")
                self.identity = await request.app[AUTH].identity(header, remember=False)
            except KeysUnavailable as exc:
                answered(request, [coded(str(exc), AUTH_UNAVAILABLE)])
                await self.websocket.close(TRY_LATER, f"Try again later: {exc}"[:120])
                return False
            except AuthError as exc:
                answered(request, [coded(str(exc), UNAUTHENTICATED)])
                await self.websocket.close(FORBIDDEN, f"Forbidden: {exc}"[:120])
                return False
        if self.identity is not None:
            delay = max(0.0, self.identity.exp - time.time())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)
        return True

    @property
    def viewer(self) -> Viewer | None:
        """Who the socket's operations run as (None: anonymous)."""
        return self.identity.viewer if self.identity is not None else None

    def _expire(self) -> None:
        """The token expired: close the socket (the client reconnects with a new one)."""
        log.info("closing a subscription socket: its token expired")
        self._expired = asyncio.ensure_future(
            self.websocket.close(FORBIDDEN, "Forbidden: token expired")
        )

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message.get("id") in self.operations:
            await super().handle_subscribe(message)  # closes the socket (protocol errors)
            return
        payload: Any = message.get("payload")
        if not isinstance(payload, dict):
            await self.websocket.close(4400, "Invalid subscribe payload")
            return
        most = self.max_subscriptions_per_connection
        if most is not None and len(self.operations) >= most:
            said = f"At most {most} subscriptions per socket: complete one or open another."
            refusal = coded(said, BAD_REQUEST, limit="subscriptions", max=most)
            await self._refuse(message["id"], refusal)
            return
        try:
            viewer_id = self.viewer.user_id if self.viewer else None
            self.request.app[LIMITER].check(viewer_id, self.request)
            query = self._persisted().resolve(payload.get("query"), payload.get("extensions"))
        except RateLimitedError as exc:
            refusal = coded(exc.message, RATE_LIMITED, retryAfter=exc.retry)
            await self._refuse(message["id"], refusal)
            return
        except PersistedQueryError as exc:
            await self._refuse(message["id"], coded(exc.message, exc.code))
            return
        if not isinstance(query, str):
            await self._refuse(message["id"], coded("subscribe needs a query", BAD_REQUEST))
            return
        await super().handle_subscribe({**message, "payload": {**payload, "query": query}})

    def _persisted(self) -> PersistedQueries:
        view: Any = self.view
        persisted: PersistedQueries = view.persisted(self.request)
        return persisted

    async def _refuse(self, operation_id: str, error: GraphQLError) -> None:
        """Refuse an operation with one error (counted as an HTTP refusal is)."""
        answered(self.request, [error])
        message: Any = {"id": operation_id, "type": "error", "payload": [error.formatted]}
        await self.send_message(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # A fresh context for each operation, as an HTTP request's, as the socket's viewer.
        context = operation_context(
            self.request, self.viewer, self.context.response, slots=_slots(self.view)
        )
        try:
            await self._run(operation, context)
        except _Closed:
            return
        except TimeoutError:
            seconds = context.event_seconds
            message = f"The subscription event took longer than {seconds:g} s and was stopped."
            with contextlib.suppress(Exception):
                await self._refuse(operation.id, coded(message, TIMEOUT))
                operation.completed = True
                self.operations.pop(operation.id, None)
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
        finally:
            context.idle()  # its slot, if it held one

    async def _run(self, operation: Operation[Context, None], context: Context) -> None:
        """Subscribe and send each event; the deadline runs while an event is worked on."""
        async with asyncio.timeout(None) as deadline:
            context.deadline = deadline
            await context.busy()
            source = await self.schema.subscribe(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
            )
            async with aclosing(source):  # results coded by the schema, as over HTTP
                first = True
                async for result in source:
                    if first and _refused(result, context):
                        await self._first_refusal(operation, result)
                        return
                    first = False
                    if result.errors:
                        answered(self.request, result.errors)
                    await operation.send_next(result)
        await operation.send_operation_message({"id": operation.id, "type": "complete"})

    async def _first_refusal(
        self, operation: Operation[Context, None], result: ExecutionResult
    ) -> None:
        """A subscription refused before its first event: one `error` message (a document
        that does not parse or names no operation closes the socket, as the protocol says)."""
        assert result.errors
        answered(self.request, result.errors)
        if reason := self._get_pre_execution_close_reason(result.errors[0]):
            await self.websocket.close(code=4400, reason=reason[:120])
            self.operations.pop(operation.id, None)
            raise _Closed
        await operation.send_initial_errors(result.errors)


def _refused(result: ExecutionResult, context: Context) -> bool:
    """Whether a subscription's first result refuses it before any event (parse, validation,
    variables, limits, access): not an event its reads stopped, which is sent as over HTTP."""
    if isinstance(result, PreExecutionError):
        return True
    return before_execution(result) and context.aborted is None


def _slots(view: Any) -> asyncio.Semaphore:
    """The view's (its app's) event slots, made on first use."""
    slots: asyncio.Semaphore | None = getattr(view, "_event_slots", None)
    if slots is None:
        slots = view._event_slots = asyncio.Semaphore(EVENT_SLOTS)
    return slots


class _Closed(Exception):
    """The operation closed the socket instead of completing."""


def websocket_response(subprotocol: str | None) -> web.WebSocketResponse:
    """A socket's response, without permessage-deflate (see the module's docstring)."""
    return web.WebSocketResponse(protocols=[subprotocol] if subprotocol else [], compress=False)


def websocket_view_options() -> dict[str, Any]:
    """The view's WebSocket options: graphql-transport-ws only (origins: the view's
    `is_websocket_origin_allowed`, by the rule CORS follows)."""
    return {"subscription_protocols": (PROTOCOL,), "keep_alive": False}
