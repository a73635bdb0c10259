"""Through GraphQL: an app-shaped table stays visible, times read back as they were written.

Strawberry's `DateTime` prints `datetime.isoformat()`: a local time without an offset
(`2025-06-02T20:00:00`), an offset as written (`+01:00`), UTC as `+00:00` (never `Z`), and
fractions as six digits (`.500000`) only when there are any.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.mapping import IDENTITY, parse_mapping
from tests.support import APP_RECORDS, APP_USER, BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

VIEWER = """{
  viewer {
    displayName
    trips(first: 10) {
      nodes {
        id startDate endDate updatedAt
        items(first: 10) { nodes { id startTime location { __typename name } } }
      }
    }
    conversations(first: 5) { nodes { messages(first: 5) { nodes { id content timestamp } } } }
    suggestions(first: 5) { nodes { id content } }
  }
  restaurants: locations(kind: RESTAURANT) { nodes { name priceLevel } }
  events: locations(kind: EVENT) { nodes { name } }
  rentals: locations(kind: RENTAL) { nodes { ... on Rental { bedrooms pricePerNight } } }
}"""
ADD_ITEM = """mutation($input: AddItineraryItemInput!) {
  addItineraryItem(input: $input) { item { id startTime endTime } userErrors { field code } }
}"""
UPDATE_TRIP = """mutation($input: UpdateTripInput!) {
  updateTrip(input: $input) { trip { id } userErrors { field code } }
}"""
DELETE_TRIP = """mutation($input: DeleteTripInput!) {
  deleteTrip(input: $input) { trip { id } userErrors { field code } }
}"""
ITEM_TIMES = (
    "query($id: ID!) { trip(id: $id) { items(first: 50) { nodes { id startTime endTime } } } }"
)


@pytest.fixture
async def app(gw: Gateway, store: Store) -> Gateway:
    await store.set_many(APP_RECORDS)
    return gw


async def test_app_records_stay_visible(app: Gateway) -> None:
    data = await app.ok(VIEWER, viewer=APP_USER)
    viewer = data["viewer"]
    assert viewer["displayName"] == "Ana Costa"
    trip, shared = viewer["trips"]["nodes"]
    assert (trip["startDate"], trip["endDate"]) == ("2025-06-01", "2025-06-05")
    assert trip["updatedAt"] == "2024-11-25T16:00:00+00:00"  # epoch ms, read as UTC
    assert shared["id"] == "trip-2"  # shared with the viewer as collaborator role "owner"
    items = {i["id"]: i for i in trip["items"]["nodes"]}
    assert list(items) == ["item-flight", "item-hotel", "item-dinner"]
    assert items["item-flight"]["startTime"] == "2025-06-01T08:15:00+01:00"
    assert items["item-dinner"]["startTime"] == "2025-06-02T20:00:00"  # local: no offset
    assert items["item-dinner"]["location"] == {
        "__typename": "Restaurant",
        "name": "Taberna da Rua",
    }
    assert items["item-hotel"]["location"] is None  # `hotel:hotel-9` is no place kvgraph knows
    (conversation,) = viewer["conversations"]["nodes"]
    assert [m["timestamp"] for m in conversation["messages"]["nodes"]] == [
        "2025-05-20T18:00:00+00:00",
        "2025-05-20T18:00:02.500000+00:00",
    ]
    assert viewer["suggestions"]["nodes"] == [
        {"id": "sug-1", "content": "Book the fado show early."}
    ]
    assert data["restaurants"]["nodes"] == [{"name": "Taberna da Rua", "priceLevel": 2}]
    assert data["events"]["nodes"] == [{"name": "Fado night"}]
    assert data["rentals"]["nodes"] == [{"bedrooms": 2, "pricePerNight": 95.0}]


async def test_a_mapping_makes_app_values_kvgraphs(store: Store, schema: object) -> None:
    await store.set_many(APP_RECORDS)
    mapping = parse_mapping(
        '[message.values.role]\nmodel = "assistant"\n[suggestion.values.status]\npending = "active"\n'
    )
    mapped = Gateway(schema, store, mapping)
    query = """{ viewer {
      conversations { nodes { messages { nodes { role } } } }
      suggestions(status: ACTIVE) { nodes { id status } }
    } }"""
    viewer = (await mapped.ok(query, viewer=APP_USER))["viewer"]
    roles = [m["role"] for m in viewer["conversations"]["nodes"][0]["messages"]["nodes"]]
    assert roles == ["USER", "ASSISTANT"]
    assert viewer["suggestions"]["nodes"] == [{"id": "sug-1", "status": "ACTIVE"}]
    dismiss = 'mutation { dismissSuggestion(input: {id: "sug-1"}) { suggestion { status } userErrors { code } } }'
    assert (await mapped.ok(dismiss, viewer=APP_USER))["dismissSuggestion"] == {
        "suggestion": {"status": "DISMISSED"},
        "userErrors": [],
    }
    assert (await store.get("suggestion:sug-1"))["status"] == "dismissed"


MAPPED = """
[item.values.kind]
flight = "transport"

