"""Shared fixtures: a fresh store per test on every backend (SQLite file, Postgres table)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiosqlite
import pytest

from gql.kv import Store, open_store
from tests.support import PG_SKIP, PG_URL, Gateway, admin, drop_table, executors


@pytest.fixture(autouse=True)
def sqlite_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SQLite connection a test opens is closed by its end.

    An aiosqlite connection runs a thread that is not a daemon: a store left open keeps
    pytest from exiting once the tests are done. A leftover is stopped here and fails the test.
    """
    opened: list[aiosqlite.Connection] = []
    real = aiosqlite.connect

    def connect(*args: Any, **kwargs: Any) -> aiosqlite.Connection:
        conn = real(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(aiosqlite, "connect", connect)
    yield
    left = [conn for conn in opened if conn._connection is not None]
    for conn in left:
        conn.stop()
    assert not left, f"{len(left)} SQLite connection(s) left open: close the store"


@pytest.fixture
async def store_url(
    request: pytest.FixtureRequest, tmp_path: object
) -> AsyncIterator[tuple[str, str]]:
    """(url, table) of a fresh, empty store for the backend in `request.param`
    ("postgres-text": a Postgres table whose value column is text, made before kvgraph
    opens it, as an app may have made its own)."""
    backend = getattr(request, "param", "sqlite")
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    if backend.startswith("postgres"):
        if not PG_URL:
            pytest.skip(PG_SKIP)
        if backend == "postgres-text":
            await admin(f'CREATE TABLE "{table}" (key text PRIMARY KEY, value text NOT NULL)')
        yield PG_URL, table
        await drop_table(PG_URL, table)
        return
    yield f"sqlite:///{tmp_path}/kv.db", table


@pytest.fixture
async def make_store(store_url: tuple[str, str]) -> AsyncIterator[Callable[[], Store]]:
    """A factory of opened stores on one fresh table; all are closed (and the table dropped)."""
    url, table = store_url
    opened: list[Store] = []

    def factory() -> Store:
        store = open_store(url, table)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.close()
    if url.startswith("postgres"):
        await drop_table(url, table)


@pytest.fixture
async def store(make_store: Callable[[], Store]) -> Store:
    """An opened, empty store."""
    store = make_store()
    await store.open()
    return store


@pytest.fixture(scope="session")
def schema() -> object:
    """The gateway schema (built once: it holds no per-request state)."""
    from gql.schema.build import build_schema

    return build_schema()


@pytest.fixture(scope="session")
def both_executors() -> dict[str, object]:
    """The schema with the level executor and with graphql-core's alone (built once)."""
    return executors()


@pytest.fixture(params=["level", "graphql-core"])
def gateway(request: pytest.FixtureRequest, both_executors: dict, store: Store) -> Gateway:
    """A gateway over a fresh store, run by each executor in turn."""
    return Gateway(both_executors[request.param], store)


@pytest.fixture
async def gw(schema: object, store: Store) -> Gateway:
    """A gateway over a fresh store."""
    return Gateway(schema, store)


@pytest.fixture
async def pg_table() -> AsyncIterator[str]:
    """A fresh Postgres table created by kvgraph as the superuser; dropped afterwards."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    store = open_store(PG_URL, table)
    await store.open()
    await store.close()
    yield table
    await drop_table(PG_URL, table)
