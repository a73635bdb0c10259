"""Where a /graphql request's outcome is recorded: once, when it has been answered.

The parts of a request note what they learn as they learn it (the operation's name once it
is parsed, the loaders, the codes and limits of the errors it answers with); the middleware,
outermost, adds the status and the time taken, counts the request in the metrics and notes
its one access line (written with others a moment later: `AccessLog`). So nothing runs per
field, and every way a request ends (an answer, a refusal, a timeout, an exception) passes
the same place.

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
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextvars import Context
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
from gql.web.logs import REQUEST_ID, REQUEST_ID_ATTRIBUTE, Fields, batch
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
FLUSH_SECONDS = 0.1  # an access line waits at most this long to be handed to `logging`
FLUSH_LINES = 512  # ... or until this many wait
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
    call a request). Formatted here, not by `uuid.UUID`, whose checks cost as much again."""
    digits = f"{_IDS.getrandbits(128) & ~_UUID_FIXED | _UUID_V4:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


# The bits RFC 9562 fixes in a version-4 UUID: the version (0100) and the variant (10).
_UUID_FIXED = 0xF000 << 64 | 0xC000 << 48
_UUID_V4 = 0x4000 << 64 | 0x8000 << 48


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
    metrics: Metrics | None, lines: AccessLog | None, path: str = "/graphql"
) -> Middleware:
    """Give each request to `path` an id and an outcome; record it once it is answered (in
    `metrics` and, as an access line, in `lines`; None: not at all).

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
        if lines is not None and access.isEnabledFor(logging.INFO):
            lines.add(AccessEntry.of(request, outcome, status, seconds, batches, keys))

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


class AccessEntry(NamedTuple):
    """What a request's access line says, and when it was answered."""

    time: float  # `time.time()` when it was answered
    method: str
    path: str
    status: int
    operation: str | None
    seconds: float
    batches: int
    keys: int
    codes: frozenset[str]
    limits: frozenset[str]
    request_id: str

    @classmethod
    def of(
        cls,
        request: web.Request,
        outcome: Outcome,
        status: int,
        seconds: float,
        batches: int,
        keys: int,
    ) -> AccessEntry:
        """The access line of a request answered now."""
        return cls(
            time.time(),
            request.method,
            request.path,  # never the query string: a GET carries variables there
            status,
            outcome.operation,
            seconds,
            batches,
            keys,
            frozenset(outcome.codes),
            frozenset(outcome.limits),
            outcome.request_id,
        )


def access_line(entry: AccessEntry) -> Fields:
    """The access line of a request: named fields, and a short text of them."""
    method, path, status = entry.method, entry.path, entry.status
    name = entry.operation[:SHOWN_NAME] if entry.operation else None
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "status": status,
        "operation": name,
        "duration_ms": round(entry.seconds * 1000, 1),
        "batches": entry.batches,
        "keys": entry.keys,
    }
    if entry.codes:
        fields["errors"] = sorted(entry.codes)
    if entry.limits:
        fields["limits"] = sorted(entry.limits)
    text = (
        f"{method} {path} {status} {name or '-'} {fields['duration_ms']}ms "
        f"batches={entry.batches} keys={entry.keys}"
    )
    if entry.codes:
        text += f" errors={','.join(fields['errors'])}"
    brief = f"{method} {path} {status}"
    return Fields(f"{text} id={entry.request_id}", fields, brief)


class AccessLog:
    """The access lines of the app's requests, handed to `logging` a batch at a time.

    A line handed over while its request is answered cost a tenth of a small query's CPU
    (the logging path, run cold in every request: record, filters, format, write); the same
    work done for a batch in one loop costs under a fiftieth (docs/performance.md). So a
    line waits until `FLUSH_SECONDS` after the first waiting one, or until `FLUSH_LINES`
    wait, or until the app stops (`flush` on cleanup). Each record is stamped with the time
    its request was answered and carries its request id, as one logged at once would be.
    """

    __slots__ = ("_timer", "_waiting")

    def __init__(self) -> None:
        self._waiting: list[AccessEntry] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, entry: AccessEntry) -> None:
        """Write this line with the next batch (called in the event loop)."""
        self._waiting.append(entry)
        if len(self._waiting) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            # In a context of its own: the batch is no one request's (`REQUEST_ID`).
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(FLUSH_SECONDS, self.flush, context=Context())

    def flush(self) -> None:
        """Hand every waiting line to the `kvgraph.access` logger now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        with batch(access):  # one write for the batch (with kvgraph's own handler)
            for entry in waiting:
                access.handle(_record(entry))


def _record(entry: AccessEntry) -> logging.LogRecord:
    """The log record of an access line, as `access.info` would have made it when the
    request was answered."""
    record = access.makeRecord(
        access.name,
        logging.INFO,
        "(unknown file)",
        0,
        access_line(entry),
        (),
        None,
        "(unknown function)",
        {REQUEST_ID_ATTRIBUTE: entry.request_id},
    )
    late = record.created - entry.time
    record.created = entry.time
    record.msecs = int((entry.time - int(entry.time)) * 1000) + 0.0
    record.relativeCreated -= late * 1000
    return record
