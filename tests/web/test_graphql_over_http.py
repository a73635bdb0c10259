"""GraphQL over HTTP: media types by `Accept`, status codes, GraphQL-shaped refusals of
malformed requests, operation choice, and store outages as 503 `STORE_UNAVAILABLE`."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import Settings
from tests.support import BACKENDS, PG_SKIP, PG_URL, drop_table

SECRET = "test-secret-0123456789-0123456789-abcdef"
GR = "application/graphql-response+json"
JSON = "application/json"
Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
TOKEN = {"Authorization": f"Bearer {mint_token(SECRET, 'u1')}"}
CREATE = 'mutation M { createTrip(input: {title: "Kyoto"}) { trip { id } } }'
COUNT = "{ viewer { trips { totalCount } } }"


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET)
    return await aiohttp_client(create_app(settings))


@pytest.fixture
async def any_client(
    aiohttp_client: MakeClient, store_url: tuple[str, str]
) -> AsyncIterator[Client]:
    """A client of a server on the backend in `store_url`'s param."""
    url, table = store_url
    settings = Settings(store_url=url, kv_table=table, jwt_secret=SECRET)
    yield await aiohttp_client(create_app(settings))
    if url.startswith("postgres"):
        await drop_table(url, table)


async def send(client: Client, body: Any, accept: str | None = None, **headers: str) -> Any:
    """POST a JSON body; (status, content type, decoded body)."""
    if accept is not None:
        headers["Accept"] = accept
    resp = await client.post("/graphql", json=body, headers={**TOKEN, **headers})
    return resp.status, resp.content_type, await resp.json(content_type=None)


async def raw(client: Client, data: bytes, accept: str = JSON) -> Any:
    headers = {"Content-Type": "application/json", "Accept": accept}
    resp = await client.post("/graphql", data=data, headers=headers)
    return resp.status, resp.content_type, await resp.json(content_type=None)


def code(body: dict[str, Any]) -> str:
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert len(codes) == 1, body
    return codes.pop()


REQUESTS = {
    "ok": ({"query": "{ __typename }"}, None),
    "parse": ({"query": "{ viewer {"}, "GRAPHQL_PARSE_FAILED"),
    "validation": ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
    "variables": (
        {
            "query": "query Q($f: Int) { locations(first: $f) { totalCount } }",
            "variables": {"f": 2**31},
        },
        "BAD_USER_INPUT",
    ),
    "resolver": ({"query": "{ locations(first: 1000) { totalCount } }"}, "BAD_USER_INPUT"),
}


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        ("text/html", JSON),
        (GR, GR),
        (f"{GR}, {JSON};q=0.9", GR),
        (f"{JSON}, {GR};q=0.5", JSON),
    ],
)
@pytest.mark.parametrize("kind", list(REQUESTS))
async def test_media_type_status_and_data(
    client: Client, accept: str | None, media: str, kind: str
) -> None:
    body, expected_code = REQUESTS[kind]
    status, content_type, answer = await send(client, body, accept)
    assert content_type == media
    if expected_code is None:
        assert (status, answer) == (200, {"data": {"__typename": "Query"}})
        return
    assert code(answer) == expected_code
    before_execution = kind != "resolver"
    if media == GR and before_execution:
        assert status == 400 and "data" not in answer
    else:
        assert status == 200 and "data" in answer and answer["data"] is None


@pytest.mark.parametrize("accept", [JSON, GR])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"query": "{ __typename \xff\xfe }"}', "UTF-8"),
        (b"\xc3\x28", "UTF-8"),
        (b'{ "not a JSON', "JSON"),
        (b"", "JSON"),
        (b'"{ __typename }"', "JSON object"),
        (b"42", "JSON object"),
        (b"null", "JSON object"),
        (b'[{"query": "{ __typename }"}]', "JSON object"),
        (b'{"query": 5}', "query"),
        (b'{"query": "{ __typename }", "variables": [1]}', "variables"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "extensions"),
    ],
)
async def test_malformed_bodies_get_a_graphql_shaped_400(
    client: Client, data: bytes, message: str, accept: str
) -> None:
    status, content_type, body = await raw(client, data, accept)
    assert status == 400 and content_type == accept
    assert code(body) == "BAD_REQUEST" and message in body["errors"][0]["message"]
    assert "data" not in body


