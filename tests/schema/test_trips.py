"""The trip mutations (`createTrip`, `updateTrip`, `deleteTrip`): effects on the raw keys,
userErrors.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv.repo import Repository
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    CREATE_TRIP,
    DELETE_TRIP,
    MOVE_ITEM,
    TRIP_ITEMS,
    UPDATE_TRIP,
    Gateway,
    done,
    dump,
    fields,
    index,
    item_for,
    keys_of,
    payload,
    refused,
    trip_for,
)


# ---------------------------------------------------------------- createTrip
async def test_create_trip_writes_record_and_index(gw: Gateway, store: Store) -> None:
    trip = await done(
        gw,
        CREATE_TRIP,
        {
            "title": "  Lisbon  ",
            "destination": "Lisbon, PT",
            "startDate": "2026-05-01",
            "endDate": "2026-05-04",
            "currency": "eur",
            "status": "planning",
        },
    )
    assert trip["title"] == "Lisbon"
    assert trip["currency"] == "EUR"
    assert trip["owner"] == {"id": ALICE}
    stored = await store.get(k.TRIP.key(trip["id"]))
    assert stored["userId"] == ALICE
    assert stored["id"] == trip["id"]
    assert stored["startDate"] == "2026-05-01"
    assert stored["endDate"] == "2026-05-04"
    assert stored["currency"] == "EUR"
    assert stored["createdAt"].endswith("Z")
    assert stored["updatedAt"].endswith("Z")
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [trip["id"]]
    second = await trip_for(gw)
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [trip["id"], second["id"]]
    data = await gw.ok("{ viewer { trips { totalCount nodes { id } } } }", viewer=ALICE)
    assert data["viewer"]["trips"]["totalCount"] == 2


async def test_create_trip_title_of_200_chars_is_fine(gw: Gateway) -> None:
    trip = await trip_for(gw, title="t" * 200)
    assert len(trip["title"]) == 200


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"title": "ok", "destination": "d" * 201}, "destination"),
        ({"title": "ok", "currency": "EURO"}, "currency"),
        ({"title": "ok", "currency": "E1R"}, "currency"),
        ({"title": "ok", "currency": ""}, "currency"),
        ({"title": "ok", "status": "s" * 41}, "status"),
        ({"title": "ok", "startDate": "2026-05-04", "endDate": "2026-05-01"}, "endDate"),
    ],
)
async def test_create_trip_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], field: str
) -> None:
    errors = await refused(gw, store, CREATE_TRIP, bad)
    assert fields(errors) == [(field, "BAD_USER_INPUT")]


async def test_create_trip_with_client_id_is_idempotent(gw: Gateway, store: Store) -> None:
    tid = str(uuid.uuid4())
    first = await trip_for(gw, id=tid, title="First")
    snapshot = await dump(store)
    again = await trip_for(gw, id=tid, title="First")
    assert again["id"] == first["id"] == tid
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [tid]
    assert await dump(store) == snapshot, "a repeated create must not write"
    # A retry with other fields returns the stored trip unchanged.
    retry = await trip_for(gw, id=tid, title="Changed")
    assert retry["title"] == "First"
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [tid]


async def test_create_trip_with_another_users_id_changes_nothing(gw: Gateway, store: Store) -> None:
    tid = str(uuid.uuid4())
    await trip_for(gw, BOB, id=tid, title="Bob's")
    errors = await refused(gw, store, CREATE_TRIP, {"id": tid, "title": "Mine"})
    assert [e_["field"] for e_ in errors] == ["id"]
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) is None


async def test_create_trip_with_explicit_null_id_generates_one(gw: Gateway, store: Store) -> None:
    """Generated clients often send every optional field, `id: null` included."""
    out = payload(await gw.ok(CREATE_TRIP, {"input": {"id": None, "title": "x"}}, viewer=ALICE))
    assert out["userErrors"] == [], "id: null should mean 'no client id'"
    assert out["trip"] is not None
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [out["trip"]["id"]]


@pytest.mark.parametrize("bad_id", ["a:b", ""])
async def test_create_trip_with_malformed_id_is_a_user_error(
    gw: Gateway, store: Store, bad_id: str
) -> None:
    """A malformed id is BAD_USER_INPUT, never a 500 (DESIGN: GraphQL conventions)."""
    before = await dump(store)
    result: Any = await gw.run(CREATE_TRIP, {"input": {"id": bad_id, "title": "x"}}, viewer=ALICE)
    codes = [err.extensions.get("code") for err in result.errors or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, f"malformed id {bad_id!r} gave {result.errors}"
    user_errors = ((result.data or {}).get("createTrip") or {}).get("userErrors")
    assert codes == ["BAD_USER_INPUT"] or user_errors, result
    assert await dump(store) == before


# ---------------------------------------------------------------- updateTrip
async def test_update_trip_is_partial_and_keeps_unknown_fields(gw: Gateway, store: Store) -> None:
    trip = await trip_for(
        gw, destination="Lisbon", startDate="2026-05-01", endDate="2026-05-04", currency="EUR"
    )
    key = k.TRIP.key(trip["id"])
    stored = await store.get(key)
    await store.set(key, {**stored, "coverPhoto": "x.jpg", "legacy": {"a": [1, 2]}})
    updated = await done(gw, UPDATE_TRIP, {"id": trip["id"], "title": " Porto ", "currency": "usd"})
    assert updated["title"] == "Porto"
    assert updated["currency"] == "USD"
    assert updated["destination"] == "Lisbon"
    assert updated["startDate"] == "2026-05-01"
    after = await store.get(key)
    assert after["coverPhoto"] == "x.jpg"
    assert after["legacy"] == {"a": [1, 2]}
    assert after["createdAt"] == stored["createdAt"]
    assert after["updatedAt"] >= stored["updatedAt"]
    assert after["userId"] == ALICE
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [trip["id"]]


async def test_update_trip_null_clears_optional_field(gw: Gateway, store: Store) -> None:
    trip = await trip_for(gw, destination="Lisbon")
    updated = await done(gw, UPDATE_TRIP, {"id": trip["id"], "destination": None})
    assert updated["destination"] is None
    assert updated["title"] == "Lisbon"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"endDate": "2026-04-30"}, "endDate"),  # before the stored startDate
        ({"startDate": "2026-05-05"}, "endDate"),  # after the stored endDate
        ({"startDate": "2026-05-05", "endDate": "2026-05-02"}, "endDate"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"title": "t" * 201}, "title"),
        ({"currency": "euros"}, "currency"),
        ({"status": "s" * 41}, "status"),
    ],
)
async def test_update_trip_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], field: str
) -> None:
    trip = await trip_for(gw, startDate="2026-05-01", endDate="2026-05-04")
    errors = await refused(gw, store, UPDATE_TRIP, {"id": trip["id"], **bad})
    assert fields(errors) == [(field, "BAD_USER_INPUT")]


# ---------------------------------------------------------------- deleteTrip
async def test_delete_trip_removes_everything_it_owns(gw: Gateway, store: Store) -> None:
    trip = await trip_for(gw)
    keep = await trip_for(gw, title="Keep")
    tid = trip["id"]
    items = [(await item_for(gw, tid, f"item {n}"))["id"] for n in range(3)]
    kept_item = (await item_for(gw, keep["id"], "kept"))["id"]
    repo = Repository(store)
    conflict = await repo.create(e.CONFLICT, {"tripId": tid, "type": "overlap"})
    await store.set_many(
        {
            k.BUDGET.key(tid): {"tripId": tid, "total": 1000, "currency": "EUR"},
            k.BUDGET_ALERTS.key(tid): [{"type": "warn", "threshold": 0.8}],
            k.COLLABORATOR.key(tid, BOB): {"tripId": tid, "userId": BOB, "role": "editor"},
            k.BUDGET.key(keep["id"]): {"tripId": keep["id"], "total": 5},
        }
    )
    before = await keys_of(store)
    deleted = await done(gw, DELETE_TRIP, {"id": tid})
    assert deleted == {"id": tid, "title": "Lisbon"}

    gone = {
        k.TRIP.key(tid),
        k.ITEMS_INDEX.key(tid),
        k.BUDGET.key(tid),
        k.BUDGET_ALERTS.key(tid),
        k.CONFLICTS_INDEX.key(tid),
        k.CONFLICT.key(conflict.id),  # type: ignore[attr-defined]
        k.COLLABORATOR.key(tid, BOB),
        *(k.ITEM.key(i) for i in items),
    }
    assert gone <= before
    assert await keys_of(store) == before - gone
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [keep["id"]]
    assert await index(store, k.ITEMS_INDEX.key(keep["id"])) == [kept_item]
    assert (await gw.ok(TRIP_ITEMS, {"id": tid}, viewer=ALICE))["trip"] is None
    errors = await refused(gw, store, DELETE_TRIP, {"id": tid})
    assert fields(errors) == [("id", "NOT_FOUND")]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_trip_lifecycle(gw: Gateway, store: Store) -> None:
    tid = str(uuid.uuid4())
    await trip_for(gw, id=tid)
    await trip_for(gw, id=tid)
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == [tid]
    a, b = [(await item_for(gw, tid, t))["id"] for t in "ab"]
    await done(gw, MOVE_ITEM, {"id": b, "position": 0})
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [b, a]
    await store.set(k.BUDGET.key(tid), {"tripId": tid, "total": 10})
    errors = await refused(gw, store, UPDATE_TRIP, {"id": tid, "title": ""})
    assert fields(errors) == [("title", "BAD_USER_INPUT")]
    await done(gw, DELETE_TRIP, {"id": tid})
    assert await keys_of(store) == {k.TRIPS_INDEX.key(ALICE)}
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) == []
