"""`/readyz` lists what is wrong with the table (503) and recovers without a restart (200)."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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
