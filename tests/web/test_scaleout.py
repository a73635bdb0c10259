"""Several kvgraph processes: a write over HTTP on one reaches subscribers on another
(Postgres LISTEN/NOTIFY; SQLite datagrams between the processes serving one file), access is
decided per event, and a listener killed by `pg_terminate_backend` comes back with nothing
lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from gql.kv.pgchanges import APPLICATION_NAME
from gql.web.auth import mint_token
from gql.web.persisted import Operation, document_hash, manifest
from tests.support import ALICE, BOB, PG_SKIP, PG_URL
from tests.web.gqlws import bearer, connect
from tests.web.servers import SECRET, Server

pytestmark = pytest.mark.slow
MESSAGE_ADDED = "subscription M($id: ID!) { messageAdded(conversationId: $id) { id content } }"
START = (
    "mutation S($input: StartConversationInput!) "
    "{ startConversation(input: $input) { conversation { id } } }"
)
POST = (
    "mutation P($input: PostMessageInput!) "
    "{ postMessage(input: $input) { message { id } userErrors { code } } }"
)


def token(user: str = ALICE) -> str:
    return mint_token(SECRET, user)


async def http(session: aiohttp.ClientSession, url: str, query: str, variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token()}"}
    async with session.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    ) as resp:
        body = await resp.json()
    assert resp.status == 200 and "errors" not in body, body
    return body["data"]


async def conversation(session: aiohttp.ClientSession, url: str) -> str:
    data = await http(session, url, START, {"input": {"title": "chat"}})
    return str(data["startConversation"]["conversation"]["id"])


async def post(session: aiohttp.ClientSession, url: str, conv: str, text: str) -> str:
    data = await http(session, url, POST, {"input": {"conversationId": conv, "content": text}})
    return str(data["postMessage"]["message"]["id"])


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_scale_{tmp_path.name[-10:].replace('-', '_')}"
    yield PG_URL, table
    asyncio.run(_drop(table))


async def _drop(table: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    finally:
        await conn.close()


async def subscribed(session: aiohttp.ClientSession, url: str) -> None:
    """Wait until the server counts an active subscription (graphql-transport-ws has no
    acknowledgement of a subscribe), and a moment more for it to read its first state."""
    for _ in range(200):
        async with session.get(f"{url}/metrics") as resp:
            text = await resp.text()
        if "kvgraph_active_subscriptions 0.0" not in text:
            await asyncio.sleep(0.3)
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the subscription never became active")


def servers(tmp_path: Path, url: str, table: str, count: int = 2, **env: str) -> list[Server]:
    env = {"KVGRAPH_METRICS": "true", **env}
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(Server(tmp_path, url, table, **env))
    except BaseException:
        for server in started:
            server.stop()
        raise
    return started


async def test_postgres_a_message_posted_on_one_process_reaches_another(
    tmp_path: Path, pg: tuple[str, str]
) -> None:
    one, two = servers(tmp_path, *pg)
    try:
        async with aiohttp.ClientSession() as session:
            conv = await conversation(session, two.url)
            async with (
                connect(session, f"{one.url}/graphql") as alice,
                connect(session, f"{one.url}/graphql") as bob,
            ):
                await alice.init(bearer(token(ALICE)))
                await bob.init(bearer(token(BOB)))
                op = await alice.subscribe(MESSAGE_ADDED, {"id": conv})
                refused = await bob.next(await bob.subscribe(MESSAGE_ADDED, {"id": conv}))
                assert refused["type"] == "error"
                assert refused["payload"][0]["extensions"]["code"] == "NOT_FOUND"
                await subscribed(session, one.url)
                posted = await post(session, two.url, conv, "from the other process")
                got = await alice.data(op)
                assert got["data"]["messageAdded"] == {
                    "id": posted,
                    "content": "from the other process",
                }
                await bob.nothing(0.5)
    finally:
        one.stop()
        two.stop()


async def test_postgres_events_arrive_after_the_listener_is_terminated(
    tmp_path: Path, pg: tuple[str, str]
) -> None:
    url, table = pg
    one, two = servers(tmp_path, url, table)
    try:
        async with aiohttp.ClientSession() as session:
            conv = await conversation(session, two.url)
            async with connect(session, f"{one.url}/graphql") as ws:
                await ws.init(bearer(token()))
                op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
                await subscribed(session, one.url)
                first = await post(session, two.url, conv, "before")
                assert (await ws.data(op))["data"]["messageAdded"]["id"] == first
                killed = await terminate_listeners(table)
                assert killed == 2  # one per process
                during = await post(session, two.url, conv, "while reconnecting")
                later = await post(session, two.url, conv, "after")
                seen = [(await ws.data(op))["data"]["messageAdded"]["id"] for _ in range(2)]
                assert seen == [during, later]  # missed ones re-read on reconnect, in order
        assert await listeners(table) == 2  # both came back
    finally:
        one.stop()
        two.stop()


async def terminate_listeners(table: str) -> int:
    conn = await asyncpg.connect(PG_URL)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                "FROM pg_stat_activity WHERE application_name = $1",
                f"{APPLICATION_NAME} {table}",
            )
        )
    finally:
        await conn.close()


async def listeners(table: str) -> int:
    conn = await asyncpg.connect(PG_URL)
    try:
        for _ in range(100):
            found = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                f"{APPLICATION_NAME} {table}",
            )
            if found == 2:
                break
            await asyncio.sleep(0.1)
        return int(found)
    finally:
        await conn.close()


async def test_postgres_allow_list_refuses_an_unregistered_subscription(
    tmp_path: Path, pg: tuple[str, str]
) -> None:
    registry = tmp_path / "registry.json"
    registry.write_bytes(
        manifest([Operation(document_hash(MESSAGE_ADDED), "M", "subscription", MESSAGE_ADDED)])
    )
    env = {
        "KVGRAPH_PERSISTED_QUERIES": "allowlist",
        "KVGRAPH_PERSISTED_QUERIES_FILE": str(registry),
    }
    (one,) = servers(tmp_path, *pg, count=1, **env)
    try:
        async with aiohttp.ClientSession() as session, connect(session, f"{one.url}/graphql") as ws:
            await ws.init(bearer(token()))
            other = "subscription { suggestionChanged { id } }"
            error = await ws.next(await ws.subscribe(other))
            assert error["type"] == "error"
            assert error["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    finally:
        one.stop()


async def test_sqlite_processes_on_one_file_fan_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kv.db"
    one, two = servers(tmp_path, url, "kv_store")
    try:
        async with aiohttp.ClientSession() as session:
            conv = await conversation(session, two.url)
            async with connect(session, f"{one.url}/graphql") as ws:
                await ws.init(bearer(token()))
                op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
                await subscribed(session, one.url)
                posted = await post(session, two.url, conv, "over the datagram")
                assert (await ws.data(op))["data"]["messageAdded"]["id"] == posted
    finally:
        one.stop()
        two.stop()


async def test_sqlite_workers_of_one_serve_fan_out(tmp_path: Path) -> None:
    """Posts over fresh connections land on either worker; every one reaches the socket."""
    url = f"sqlite:///{tmp_path}/kv.db"
    counts = tmp_path / "prometheus"  # the workers' gauges, summed
    counts.mkdir()
    env = {"KVGRAPH_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(counts)}
    (server,) = servers(tmp_path, url, "kv_store", count=1, **env)
    try:
        async with aiohttp.ClientSession() as session:
            conv = await conversation(session, server.url)
            async with connect(session, f"{server.url}/graphql") as ws:
                await ws.init(bearer(token()))
                op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
                await subscribed(session, server.url)
                posted = []
                for n in range(8):
                    async with aiohttp.ClientSession() as fresh:  # a new connection each
                        posted.append(await post(fresh, server.url, conv, f"m{n}"))
                got = [(await ws.data(op))["data"]["messageAdded"]["id"] for _ in posted]
                assert got == posted
    finally:
        server.stop()