async def test_other_refusals_are_graphql_shaped(client: Client) -> None:
    form = await client.post("/graphql", data={"query": "{ __typename }"})
    assert form.status == 400 and code(await form.json()) == "BAD_REQUEST"
    put = await client.put("/graphql", json={"query": "{ __typename }"})
    assert put.status == 405 and put.headers["Allow"] == "GET, POST"
    assert code(await put.json()) == "BAD_REQUEST"
    big = io.BytesIO(b"x" * 3_000_000)
    huge = await client.post("/graphql", data=big, headers={"Content-Type": JSON})
    assert huge.status == 413 and code(await huge.json()) == "BAD_REQUEST"


@pytest.mark.parametrize("accept", [JSON, GR])
async def test_get_mutation_is_405(client: Client, accept: str) -> None:
    resp = await client.get(
        "/graphql", params={"query": CREATE}, headers={**TOKEN, "Accept": accept}
    )
    assert resp.status == 405 and resp.headers["Allow"] == "POST"
    body = await resp.json(content_type=None)
    assert code(body) == "BAD_REQUEST" and "mutations" in body["errors"][0]["message"]
    _, _, count = await send(client, {"query": COUNT})
    assert count["data"]["viewer"]["trips"]["totalCount"] == 0


@pytest.mark.parametrize("accept", [JSON, GR])
async def test_several_operations_without_a_name_run_none(client: Client, accept: str) -> None:
    document = f"{CREATE} query Q {{ viewer {{ id }} }}"
    status, _, body = await send(client, {"query": document}, accept)
    assert code(body) == "BAD_USER_INPUT" and "operation name" in body["errors"][0]["message"]
    assert status == (400 if accept == GR else 200)
    _, _, count = await send(client, {"query": COUNT})
    assert count["data"]["viewer"]["trips"]["totalCount"] == 0
    named = await send(client, {"query": document, "operationName": "Q"})
    assert named[2] == {"data": {"viewer": {"id": "u1"}}}
    unknown = await send(client, {"query": document, "operationName": "Nope"})
    assert unknown[0] == 400 and code(unknown[2]) == "BAD_USER_INPUT"


async def test_lone_surrogates_echoed_in_errors_still_encode(client: Client) -> None:
    query = "query Q($f: Int) { locations(first: $f) { totalCount } }"
    data = b'{"query": "%s", "variables": {"f": "\\ud800"}}' % query.encode()
    status, _, body = await raw(client, data)
    assert status == 200 and code(body) == "BAD_USER_INPUT"


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("accept", [JSON, GR])
async def test_store_outage_is_503(any_client: Client, accept: str) -> None:
    await any_client.app[STORE].close()  # every read and write now fails in the backend
    for query in (COUNT, CREATE):
        status, _, body = await send(any_client, {"query": query}, accept)
        assert status == 503, body
        assert code(body) == "STORE_UNAVAILABLE"
        text = str(body).lower()
        assert "sqlite" not in text and "postgres" not in text and "not open" not in text


async def test_a_lock_held_past_the_busy_timeout_is_503(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET, sqlite_busy_timeout=0.2
    )
    client = await aiohttp_client(create_app(settings))
    other = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        status, _, body = await send(client, {"query": CREATE})
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (status, code(body)) == (503, "STORE_UNAVAILABLE")


class Proxy:
    """A TCP proxy to Postgres on 127.0.0.1 that can be cut, as if the database went down."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self.writers += [writer, up_writer]
        asyncio.create_task(self._pipe(reader, up_writer))  # noqa: RUF006
        asyncio.create_task(self._pipe(up_reader, writer))  # noqa: RUF006

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def cut(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        for writer in self.writers:
            writer.close()


@pytest.mark.postgres
async def test_postgres_down_is_503(aiohttp_client: MakeClient) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    proxy = Proxy()
    port = await proxy.start()
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    url = f"postgresql://postgres@127.0.0.1:{port}/test"
    client = await aiohttp_client(
        create_app(Settings(store_url=url, kv_table=table, jwt_secret=SECRET))
    )
    try:
        assert (await send(client, {"query": COUNT}))[0] == 200
        await proxy.cut()
        for query in (COUNT, CREATE):
            status, _, body = await send(client, {"query": query})
            assert (status, code(body)) == (503, "STORE_UNAVAILABLE")
    finally:
        await drop_table(PG_URL, table)
