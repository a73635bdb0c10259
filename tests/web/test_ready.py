"""`/readyz` lists what is wrong with the table (503) and recovers without a restart (200)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gql.kv import open_store
from gql.web.app import create_app
from gql.web.settings import Settings
from tests.support import PG_URL, admin, drop_table, pg_role, read_only

MakeClient = Callable[..., Awaitable[Any]]
DML = ("SELECT", "INSERT", "UPDATE", "DELETE")


async def ready(client: Any) -> tuple[int, Any]:
    resp = await client.get("/readyz")
    return resp.status, await resp.json()


def problem_codes(body: Any) -> list[str]:
    return [problem["code"] for problem in body["problems"]]


async def client_on(aiohttp_client: MakeClient, url: str, table: str, **settings: Any) -> Any:
    app = create_app(Settings(store_url=url, kv_table=table, insecure_no_auth=True, **settings))
    return await aiohttp_client(app)


# ------------------------------------------------------------------------------ SQLite


async def test_read_only_sqlite_file_is_503_until_fixed(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    client = await client_on(aiohttp_client, f"sqlite:///{tmp_path}/kv.db", "kv")
    assert await ready(client) == (200, {"status": "ok"})
    with read_only(tmp_path / "kv.db"):
        status, body = await ready(client)
        assert status == 503 and body["status"] == "unavailable"
        assert problem_codes(body) == ["read_only"]
        assert "kv.db is read-only" in body["problems"][0]["message"]
    assert await ready(client) == (200, {"status": "ok"})


async def test_app_started_on_a_read_only_file_can_write_once_fixed(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path}/kv.db", "kv")
    await store.open()
    await store.close()
    with read_only(tmp_path / "kv.db"):
        client = await client_on(aiohttp_client, f"sqlite:///{tmp_path}/kv.db", "kv")
        assert (await ready(client))[0] == 503
    assert await ready(client) == (200, {"status": "ok"})
    query = "{ locations { totalCount } }"
    resp = await client.post("/graphql", json={"query": query})
    assert (await resp.json())["data"] == {"locations": {"totalCount": 0}}


async def test_sqlite_table_without_primary_key_is_503(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    with sqlite3.connect(tmp_path / "kv.db") as conn:
        conn.execute("CREATE TABLE kv (key TEXT, value TEXT)")
    client = await client_on(aiohttp_client, f"sqlite:///{tmp_path}/kv.db", "kv")
    status, body = await ready(client)
    assert status == 503 and problem_codes(body) == ["shape"]


# ---------------------------------------------------------------------------- Postgres


def role_of(url: str) -> str:
    return url.split("//")[1].split("@")[0]


@pytest.mark.postgres
async def test_revoked_insert_is_503_until_granted_again(
    aiohttp_client: MakeClient, pg_table: str
) -> None:
    async with pg_role(pg_table, *DML) as url:
        client = await client_on(aiohttp_client, url, pg_table)
        assert await ready(client) == (200, {"status": "ok"})
        await admin(f"REVOKE INSERT ON {pg_table} FROM {role_of(url)}")
        for _ in range(2):  # it keeps saying so
            status, body = await ready(client)
            assert status == 503 and problem_codes(body) == ["no_write"]
            assert "lacks INSERT" in body["problems"][0]["message"]
        await admin(f"GRANT INSERT ON {pg_table} TO {role_of(url)}")
        assert await ready(client) == (200, {"status": "ok"})
        await client.close()


@pytest.mark.postgres
async def test_terminated_connections_recover_without_a_restart(
    aiohttp_client: MakeClient, pg_table: str
) -> None:
    async with pg_role(pg_table, *DML) as url:
        client = await client_on(aiohttp_client, url, pg_table)
        assert (await ready(client))[0] == 200
        await admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE usename = '{role_of(url)}'"
        )
        statuses = [(await ready(client))[0] for _ in range(3)]
        assert statuses[-1] == 200 and set(statuses) <= {200, 503}, statuses
        await client.close()


@pytest.mark.postgres
async def test_dropped_table_is_503_and_recovers(aiohttp_client: MakeClient, pg_table: str) -> None:
    client = await client_on(aiohttp_client, PG_URL, pg_table)
    await drop_table(PG_URL, pg_table)
    status, body = await ready(client)
    assert status == 503 and problem_codes(body) == ["missing_table"]
    await admin(f"CREATE TABLE {pg_table} (key text PRIMARY KEY, value jsonb NOT NULL)")
    assert await ready(client) == (200, {"status": "ok"})


@pytest.mark.postgres
@pytest.mark.parametrize("allow", [False, True])
async def test_row_level_security_is_503_unless_allowed(
    aiohttp_client: MakeClient, pg_table: str, allow: bool
) -> None:
    await admin(f"ALTER TABLE {pg_table} ENABLE ROW LEVEL SECURITY")
    async with pg_role(pg_table, *DML) as url:
        client = await client_on(aiohttp_client, url, pg_table, allow_rls=allow)
        status, body = await ready(client)
        if allow:
            assert (status, body) == (200, {"status": "ok"})
        else:
            assert status == 503 and problem_codes(body) == ["rls"]
        await client.close()


# ------------------------------------------------------------------ answered in bounded time


async def test_a_locked_sqlite_file_is_503_within_the_ready_timeout(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "kv.db"
    client = await client_on(
        aiohttp_client,
        f"sqlite:///{path}",
        "kv",
        execution_timeout=10,
        sqlite_busy_timeout=4,
        ready_timeout=0.3,
    )
    assert await ready(client) == (200, {"status": "ok"})
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process's writer holds the file
        for _ in range(2):  # the second waits behind the first's probe: bounded all the same
            status, body = await ready(client)
            assert (status, body) == (
                503,
                {
                    "status": "unavailable",
                    "problems": [
                        {"code": "timeout", "message": "the store did not answer within 0.3 s"}
                    ],
                },
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await until_ready(client)


async def test_a_busy_timeout_shorter_than_the_ready_timeout_says_locked(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "kv.db"
    client = await client_on(
        aiohttp_client, f"sqlite:///{path}", "kv", execution_timeout=2, ready_timeout=5
    )
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        status, body = await ready(client)  # the busy timeout (0.8 s) answers first
        assert status == 503 and problem_codes(body) == ["unreachable"]
        assert "database is locked" in body["problems"][0]["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await until_ready(client)


@pytest.mark.postgres
async def test_an_exhausted_pool_is_503_within_the_ready_timeout(
    aiohttp_client: MakeClient, pg_table: str
) -> None:
    """Requests blocked by a lock on the table hold every pooled connection: /readyz still
    answers, at its own timeout, before those requests time out and free the pool."""
    client = await client_on(
        aiohttp_client, PG_URL, pg_table, execution_timeout=4, ready_timeout=0.5
    )
    holder, watcher = await asyncpg.connect(PG_URL), await asyncpg.connect(PG_URL)
    try:
        async with holder.transaction():
            await holder.execute(f'LOCK TABLE "{pg_table}" IN ACCESS EXCLUSIVE MODE')
            query = {"query": "{ locations { totalCount } }"}
            blocked = [
                asyncio.ensure_future(client.post("/graphql", json=query)) for _ in range(12)
            ]
            await until_blocked(watcher, holder.get_server_pid(), 10)  # the whole pool
            status, body = await ready(client)
            assert status == 503 and problem_codes(body) == ["timeout"]
        for response in await asyncio.gather(*blocked):
            response.release()
    finally:
        await holder.close()
        await watcher.close()
    await until_ready(client)


async def until_blocked(watcher: Any, holder: int, count: int) -> None:
    """Wait until `count` backends wait for a lock the backend `holder` holds."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
    for _ in range(200):
        if await watcher.fetchval(sql, holder) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {count} blocked backends")


async def until_ready(client: Any) -> None:
    """/readyz says ok again (a lock's waiter may still be finishing its statement)."""
    for _ in range(100):
        if (await ready(client))[0] == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("never ready again")
