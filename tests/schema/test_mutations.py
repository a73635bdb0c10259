"""Schema-level tests of every mutation: effects on the raw KV keys, userErrors, access.

Every failing mutation is run through `refused`, which also checks that nothing at all was
written (all keys and values are compared before and after).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv.repo import Repository
from tests.support import BACKENDS, Gateway, dump, mutation, payload
from tests.support import done as _done
from tests.support import refused as _refused

ALICE = "a11ce000-0000-4000-8000-000000000001"
BOB = "b0b00000-0000-4000-8000-000000000002"
NOWHERE = "00000000-dead-4000-8000-00000000beef"  # an id nothing has

TRIP_F = "id title destination startDate endDate currency status createdAt updatedAt"
ITEM_F = (
    "id title kind startTime endTime notes cost { amount currency } "
    "location { __typename id name } trip { id }"
)


CREATE_TRIP = mutation("createTrip", f"trip {{ {TRIP_F} owner {{ id }} }}")
UPDATE_TRIP = mutation("updateTrip", f"trip {{ {TRIP_F} }}")
DELETE_TRIP = mutation("deleteTrip", "trip { id title }")
ADD_ITEM = mutation("addItineraryItem", f"item {{ {ITEM_F} }}")
UPDATE_ITEM = mutation("updateItineraryItem", f"item {{ {ITEM_F} }}")
REMOVE_ITEM = mutation("removeItineraryItem", "item { id title }")
MOVE_ITEM = mutation("moveItineraryItem", "item { id title }")
START_CONV = mutation(
    "startConversation",
    "conversation { id title agentType messages { totalCount nodes { id role content } } }",
)
POST_MESSAGE = mutation("postMessage", "message { id conversationId role content timestamp }")
DELETE_CONV = mutation("deleteConversation", "conversation { id title }")
DISMISS = mutation("dismissSuggestion", "suggestion { id status }")
ACCEPT = mutation("acceptSuggestion", "suggestion { id status }")
SAVE = mutation("savePlace", "place { __typename id name }")
UNSAVE = mutation("unsavePlace", "place { __typename id name }")

TRIP_ITEMS = "query Q($id: ID!) { trip(id: $id) { items(first: 100) { nodes { id } } } }"


# ---------------------------------------------------------------- helpers
async def done(gw: Gateway, query: str, input_: dict[str, Any], viewer: str = ALICE) -> Any:
    return await _done(gw, query, input_, viewer)


async def refused(
    gw: Gateway, store: Store, query: str, input_: dict[str, Any], viewer: str = ALICE
) -> list[dict[str, Any]]:
    return await _refused(gw, store, query, input_, viewer)


async def keys_of(store: Store) -> set[str]:
    return {key async for key, _ in store.iter_prefix("")}


def fields(errors: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(err["field"], err["code"]) for err in errors]


async def trip_for(gw: Gateway, viewer: str = ALICE, **extra: Any) -> dict[str, Any]:
    return await done(gw, CREATE_TRIP, {"title": "Lisbon", **extra}, viewer)  # type: ignore[no-any-return]


async def item_for(gw: Gateway, trip_id: str, title: str, viewer: str = ALICE, **extra: Any) -> Any:
    return await done(gw, ADD_ITEM, {"tripId": trip_id, "title": title, **extra}, viewer)


async def index(store: Store, key: str) -> Any:
    return await store.get(key)


async def place(store: Store, kind: str, name: str) -> str:
    record = await Repository(store).create(e.LOCATIONS[kind], {"name": name, "city": "Lisbon"})
    return record.id  # type: ignore[attr-defined, no-any-return]


async def suggestion(store: Store, user: str = ALICE, status: str = "active") -> str:
    record = await Repository(store).create(
        e.SUGGESTION, {"userId": user, "content": "Try the tram", "status": status}
    )
    return record.id  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------- auth
ANONYMOUS = [
    (CREATE_TRIP, {"title": "x"}),
    (UPDATE_TRIP, {"id": NOWHERE, "title": "x"}),
    (DELETE_TRIP, {"id": NOWHERE}),
    (ADD_ITEM, {"tripId": NOWHERE, "title": "x"}),
    (UPDATE_ITEM, {"id": NOWHERE, "title": "x"}),
    (REMOVE_ITEM, {"id": NOWHERE}),
    (MOVE_ITEM, {"id": NOWHERE, "position": 0}),
    (START_CONV, {"title": "x", "message": "hi"}),
    (POST_MESSAGE, {"conversationId": NOWHERE, "content": "hi"}),
    (DELETE_CONV, {"id": NOWHERE}),
    (DISMISS, {"id": NOWHERE}),
    (ACCEPT, {"id": NOWHERE}),
    (SAVE, {"placeId": NOWHERE}),
    (UNSAVE, {"placeId": NOWHERE}),
]


@pytest.mark.parametrize(("query", "input_"), ANONYMOUS, ids=lambda v: str(v)[:40])
async def test_anonymous_mutation_is_unauthenticated(
    gw: Gateway, store: Store, query: str, input_: dict[str, Any]
) -> None:
    before = await dump(store)
    result: Any = await gw.run(query, {"input": input_}, viewer=None)
    assert result.data is None
    assert result.errors, "expected a top-level error"
    assert [err.extensions["code"] for err in result.errors] == ["UNAUTHENTICATED"]
    assert await dump(store) == before


async def test_anonymous_cannot_touch_existing_records(gw: Gateway, store: Store) -> None:
    trip = await trip_for(gw)
    before = await dump(store)
    result: Any = await gw.run(DELETE_TRIP, {"input": {"id": trip["id"]}}, viewer=None)
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"
    assert await dump(store) == before


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


# ---------------------------------------------------------------- conversations
async def test_start_conversation_without_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"title": " Plan ", "agentType": "planner"})
    assert conv["title"] == "Plan"
    assert conv["agentType"] == "planner"
    assert conv["messages"] == {"totalCount": 0, "nodes": []}
    stored = await store.get(k.CONVERSATION.key(conv["id"]))
    assert stored["userId"] == ALICE
    assert stored["createdAt"].endswith("Z")
    assert stored["updatedAt"].endswith("Z")
    assert await index(store, k.CONVERSATIONS_INDEX.key(ALICE)) == [conv["id"]]
    assert await store.get(k.MESSAGES_INDEX.key(conv["id"])) is None


async def test_start_conversation_with_first_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"message": "  Where to eat?  "})
    assert conv["title"] is None
    assert conv["messages"]["totalCount"] == 1
    (msg,) = conv["messages"]["nodes"]
    assert msg["role"] == "USER"
    assert msg["content"] == "Where to eat?"
    assert await index(store, k.MESSAGES_INDEX.key(conv["id"])) == [msg["id"]]
    stored = await store.get(k.MESSAGE.key(msg["id"]))
    assert stored["conversationId"] == conv["id"]
    assert stored["role"] == "user"
    assert stored["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "m" * 10_001}, "message"),
        ({"title": "t" * 201}, "title"),
        ({"agentType": "a" * 81}, "agentType"),
    ],
)
async def test_start_conversation_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], field: str
) -> None:
    errors = await refused(gw, store, START_CONV, bad)
    assert fields(errors) == [(field, "BAD_USER_INPUT")]


async def test_post_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"message": "one"})
    cid = conv["id"]
    stamp = (await store.get(k.CONVERSATION.key(cid)))["updatedAt"]
    msg = await done(gw, POST_MESSAGE, {"conversationId": cid, "content": " two "})
    assert msg["content"] == "two"
    assert msg["role"] == "USER"
    assert msg["conversationId"] == cid
    first = conv["messages"]["nodes"][0]["id"]
    assert await index(store, k.MESSAGES_INDEX.key(cid)) == [first, msg["id"]]
    assert (await store.get(k.CONVERSATION.key(cid)))["updatedAt"] >= stamp
    query = "query Q($id: ID!) { conversation(id: $id) { messages { nodes { content } } } }"
    data = await gw.ok(query, {"id": cid}, viewer=ALICE)
    assert [n["content"] for n in data["conversation"]["messages"]["nodes"]] == ["one", "two"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"content": ""}, [("content", "BAD_USER_INPUT")]),
        ({"content": " \n "}, [("content", "BAD_USER_INPUT")]),
        ({"content": "c" * 10_001}, [("content", "BAD_USER_INPUT")]),
        ({"conversationId": NOWHERE}, [("conversationId", "NOT_FOUND")]),
        ({"conversationId": "conversation:index:x"}, [("conversationId", "NOT_FOUND")]),
    ],
)
async def test_post_message_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    cid = (await done(gw, START_CONV, {"message": "hi"}))["id"]
    errors = await refused(gw, store, POST_MESSAGE, {"conversationId": cid, "content": "x", **bad})
    assert fields(errors) == expected


async def test_delete_conversation_removes_messages_and_context(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"title": "Plan", "message": "one"})
    cid = conv["id"]
    await done(gw, POST_MESSAGE, {"conversationId": cid, "content": "two"})
    other = await done(gw, START_CONV, {"message": "keep"})
    await store.set_many(
        {
            k.CONTEXT.key(cid): {"conversationId": cid, "session": {"step": 2}},
            k.CONTEXT_HISTORY.key(cid): [{"session": {"step": 1}}],
            k.CONTEXT.key(other["id"]): {"conversationId": other["id"]},
        }
    )
    message_ids = await index(store, k.MESSAGES_INDEX.key(cid))
    assert len(message_ids) == 2
    before = await keys_of(store)
    deleted = await done(gw, DELETE_CONV, {"id": cid})
    assert deleted == {"id": cid, "title": "Plan"}
    gone = {
        k.CONVERSATION.key(cid),
        k.MESSAGES_INDEX.key(cid),
        k.CONTEXT.key(cid),
        k.CONTEXT_HISTORY.key(cid),
        *(k.MESSAGE.key(m) for m in message_ids),
    }
    assert gone <= before
    assert await keys_of(store) == before - gone
    assert await index(store, k.CONVERSATIONS_INDEX.key(ALICE)) == [other["id"]]
    errors = await refused(gw, store, DELETE_CONV, {"id": cid})
    assert fields(errors) == [("id", "NOT_FOUND")]


# ---------------------------------------------------------------- suggestions
SUGGESTIONS = "query { viewer { suggestions(status: ACTIVE) { nodes { id } } } }"


@pytest.mark.parametrize(("query", "status"), [(DISMISS, "dismissed"), (ACCEPT, "accepted")])
async def test_suggestion_status_changes(
    gw: Gateway, store: Store, query: str, status: str
) -> None:
    s1, s2 = await suggestion(store), await suggestion(store)
    active_key = k.SUGGESTIONS_ACTIVE.key(ALICE)
    assert await index(store, active_key) == [s1, s2]
    changed = await done(gw, query, {"id": s1})
    assert changed == {"id": s1, "status": status.upper()}
    stored = await store.get(k.SUGGESTION.key(s1))
    assert stored["status"] == status
    assert stored["content"] == "Try the tram"
    assert await index(store, active_key) == [s2]
    assert await index(store, k.SUGGESTIONS_INDEX.key(ALICE)) == [s1, s2]
    data = await gw.ok(SUGGESTIONS, viewer=ALICE)
    assert data["viewer"]["suggestions"]["nodes"] == [{"id": s2}]
    # Once decided, neither accepting nor dismissing it again is allowed.
    for again in (ACCEPT, DISMISS):
        errors = await refused(gw, store, again, {"id": s1})
        assert [err["field"] for err in errors] == ["id"]
        assert status in errors[0]["message"]


async def test_accepting_a_dismissed_suggestion_is_a_user_error(gw: Gateway, store: Store) -> None:
    sid = await suggestion(store)
    await done(gw, DISMISS, {"id": sid})
    errors = await refused(gw, store, ACCEPT, {"id": sid})
    assert fields(errors) == [("id", "NOT_ACTIVE")]
    assert (await store.get(k.SUGGESTION.key(sid)))["status"] == "dismissed"


async def test_suggestion_expired_is_not_active(gw: Gateway, store: Store) -> None:
    sid = await suggestion(store, status="expired")
    assert await index(store, k.SUGGESTIONS_ACTIVE.key(ALICE)) is None
    errors = await refused(gw, store, ACCEPT, {"id": sid})
    assert fields(errors) == [("id", "NOT_ACTIVE")]


# ---------------------------------------------------------------- saved places
async def test_save_and_unsave_place(gw: Gateway, store: Store) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    eid = await place(store, "event", "Fado")
    saved_key = k.SAVED.key(ALICE)
    saved = await done(gw, SAVE, {"placeId": rid})
    assert saved == {"__typename": "Restaurant", "id": rid, "name": "Ramiro"}
    await done(gw, SAVE, {"placeId": rid, "kind": "RESTAURANT"})
    await done(gw, SAVE, {"placeId": eid, "kind": "EVENT"})
    await done(gw, SAVE, {"placeId": rid})
    assert await index(store, saved_key) == [rid, eid]
    data = await gw.ok("{ viewer { savedPlaces { nodes { id } } } }", viewer=ALICE)
    assert data["viewer"]["savedPlaces"]["nodes"] == [{"id": rid}, {"id": eid}]

    unsaved = await done(gw, UNSAVE, {"placeId": rid})
    assert unsaved == {"__typename": "Restaurant", "id": rid, "name": "Ramiro"}
    assert await index(store, saved_key) == [eid]
    errors = await refused(gw, store, UNSAVE, {"placeId": rid})
    assert fields(errors) == [("placeId", "NOT_FOUND")]
    assert await store.get(k.LOCATION_ENTITY["restaurant"].key(rid)) is not None


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"placeId": NOWHERE}, [("placeId", "NOT_FOUND")]),
        ({"placeId": "PLACE", "kind": "RENTAL"}, [("placeId", "NOT_FOUND")]),
        ({"placeId": "restaurant:nope"}, [("placeId", "NOT_FOUND")]),
    ],
)
async def test_save_place_refuses_unknown_place(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    if bad["placeId"] == "PLACE":
        bad = {**bad, "placeId": rid}
    errors = await refused(gw, store, SAVE, bad)
    assert fields(errors) == expected


async def test_unsave_never_saved_place(gw: Gateway, store: Store) -> None:
    rid = await place(store, "restaurant", "Ramiro")
    errors = await refused(gw, store, UNSAVE, {"placeId": rid})
    assert fields(errors) == [("placeId", "NOT_FOUND")]


async def test_save_place_already_saved_as_kind_ref(gw: Gateway, store: Store) -> None:
    """`saved:` entries may be `kind:id` (seed); saving that place again must not duplicate it."""
    rid = await place(store, "restaurant", "Ramiro")
    await store.set(k.SAVED.key(ALICE), [f"restaurant:{rid}"])
    await done(gw, SAVE, {"placeId": rid})
    saved = await index(store, k.SAVED.key(ALICE))
    assert len(saved) == 1, f"place saved twice: saved:{{user}} = {saved}"


# ---------------------------------------------------------------- several mutations, one request
async def test_second_mutation_in_a_document_sees_the_first(gw: Gateway, store: Store) -> None:
    """Mutations run in order in one request: loader caches must not serve stale records."""
    sid = await suggestion(store)
    query = """mutation M($id: ID!) {
      d: dismissSuggestion(input: {id: $id}) { suggestion { status } userErrors { code } }
      a: acceptSuggestion(input: {id: $id}) { suggestion { status } userErrors { code } }
    }"""
    data = await gw.ok(query, {"id": sid}, viewer=ALICE)
    assert data["d"] == {"suggestion": {"status": "DISMISSED"}, "userErrors": []}
    assert data["a"] == {"suggestion": None, "userErrors": [{"code": "NOT_ACTIVE"}]}
    assert (await store.get(k.SUGGESTION.key(sid)))["status"] == "dismissed"

    tid = (await trip_for(gw))["id"]
    query = """mutation M($id: ID!) {
      u: updateTrip(input: {id: $id, title: "New"}) { trip { title } }
      a: addItineraryItem(input: {tripId: $id, title: "i"}) { item { trip { title } } }
      d: deleteTrip(input: {id: $id}) { trip { id } }
      b: addItineraryItem(input: {tripId: $id, title: "j"}) { item { id } userErrors { code } }
    }"""
    data = await gw.ok(query, {"id": tid}, viewer=ALICE)
    assert data["u"]["trip"]["title"] == "New"
    assert data["a"]["item"]["trip"]["title"] == "New"
    assert data["b"] == {"item": None, "userErrors": [{"code": "NOT_FOUND"}]}
    assert await keys_of(store) == {
        k.TRIPS_INDEX.key(ALICE),
        k.SUGGESTION.key(sid),
        k.SUGGESTIONS_INDEX.key(ALICE),
        k.SUGGESTIONS_ACTIVE.key(ALICE),
    }


# ---------------------------------------------------------------- other users' records
async def bobs_world(gw: Gateway, store: Store) -> dict[str, str]:
    trip = await trip_for(gw, BOB, title="Bob's trip")
    item = await item_for(gw, trip["id"], "Bob's item", BOB)
    conv = await done(gw, START_CONV, {"message": "Bob's"}, BOB)
    return {
        "trip": trip["id"],
        "item": item["id"],
        "conversation": conv["id"],
        "suggestion": await suggestion(store, BOB),
    }


FOREIGN = [
    (UPDATE_TRIP, "trip", {"title": "mine now"}),
    (DELETE_TRIP, "trip", {}),
    (ADD_ITEM, "trip", {"title": "x"}),
    (UPDATE_ITEM, "item", {"title": "x"}),
    (REMOVE_ITEM, "item", {}),
    (MOVE_ITEM, "item", {"position": 0}),
    (POST_MESSAGE, "conversation", {"content": "x"}),
    (DELETE_CONV, "conversation", {}),
    (DISMISS, "suggestion", {}),
    (ACCEPT, "suggestion", {}),
]


@pytest.mark.parametrize(("query", "what", "rest"), FOREIGN, ids=lambda v: str(v)[:30])
async def test_other_users_record_looks_not_found(
    gw: Gateway, store: Store, query: str, what: str, rest: dict[str, Any]
) -> None:
    bob = await bobs_world(gw, store)
    id_field = {ADD_ITEM: "tripId", POST_MESSAGE: "conversationId"}.get(query, "id")
    theirs = await refused(gw, store, query, {id_field: bob[what], **rest})
    nothing = await refused(gw, store, query, {id_field: NOWHERE, **rest})
    assert theirs == nothing
    assert fields(theirs) == [(id_field, "NOT_FOUND")]


async def test_editors_edit_the_trip_and_its_items_only_the_owner_deletes_it(
    gw: Gateway, store: Store
) -> None:
    tid = (await trip_for(gw, BOB))["id"]
    iid = (await item_for(gw, tid, "b", BOB))["id"]
    carol = "ca401000-0000-4000-8000-000000000003"
    await store.set_many(
        {
            k.COLLABORATOR.key(tid, ALICE): {"tripId": tid, "userId": ALICE, "role": "editor"},
            k.COLLABORATOR.key(tid, carol): {"tripId": tid, "userId": carol, "role": "viewer"},
        }
    )
    # A viewer reads but cannot write: told so (it can see the trip, so not NOT_FOUND).
    assert (await gw.ok(TRIP_ITEMS, {"id": tid}, viewer=carol))["trip"] is not None
    errors = await refused(gw, store, ADD_ITEM, {"tripId": tid, "title": "x"}, carol)
    assert fields(errors) == [("tripId", "FORBIDDEN")]
    errors = await refused(gw, store, MOVE_ITEM, {"id": iid, "position": 0}, carol)
    assert fields(errors) == [("id", "FORBIDDEN")]
    errors = await refused(gw, store, UPDATE_TRIP, {"id": tid, "title": "x"}, carol)
    assert fields(errors) == [("id", "FORBIDDEN")]
    # An editor edits the itinerary ...
    added = (await item_for(gw, tid, "a", ALICE, position=0))["id"]
    await done(gw, MOVE_ITEM, {"id": added, "position": 5}, ALICE)
    await done(gw, UPDATE_ITEM, {"id": iid, "notes": "ok"}, ALICE)
    assert await index(store, k.ITEMS_INDEX.key(tid)) == [iid, added]
    await done(gw, REMOVE_ITEM, {"id": added}, ALICE)
    # ... and the trip, as the README and `access.WRITERS` say ...
    await done(gw, UPDATE_TRIP, {"id": tid, "title": "Renamed"}, ALICE)
    assert (await store.get(k.TRIP.key(tid)))["title"] == "Renamed"
    # ... but only the owner deletes it.
    errors = await refused(gw, store, DELETE_TRIP, {"id": tid}, ALICE)
    assert fields(errors) == [("id", "FORBIDDEN")]
    assert await index(store, k.TRIPS_INDEX.key(ALICE)) is None


# ---------------------------------------------------------------- both backends
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
class TestOnEveryBackend:
    async def test_trip_lifecycle(self, gw: Gateway, store: Store) -> None:
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

    async def test_conversation_and_suggestion(self, gw: Gateway, store: Store) -> None:
        cid = (await done(gw, START_CONV, {"message": "hi"}))["id"]
        await done(gw, POST_MESSAGE, {"conversationId": cid, "content": "again"})
        await store.set(k.CONTEXT_HISTORY.key(cid), [{"a": 1}])
        await done(gw, DELETE_CONV, {"id": cid})
        assert await keys_of(store) == {k.CONVERSATIONS_INDEX.key(ALICE)}
        sid = await suggestion(store)
        await done(gw, ACCEPT, {"id": sid})
        assert await index(store, k.SUGGESTIONS_ACTIVE.key(ALICE)) == []
        errors = await refused(gw, store, DISMISS, {"id": sid})
        assert fields(errors) == [("id", "NOT_ACTIVE")]
