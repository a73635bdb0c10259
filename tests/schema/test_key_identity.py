"""The key is the identity: a record whose key fields disagree with its key is invalid and
grants nothing, whatever it claims. Both executors, both stores."""

from __future__ import annotations

import json

import pytest

from gql.kv import Store
from resolvers.ids import node_id
from tests.support import BACKENDS, Gateway, dump

OWNER, STRANGER = "owner-1", "stranger-2"
SECRET = "CANARY-owner-notes"
pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


@pytest.fixture
async def world(store: Store) -> None:
    """The owner's trip, and the stranger's copy of it (`{...trip, userId: me}` under a new
    key): the copy keeps the owner's `id`."""
    await store.set_many(
        {
            f"trips:index:{OWNER}": ["trip-own"],
            "trip:trip-own": {"id": "trip-own", "userId": OWNER, "title": "Lisbon"},
            "items:index:trip-own": ["i1"],
            "item:i1": {"id": "i1", "tripId": "trip-own", "title": "Dinner", "notes": SECRET},
            "budget:trip-own": {"tripId": "trip-own", "total": 4321, "currency": "EUR"},
            f"trips:index:{STRANGER}": ["copy", "mine"],
            "trip:copy": {"id": "trip-own", "userId": STRANGER, "title": "Lisbon (copy)"},
            "trip:mine": {"id": "mine", "userId": STRANGER, "title": "Mine"},
            # A budget and a collaborator entry that name another trip than their key.
            "budget:mine": {"tripId": "trip-own", "total": 1},
            f"collaborator:mine:{OWNER}": {"tripId": "trip-own", "userId": OWNER},
            f"collaborator:trip-own:{STRANGER}": {
                "tripId": "trip-own",
                "userId": "someone-else",
                "role": "editor",
            },
        }
    )


TRIP_FIELDS = "id title budget { total } items(first: 10) { totalCount nodes { id notes } }"


async def test_a_copy_under_another_key_shows_nothing_of_the_original(
    gateway: Gateway, world: None
) -> None:
    query = f"""{{
      viewer {{ trips(first: 10) {{ totalCount nodes {{ {TRIP_FIELDS} }} }} }}
      copy: trip(id: "copy") {{ {TRIP_FIELDS} }}
      own: trip(id: "trip-own") {{ {TRIP_FIELDS} }}
      node(nodeId: "{node_id("Trip", "copy")}") {{ ... on Trip {{ {TRIP_FIELDS} }} }}
    }}"""
    result = await gateway.run(query, viewer=STRANGER)
    text = json.dumps(result.data) + json.dumps([e.formatted for e in result.errors or []])
    assert SECRET not in text and "4321" not in text
    trips = result.data["viewer"]["trips"]
    assert [t["id"] for t in trips["nodes"]] == ["mine"]
    assert trips["totalCount"] == 1
    assert trips["nodes"][0]["budget"] is None  # budget:mine names another trip
    assert result.data["copy"] is None and result.data["own"] is None
    assert result.data["node"] is None
    reports = {e.extensions["key"]: e.message for e in result.errors or []}
    assert "does not match its key" in reports["trip:copy"]


async def test_an_index_listing_someone_elses_copy_tells_its_reader_nothing(
    gateway: Gateway, world: None, store: Store
) -> None:
    """The owner's index lists the stranger's copy: the copy is not shown, and no report names
    its key or says what its id is (the stranger's record, readable only by the stranger)."""
    await store.set_many({f"trips:index:{OWNER}": ["trip-own", "copy", "mine"]})
    result = await gateway.run(
        "{ viewer { trips(first: 10) { totalCount nodes { id } } } }", viewer=OWNER
    )
    assert result.data == {"viewer": {"trips": {"totalCount": 1, "nodes": [{"id": "trip-own"}]}}}
    assert not result.errors


async def test_the_owner_still_sees_the_original(gateway: Gateway, world: None) -> None:
    data = await gateway.ok(f'{{ trip(id: "trip-own") {{ {TRIP_FIELDS} }} }}', viewer=OWNER)
    assert data["trip"]["items"]["nodes"] == [{"id": "i1", "notes": SECRET}]
    assert data["trip"]["budget"] == {"total": 4321.0}


async def test_a_collaborator_entry_for_someone_else_grants_nothing(
    gateway: Gateway, world: None
) -> None:
    """`collaborator:trip-own:stranger` naming another user, and `collaborator:mine:owner`
    naming another trip, give no role on either trip."""
    result = await gateway.run('{ trip(id: "trip-own") { id } }', viewer=STRANGER)
    assert result.data == {"trip": None}
    result = await gateway.run('{ trip(id: "mine") { id } }', viewer=OWNER)
    assert result.data == {"trip": None}


async def test_mutations_on_the_copy_leave_the_original_alone(
    gateway: Gateway, store: Store, world: None
) -> None:
    """One request: a mutation that fails on the copy, then `deleteTrip` of the copy."""
    before = await dump(store)
    query = """mutation {
      a: updateTrip(input: {id: "copy", title: "x"}) { trip { id } userErrors { code } }
      b: addItineraryItem(input: {tripId: "copy", title: "y"}) { item { id } userErrors { code } }
      c: deleteTrip(input: {id: "copy"}) { trip { id } userErrors { code } }
    }"""
    data = await gateway.ok(query, viewer=STRANGER)
    assert [data[f]["userErrors"][0]["code"] for f in "abc"] == ["NOT_FOUND"] * 3
    assert await dump(store) == before


async def test_a_record_without_its_key_fields_takes_them_from_its_key(
    gateway: Gateway, store: Store
) -> None:
    """The seed's `context:{conversationId}` holds only the context; a budget may leave out
    its `tripId`: the key says whose they are."""
    await store.set_many(
        {
            f"trips:index:{OWNER}": ["t1"],
            "trip:t1": {"id": "t1", "userId": OWNER, "title": "T"},
            "budget:t1": {"total": 99},
        }
    )
    data = await gateway.ok('{ trip(id: "t1") { budget { total } } }', viewer=OWNER)
    assert data["trip"]["budget"] == {"total": 99.0}
