"""A request leaves no reference cycle behind: everything it read (texts, records, listings,
its context) is freed by reference counting when it ends, not kept until the next garbage
collection, which would also have to walk it (docs/performance.md)."""

from __future__ import annotations

import gc
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from tests.support import SECRET, U, app_client, board_data

BOARD = """query {
  viewer { trips(first: 10) { nodes { id title
    items(first: 10) { nodes { id title startTime location { name kind: __typename } } } } } }
}"""
SMALL = "query T($id: ID!) { trip(id: $id) { id title } }"


@pytest.mark.parametrize(
    ("query", "variables"), [(BOARD, {}), (SMALL, {"id": "t1"})], ids=["board", "small"]
)
async def test_a_query_leaves_no_cycle(
    aiohttp_client: Any, tmp_path: Path, query: str, variables: dict[str, Any]
) -> None:
    client = await app_client(aiohttp_client, tmp_path)
    await board_data(client.app[STORE], trips=3, items=4)
    headers = {"Authorization": f"Bearer {mint_token(SECRET, U)}"}

    async def ask() -> None:
        body = {"query": query, "variables": variables}
        async with client.post("/graphql", json=body, headers=headers) as resp:
            assert resp.status == 200
            assert "errors" not in await resp.json()

    await ask()  # caches filled, the document validated
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(3):
            await ask()
        gc.collect()
        left = Counter(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left, left.most_common(10)
