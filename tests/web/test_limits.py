"""Limits over HTTP: refusals with their codes, the execution timeout, rate limits (429)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from graphql import GraphQLSyntaxError, parse
from pydantic import ValidationError

from gql.kv import Store
from gql.schema.limits import document_tokens
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.ratelimit import Buckets, client_key
from gql.web.settings import Settings
from gql.web.timeout import within
from tests.support import BOARD, PG_SKIP, PG_URL, TRANSPORTS, U, board_data, drop_table, over, until

SECRET = "test-secret-0123456789-0123456789-abcdef"
Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
CYCLE = (
    '{trip(id:"t0"){items(first:60){nodes{trip{items(first:60){nodes{trip{items(first:60)'
    "{nodes{trip{items(first:60){nodes{id title}}}}}}}}}}}}}"
)
THOUSAND_ALIASES = (
    "{ "
    + " ".join(f"alias{i}: viewer {{ trips(first: 100) {{ totalCount }} }}" for i in range(1000))
    + " }"
)


def parse_tokens(document: str) -> int:
    """Lexical tokens of a document (up to a syntax error): what a refusal costs."""
    try:
        return parse(document).token_count
    except GraphQLSyntaxError as error:
        return document_tokens(document, None, 2_000, [error])


def bearer(user: str = U) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user)}"}


def settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET, **kw)


async def post(
    client: Client, query: str, headers: dict[str, str] | None = None, **body: Any
) -> Any:
    return await client.post("/graphql", json={"query": query, **body}, headers=headers or {})


def store_of(client: Client) -> Store:
    return client.app[STORE]


async def refused(client: Client, query: str, headers: dict[str, str] | None = None) -> dict:
    """Post `query`; insist it is refused with no store read; return its first error."""
    store = store_of(client)
    before = store.stats.round_trips
    body = await (await post(client, query, headers or bearer())).json()
    assert body["data"] is None and body["errors"], body
    assert store.stats.round_trips == before
    return body["errors"][0]  # type: ignore[no-any-return]


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await aiohttp_client(create_app(settings(tmp_path)))


async def test_the_trip_board_passes(client: Client) -> None:
    await board_data(store_of(client), trips=50, items=40)
    resp = await post(client, BOARD, bearer())
    body = await resp.json()
    assert resp.status == 200 and "errors" not in body
    assert sum(len(t["items"]["nodes"]) for t in body["data"]["viewer"]["trips"]["nodes"]) == 2000


async def test_the_cycle_is_refused_and_memory_does_not_grow(client: Client) -> None:
    await board_data(store_of(client), trips=1, items=60)
    await refused(client, CYCLE)  # warm up
    tracemalloc.start()
    try:
        error = await refused(client, CYCLE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert peak < 2_000_000, peak  # bytes, the whole HTTP round trip
    assert (await post(client, "{ viewer { id } }", bearer())).status == 200


async def test_a_thousand_aliases_are_refused(
    client: Client, aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    assert len(THOUSAND_ALIASES) > 50_000
    error = await refused(client, THOUSAND_ALIASES)  # stopped while parsing: over 2,000 tokens
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert "more than 2000 tokens" in error["message"]
    roomy = await aiohttp_client(create_app(settings(tmp_path / "b", max_tokens=100_000)))
    error = await refused(roomy, THOUSAND_ALIASES)
    assert error["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "limit": "aliases",
        "max": 15,
    }
    assert error["message"] == "The operation uses 1,000 aliases; the limit is 15."


async def test_limits_come_from_the_environment(
    aiohttp_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KVGRAPH_MAX_DEPTH", "3")
    monkeypatch.setenv("KVGRAPH_MAX_NODES", "21")
    client = await aiohttp_client(create_app(settings(tmp_path)))
    ok = await (await post(client, "{ locations(first: 20) { nodes { name } } }")).json()
    assert ok["data"] == {"locations": {"nodes": []}}
    deep = await refused(client, "{ viewer { trips { nodes { id } } } }")
    assert deep["extensions"]["limit"] == "depth"
    big = await refused(client, "{ locations(first: 21) { nodes { name } } }")
    assert big["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "nodes", "max": 21}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_depth": 0}, "max_depth"),
        ({"max_nodes": -1}, "max_nodes"),
        ({"execution_timeout": 0}, "execution_timeout"),
        ({"rate_limit": 10}, "rate_limit (10) is below max_nodes (50000)"),
        ({"rate_limit_anonymous": 49_999}, "rate_limit_anonymous (49999) is below max_nodes"),
        ({"rate_window": -1}, "rate_window"),
    ],
)
def test_bad_limit_settings_are_refused(values: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings(**values)


# --- the execution timeout --------------------------------------------------------------


@pytest.fixture
async def pg_settings() -> AsyncIterator[Settings]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    yield Settings(store_url=PG_URL, kv_table=table, jwt_secret=SECRET, execution_timeout=1.0)
    await drop_table(PG_URL, table)


@asynccontextmanager
async def locked(table: str) -> AsyncIterator[int]:
    """Hold an exclusive lock on `table` (every read of it waits); yields the holder's pid."""
    conn = await asyncpg.connect(PG_URL)
    try:
        async with conn.transaction():
            await conn.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
            yield conn.get_server_pid()
    finally:
        await conn.close()


