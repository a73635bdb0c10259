"""`Trip.collaborators`: keys listed by prefix (`collaborator:{tripId}:{userId}`, no index),
one round trip per level for every trip, paged and counted like an index."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNER = "owner-1"
TRIPS = 12
QUERY = """query($first: Int, $after: String) { viewer { trips(first: 100) { nodes { id
  collaborators(first: $first, after: $after) { totalCount nodes { userId role roleRaw }
  pageInfo { hasNextPage endCursor } } } } } }"""


def rows(trips: int) -> dict[str, Any]:
    """`trips` trips of OWNER, trip n shared with n users; a key that only looks alike."""
    found: dict[str, Any] = {f"trips:index:{OWNER}": [f"t{n}" for n in range(trips)]}
    for n in range(trips):
        found[f"trip:t{n}"] = {"id": f"t{n}", "userId": OWNER, "title": f"Trip {n}"}
        for u in range(n):
            role = ("viewer", "editor", "co-pilot")[u % 3]
            found[f"collaborator:t{n}:u{u}"] = {"tripId": f"t{n}", "userId": f"u{u}", "role": role}
    found["collaborator:t1x:u9"] = {"tripId": "t1x", "userId": "u9"}  # not trip t1's
    found["collaborator:t2:u0:x"] = {"tripId": "t2", "userId": "u0"}  # no collaborator key
    return found


def trips_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["viewer"]["trips"]["nodes"]  # type: ignore[no-any-return]


async def test_collaborators_of_every_trip_in_one_round_trip(
    gateway: Gateway, store: Store
) -> None:
    await store.set_many(rows(TRIPS))
    before = store.stats.round_trips
    result = await gateway.run(QUERY, {"first": 2}, viewer=OWNER)
    assert result.errors is None, result.errors  # type: ignore[attr-defined]
    trips = trips_of(result.data)  # type: ignore[attr-defined]
    assert [t["collaborators"]["totalCount"] for t in trips] == list(range(TRIPS))
    assert trips[3]["collaborators"]["nodes"] == [
        {"userId": "u0", "role": "VIEWER", "roleRaw": "viewer"},
        {"userId": "u1", "role": "EDITOR", "roleRaw": "editor"},
    ]
    assert trips[3]["collaborators"]["pageInfo"]["hasNextPage"] is True
    # The index, the trips, the prefixes of all trips with their records: three round trips.
    assert result.extensions["kv"]["batches"] == 3  # type: ignore[attr-defined]
    assert store.stats.round_trips - before == 3


async def test_collaborators_page_by_cursor(gateway: Gateway, store: Store) -> None:
    await store.set_many(rows(5))
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        data = await gateway.ok(QUERY, {"first": 1, "after": after}, viewer=OWNER)
        page = trips_of(data)[4]["collaborators"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [n["userId"] for n in seen] == ["u0", "u1", "u2", "u3"]
    assert seen[2] == {"userId": "u2", "role": "OTHER", "roleRaw": "co-pilot"}


async def test_a_stranger_lists_no_collaborators(gateway: Gateway, store: Store) -> None:
    await store.set_many(rows(3))
    query = '{ trip(id: "t2") { collaborators { totalCount } } }'
    assert await gateway.ok(query, viewer=OWNER) == {"trip": {"collaborators": {"totalCount": 2}}}
    assert await gateway.ok(query, viewer="stranger") == {"trip": None}
    # A collaborator reads the trip, and who else it is shared with.
    assert await gateway.ok(query, viewer="u1") == {"trip": {"collaborators": {"totalCount": 2}}}


async def test_an_invalid_entry_is_reported_and_skipped(gateway: Gateway, store: Store) -> None:
    await store.set_many(rows(3) | {"collaborator:t2:zz": {"tripId": "t9", "userId": "zz"}})
    result = await gateway.run('{ trip(id: "t2") { collaborators { totalCount } } }', viewer=OWNER)
    assert result.data == {"trip": {"collaborators": {"totalCount": 2}}}  # type: ignore[attr-defined]
    assert "collaborator:t2:zz" in str(result.errors)  # type: ignore[attr-defined]


async def test_listings_are_charged_to_the_read_limits(store: Store) -> None:
    from gql.schema.build import build_schema
    from resolvers.context import Context
    from resolvers.meter import ReadLimits

    await store.set_many(rows(TRIPS))
    context = Context(store=store, viewer_id=OWNER, read_limits=ReadLimits(max_bytes=2_000))
    result = await build_schema().execute(QUERY, context_value=context)
    assert result.data is None
    assert result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_LARGE"
    assert context.loaders.meter.bytes > 2_000
