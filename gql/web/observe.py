"""Where a /graphql request's outcome is recorded: once, when it has been answered.

The parts of a request note what they learn as they learn it (the operation's name once it
is parsed, the loaders, the codes and limits of the errors it answers with); the middleware,
outermost, adds the status and the time taken, counts the request in the metrics and writes
its one access line. So nothing runs per field, and every way a request ends (an answer, a
refusal, a timeout, an exception) passes the same place.

A WebSocket upgrade is observed the same way, but counted as a socket (`Metrics.record_socket`,
when it closes), never as a request; what it answers meanwhile (a refusal, an event with
errors) is counted message by message (`answered`), as a request's answer is.

The request id is the incoming `X-Request-Id` when it is a short token of safe characters
(a proxy's or a client's), else a new UUID; it goes back in the response's `X-Request-Id`
and on every log record of the request. The access line holds no header, token, variable
or document: only the method, the path, the status, the operation's name, the time, the
store batches and keys, and the error codes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from graphql import DocumentNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from gql.schema.errors import (
    INTERNAL_SERVER_ERROR,
    PARSE_FAILED,
    RATE_LIMITED,
    TIMEOUT,
    code_of,
)
from gql.web.logs import REQUEST_ID, Fields
from gql.web.media import asks_upgrade
from gql.web.metrics import Metrics
from resolvers.loaders import Loaders

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
# graphql-core's parser refuses a document over the token limit with a syntax error that
# carries no other mark than these words (tests/web/test_metrics.py pins them).
TOKEN_LIMIT_WORDS = "Syntax Error: Document contains more than"
CLIENT_GONE = 499  # the client closed the connection before the answer (nginx's status)
SHOWN_NAME = 100  # characters of an operation name on an access line
BODY_LIMIT = {"limit": "body"}  # a 413: the body was over aiohttp's client_max_size
access = logging.getLogger("kvgraph.access")


@dataclass(slots=True)
class Outcome:
    """What one /graphql request did, noted by its parts as it runs."""

    request_id: str
    operation: str | None = None  # the name of the operation run (None: unnamed or unknown)
    loaders: Loaders | None = None  # the request's loaders, counting store batches and keys
    codes: set[str] = field(default_factory=set)  # error codes of its answer
    limits: set[str] = field(default_factory=set)  # the limits it was refused for
    page: bool = False  # the GraphiQL page, not an operation: not counted in the metrics
    # A WebSocket upgrade: counted as a socket, not a request, and its answers (refusals,
    # events) counted one by one as they are sent (`answered`), in these metrics.
    socket: Metrics | None = None

    def note(self, code: str, extensions: Mapping[str, Any], message: str = "") -> None:
        """Note an error of `code` in the answer (and its limit, if any)."""
        self.codes.add(code)
        if limit := limit_of(code, extensions, message):
            self.limits.add(limit)

    def note_errors(self, errors: Iterable[GraphQLError]) -> None:
        """Note the codes (and limits) of a GraphQL result's errors."""
        for error in errors:
            code = code_of(error)
            if code is not None:
                self.note(code, error.extensions or {}, error.message)


OUTCOME = web.RequestKey("outcome", Outcome)


def request_id(given: str | None) -> str:
    """The incoming id if it is sane, else a new one (a random version-4 UUID)."""
    if given is not None and _SANE_ID.fullmatch(given):
        return given
    return _new_id()


def _new_id() -> str:
    """A random version-4 UUID's text, from a random generator of its own: a request id names,
    it guards nothing, so it needs no system entropy (`uuid4` reads `os.urandom`, a system
    call a request)."""
    return str(uuid.UUID(int=_IDS.getrandbits(128), version=4))


# Seeded from the system once, and again in each forked worker (which would otherwise draw the
# same ids as its siblings); an application seeding `random` itself does not repeat them.
_IDS = random.Random()
os.register_at_fork(after_in_child=_IDS.seed)


def limit_of(code: str, extensions: Mapping[str, Any], message: str = "") -> str | None:
    """The limit an error with this code and these extensions reports going over, if any."""
    limit = extensions.get("limit")
    if isinstance(limit, str):
        return limit  # depth, aliases, nodes, merging (validation); records, bytes (reads)
    if code == RATE_LIMITED:
        return "rate"
    if code == TIMEOUT:
        return "timeout"
    if code == PARSE_FAILED and message.startswith(TOKEN_LIMIT_WORDS):
        return "tokens"
    return None


