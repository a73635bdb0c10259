"""Logs: the request id round trip, one access line per /graphql request (JSON or text), and
no token, variable value or document in any line."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
import operator
import signal
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from gql.web import logs, observe
from gql.web.appkeys import ACCESS_LOG, STORE
from gql.web.auth import mint_token
from gql.web.observe import REQUEST_ID_HEADER
from gql.web.settings import Settings
from tests.support import BOARD, SECRET, U, app_client, board_data, over
from tests.web.test_serve import free_port, read_until, start, stop, wait_until_up

Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
TOKEN = mint_token(SECRET, U)
SECRET_TITLE = "variable-value-nobody-may-log"
CREATE = "mutation Create($title: String!) { createTrip(input: {title: $title}) { trip { id } } }"


def captured(caplog: pytest.LogCaptureFixture, log_format: str) -> Iterator[io.StringIO]:
    """What kvgraph logs at INFO and above, formatted as `log_format`."""
    stream = io.StringIO()
    out = logs.handler(log_format, stream)
    logger = logging.getLogger("kvgraph")
    logger.addHandler(out)
    caplog.set_level(logging.INFO, logger="kvgraph")
    try:
        yield stream
    finally:
        logger.removeHandler(out)


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    yield from captured(caplog, "json")


@pytest.fixture
def text_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    yield from captured(caplog, "text")


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written, each parsed as JSON (a line that does not parse fails the test)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def access_lines(stream: io.StringIO, client: Client) -> list[dict[str, Any]]:
    """The access lines written, once the app has handed over those still waiting."""
    written(client)
    return [line for line in lines(stream) if line["logger"] == "kvgraph.access"]


def written(client: Client) -> None:
    """Hand the access lines waiting for their batch over to `logging` now."""
    if ACCESS_LOG in client.app:
        client.app[ACCESS_LOG].flush()


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await app_client(aiohttp_client, tmp_path)


async def test_a_sane_request_id_comes_back(client: Client, json_log: io.StringIO) -> None:
    given = "req-7f3a.b9:01/x+y=@z"
    resp = await over(client, "POST", "{ viewer { id } }", headers={REQUEST_ID_HEADER: given})
    assert resp.headers[REQUEST_ID_HEADER] == given
    [line] = access_lines(json_log, client)
    assert line["request_id"] == given


@pytest.mark.parametrize(
    "given",
    [None, "", "has space", "tab\there", "<script>", "x" * 129, 'quote"', "semi;colon", "é"],
)
async def test_other_request_ids_are_replaced(
    client: Client, json_log: io.StringIO, given: str | None
) -> None:
    headers = {} if given is None else {REQUEST_ID_HEADER: given}
    resp = await over(client, "GET", "{ viewer { id } }", headers=headers)
    made = resp.headers[REQUEST_ID_HEADER]
    assert made != given and str(uuid.UUID(made)) == made and uuid.UUID(made).version == 4
    [line] = access_lines(json_log, client)
    assert line["request_id"] == made


async def test_each_request_gets_its_own_id(client: Client) -> None:
    first = await over(client, "POST", "{ viewer { id } }")
    second = await over(client, "POST", "{ viewer { id } }")
    assert first.headers[REQUEST_ID_HEADER] != second.headers[REQUEST_ID_HEADER]


async def test_the_json_access_line(client: Client, json_log: io.StringIO) -> None:
    await board_data(client.app[STORE], trips=2, items=3)
    resp = await over(client, "POST", BOARD, headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200
    [line] = access_lines(json_log, client)
    assert line["request_id"] == resp.headers[REQUEST_ID_HEADER]
    assert (line["level"], line["method"], line["path"]) == ("INFO", "POST", "/graphql")
    assert (line["status"], line["operation"]) == (200, "Board")
    assert line["batches"] > 0 and line["keys"] > 0 and line["duration_ms"] >= 0
    assert "errors" not in line and line["time"].endswith("Z")


async def test_error_codes_and_limits_are_on_the_line(
    aiohttp_client: MakeClient, tmp_path: Path, json_log: io.StringIO
) -> None:
    client = await app_client(aiohttp_client, tmp_path, max_depth=2)
    await over(client, "POST", "query Deep { viewer { trips { nodes { id } } } }")
    await over(client, "POST", "{ viewer { id } }", headers={"Authorization": "Bearer nope"})
    deep, unauthenticated = access_lines(json_log, client)
    assert deep["operation"] == "Deep" and deep["limits"] == ["depth"]
    assert deep["errors"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert unauthenticated["status"] == 401 and unauthenticated["operation"] is None
    assert unauthenticated["errors"] == ["UNAUTHENTICATED"]


async def test_records_logged_during_a_request_carry_its_id(
    client: Client, json_log: io.StringIO
) -> None:
    await board_data(client.app[STORE], trips=2, items=1)
    await client.app[STORE].set_many_raw({"trip:t1": "not JSON"})
    resp = await over(client, "POST", BOARD, headers={"Authorization": f"Bearer {TOKEN}"})
    codes = {e["extensions"]["code"] for e in (await resp.json())["errors"]}
    assert codes == {"INVALID_RECORD"}
    [warning] = [line for line in lines(json_log) if line["level"] == "WARNING"]
    assert "trip:t1" in warning["message"]
    assert warning["request_id"] == resp.headers[REQUEST_ID_HEADER]
    [line] = access_lines(json_log, client)
    assert line["errors"] == ["INVALID_RECORD"]


@pytest.mark.parametrize("transport", ["GET", "POST"])
async def test_no_token_variable_or_document_is_logged(
    client: Client, json_log: io.StringIO, transport: str
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    await over(client, transport, CREATE, variables={"title": SECRET_TITLE}, headers=auth)
    query = "query Q($id: ID!) { trip(id: $id) { id } }"
    await over(client, transport, query, variables={"id": SECRET_TITLE}, headers=auth)
    await over(client, transport, "{ viewer { id } }", headers={"Authorization": "Bearer bad"})
    assert len(access_lines(json_log, client)) == 3
    logged = json_log.getvalue()
    for secret in (TOKEN, TOKEN.split(".")[1], "Bearer", SECRET_TITLE, "createTrip", "$id"):
        assert secret not in logged, secret


async def test_the_text_access_line_is_short(client: Client, text_log: io.StringIO) -> None:
    resp = await over(client, "POST", "query Me { viewer { id } }")
    await over(client, "POST", "{ nope }")
    written(client)
    me, nope = text_log.getvalue().splitlines()
    rid = resp.headers[REQUEST_ID_HEADER]
    assert " INFO kvgraph.access: POST /graphql 200 Me " in me and me.endswith(f" id={rid}")
    assert "batches=0 keys=0" in me and "errors=" not in me
    assert "/graphql 200 - " in nope and " errors=GRAPHQL_VALIDATION_FAILED " in nope
    assert len(me) < 160


async def test_access_lines_can_be_switched_off(
    aiohttp_client: MakeClient, tmp_path: Path, json_log: io.StringIO
) -> None:
    client = await app_client(aiohttp_client, tmp_path, access_log=False)
    resp = await over(client, "POST", "{ viewer { id } }")
    assert resp.headers[REQUEST_ID_HEADER]  # ids are still given
    assert access_lines(json_log, client) == []


async def test_other_paths_have_no_access_line(client: Client, json_log: io.StringIO) -> None:
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/nowhere")).status == 404
    assert access_lines(json_log, client) == []


async def test_access_lines_are_written_a_batch_at_a_time(
    client: Client, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line waits (FLUSH_SECONDS) for the lines after it; it keeps the time its request
    was answered and its request's id."""
    monkeypatch.setattr(observe, "FLUSH_SECONDS", 0.3)
    first = await over(client, "POST", "query One { viewer { id } }")
    answered = time.time()
    await asyncio.sleep(0.1)
    second = await over(client, "POST", "query Two { viewer { id } }")
    assert lines(json_log) == []  # both wait for the batch
    await asyncio.sleep(0.35)
    one, two = lines(json_log)  # written by the timer, no flush asked for
    assert (one["operation"], two["operation"]) == ("One", "Two")
    assert one["request_id"] == first.headers[REQUEST_ID_HEADER]
    assert two["request_id"] == second.headers[REQUEST_ID_HEADER]
    one_time = datetime.fromisoformat(one["time"].replace("Z", "+00:00")).timestamp()
    assert answered - 0.05 <= one_time <= answered + 0.005  # not the time it was written
    assert one["time"] < two["time"]


