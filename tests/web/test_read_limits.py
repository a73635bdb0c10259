"""Read limits over HTTP, and a large query that shares the event loop: the timeout fires and
other requests are answered while it runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from gql.kv import Store
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from tests.support import SECRET, app_client, until

U = "user-1"
Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
COUNT = '{ trip(id: "BIG") { items(first: 1) { totalCount } } }'
# The cycle, with an introspection field beside it: the level executor gives the
# operation to graphql-core (it answers a field error itself now, as a malformed nodeId once
# made it give up), which completes its ~30,000 fields one by one, for seconds.
SLOW = (
    '{ __schema { queryType { name } } trip(id:"BIG"){ items(first:100){ nodes{ trip{ '
    "items(first:100){ nodes{ trip{ items(first:0){ totalCount } } } } } } } } }"
)
HEADERS = {"Authorization": f"Bearer {mint_token(SECRET, U)}"}


async def client_with(aiohttp_client: MakeClient, tmp_path: Path, **settings: Any) -> Client:
    client = await app_client(aiohttp_client, tmp_path, **settings)
    store: Store = client.app[STORE]
    ids = [f"i{n}" for n in range(300)]
    rows: dict[str, Any] = {"trip:BIG": {"id": "BIG", "userId": U, "title": "Big"}}
    rows["items:index:BIG"] = ids
    rows.update({f"item:{i}": {"id": i, "tripId": "BIG", "title": i} for i in ids})
    await store.set_many(rows)
    return client


async def test_a_request_past_its_read_limit_is_refused(
    aiohttp_client: MakeClient, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("KVGRAPH_MAX_RECORDS", "100")
    client = await client_with(aiohttp_client, tmp_path)
    resp = await client.post("/graphql", json={"query": COUNT}, headers=HEADERS)
    body = await resp.json()
    assert resp.status == 200 and body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "QUERY_TOO_LARGE", "limit": "records", "max": 100}
    ]
    strict = {**HEADERS, "Accept": "application/graphql-response+json"}
    resp = await client.post("/graphql", json={"query": COUNT}, headers=strict)
    assert resp.status == 400 and "data" not in await resp.json()


async def test_a_long_query_shares_the_loop_and_is_stopped_at_its_deadline(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    # The small request takes about 0.5 s beside the slow one on a quiet machine; the deadline
    # leaves it ten times that, so a loaded CI machine does not make the two race.
    client = await client_with(aiohttp_client, tmp_path, execution_timeout=6, introspection=True)
    store: Store = client.app[STORE]
    before = store.stats.keys_read
    slow = asyncio.ensure_future(client.post("/graphql", json={"query": SLOW}, headers=HEADERS))

    async def under_way() -> bool:
        return store.stats.keys_read >= before + 100  # the slow query has read its items

    await until(under_way, "the slow query reads")
    started = time.perf_counter()
    small = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=HEADERS)
    assert (await small.json())["data"] == {"viewer": {"id": U}}
    waited = time.perf_counter() - started
    assert not slow.done(), (
        f"the small request was answered only after the large one ({waited:.2f} s; "
        f"the large one answered {slow.result().status})"
    )
    resp = await slow
    assert (
        resp.status == 504 and (await resp.json())["errors"][0]["extensions"]["code"] == "TIMEOUT"
    )
