"""The Postgres store's pool: a connection goes back to the pool without a reset round trip
(kvgraph leaves no session state on it), and a transaction that failed leaves none either."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gql.kv.postgres import PostgresStore
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", [BACKENDS[1]], indirect=True)


@pytest.fixture
async def one_connection(store_url: tuple[str, str]) -> AsyncIterator[PostgresStore]:
    """A store whose pool holds a single connection."""
    url, table = store_url
    store = PostgresStore(url, table, min_size=1, max_size=1)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _statements(store: PostgresStore) -> list[str]:
    """What the pool's connection sends from now on (a list that fills as it goes)."""
    sent: list[str] = []
    async with store._require_pool().acquire() as conn:
        conn.add_query_logger(lambda record: sent.append(record.query))
    return sent


async def test_a_read_sends_its_select_and_nothing_else(one_connection: PostgresStore) -> None:
    """asyncpg's default reset would follow each read with `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL;`: one more round trip per read."""
    store = one_connection
    await store.set_many({"k:a": {"n": 1}, "k:b": {"n": 2}})
    sent = await _statements(store)
    assert await store.get_many(["k:a", "k:b", "k:c"]) == [{"n": 1}, {"n": 2}, None]
    assert await store.scan_prefix("k:") == [("k:a", {"n": 1}), ("k:b", {"n": 2})]
    assert len(sent) == 2 and not any("RESET" in query for query in sent), sent


async def test_a_failed_transaction_leaves_the_connection_clean(
    one_connection: PostgresStore,
) -> None:
    """Whatever a transaction did (its advisory locks, its writes), an error rolls it back
    before the connection serves anyone else."""
    store = one_connection
    await store.set("k:a", {"n": 1})
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.get_many(["k:a"])  # takes the key's advisory lock
            await tx.set("k:a", {"n": 2})
            raise RuntimeError("boom")
    async with store._require_pool().acquire() as conn:
        state: Any = await conn.fetchrow(
            "SELECT pg_current_xact_id_if_assigned() AS xact, "
            "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid()) AS advisory"
        )
    assert (state["xact"], state["advisory"]) == (None, 0)
    assert await store.get("k:a") == {"n": 1}