async def test_a_full_batch_is_written_at_once(
    client: Client, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observe, "FLUSH_LINES", 2)
    await over(client, "POST", "{ viewer { id } }")
    assert lines(json_log) == []
    await over(client, "POST", "{ viewer { id } }")
    assert len(lines(json_log)) == 2  # the second line filled the batch


async def test_lines_still_waiting_are_written_when_the_app_stops(
    aiohttp_client: MakeClient, tmp_path: Path, text_log: io.StringIO
) -> None:
    client = await app_client(aiohttp_client, tmp_path)
    resp = await over(client, "POST", "query Last { viewer { id } }")
    assert text_log.getvalue() == ""
    await client.close()
    [line] = text_log.getvalue().splitlines()
    assert " POST /graphql 200 Last " in line
    assert line.endswith(f" id={resp.headers[REQUEST_ID_HEADER]}")


class Writes(io.StringIO):
    """A stream that counts the calls that wrote to it."""

    calls = 0

    def write(self, text: str) -> int:
        self.calls += 1
        return super().write(text)


async def test_a_batch_of_access_lines_is_one_write(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    stream = Writes()
    out = logs.handler("text", stream)
    logging.getLogger("kvgraph").addHandler(out)
    caplog.set_level(logging.INFO, logger="kvgraph")
    try:
        for _ in range(3):
            await over(client, "POST", "{ viewer { id } }")
        assert stream.calls == 0
        client.app[ACCESS_LOG].flush()
    finally:
        logging.getLogger("kvgraph").removeHandler(out)
    assert stream.calls == 1 and len(stream.getvalue().splitlines()) == 3


def test_a_held_handler_writes_its_lines_in_order_when_released() -> None:
    stream = Writes()
    out = logs.handler("text", stream)
    parent, child = logging.getLogger("kvgraph.test_held"), logging.getLogger("kvgraph.test_held.a")
    parent.addHandler(out)
    try:
        with logs.batch(child):  # reaches the parent's handler, as `callHandlers` does
            child.warning("one")
            parent.warning("two")  # another logger's record to the held handler waits too
            assert stream.calls == 0
        assert stream.calls == 1
        child.warning("three")  # not held: written at once
        assert stream.calls == 2
        with logs.batch(child):
            pass  # nothing held: nothing written
        assert stream.calls == 2
    finally:
        parent.removeHandler(out)
    assert [line.rsplit(": ", 1)[1] for line in stream.getvalue().splitlines()] == [
        "one",
        "two",
        "three",
    ]


def test_a_held_line_that_cannot_be_written_is_reported_as_logging_reports_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise ValueError("closed")

    reported: list[logging.LogRecord] = []
    out = logs.handler("text", Closed())
    monkeypatch.setattr(out, "handleError", reported.append)
    logger = logging.getLogger("kvgraph.test_held_closed")
    logger.addHandler(out)
    try:
        with logs.batch(logger):
            logger.warning("lost")
    finally:
        logger.removeHandler(out)
    assert [record.getMessage() for record in reported] == ["lost"]


def test_a_record_given_a_request_id_keeps_it() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("kvgraph.test_logs")
    out = logs.handler("json", stream)
    logger.addHandler(out)
    token = logs.REQUEST_ID.set("the-request-now")
    try:
        logger.warning("given", extra={logs.REQUEST_ID_ATTRIBUTE: "the-request-then"})
        logger.warning("not given")
    finally:
        logs.REQUEST_ID.reset(token)
        logger.removeHandler(out)
    given, not_given = lines(stream)
    assert given["request_id"] == "the-request-then"
    assert not_given["request_id"] == "the-request-now"


def test_an_exception_is_one_json_line() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("kvgraph.test_logs")
    out = logs.handler("json", stream)
    logger.addHandler(out)
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.error("it failed: %s", "badly", exc_info=True)
    finally:
        logger.removeHandler(out)
    [line] = lines(stream)
    assert line["message"] == "it failed: badly" and "request_id" not in line
    assert "ValueError: boom" in line["exception"]


def test_the_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(jwt_secret=SECRET).log_format == "text"
    monkeypatch.setenv("KVGRAPH_LOG_FORMAT", "json")
    assert Settings(jwt_secret=SECRET).log_format == "json"
    monkeypatch.setenv("KVGRAPH_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="'text' or 'json'"):
        Settings(jwt_secret=SECRET)


@pytest.mark.slow
def test_serve_writes_json_lines_and_serves_metrics(tmp_path: Path) -> None:
    port = free_port()
    proc = start(
        tmp_path,
        "--insecure-no-auth",
        "--port",
        str(port),
        KVGRAPH_LOG_FORMAT="json",
        KVGRAPH_METRICS="true",
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        request = urllib.request.Request(
            f"{url}/graphql",
            json.dumps({"query": "query Me { viewer { id } }"}).encode(),
            {"Content-Type": "application/json", REQUEST_ID_HEADER: "serve-test-1"},
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.headers[REQUEST_ID_HEADER] == "serve-test-1"
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
            exposed = resp.read().decode()
        assert 'kvgraph_requests_total{operation="Me",status="200"} 1.0' in exposed
        *_, last = read_until(proc, '"logger":"kvgraph.access"')
        line = json.loads(last)
        assert (line["request_id"], line["operation"], line["status"]) == (
            "serve-test-1",
            "Me",
            200,
        )
        request.add_header(REQUEST_ID_HEADER, "serve-test-2")
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.headers[REQUEST_ID_HEADER] == "serve-test-2"
        proc.send_signal(signal.SIGTERM)  # at once: its line may still wait for its batch
        assert proc.stdout is not None
        rest = proc.stdout.read()
        assert '"request_id":"serve-test-2"' in rest  # written on the way out
    finally:
        assert stop(proc) == 0


def test_configure_drops_the_record_fields_no_format_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our handler shows no thread, process or source line: records stop looking them up. A
    logging setup already in place is left alone, flags included."""
    for flag in ("logThreads", "logProcesses", "logMultiprocessing"):
        monkeypatch.setattr(logging, flag, True)
    monkeypatch.setattr(logging, "_srcfile", logging._srcfile)
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    monkeypatch.setattr(logging.root, "handlers", [logging.NullHandler()])
    logs.configure("text")
    assert logging.logThreads and logging.logProcesses and logging.logMultiprocessing
    assert logging._srcfile is not None
    monkeypatch.setattr(logging.root, "handlers", [])
    logs.configure("json")
    assert not (logging.logThreads or logging.logProcesses or logging.logMultiprocessing)
    assert logging._srcfile is None
    record = logging.LogRecord("kvgraph", logging.INFO, __file__, 1, "hi", None, None)
    assert record.processName is None and record.threadName is None
    assert isinstance(logging.root.handlers[0].formatter, logs.JsonFormatter)


def _record_at(created: float) -> logging.LogRecord:
    record = logging.LogRecord("kvgraph.access", logging.INFO, __file__, 1, "a line", None, None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    return record


TIMES = [1_700_000_000.25, 1_700_000_000.9996, 1_700_000_001.0, 1_699_999_999.5, 0.0, 86_399.75]


def test_text_lines_carry_the_time_logging_gives_them() -> None:
    """The text format's time (formatted once a second) is `logging.Formatter`'s, forwards
    and backwards in time, with or without a date format of its own."""
    ours, logging_own = logs.TextFormatter(), logging.Formatter(logs.TEXT_FORMAT)
    for created in TIMES * 2:
        record = _record_at(created)
        assert ours.format(record) == logging_own.format(record)
        assert ours.formatTime(record, "%H:%M") == logging_own.formatTime(record, "%H:%M")


def test_json_lines_carry_the_utc_time() -> None:
    """RFC 3339 in UTC with milliseconds (formatted once a second)."""
    for created in TIMES * 2:
        whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        expected = f"{whole}.{int(created % 1 * 1000):03d}Z"
        assert json.loads(logs.JsonFormatter().format(_record_at(created)))["time"] == expected


def test_request_ids_differ_across_forked_workers_and_seeds() -> None:
    """`serve --workers` forks: each worker draws ids of its own; an application seeding
    `random` does not make them repeat."""
    import os
    import random

    from gql.web.observe import _new_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its first id, then out without running any cleanup
        os.write(write, _new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 100).decode()
    os.close(read)
    assert str(uuid.UUID(child)) == child and child != _new_id()
    random.seed(7)
    first = _new_id()
    random.seed(7)
    assert _new_id() != first


def test_new_request_ids_are_version_4_uuids() -> None:
    from gql.web.observe import _new_id

    made = [_new_id() for _ in range(2_000)]
    for text in made:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
    assert len(set(made)) == len(made)
    # The other 122 bits are random: each of them is set in some id and clear in another.
    ints = [uuid.UUID(text).int for text in made]
    fixed = 0xF000 << 64 | 0xC000 << 48
    varying = functools.reduce(operator.or_, ints) & ~functools.reduce(operator.and_, ints)
    assert varying == ~fixed & (2**128 - 1)