async def blocked_by(admin: Any, holder: int) -> list[int]:
    """The backends waiting for a lock `holder` holds."""
    sql = "SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
    return [row[0] for row in await admin.fetch(sql, holder)]


async def one_blocked(admin: Any, holder: int) -> int:
    """Wait until one backend waits for `holder`'s lock; return its pid."""
    found: list[int] = []

    async def blocked() -> bool:
        found[:] = await blocked_by(admin, holder)
        return len(found) == 1

    await until(blocked, "a read waits for the lock")
    return found[0]


@pytest.mark.postgres
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_timeout_cancels_the_blocked_read_and_frees_its_connection(
    aiohttp_client: MakeClient, pg_settings: Settings, transport: str
) -> None:
    client = await aiohttp_client(create_app(pg_settings))
    await store_of(client).set(f"trips:index:{U}", [])
    query = "{ viewer { trips { totalCount } } }"
    admin = await asyncpg.connect(PG_URL)
    try:
        async with locked(pg_settings.kv_table) as holder:
            request = asyncio.ensure_future(over(client, transport, query, headers=bearer()))
            reader = await one_blocked(admin, holder)
            resp = await request
            assert resp.status == 504
            assert await resp.json() == {
                "data": None,
                "errors": [
                    {
                        "message": "The request took longer than 1 s and was stopped.",
                        "extensions": {"code": "TIMEOUT"},
                    }
                ],
            }

            async def idle() -> bool:
                sql = "SELECT state FROM pg_stat_activity WHERE pid = $1"
                return await admin.fetchval(sql, reader) == "idle"

            # The lock is still held: the read was cancelled and its connection is idle.
            await until(idle, "the timed-out read's connection is idle")
            assert await blocked_by(admin, holder) == []
        resp = await post(client, query, bearer())
        assert resp.status == 200
        assert (await resp.json())["data"]["viewer"]["trips"] == {"totalCount": 0}
    finally:
        await admin.close()


@pytest.mark.postgres
async def test_healthz_answers_while_a_large_query_runs(
    aiohttp_client: MakeClient, pg_settings: Settings
) -> None:
    app = create_app(pg_settings.model_copy(update={"execution_timeout": 30}))
    client = await aiohttp_client(app)
    await board_data(store_of(client), trips=50, items=40)
    admin = await asyncpg.connect(PG_URL)
    try:
        async with locked(pg_settings.kv_table) as holder:
            board = asyncio.ensure_future(post(client, BOARD, bearer()))
            await one_blocked(admin, holder)  # the board is under way
            health = await client.get("/healthz")
            assert health.status == 200 and not board.done()
        body = await (await board).json()
        assert len(body["data"]["viewer"]["trips"]["nodes"]) == 50
    finally:
        await admin.close()


# --- a held SQLite lock: the store gives up before the deadline ------------------------

CREATE = 'mutation { createTrip(input: {title: "x"}) { trip { id } } }'


