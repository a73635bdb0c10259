"""Index values as apps write them survive kvgraph's mutations, and reads say what they skip.

The cases of issue 6: numbers in `trips:index:`, objects in `saved:`, a double-encoded items
index, elements nothing can read, and values that are not lists at all.
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import BACKENDS, Gateway, done, dump, mutation, payload

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "u1"
CREATE_TRIP = mutation("createTrip", "trip { id }")
DELETE_TRIP = mutation("deleteTrip", "trip { id }")
ADD_ITEM = mutation("addItineraryItem", "item { id }")
REMOVE_ITEM = mutation("removeItineraryItem", "item { id }")
MOVE_ITEM = mutation("moveItineraryItem", "item { id }")
SAVE = mutation("savePlace", "place { id }")
UNSAVE = mutation("unsavePlace", "place { id }")
TRIPS = "{ viewer { trips { totalCount nodes { id } } } }"
ITEMS = "query($id: ID!) { trip(id: $id) { items { nodes { id } } } }"
SAVED = "{ viewer { savedPlaces { nodes { id } } } }"


def trip(id_: str) -> dict[str, Any]:
    return {"id": id_, "userId": U, "title": f"Trip {id_}"}


def item(id_: str, trip_id: str = "t1") -> dict[str, Any]:
    return {"id": id_, "tripId": trip_id, "title": f"Item {id_}"}


async def mutate(gw: Gateway, query: str, input_: dict[str, Any]) -> dict[str, Any]:
    """Run a mutation as U; return its payload."""
    return payload(await gw.ok(query, {"input": input_}, viewer=U))


def reported(result: Any) -> list[tuple[str, str]]:
    """(code, key) of every error of a result."""
    return [(e.extensions["code"], e.extensions.get("key")) for e in result.errors or []]


# ---------------------------------------------------------------- writes keep what they find
async def test_numbers_in_a_trips_index_survive_create_trip(gw: Gateway, store: Store) -> None:
    await store.set_many(
        {
            "trip:t1": trip("t1"),
            "trip:1732723200000": trip("1732723200000"),
            f"trips:index:{U}": ["t1", 1732723200000],
        }
    )
    new = (await done(gw, CREATE_TRIP, {"title": "Porto"}, U))["id"]
    assert await store.get(f"trips:index:{U}") == ["t1", 1732723200000, new]
    result: Any = await gw.run(TRIPS, viewer=U)
    assert result.errors is None  # a number is an id: nothing to report
    nodes = result.data["viewer"]["trips"]["nodes"]
    assert [n["id"] for n in nodes] == ["t1", "1732723200000", new]


async def test_objects_in_saved_places_survive_save_place(gw: Gateway, store: Store) -> None:
    first = {"placeId": "r1", "savedAt": 1732723200000}
    await store.set_many(
        {
            "restaurant:r1": {"id": "r1", "name": "Tasca"},
            "restaurant:r2": {"id": "r2", "name": "Cervejaria"},
            f"saved:{U}": [first],
        }
    )
    assert (await done(gw, SAVE, {"placeId": "r2"}, U))["id"] == "r2"
    assert await store.get(f"saved:{U}") == [first, "r2"]
    assert (await done(gw, SAVE, {"placeId": "r1"}, U))["id"] == "r1"  # saved already, as an object
    assert await store.get(f"saved:{U}") == [first, "r2"]
    data = await gw.ok(SAVED, viewer=U)
    assert data["viewer"]["savedPlaces"]["nodes"] == [{"id": "r1"}, {"id": "r2"}]
    assert (await done(gw, UNSAVE, {"placeId": "r1"}, U))["id"] == "r1"
    assert await store.get(f"saved:{U}") == ["r2"]


async def test_a_double_encoded_items_index_survives_add_item(gw: Gateway, store: Store) -> None:
    await store.set_many(
        {
            "trip:t1": trip("t1"),
            f"trips:index:{U}": ["t1"],
            "item:item_mad_1": item("item_mad_1"),
            "items:index:t1": '["item_mad_1"]',
        }
    )
    new = (await done(gw, ADD_ITEM, {"tripId": "t1", "title": "Prado"}, U))["id"]
    assert await store.get("items:index:t1") == f'["item_mad_1","{new}"]'
    first = (await done(gw, ADD_ITEM, {"tripId": "t1", "title": "Retiro", "position": 0}, U))["id"]
    assert await store.get("items:index:t1") == f'["{first}","item_mad_1","{new}"]'
    data = await gw.ok(ITEMS, {"id": "t1"}, viewer=U)
    assert data["trip"]["items"]["nodes"] == [{"id": first}, {"id": "item_mad_1"}, {"id": new}]
    (await done(gw, MOVE_ITEM, {"id": "item_mad_1", "position": 5}, U))["id"]
    (await done(gw, REMOVE_ITEM, {"id": first}, U))["id"]
    assert await store.get("items:index:t1") == f'["{new}","item_mad_1"]'


async def test_unknown_elements_survive_every_index_write(gw: Gateway, store: Store) -> None:
    odd: list[Any] = [None, {"note": "pinned"}, [1, 2], True]
    await store.set_many(
        {
            "trip:t1": trip("t1"),
            f"trips:index:{U}": [odd[0], "t1", odd[1]],
            "items:index:t1": [odd[2], {"id": "i1", "day": 1}, odd[3]],
            "item:i1": item("i1"),
        }
    )
    t2 = (await done(gw, CREATE_TRIP, {"title": "Porto"}, U))["id"]
    assert await store.get(f"trips:index:{U}") == [None, "t1", {"note": "pinned"}, t2]
    i2 = (await done(gw, ADD_ITEM, {"tripId": "t1", "title": "Tram", "position": 0}, U))["id"]
    assert await store.get("items:index:t1") == [[1, 2], i2, {"id": "i1", "day": 1}, True]
    (await done(gw, MOVE_ITEM, {"id": i2, "position": 1}, U))[
        "id"
    ]  # the last position: the very end
    assert await store.get("items:index:t1") == [[1, 2], {"id": "i1", "day": 1}, True, i2]
    (await done(gw, REMOVE_ITEM, {"id": "i1"}, U))["id"]
    assert await store.get("items:index:t1") == [[1, 2], True, i2]
    (await done(gw, DELETE_TRIP, {"id": t2}, U))["id"]
    assert await store.get(f"trips:index:{U}") == [None, "t1", {"note": "pinned"}]


# ---------------------------------------------------------------- values that are not lists
@pytest.mark.parametrize("value", [{"t1": True}, 42, "t1,t2"], ids=["object", "number", "text"])
async def test_a_value_that_is_not_a_list_is_never_overwritten(
    gw: Gateway, store: Store, value: Any
) -> None:
    await store.set_many({"trip:t1": trip("t1"), f"trips:index:{U}": value})
    before = await dump(store)
    for query, input_ in [(CREATE_TRIP, {"title": "Porto"}), (DELETE_TRIP, {"id": "t1"})]:
        payload = await mutate(gw, query, input_)
        ((error),) = payload["userErrors"]
        assert error["code"] == "INVALID_RECORD"
        assert f"trips:index:{U}" in error["message"]
        assert await dump(store) == before


# ---------------------------------------------------------------- reads report, once
async def test_reading_an_unreadable_index_reports_its_key(gw: Gateway, store: Store) -> None:
    await store.set_many({"trip:t1": trip("t1"), f"trips:index:{U}": {"t1": True}})
    result: Any = await gw.run(TRIPS, viewer=U)
    assert result.data["viewer"]["trips"] == {"totalCount": 0, "nodes": []}
    assert reported(result) == [("INVALID_RECORD", f"trips:index:{U}")]
    assert "not an array of ids" in result.errors[0].message


async def test_reading_unknown_elements_reports_once_and_shows_the_rest(
    gw: Gateway, store: Store
) -> None:
    await store.set_many({"trip:t1": trip("t1"), f"trips:index:{U}": ["t1", None, {"x": 1}]})
    query = "{ viewer { a: trips { nodes { id } } b: trips(first: 1) { nodes { id } } } }"
    result: Any = await gw.run(query, viewer=U)
    assert result.data["viewer"]["a"]["nodes"] == [{"id": "t1"}]
    assert reported(result) == [("INVALID_RECORD", f"trips:index:{U}")]
    assert "element(s) 1 (null), 2 (an object" in result.errors[0].message