[item.values.locationType]
hotel = "rental"

[message.values.role]
model = "assistant"
human = { means = "user", write = true }

[suggestion.values.status]
pending = "active"
rejected = { means = "dismissed", write = true }
"""
RAW = """{ viewer {
  trips(first: 1) { nodes { items { nodes { kind kindRaw } } } }
  conversations { nodes { messages { nodes { role roleRaw } } } }
  suggestions { nodes { status statusRaw } }
} }"""
ITEM = "item { id kind kindRaw } userErrors { field code }"
ADD = f"mutation($input: AddItineraryItemInput!) {{ addItineraryItem(input: $input) {{ {ITEM} }} }}"
EDIT = (
    "mutation($input: UpdateItineraryItemInput!) "
    f"{{ updateItineraryItem(input: $input) {{ {ITEM} }} }}"
)


async def test_raw_fields_show_the_stored_value_under_a_mapping(
    store: Store, schema: object
) -> None:
    await store.set_many(APP_RECORDS)
    for mapping, shown in ((IDENTITY, "OTHER"), (parse_mapping(MAPPED), None)):
        viewer = (await Gateway(schema, store, mapping).ok(RAW, viewer=APP_USER))["viewer"]
        items = viewer["trips"]["nodes"][0]["items"]["nodes"]
        assert items == [
            {"kind": shown or "TRANSPORT", "kindRaw": "flight"},
            {"kind": "STAY", "kindRaw": "stay"},
            {"kind": "MEAL", "kindRaw": "meal"},
        ]
        messages = viewer["conversations"]["nodes"][0]["messages"]["nodes"]
        assert messages == [
            {"role": "USER", "roleRaw": "user"},
            {"role": shown or "ASSISTANT", "roleRaw": "model"},
        ]
        assert viewer["suggestions"]["nodes"] == [
            {"status": shown or "ACTIVE", "statusRaw": "pending"}
        ]


async def test_api_writes_never_produce_a_read_only_value(store: Store, schema: object) -> None:
    await store.set_many(APP_RECORDS)
    gw = Gateway(schema, store, parse_mapping(MAPPED))
    train = {"tripId": "trip-1", "title": "IC to Porto", "kind": "TRANSPORT"}
    added = (await gw.ok(ADD, {"input": train}, viewer=APP_USER))["addItineraryItem"]
    assert (added["item"]["kind"], added["item"]["kindRaw"]) == ("TRANSPORT", "transport")
    assert (await store.get(f"item:{added['item']['id']}"))["kind"] == "transport"
    # A rental linked to an item is stored as a rental, never as the app's `hotel`.
    stay = {"tripId": "trip-1", "title": "Loft", "kind": "STAY", "locationId": "rental-1"}
    added = (await gw.ok(ADD, {"input": stay}, viewer=APP_USER))["addItineraryItem"]
    assert (await store.get(f"item:{added['item']['id']}"))["locationType"] == "rental"
    # Updated without the field: the stored value stays, and kindRaw says so.
    renamed = {"id": "item-flight", "title": "TP 1353"}
    out = (await gw.ok(EDIT, {"input": renamed}, viewer=APP_USER))["updateItineraryItem"]
    assert out["item"] == {"id": "item-flight", "kind": "TRANSPORT", "kindRaw": "flight"}
    assert (await store.get("item:item-flight"))["kind"] == "flight"
    # Updated with it: kvgraph's own value (it may be a train now).
    retyped = {"id": "item-flight", "kind": "TRANSPORT"}
    out = (await gw.ok(EDIT, {"input": retyped}, viewer=APP_USER))["updateItineraryItem"]
    assert out["item"] == {"id": "item-flight", "kind": "TRANSPORT", "kindRaw": "transport"}
    assert (await store.get("item:item-flight"))["kind"] == "transport"
    relinked = {"id": "item-hotel", "locationId": "rental-1"}
    await gw.ok(EDIT, {"input": relinked}, viewer=APP_USER)
    assert (await store.get("item:item-hotel"))["locationType"] == "rental"


async def test_values_marked_written_are_written(store: Store, schema: object) -> None:
    await store.set_many(APP_RECORDS)
    gw = Gateway(schema, store, parse_mapping(MAPPED))
    dismiss = (
        'mutation { dismissSuggestion(input: {id: "sug-1"}) { suggestion { status statusRaw } } }'
    )
    out = await gw.ok(dismiss, viewer=APP_USER)
    assert out["dismissSuggestion"]["suggestion"] == {
        "status": "DISMISSED",
        "statusRaw": "rejected",
    }
    assert (await store.get("suggestion:sug-1"))["status"] == "rejected"
    post = 'mutation { postMessage(input: {conversationId: "conv-1", content: "Thanks"}) { message { id role roleRaw } } }'
    message = (await gw.ok(post, viewer=APP_USER))["postMessage"]["message"]
    assert (message["role"], message["roleRaw"]) == ("USER", "human")
    assert (await store.get(f"message:{message['id']}"))["role"] == "human"


async def test_a_minority_spelling_hides_no_trip(store: Store, schema: object) -> None:
    owners = {f"t{i}": {"userId": APP_USER} for i in range(7)} | {"t7": {"ownerId": APP_USER}}
    await store.set_many(
        {f"trip:{i}": {"id": i, "title": i, **o} for i, o in owners.items()}
        | {f"trips:index:{APP_USER}": list(owners)}
    )
    query = "{ viewer { trips(first: 20) { totalCount nodes { id owner { id } } } } }"
    hidden = await Gateway(schema, store).run(query, viewer=APP_USER)
    assert hidden.data["viewer"]["trips"]["totalCount"] == 7  # type: ignore[attr-defined]
    mapping = parse_mapping('[trip.fields]\nownerId = { means = "userId", write = false }\n')
    gw = Gateway(schema, store, mapping)
    trips = (await gw.ok(query, viewer=APP_USER))["viewer"]["trips"]
    assert trips["totalCount"] == 8
    assert trips["nodes"] == [{"id": i, "owner": {"id": APP_USER}} for i in owners]
    create = 'mutation { createTrip(input: {id: "t8", title: "New"}) { trip { id } } }'
    await gw.ok(create, viewer=APP_USER)
    stored = await store.get("trip:t8")
    assert stored["userId"] == APP_USER and "ownerId" not in stored  # the majority's name


async def test_an_unknown_status_is_not_active(app: Gateway, store: Store) -> None:
    dismiss = 'mutation { dismissSuggestion(input: {id: "sug-1"}) { suggestion { id } userErrors { message code } } }'
    out = (await app.ok(dismiss, viewer=APP_USER))["dismissSuggestion"]
    assert out == {
        "suggestion": None,
        "userErrors": [{"message": "suggestion is pending, not active", "code": "NOT_ACTIVE"}],
    }
    assert await store.get("suggestion:sug-1") == APP_RECORDS["suggestion:sug-1"]


@pytest.mark.parametrize(
    ("role", "can_edit"), [("owner", True), ("editor", True), ("commenter", False)]
)
async def test_collaborator_roles_grant_what_they_say(
    app: Gateway, store: Store, role: str, can_edit: bool
) -> None:
    await store.set(
        f"collaborator:trip-2:{APP_USER}", {"tripId": "trip-2", "userId": APP_USER, "role": role}
    )
    found = await app.ok('{ trip(id: "trip-2") { id } }', viewer=APP_USER)
    assert found == {"trip": {"id": "trip-2"}}
    added = await app.ok(
        ADD_ITEM, {"input": {"tripId": "trip-2", "title": "Port cellar"}}, viewer=APP_USER
    )
    codes = [e["code"] for e in added["addItineraryItem"]["userErrors"]]
    assert codes == ([] if can_edit else ["FORBIDDEN"])  # it can read the trip: not NOT_FOUND
    renamed = await app.ok(
        UPDATE_TRIP, {"input": {"id": "trip-2", "title": "Mine"}}, viewer=APP_USER
    )
    codes = [e["code"] for e in renamed["updateTrip"]["userErrors"]]
    assert codes == ([] if can_edit else ["FORBIDDEN"])
    deleted = await app.ok(DELETE_TRIP, {"input": {"id": "trip-2"}}, viewer=APP_USER)
    codes = [e["code"] for e in deleted["deleteTrip"]["userErrors"]]
    assert codes == ["FORBIDDEN"]  # the trip owner's own right, even for an app's "owner"


async def test_update_keeps_a_numeric_updated_at(app: Gateway, store: Store) -> None:
    out = await app.ok(UPDATE_TRIP, {"input": {"id": "trip-1", "title": "Lisboa"}}, viewer=APP_USER)
    assert out["updateTrip"]["userErrors"] == []
    stored = await store.get("trip:trip-1")
    assert isinstance(stored["updatedAt"], int) and stored["updatedAt"] > 1732550400000
    assert stored["endDate"] == "2025-06-05T22:00:00.000Z"  # not touched by the update


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-03-14T20:00:00+02:00", "2025-03-14T23:30:00+02:00"),  # dinner in Lisbon, DST
        ("2025-03-14T20:00:00", "2025-03-14T22:00:00"),  # datetime-local: wall clock
        ("2025-03-14T20:00:00.123456-03:00", "2025-03-14T20:00:00.654321-03:00"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T10:00:00"),  # calendar edge, mixed
    ],
)
async def test_times_read_back_unchanged(app: Gateway, store: Store, start: str, end: str) -> None:
    out = await app.ok(
        ADD_ITEM,
        {"input": {"tripId": "trip-1", "title": "x", "startTime": start, "endTime": end}},
        viewer=APP_USER,
    )
    payload: dict[str, Any] = out["addItineraryItem"]
    assert payload["userErrors"] == []
    assert (payload["item"]["startTime"], payload["item"]["endTime"]) == (start, end)
    listed = await app.ok(ITEM_TIMES, {"id": "trip-1"}, viewer=APP_USER)
    (item,) = [i for i in listed["trip"]["items"]["nodes"] if i["id"] == payload["item"]["id"]]
    assert (item["startTime"], item["endTime"]) == (start, end)
    stored = await store.get(f"item:{item['id']}")
    assert [dt.datetime.fromisoformat(stored[f]).isoformat() for f in ("startTime", "endTime")] == [
        start,
        end,
    ]


UPDATE_ITEM = """mutation($input: UpdateItineraryItemInput!) {
  updateItineraryItem(input: $input) { item { id title startTime } userErrors { field code } }
}"""


async def test_postgres_text_times_read_as_iso_and_stay_as_stored(
    app: Gateway, store: Store
) -> None:
    """Times an app copied from Postgres (`now()::text`) read with their offset (or local), and
    an update of another field leaves them as stored; garbage is still reported."""
    pg = {
        "item:pg-utc": ("2024-12-24 10:00:00+00", "2024-12-24T10:00:00+00:00"),
        "item:pg-offset": ("2024-12-24 10:00:00.123456+05:30", "2024-12-24T10:00:00.123456+05:30"),
        "item:pg-local": ("2024-12-24 10:00:00", "2024-12-24T10:00:00"),
        "item:pg-bad": ("2024-13-45 99:00", None),
    }
    for key, (stored, _) in pg.items():
        id_ = key.removeprefix("item:")
        await store.set(key, {"id": id_, "tripId": "trip-1", "title": id_, "startTime": stored})
    await store.set("items:index:trip-1", [key.removeprefix("item:") for key in pg])
    result = await app.run(ITEM_TIMES, {"id": "trip-1"}, viewer=APP_USER)
    served = {i["id"]: i["startTime"] for i in result.data["trip"]["items"]["nodes"]}  # type: ignore[attr-defined]
    assert served == {key.removeprefix("item:"): iso for key, (_, iso) in pg.items()}
    reports = [(e.extensions["key"], e.extensions.get("fields")) for e in result.errors]  # type: ignore[attr-defined]
    assert reports == [("item:pg-bad", ["startTime"])]

    for key in pg:
        update = {"input": {"id": key.removeprefix("item:"), "title": "Renamed"}}
        out = await app.run(UPDATE_ITEM, update, viewer=APP_USER)
        assert out.data["updateItineraryItem"]["userErrors"] == []  # type: ignore[attr-defined]
    for key, (stored, _) in pg.items():
        assert (await store.get(key))["startTime"] == stored  # the same text, never rewritten


ENUMS = """{ viewer {
  trips(first: 1) { nodes { items(first: 10) { nodes { id kind kindRaw } } } }
  conversations { nodes { messages { nodes { role roleRaw } } } }
  suggestions { nodes { id status statusRaw } }
  other: suggestions(status: OTHER) { totalCount nodes { id } }
  active: suggestions(status: ACTIVE) { totalCount }
} }"""


async def test_unknown_enum_values_show_as_other_with_the_raw_value(
    app: Gateway, schema: object, store: Store
) -> None:
    from gql.schema.build import build_schema

    for gateway in (app, Gateway(build_schema(fast=False), store)):
        result = await gateway.run(ENUMS, viewer=APP_USER)
        assert result.errors is None, result.errors
        viewer = result.data["viewer"]
        items = {i["id"]: i for i in viewer["trips"]["nodes"][0]["items"]["nodes"]}
        assert items["item-flight"] == {"id": "item-flight", "kind": "OTHER", "kindRaw": "flight"}
        messages = viewer["conversations"]["nodes"][0]["messages"]["nodes"]
        assert messages == [
            {"role": "USER", "roleRaw": "user"},
            {"role": "OTHER", "roleRaw": "model"},
        ]
        assert viewer["suggestions"]["nodes"] == [
            {"id": "sug-1", "status": "OTHER", "statusRaw": "pending"}
        ]
        assert viewer["other"] == {"totalCount": 1, "nodes": [{"id": "sug-1"}]}
        assert viewer["active"] == {"totalCount": 0}


async def test_other_cannot_be_written(app: Gateway, store: Store) -> None:
    before = [row async for row in store.iter_prefix("")]
    result = await app.run(
        ADD_ITEM,
        {"input": {"tripId": "trip-1", "title": "Ferry", "kind": "OTHER"}},
        viewer=APP_USER,
    )
    assert result.data is None or result.data.get("addItineraryItem") is None
    (error,) = result.errors
    assert error.extensions["code"] == "BAD_USER_INPUT" and "OTHER" in error.message
    assert [row async for row in store.iter_prefix("")] == before  # nothing written


async def test_fields_left_empty_are_reported_with_the_record(app: Gateway, store: Store) -> None:
    await store.set("restaurant:rest-1", {"id": "rest-1", "name": "Tasca", "rating": "good"})
    query = '{ location(id: "rest-1") { name rating } }'
    result = await app.run(query, viewer=APP_USER)
    assert result.data == {"location": {"name": "Tasca", "rating": None}}
    (error,) = result.errors
    assert error.extensions == {
        "code": "INVALID_RECORD",
        "key": "restaurant:rest-1",
        "fields": ["rating"],
    }


async def test_a_record_the_viewer_may_not_read_is_not_reported(app: Gateway, store: Store) -> None:
    await store.set_many(
        {
            "trip:secret": {"id": "secret", "userId": "someone", "title": "S", "endDate": "x"},
            f"trips:index:{APP_USER}": ["trip-1", "trip-2", "secret"],
        }
    )
    result = await app.run("{ viewer { trips { nodes { id } } } }", viewer=APP_USER)
    assert "secret" not in str(result.errors or "")


async def test_an_embedded_location_shows_as_coordinates(app: Gateway) -> None:
    query = '{ trip(id: "trip-1") { items { nodes { id coordinates { latitude longitude } } } } }'
    nodes = (await app.ok(query, viewer=APP_USER))["trip"]["items"]["nodes"]
    points = {n["id"]: n["coordinates"] for n in nodes}
    assert points["item-hotel"] == {"latitude": 38.7114, "longitude": -9.13}
    assert points["item-dinner"] is None