async def test_a_held_sqlite_lock_is_503_before_the_deadline(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    """Another connection holds `BEGIN IMMEDIATE`: every mutation (the first waiting for the
    file, the others for this process's writer) answers 503 STORE_UNAVAILABLE, not 504."""
    config = settings(tmp_path, execution_timeout=2.0)  # busy timeout 0.8 s: 0.4 x 2 s
    client = await aiohttp_client(create_app(config))
    holder = sqlite3.connect(tmp_path / "kv.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        writes = [post(client, CREATE, bearer()) for _ in range(3)]
        for resp in await asyncio.gather(*writes):
            assert resp.status == 503
            body = await resp.json()
            assert [e["extensions"]["code"] for e in body["errors"]] == ["STORE_UNAVAILABLE"]
            assert body["data"] is None  # createTrip's payload is non-null
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    done = await (await post(client, CREATE, bearer())).json()
    assert done["data"]["createTrip"]["trip"]["id"]


def test_the_busy_timeout_follows_the_execution_timeout() -> None:
    assert Settings().busy_timeout() == 4.0
    assert Settings(execution_timeout=30).busy_timeout() == 12.0
    assert Settings(execution_timeout=30, sqlite_busy_timeout=14.9).busy_timeout() == 14.9
    with pytest.raises(ValidationError, match="less than half of execution_timeout"):
        Settings(execution_timeout=10, sqlite_busy_timeout=5)


# --- rate limits ------------------------------------------------------------------------

SIXTY = "{ viewer { trips(first: 60) { nodes { id } } } }"  # 62 nodes
PLACES = "{ locations(first: 60) { nodes { name } } }"  # 61 nodes


@pytest.fixture
async def limited(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await aiohttp_client(
        create_app(
            settings(
                tmp_path, max_nodes=100, rate_limit=100, rate_limit_anonymous=100, rate_window=1.0
            )
        )
    )


async def test_a_viewer_over_their_rate_gets_429_then_recovers(limited: Client) -> None:
    assert (await post(limited, SIXTY, bearer())).status == 200
    reads = store_of(limited).stats.round_trips
    resp = await post(limited, SIXTY, bearer())
    assert resp.status == 429 and resp.headers["Retry-After"] == "1"
    body = await resp.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert "this query costs 62 nodes" in body["errors"][0]["message"]
    assert store_of(limited).stats.round_trips == reads
    assert (await post(limited, SIXTY, bearer("u2"))).status == 200  # a bucket per viewer
    assert (await post(limited, PLACES)).status == 200  # anonymous: a bucket per address
    await asyncio.sleep(int(resp.headers["Retry-After"]))
    assert (await post(limited, SIXTY, bearer())).status == 200


async def test_anonymous_clients_are_limited_by_address(limited: Client) -> None:
    assert (await post(limited, PLACES)).status == 200
    resp = await post(limited, PLACES)
    assert resp.status == 429 and resp.headers["Retry-After"] == "1"
    assert (await resp.json())["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert (await post(limited, SIXTY, bearer())).status == 200  # the viewer's own bucket
    await asyncio.sleep(1)
    assert (await post(limited, PLACES)).status == 200


async def test_rates_of_zero_mean_no_limit(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    free = settings(tmp_path, max_nodes=100, rate_limit=0, rate_limit_anonymous=0, rate_window=1.0)
    client = await aiohttp_client(create_app(free))
    for _ in range(5):
        assert (await post(client, SIXTY, bearer())).status == 200
        assert (await post(client, PLACES)).status == 200


@pytest.fixture
async def charged(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    """An allowance of 100 that refills over an hour: nothing comes back during a test."""
    config = settings(tmp_path, max_nodes=100, rate_limit=100, rate_window=3600.0)
    return await aiohttp_client(create_app(config))


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    "document",
    [
        "{ viewer { trips(first: 101) { nodes { id } } } }",  # over the node limit
        "{ viewer { trips(first: 1) { nodes { id } } }",  # does not parse
        "{ viewer { trips(first: 1) { nodes { nope } } } }",  # does not validate
        "query($n: Int!) { viewer { trips(first: $n) { nodes { id } } } }",  # no variable
    ],
)
async def test_refused_documents_cost_their_tokens(
    charged: Client, transport: str, document: str
) -> None:
    tokens = parse_tokens(document)
    read = 99 // tokens + 1  # documents read until less than one token is left
    statuses = []
    for _ in range(read + 1):
        resp = await over(charged, transport, document, headers=bearer())
        statuses.append(resp.status)
        if resp.status == 200:
            assert (await resp.json())["data"] is None
    assert statuses == [200] * read + [429], (tokens, statuses)
    resp = await over(charged, transport, "{ viewer { id } }", headers=bearer())
    assert resp.status == 429  # even a small valid query: the viewer is in debt
    ok = await over(charged, transport, "{ viewer { id } }", headers=bearer("u2"))
    assert ok.status == 200  # another viewer's bucket


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_client_in_debt_is_refused_before_its_request_is_read(
    charged: Client, transport: str
) -> None:
    store = store_of(charged)
    while (await over(charged, transport, "{ viewer {", headers=bearer())).status == 200:
        pass
    reads = store.stats.round_trips
    resp = await charged.post(
        "/graphql", data=b"not JSON", headers={**bearer(), "Content-Type": "application/json"}
    )
    assert resp.status == 429  # not 400: the body was never read
    body = await resp.json()
    [error] = body["errors"]
    retry = int(resp.headers["Retry-After"])
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry}
    assert error["message"] == (
        f"Rate limit exceeded: the allowance of 100 per 3600 s is spent. Try again in {retry} s."
    )
    assert 36 <= retry <= 3600 and store.stats.round_trips == reads


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_over_the_window() -> None:
    clock = Clock()
    buckets = Buckets(100, 10.0, clock=clock)
    assert buckets.take("a", 60) == 0.0
    assert buckets.take("a", 60) == pytest.approx(2.0)  # 40 left, 20 short at 10 per second
    assert buckets.take("b", 100) == 0.0  # keys are independent
    clock.now = 2.0
    assert buckets.take("a", 60) == 0.0
    clock.now = 1000.0
    assert buckets.take("a", 100) == 0.0  # refills to the allowance, never beyond
    assert buckets.take("a", 1) == pytest.approx(0.1)


def test_a_cost_over_the_allowance_needs_a_full_bucket() -> None:
    clock = Clock()
    buckets = Buckets(10, 1.0, clock=clock)
    assert buckets.take("a", 500) == 0.0
    assert buckets.take("a", 500) == pytest.approx(1.0)


def test_buckets_keep_a_bounded_number_of_keys() -> None:
    clock = Clock()
    buckets = Buckets(10, 1.0, clock=clock, max_keys=2)
    for key in "abc":
        buckets.take(key, 10)
    assert buckets.take("a", 10) == 0.0  # "a" was forgotten: a full bucket again
    assert buckets.take("c", 10) > 0  # "c" was kept


def test_buckets_keep_no_full_bucket_and_prune_the_refilled() -> None:
    """A key without a bucket has a full one: full buckets are not kept, and `prune` drops
    those that refilled (after a burst of clients left)."""
    clock = Clock()
    buckets = Buckets(10, 1.0, clock=clock)
    assert buckets.wait("idle") == 0.0
    assert len(buckets) == 0  # asked, not charged: nothing kept
    buckets.take("a", 10)
    buckets.take("b", 2)
    clock.now = 0.5  # "b" has refilled, "a" has 5
    assert (buckets.prune(), len(buckets)) == (1, 1)
    assert buckets.take("a", 6) == pytest.approx(0.1)  # "a" kept its debt
    clock.now = 2.0
    assert (buckets.prune(), len(buckets)) == (1, 0)


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("203.0.113.7", "ip:203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "ip:2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "ip:2001:db8:1:2::/64"),
        ("not-an-address", "ip:not-an-address"),
    ],
)
def test_client_key(peer: str, key: str) -> None:
    transport = Mock()
    transport.get_extra_info.return_value = (peer, 0)
    assert client_key(make_mocked_request("POST", "/graphql", transport=transport)) == key


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/graphql-response+json", "application/graphql-response+json"),
        (None, "application/json"),
    ],
)
async def test_a_timeout_answers_in_the_media_type_asked_for(
    aiohttp_client: MakeClient, accept: str | None, media: str
) -> None:
    app = web.Application()

    async def never(request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    app.router.add_post("/graphql", partial(within, 0.01, handler=never))
    client = await aiohttp_client(app)
    resp = await client.post("/graphql", headers={"Accept": accept} if accept else {})
    assert resp.status == 504 and resp.content_type == media
    assert (await resp.json(content_type=None))["errors"][0]["extensions"]["code"] == "TIMEOUT"
