"""Log output: short text lines for a person, or one JSON object per line for a log pipeline.

Every record logged while a /graphql request runs carries that request's id (a context
variable the tasks it starts inherit), so a warning about a bad record can be found next to
the request that met it. Nothing here reads headers or variables: what a record holds is what
its caller put in it, and the access line (`gql.web.observe`) puts no secret there.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import IO, Any

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID: ContextVar[str | None] = ContextVar("kvgraph_request_id", default=None)
REQUEST_ID_ATTRIBUTE = "request_id"  # a record's request id (None: logged outside a request)


class Fields:
    """A log message made of named fields: JSON output has them beside a brief message,
    text output reads `text`, which holds them all."""

    __slots__ = ("brief", "fields", "text")

    def __init__(self, text: str, fields: Mapping[str, Any], brief: str) -> None:
        self.text, self.fields, self.brief = text, fields, brief

    def __str__(self) -> str:
        return self.text


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request it was logged in (if any), unless its
    logger gave it one (an access line, handed over after its request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, REQUEST_ID_ATTRIBUTE, None) is None:
            setattr(record, REQUEST_ID_ATTRIBUTE, REQUEST_ID.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, request_id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.msg if isinstance(record.msg, Fields) else None
        line: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": fields.brief if fields else record.getMessage(),
        }
        request_id = getattr(record, REQUEST_ID_ATTRIBUTE, None)
        if request_id is not None:
            line["request_id"] = request_id
        if fields:
            line.update(fields.fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class _Seconds:
    """A time's text to the second, formatted once per second (a log line each request
    would format the same second again and again)."""

    __slots__ = ("_format", "_last", "_to_struct")

    def __init__(self, fmt: str, to_struct: Callable[[float], time.struct_time]) -> None:
        self._format, self._to_struct = fmt, to_struct
        self._last = (-1, "")  # one tuple: threads logging at once never mix two seconds

    def __call__(self, created: float) -> str:
        second = int(created)
        last = self._last
        if last[0] != second:
            last = self._last = (second, time.strftime(self._format, self._to_struct(created)))
        return last[1]


_UTC_SECONDS = _Seconds("%Y-%m-%dT%H:%M:%S", time.gmtime)


def _utc(created: float) -> str:
    """An RFC 3339 UTC timestamp with milliseconds."""
    return f"{_UTC_SECONDS(created)}.{int(created % 1 * 1000):03d}Z"


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, its time formatted as `logging.Formatter` does (local time, `,msec`)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._seconds = _Seconds(self.default_time_format, self.converter)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        seconds = self._seconds(record.created)
        msec = self.default_msec_format
        return msec % (seconds, record.msecs) if msec else seconds


class LinesHandler(logging.StreamHandler):
    """A stream handler that can hold its lines and write them with one call (`batch`): a
    write, a system call, a batch of access lines instead of one a line."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._held: list[str] | None = None
        self._last: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        held = self._held
        if held is None:
            super().emit(record)
            return
        try:
            held.append(self.format(record) + self.terminator)
            self._last = record
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def hold(self) -> None:
        """Keep the lines of the records emitted from now on, until `write_held`."""
        with self.lock:  # type: ignore[union-attr]
            if self._held is None:
                self._held = []

    def write_held(self) -> None:
        """Write the lines held, in one call, and stop holding (not `release`: that is the
        lock's)."""
        with self.lock:  # type: ignore[union-attr]
            held, last, self._held, self._last = self._held, self._last, None, None
            if not held or last is None:
                return
            try:
                self.stream.write("".join(held))
                self.flush()
            except RecursionError:
                raise
            except Exception:
                self.handleError(last)


@contextlib.contextmanager
def batch(logger: logging.Logger) -> Iterator[None]:
    """Records `logger` hands to a `LinesHandler` meanwhile are written when the batch ends,
    in one call (records of other loggers to the same handler wait for it too)."""
    held: list[LinesHandler] = []
    current: logging.Logger | None = logger
    while current is not None:  # the handlers `Logger.callHandlers` reaches
        held += [h for h in current.handlers if isinstance(h, LinesHandler)]
        current = current.parent if current.propagate else None
    for out in held:
        out.hold()
    try:
        yield
    finally:
        for out in held:
            out.write_held()


def handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `log_format` (text or json) to `stream` (stderr), with request ids."""
    out = LinesHandler(stream)
    out.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    out.addFilter(RequestIdFilter())
    return out


def configure(log_format: str) -> None:
    """Log INFO and above to stderr in `log_format` (unless logging is configured already).

    Neither format shows a record's thread, process or source line, so records do not look
    them up (the Logging HOWTO's "Optimization": the multiprocessing lookup alone was a few
    per cent of a small query's CPU, with an access line per request, and finding the
    caller's frame about 2 us a line); a logging setup of the embedding application's own is
    left as it is.
    """
    if logging.root.handlers:
        return
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # no caller's file, line, function
    logging.basicConfig(level=logging.INFO, handlers=[handler(log_format)])