def note(
    request: web.Request, code: str, extensions: Mapping[str, Any] | None = None, message: str = ""
) -> None:
    """Note that the request is answered with an error of `code` (and its limit, if any)."""
    outcome = request.get(OUTCOME)
    if outcome is not None:
        outcome.note(code, extensions or {}, message)


def note_errors(request: web.Request, errors: Iterable[GraphQLError]) -> None:
    """Note the codes (and limits) of a GraphQL result's errors."""
    outcome = request.get(OUTCOME)
    if outcome is not None:
        outcome.note_errors(errors)


def answered(request: web.Request, errors: Iterable[GraphQLError]) -> None:
    """Count one answer a socket sent (a refusal, an event with errors) as a request's answer
    is counted: each of its codes and limits once."""
    outcome = request.get(OUTCOME)
    if outcome is None or outcome.socket is None:
        return
    answer = Outcome(outcome.request_id)
    answer.note_errors(errors)
    outcome.socket.count(answer.codes, answer.limits)


def outcome_of(request: Any) -> Outcome | None:
    """The outcome being noted for `request` (None outside an observed request)."""
    return request.get(OUTCOME) if isinstance(request, web.Request) else None


def _named(document: DocumentNode | None, name: str | None) -> str | None:
    """`name` if the document holds an operation of that name (a client's `operationName`
    that names nothing is no operation's name)."""
    if document is None or name is None:
        return None
    for node in document.definitions:
        if isinstance(node, OperationDefinitionNode) and node.name and node.name.value == name:
            return name
    return None


class OperationName(SchemaExtension):
    """Note the name of the operation a request runs, once its document is parsed."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        outcome = outcome_of(getattr(context.context, "request", None))
        if outcome is not None:
            outcome.operation = _named(context.graphql_document, context.operation_name)


def observe_middleware(
    metrics: Metrics | None, access_log: bool, path: str = "/graphql"
) -> Middleware:
    """Give each request to `path` an id and an outcome; record it once it is answered.

    CORS preflights (OPTIONS) are the browser's, not operations: they pass unobserved.
    """

    def finish(request: web.Request, outcome: Outcome, status: int, seconds: float) -> None:
        loaders = outcome.loaders
        batches, keys = (loaders.batches, loaders.keys) if loaders else (0, 0)
        if outcome.socket is not None:  # its handshake's codes; its answers' are counted
            outcome.socket.record_socket(status, seconds, outcome.codes, outcome.limits)
        elif metrics is not None and not outcome.page:
            metrics.record(
                outcome.operation, status, seconds, batches, keys, outcome.codes, outcome.limits
            )
        if access_log and access.isEnabledFor(logging.INFO):
            access.info(access_line(request, outcome, status, seconds, batches, keys))

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path or request.method == "OPTIONS":
            return await handler(request)
        outcome = request[OUTCOME] = Outcome(request_id(request.headers.get(REQUEST_ID_HEADER)))
        if asks_upgrade(request.headers):
            outcome.socket = metrics
        token = REQUEST_ID.set(outcome.request_id)
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = outcome.request_id
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = outcome.request_id
            raise
        except asyncio.CancelledError:
            status = CLIENT_GONE
            raise
        except Exception:
            outcome.codes.add(INTERNAL_SERVER_ERROR)
            raise
        finally:
            finish(request, outcome, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    return observe


def access_line(
    request: web.Request, outcome: Outcome, status: int, seconds: float, batches: int, keys: int
) -> Fields:
    """The access line of a request: named fields, and a short text of them."""
    name = outcome.operation[:SHOWN_NAME] if outcome.operation else None
    fields: dict[str, Any] = {
        "method": request.method,
        "path": request.path,  # never the query string: a GET carries variables there
        "status": status,
        "operation": name,
        "duration_ms": round(seconds * 1000, 1),
        "batches": batches,
        "keys": keys,
    }
    if outcome.codes:
        fields["errors"] = sorted(outcome.codes)
    if outcome.limits:
        fields["limits"] = sorted(outcome.limits)
    text = (
        f"{request.method} {request.path} {status} {name or '-'} {fields['duration_ms']}ms "
        f"batches={batches} keys={keys}"
    )
    if outcome.codes:
        text += f" errors={','.join(fields['errors'])}"
    brief = f"{request.method} {request.path} {status}"
    return Fields(f"{text} id={outcome.request_id}", fields, brief)
