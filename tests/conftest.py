"""Shared fixtures: a fresh store per test on every backend (SQLite file, Postgres table)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from gql.kv import Store, open_store

PG_URL = os.environ.get("KVGRAPH_TEST_POSTGRES_URL", "")
PG_SKIP = "KVGRAPH_TEST_POSTGRES_URL is not set: Postgres backend not tested"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def drop_table(url: str, table: str) -> None:
    """Drop a scratch table from the test database."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    finally:
        await conn.close()


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: object) -> tuple[str, str]:
    """(url, table) of a fresh, empty store for the backend in `request.param`."""
    backend = getattr(request, "param", "sqlite")
    table = f"kv_test_{uuid.uuid4().hex[:10]}"
    if backend == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        return PG_URL, table
    return f"sqlite:///{tmp_path}/kv.db", table


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
    from gql.schema import build_schema

    return build_schema()


class Gateway:
    """Runs operations against the schema with a fresh per-request Context each time."""

    def __init__(self, schema: object, store: Store) -> None:
        self.schema, self.store = schema, store

    async def run(
        self, query: str, variables: dict | None = None, *, viewer: str | None = None
    ) -> object:
        from gql.context import Context

        context = Context(store=self.store, viewer_id=viewer, debug_stats=True)
        return await self.schema.execute(query, variable_values=variables, context_value=context)  # type: ignore[attr-defined]

    async def ok(
        self, query: str, variables: dict | None = None, *, viewer: str | None = None
    ) -> dict:
        """Run and insist on no errors; return `data`."""
        result = await self.run(query, variables, viewer=viewer)
        assert result.errors is None, result.errors  # type: ignore[attr-defined]
        return result.data  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
async def gw(schema: object, store: Store) -> Gateway:
    """A gateway over a fresh store."""
    return Gateway(schema, store)
