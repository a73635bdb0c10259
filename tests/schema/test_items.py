"""The itinerary mutations (add, update, remove, move an item): effects on the raw keys,
userErrors.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ADD_ITEM,
    ALICE,
    MOVE_ITEM,
    NOWHERE,
    REMOVE_ITEM,
    TRIP_ITEMS,
    UPDATE_ITEM,
    Gateway,
    done,
    dump,
    fields,
    index,
    item_for,
    payload,
    place,
    refused,
    trip_for,
)


# ---------------------------------------------------------------- addItineraryItem
async def test_add_item_positions(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    a = (await item_for(gw, tid, "a"))["id"]
    b = (await item_for(gw, tid, "b"))["id"]
    first = (await item_for(gw, tid, "first", position=0))["id"]
    mid = (await item_for(gw, tid, "mid", position=2))["id"]
    last = (await item_for(gw, tid, "last", position=99))["id"]
    expected = [first, a, mid, b, last]
    assert await index(store, k.ITEMS_INDEX.key(tid)) == expected
    nodes = (await gw.ok(TRIP_ITEMS, {"id": tid}, viewer=ALICE))["trip"]["items"]["nodes"]
    assert [n["id"] for n in nodes] == expected
    stored = await store.get(k.ITEM.key(a))
    assert stored["tripId"] == tid
    assert stored["title"] == "a"
    assert stored["createdAt"].endswith("Z")


async def test_add_item_stores_fields_in_seed_conventions(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw, currency="EUR"))["id"]
    item = await item_for(
        gw,
        tid,
        " Museum ",
        kind="ACTIVITY",
        startTime="2026-05-01T10:00:00+02:00",
        endTime="2026-05-01T12:30:00+02:00",
        cost=0,
        notes="bring water",
    )
    assert item["title"] == "Museum"
    assert item["kind"] == "ACTIVITY"
    assert item["cost"] == {"amount": 0.0, "currency": "EUR"}
    assert item["trip"] == {"id": tid}
    stored = await store.get(k.ITEM.key(item["id"]))
    assert stored["kind"] == "activity"
    assert stored["startTime"] == "2026-05-01T10:00:00.000+02:00"  # as given, offset kept
    assert stored["endTime"] == "2026-05-01T12:30:00.000+02:00"
    assert (item["startTime"], item["endTime"]) == (
        "2026-05-01T10:00:00+02:00",
        "2026-05-01T12:30:00+02:00",
    )
    assert stored["cost"] == 0
    priced = await item_for(gw, tid, "Dinner", cost=42.5, currency="usd")
    assert priced["cost"] == {"amount": 42.5, "currency": "USD"}


@pytest.mark.parametrize(("kind", "given"), [("restaurant", "RESTAURANT"), ("event", None)])
async def test_add_item_links_a_place(
    gw: Gateway, store: Store, kind: str, given: str | None
) -> None:
    pid = await place(store, kind, "Time Out Market")
    tid = (await trip_for(gw))["id"]
    extra = {"locationId": pid} | ({"locationType": given} if given else {})
    item = await item_for(gw, tid, "Lunch", **extra)
    assert item["location"] == {"__typename": kind.title(), "id": pid, "name": "Time Out Market"}
    stored = await store.get(k.ITEM.key(item["id"]))
    assert stored["locationId"] == pid
    assert stored["locationType"] == kind


async def test_add_item_with_kind_prefixed_location_ref(gw: Gateway, store: Store) -> None:
    """`kind:id` is accepted as a place reference (find_place): the link must then work."""
    pid = await place(store, "restaurant", "Ramiro")
    tid = (await trip_for(gw))["id"]
    item = await item_for(gw, tid, "Dinner", locationId=f"restaurant:{pid}")
    stored = await store.get(k.ITEM.key(item["id"]))
    assert item["location"] == {"__typename": "Restaurant", "id": pid, "name": "Ramiro"}, (
        f"item accepted with locationId 'restaurant:{pid}' but its location is "
        f"{item['location']}; stored {stored}"
    )


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"locationId": NOWHERE}, [("locationId", "NOT_FOUND")]),
        ({"locationId": NOWHERE, "locationType": "EVENT"}, [("locationId", "NOT_FOUND")]),
        ({"locationId": "PLACE", "locationType": "EVENT"}, [("locationId", "NOT_FOUND")]),
        ({"locationType": "EVENT"}, [("locationId", "BAD_USER_INPUT")]),
        (
            {"startTime": "2026-05-01T12:00:00Z", "endTime": "2026-05-01T11:59:00Z"},
            [("endTime", "BAD_USER_INPUT")],
        ),
        ({"cost": -0.01}, [("cost", "BAD_USER_INPUT")]),
        ({"title": ""}, [("title", "BAD_USER_INPUT")]),
        ({"title": "  "}, [("title", "BAD_USER_INPUT")]),
        ({"title": "t" * 201}, [("title", "BAD_USER_INPUT")]),
        ({"notes": "n" * 5001}, [("notes", "BAD_USER_INPUT")]),
        ({"currency": "dollars"}, [("currency", "BAD_USER_INPUT")]),
        ({"position": -1}, [("position", "BAD_USER_INPUT")]),
        ({"tripId": NOWHERE}, [("tripId", "NOT_FOUND")]),
        ({"tripId": "trip:x"}, [("tripId", "NOT_FOUND")]),
    ],
)
async def test_add_item_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    pid = await place(store, "restaurant", "A restaurant, not an event")
    tid = (await trip_for(gw))["id"]
    await item_for(gw, tid, "existing")
    if bad.get("locationId") == "PLACE":
        bad = {**bad, "locationId": pid}
    errors = await refused(gw, store, ADD_ITEM, {"tripId": tid, "title": "x", **bad})
    assert fields(errors) == expected


async def test_add_item_reports_every_problem(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    bad = {"tripId": tid, "title": "", "cost": -1, "currency": "x", "position": -2}
    errors = await refused(gw, store, ADD_ITEM, bad)
    assert {f for f, _ in fields(errors)} == {"title", "cost", "currency", "position"}


async def test_add_item_mixed_naive_and_aware_times(gw: Gateway, store: Store) -> None:
    """A local startTime with an aware endTime compares by wall clock, never crashes."""
    tid = (await trip_for(gw))["id"]
    before = await dump(store)
    result: Any = await gw.run(
        ADD_ITEM,
        {
            "input": {
                "tripId": tid,
                "title": "x",
                "startTime": "2026-05-01T12:00:00",
                "endTime": "2026-05-01T11:00:00Z",
            }
        },
        viewer=ALICE,
    )
    assert result.errors is None, f"naive vs aware times crashed: {result.errors}"
    assert fields(result.data["addItineraryItem"]["userErrors"]) == [("endTime", "BAD_USER_INPUT")]
    assert await dump(store) == before


async def test_add_item_with_explicit_null_id_generates_one(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    out = payload(
        await gw.ok(ADD_ITEM, {"input": {"tripId": tid, "id": None, "title": "x"}}, viewer=ALICE)
    )
    assert out["userErrors"] == [], "id: null should mean 'no client id'"
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [out["item"]["id"]]


@pytest.mark.parametrize("bad_id", ["a:b", ""])
async def test_add_item_with_malformed_id_is_a_user_error(
    gw: Gateway, store: Store, bad_id: str
) -> None:
    tid = (await trip_for(gw))["id"]
    before = await dump(store)
    variables = {"input": {"tripId": tid, "id": bad_id, "title": "x"}}
    result: Any = await gw.run(ADD_ITEM, variables, viewer=ALICE)
    codes = [err.extensions.get("code") for err in result.errors or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, f"malformed id {bad_id!r} gave {result.errors}"
    assert await dump(store) == before


async def test_add_item_with_client_id_is_idempotent(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    iid = str(uuid.uuid4())
    await item_for(gw, tid, "x", id=iid)
    await item_for(gw, tid, "x", id=iid)
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [iid]


# ---------------------------------------------------------------- updateItineraryItem
async def test_update_item_is_partial_and_keeps_unknown_fields(gw: Gateway, store: Store) -> None:
    pid = await place(store, "rental", "Flat")
    eid = await place(store, "event", "Fado night")
    tid = (await trip_for(gw))["id"]
    item = await item_for(
        gw,
        tid,
        "Stay",
        kind="STAY",
        startTime="2026-05-01T15:00:00Z",
        endTime="2026-05-03T11:00:00Z",
        cost=300,
        notes="code 1234",
        locationId=pid,
    )
    key = k.ITEM.key(item["id"])
    stored = await store.get(key)
    extra = {"bookingRef": "HX-9", "source": {"app": "legacy", "v": 2}, "tags": ["a"]}
    await store.set(key, {**stored, **extra})

    updated = await done(gw, UPDATE_ITEM, {"id": item["id"], "title": " Apartment "})
    assert updated["title"] == "Apartment"
    assert updated["kind"] == "STAY"
    assert updated["notes"] == "code 1234"
    assert updated["cost"] == {"amount": 300.0, "currency": None}
    assert updated["location"]["id"] == pid
    after = await store.get(key)
    for name, value in {**stored, **extra}.items():
        if name not in {"title", "updatedAt"}:
            assert after[name] == value, name
    assert after["title"] == "Apartment"

    moved = await done(gw, UPDATE_ITEM, {"id": item["id"], "locationId": eid, "notes": None})
    assert moved["location"] == {"__typename": "Event", "id": eid, "name": "Fado night"}
    assert moved["notes"] is None
    after = await store.get(key)
    assert (after["locationType"], after["locationId"]) == ("event", eid)
    assert after["bookingRef"] == "HX-9"
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [item["id"]]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"endTime": "2026-05-01T14:00:00Z"}, [("endTime", "BAD_USER_INPUT")]),
        ({"startTime": "2026-05-04T00:00:00Z"}, [("endTime", "BAD_USER_INPUT")]),
        ({"title": ""}, [("title", "BAD_USER_INPUT")]),
        ({"title": None}, [("title", "BAD_USER_INPUT")]),
        ({"title": "t" * 201}, [("title", "BAD_USER_INPUT")]),
        ({"cost": -5}, [("cost", "BAD_USER_INPUT")]),
        ({"currency": "12"}, [("currency", "BAD_USER_INPUT")]),
        ({"locationId": NOWHERE}, [("locationId", "NOT_FOUND")]),
        ({"id": NOWHERE}, [("id", "NOT_FOUND")]),
    ],
)
async def test_update_item_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    tid = (await trip_for(gw))["id"]
    item = await item_for(
        gw, tid, "Stay", startTime="2026-05-01T15:00:00Z", endTime="2026-05-03T11:00:00Z"
    )
    errors = await refused(gw, store, UPDATE_ITEM, {"id": item["id"], **bad})
    assert fields(errors) == expected


async def test_update_item_with_naive_stored_time(gw: Gateway, store: Store) -> None:
    """An app wrote a naive startTime; setting an endTime must not crash the request."""
    tid = (await trip_for(gw))["id"]
    item = await item_for(gw, tid, "x")
    key = k.ITEM.key(item["id"])
    await store.set(key, {**(await store.get(key)), "startTime": "2026-05-01T10:00:00"})
    result: Any = await gw.run(
        UPDATE_ITEM, {"input": {"id": item["id"], "endTime": "2026-05-01T12:00:00Z"}}, viewer=ALICE
    )
    assert result.errors is None, f"naive stored time crashed the update: {result.errors}"
    assert result.data["updateItineraryItem"]["userErrors"] == []


# ---------------------------------------------------------------- removeItineraryItem
async def test_remove_item(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    a, b, c = [(await item_for(gw, tid, t))["id"] for t in "abc"]
    removed = await done(gw, REMOVE_ITEM, {"id": b})
    assert removed == {"id": b, "title": "b"}
    assert await store.get(k.ITEM.key(b)) is None
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [a, c]
    assert await store.get(k.TRIP.key(tid)) is not None
    errors = await refused(gw, store, REMOVE_ITEM, {"id": b})
    assert fields(errors) == [("id", "NOT_FOUND")]


# ---------------------------------------------------------------- moveItineraryItem
async def test_move_item(gw: Gateway, store: Store) -> None:
    tid = (await trip_for(gw))["id"]
    a, b, c, d = [(await item_for(gw, tid, t))["id"] for t in "abcd"]
    key = k.ITEMS_INDEX.key(tid)

    async def move(id_: str, position: int, expected: list[str]) -> None:
        moved = await done(gw, MOVE_ITEM, {"id": id_, "position": position})
        assert moved["id"] == id_
        assert await index(store, key) == expected
        nodes = (await gw.ok(TRIP_ITEMS, {"id": tid}, viewer=ALICE))["trip"]["items"]["nodes"]
        assert [n["id"] for n in nodes] == expected

    await move(d, 0, [d, a, b, c])
    await move(d, 2, [a, b, d, c])
    await move(a, 1, [b, a, d, c])
    await move(b, 99, [a, d, c, b])
    await move(b, 3, [a, d, c, b])  # already there
    await move(c, 4, [a, d, b, c])  # == len: the end
    errors = await refused(gw, store, MOVE_ITEM, {"id": a, "position": -1})
    assert fields(errors) == [("position", "BAD_USER_INPUT")]
    errors = await refused(gw, store, MOVE_ITEM, {"id": NOWHERE, "position": 0})
    assert fields(errors) == [("id", "NOT_FOUND")]
    assert (await store.get(k.ITEM.key(a)))["title"] == "a"
