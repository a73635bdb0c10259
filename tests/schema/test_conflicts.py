"""Conflicts: `detectConflicts` finds and records each kind once, `resolveConflict`,
`deleteConflict`, `Trip.conflicts(status:)`; who may do what; each edge of detection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.check import Kind, repair, scan
from gql.kv.mapping import parse_mapping
from tests.support import BACKENDS, Gateway, mutation, payload, refused

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNER, EDITOR, VIEWER, STRANGER = "owner-1", "editor-1", "viewer-1", "stranger-1"
CONFLICT_F = "id type typeRaw status itemIds description resolution resolvedBy resolvedAt"
DETECT = mutation(
    "detectConflicts",
    f"detection {{ trip {{ id }} conflicts {{ {CONFLICT_F} }} recorded {{ id type itemIds }} "
    "unchecked { item { id } reason } }",
)
RESOLVE = mutation("resolveConflict", f"conflict {{ {CONFLICT_F} items {{ id }} }}")
DELETE = mutation("deleteConflict", "conflict { id }")
LIST = """query($status: ConflictStatus) { trip(id: "t1") {
  conflicts(status: $status) { totalCount nodes { id type status itemIds items { id } } } } }"""
LIST_OPEN = '{ trip(id: "t1") { conflicts { totalCount nodes { id type itemIds } } } }'


def item(id_: str, start: str | None = None, end: str | None = None, **extra: Any) -> Any:
    times = {"startTime": start, "endTime": end}
    stored = {k: v for k, v in times.items() if v is not None}
    return {"id": id_, "tripId": "t1", "title": id_.upper(), **stored, **extra}


def table(items: list[dict[str, Any]], **trip: Any) -> dict[str, Any]:
    """Trip t1 of OWNER (10 to 14 June 2026) with these items, shared with an editor and a
    viewer; a restaurant closed on Sundays, one with hours in no known form, an event."""
    return {
        f"trips:index:{OWNER}": ["t1"],
        "trip:t1": {
            "id": "t1",
            "userId": OWNER,
            "title": "Lisbon",
            "startDate": "2026-06-10",
            "endDate": "2026-06-14",
            **trip,
        },
        "collaborator:t1:editor-1": {"tripId": "t1", "userId": EDITOR, "role": "editor"},
        "collaborator:t1:viewer-1": {"tripId": "t1", "userId": VIEWER, "role": "viewer"},
        "items:index:t1": [i["id"] for i in items],
        **{f"item:{i['id']}": i for i in items},
        "restaurants:index": ["r-week", "r-odd", "r-bad"],
        "restaurant:r-week": {
            "id": "r-week",
            "name": "Weekdays",
            "openingHours": {d: "12:00-23:00" for d in ("mo", "tu", "we", "th", "sa")}
            | {"fr": "12:00-02:00", "su": "closed"},
        },
        "restaurant:r-odd": {"id": "r-odd", "name": "Odd", "openingHours": "lunch time"},
        "restaurant:r-bad": {
            "id": "r-bad",
            "name": "Bad",
            "openingHours": {"mon-fri": "09:00-17:00"},
        },
        "events:index": ["e1"],
        "event:e1": {
            "id": "e1",
            "name": "Fado",
            "startsAt": "2026-06-13T20:00:00+01:00",
            "endsAt": "2026-06-13T22:00:00+01:00",
        },
    }


async def detect(gw: Gateway, viewer: str = OWNER) -> dict[str, Any]:
    out = payload(await gw.ok(DETECT, {"input": {"tripId": "t1"}}, viewer=viewer))
    assert out["userErrors"] == [], out["userErrors"]
    return out["detection"]  # type: ignore[no-any-return]


def kinds(conflicts: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
    return {(c["type"], tuple(c["itemIds"])) for c in conflicts}


EDGES = [
    item("a", "2026-06-10T10:00", "2026-06-10T12:00"),
    item("b", "2026-06-10T12:00", "2026-06-10T13:00"),  # back to back with a: fine
    item("c", "2026-06-10T12:30", "2026-06-10T14:00"),  # overlaps b
    item("night", "2026-06-11T22:00", "2026-06-12T02:00"),  # spans midnight
    item("late", "2026-06-12T01:00", "2026-06-12T03:00"),  # overlaps the night
    item("morning", "2026-06-12T09:00", "2026-06-12T10:00"),  # after the night: fine
    item("notime"),  # no times: conflicts with nothing
    item("early", "2026-06-09T18:00"),  # before the trip
    item("sunday", "2026-06-14T13:00", locationType="restaurant", locationId="r-week"),
    item("friday", "2026-06-12T23:00", "2026-06-13T01:00", locationId="r-week"),  # open late
    item("fado", "2026-06-13T19:00", "2026-06-13T19:30", locationType="event", locationId="e1"),
    item("flat", "2026-06-10T09:00", "2026-06-14T11:00", kind="stay"),  # under everything: fine
    item("hotel", "2026-06-13T15:00", "2026-06-14T10:00", kind="stay"),  # a second stay
]


async def test_each_edge_of_detection(gw: Gateway, store: Store) -> None:
    await store.set_many(table(EDGES))
    found = await detect(gw)
    assert kinds(found["conflicts"]) == {
        ("OVERLAP", ("b", "c")),
        ("OVERLAP", ("late", "night")),
        ("OUTSIDE_TRIP", ("early",)),
        ("PLACE_CLOSED", ("sunday",)),  # closed on Sundays
        ("OUTSIDE_EVENT", ("fado",)),  # over before the event starts
        ("OVERLAP", ("flat", "hotel")),  # two stays at once
    }
    assert kinds(found["recorded"]) == kinds(found["conflicts"])
    assert found["unchecked"] == []
    assert {c["status"] for c in found["conflicts"]} == {"OPEN"}
    listed = (await gw.ok(LIST_OPEN, viewer=OWNER))["trip"]["conflicts"]
    assert listed["totalCount"] == 6
    assert await store.get("conflicts:index:t1") == [c["id"] for c in found["recorded"]]


async def test_mixed_offset_and_local_times_compare_in_the_trips_zone(
    gw: Gateway, store: Store
) -> None:
    items = [
        item("local", "2026-06-10T10:00", "2026-06-10T12:00"),  # 09:00-11:00 UTC in Lisbon
        item("utc", "2026-06-10T11:00:00Z", "2026-06-10T13:00:00Z"),
    ]
    await store.set_many(table(items, timeZone="Europe/Lisbon"))
    assert (await detect(gw))["conflicts"] == []  # back to back, in Lisbon
    await store.set_many(table(items, timeZone="Asia/Tokyo"))
    assert (await detect(gw))["conflicts"] == []  # 01:00-03:00 UTC in Tokyo
    # Without a zone they compare by wall clock (10-12 against 11-13): an overlap.
    await store.set_many(table(items))
    assert kinds((await detect(gw))["conflicts"]) == {("OVERLAP", ("local", "utc"))}


async def test_hours_kvgraph_cannot_read_are_reported_not_guessed(
    gw: Gateway, store: Store
) -> None:
    items = [
        item("odd", "2026-06-10T03:00", locationType="restaurant", locationId="r-odd"),
        item("bad", "2026-06-10T13:00", locationType="restaurant", locationId="r-bad"),
        item("week", "2026-06-09T13:00", locationId="r-week"),  # open, but before the trip
    ]
    await store.set_many(table(items))
    found = await detect(gw)
    assert kinds(found["conflicts"]) == {("OUTSIDE_TRIP", ("week",))}
    reasons = {u["item"]["id"]: u["reason"] for u in found["unchecked"]}
    assert reasons == {
        "odd": "'Odd' has a time range 'lunch time' (expected HH:MM-HH:MM), a form not read",
        "bad": "'Bad' has a day 'mon-fri', a form not read",
    }


async def test_detection_records_each_conflict_once(gw: Gateway, store: Store) -> None:
    await store.set_many(table(EDGES))
    first = await detect(gw)
    again = await detect(gw)
    assert again["recorded"] == []
    assert {c["id"] for c in again["conflicts"]} == {c["id"] for c in first["conflicts"]}
    # Concurrent detections of another table's conflicts record each once.
    await store.delete_many(
        ["conflicts:index:t1", *(f"conflict:{c['id']}" for c in first["conflicts"])]
    )
    runs = await asyncio.gather(*(detect(gw) for _ in range(6)))
    assert sum(len(r["recorded"]) for r in runs) == 6
    listed = await store.get("conflicts:index:t1")
    assert len(listed) == len(set(listed)) == 6
    assert len([k async for k, _ in store.iter_prefix("conflict:")]) == 6


async def test_resolving_and_listing_by_status(gw: Gateway, store: Store) -> None:
    await store.set_many(table([EDGES[1], EDGES[2]]))
    (overlap,) = (await detect(gw))["recorded"]
    before = await store.get(f"conflict:{overlap['id']}")
    out = payload(
        await gw.ok(
            RESOLVE,
            {"input": {"id": overlap["id"], "resolution": "  Lunch moved  "}},
            viewer=EDITOR,
        )
    )
    assert out["userErrors"] == []
    resolved = out["conflict"]
    assert (resolved["status"], resolved["resolution"], resolved["resolvedBy"]) == (
        "RESOLVED",
        "Lunch moved",
        EDITOR,
    )
    assert resolved["resolvedAt"] and [i["id"] for i in resolved["items"]] == ["b", "c"]
    stored = await store.get(f"conflict:{overlap['id']}")
    assert {k: v for k, v in stored.items() if not k.startswith("resol") and k != "status"} == {
        k: v for k, v in before.items() if k != "status"
    }
    assert (await gw.ok(LIST_OPEN, viewer=OWNER))["trip"]["conflicts"]["totalCount"] == 0
    for status, count in (("RESOLVED", 1), ("OPEN", 0), (None, 1)):
        data = await gw.ok(LIST, {"status": status}, viewer=OWNER)
        assert data["trip"]["conflicts"]["totalCount"] == count, status
    # Resolved while the items are unchanged: not recorded again.
    assert (await detect(gw))["recorded"] == []
    # Resolving twice is refused, and writes nothing.
    errors = await refused(gw, store, RESOLVE, {"id": overlap["id"]}, OWNER)
    assert errors == [
        {
            "field": "id",
            "message": "conflict is resolved already",
            "code": "NOT_OPEN",
            "errorCode": "NOT_OPEN",
        }
    ]
    # Once the items change, the same overlap is a new conflict.
    await store.set("item:c", item("c", "2026-06-10T12:15", "2026-06-10T14:00"))
    (again,) = (await detect(gw))["recorded"]
    assert again["id"] != overlap["id"] and again["itemIds"] == ["b", "c"]


async def test_deleting_a_conflict_and_its_trip(gw: Gateway, store: Store) -> None:
    await store.set_many(table(EDGES))
    found = (await detect(gw))["recorded"]
    out = payload(await gw.ok(DELETE, {"input": {"id": found[0]["id"]}}, viewer=OWNER))
    assert out == {"conflict": {"id": found[0]["id"]}, "userErrors": []}
    assert await store.get(f"conflict:{found[0]['id']}") is None
    assert found[0]["id"] not in await store.get("conflicts:index:t1")
    delete_trip = mutation("deleteTrip", "trip { id }")
    assert payload(await gw.ok(delete_trip, {"input": {"id": "t1"}}, viewer=OWNER))["trip"]
    assert [k async for k, _ in store.iter_prefix("conflict")] == []


async def test_who_may_detect_resolve_and_read(gw: Gateway, store: Store) -> None:
    await store.set_many(table([EDGES[1], EDGES[2]]))
    for viewer, code in ((STRANGER, "NOT_FOUND"), (VIEWER, "FORBIDDEN")):
        errors = await refused(gw, store, DETECT, {"tripId": "t1"}, viewer)
        assert [e["code"] for e in errors] == [code]
    (overlap,) = (await detect(gw, EDITOR))["recorded"]
    for viewer, code in ((STRANGER, "NOT_FOUND"), (VIEWER, "FORBIDDEN")):
        for doc in (RESOLVE, DELETE):
            errors = await refused(gw, store, doc, {"id": overlap["id"]}, viewer)
            assert [(e["field"], e["code"]) for e in errors] == [("id", code)]
    # A viewer reads the trip's conflicts; a stranger finds neither trip nor conflict.
    assert (await gw.ok(LIST_OPEN, viewer=VIEWER))["trip"]["conflicts"]["totalCount"] == 1
    assert await gw.ok(LIST_OPEN, viewer=STRANGER) == {"trip": None}
    by_node = "query($n: ID!) { node(nodeId: $n) { ... on Conflict { id } } }"
    ids = await gw.ok('{ trip(id: "t1") { conflicts { nodes { nodeId } } } }', viewer=VIEWER)
    n = ids["trip"]["conflicts"]["nodes"][0]["nodeId"]
    assert (await gw.ok(by_node, {"n": n}, viewer=VIEWER))["node"] == {"id": overlap["id"]}
    assert (await gw.ok(by_node, {"n": n}, viewer=STRANGER))["node"] is None
    anonymous = await gw.run(DETECT, {"input": {"tripId": "t1"}})
    assert anonymous.errors[0].extensions["code"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]


async def test_bad_input_is_refused(gw: Gateway, store: Store) -> None:
    await store.set_many(table([EDGES[1], EDGES[2]]))
    (overlap,) = (await detect(gw))["recorded"]
    errors = await refused(
        gw, store, RESOLVE, {"id": overlap["id"], "resolution": "x" * 5001}, OWNER
    )
    assert [(e["field"], e["code"]) for e in errors] == [("resolution", "BAD_USER_INPUT")]
    errors = await refused(gw, store, DETECT, {"tripId": "no:such"}, OWNER)
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    errors = await refused(gw, store, RESOLVE, {"id": "nowhere"}, OWNER)
    assert [e["code"] for e in errors] == ["NOT_FOUND"]


async def test_records_an_app_wrote_read_with_other_values(gw: Gateway, store: Store) -> None:
    await store.set_many(
        table([EDGES[1], EDGES[2]])
        | {
            "conflicts:index:t1": ["x1", "x2"],
            "conflict:x1": {
                "id": "x1",
                "tripId": "t1",
                "conflictType": "double_booking",
                "itemIds": ["b", "c"],
                "status": "pending",
            },
            "conflict:x2": {
                "id": "x2",
                "tripId": "t1",
                "type": "overlap",
                "itemIds": ["b", "c"],
                "status": "fixed",
            },
        }
    )
    query = """query($s: ConflictStatus) { trip(id: "t1") { conflicts(status: $s) {
      nodes { id type typeRaw status statusRaw } } } }"""
    data = await gw.ok(query, {"s": "OTHER"}, viewer=OWNER)
    assert data["trip"]["conflicts"]["nodes"] == [
        {
            "id": "x1",
            "type": "OTHER",
            "typeRaw": "double_booking",
            "status": "OTHER",
            "statusRaw": "pending",
        },
        {
            "id": "x2",
            "type": "OVERLAP",
            "typeRaw": "overlap",
            "status": "OTHER",
            "statusRaw": "fixed",
        },
    ]
    # x2's status is unknown, not resolved: the overlap is not recorded again.
    assert (await detect(gw))["recorded"] == []
    # Through a mapping, the app's values read as kvgraph's.
    mapping = parse_mapping(
        '[conflict.fields]\nconflictType = "type"\n[conflict.values.status]\npending = "open"\nfixed = "resolved"\n'
        '[conflict.values.type]\ndouble_booking = "overlap"\n'
    )
    mapped = Gateway(gw.schema, store, mapping)
    data = await mapped.ok(query, {"s": None}, viewer=OWNER)
    assert data["trip"]["conflicts"]["nodes"] == [
        {
            "id": "x1",
            "type": "OVERLAP",
            "typeRaw": "double_booking",
            "status": "OPEN",
            "statusRaw": "pending",
        },
        {
            "id": "x2",
            "type": "OVERLAP",
            "typeRaw": "overlap",
            "status": "RESOLVED",
            "statusRaw": "fixed",
        },
    ]
    errors = await refused(mapped, store, RESOLVE, {"id": "x2"}, OWNER)
    assert errors[0]["code"] == "NOT_OPEN"
    resolved = payload(await mapped.ok(RESOLVE, {"input": {"id": "x1"}}, viewer=OWNER))
    assert resolved["conflict"]["status"] == "RESOLVED"
    assert (await store.get("conflict:x1"))["status"] == "resolved"  # read-only value not written


async def test_check_and_repair_conflicts(gw: Gateway, store: Store) -> None:
    await store.set_many(
        table([EDGES[1], EDGES[2]])
        | {
            "conflicts:index:t1": ["x1", "gone"],
            "conflict:x1": {"id": "x1", "tripId": "t1", "type": "overlap"},
            "conflict:x2": {"id": "x2", "tripId": "t1", "type": "overlap"},  # unlisted
            "conflict:x3": {"id": "x3", "tripId": "t-gone", "type": "overlap"},  # orphan
            "conflict:x4": {"id": "x4", "type": "overlap"},  # invalid: no trip
        }
    )
    report = await scan(store)
    found = {(p.kind, p.key, p.id) for p in report.problems}
    assert (Kind.DANGLING, "conflicts:index:t1", "gone") in found
    assert (Kind.UNLISTED, "conflicts:index:t1", "x2") in found
    assert any(kind is Kind.ORPHAN and key == "conflict:x3" for kind, key, _ in found)
    assert any(kind is Kind.INVALID and key == "conflict:x4" for kind, key, _ in found)
    await repair(store, report, apply=True)
    assert await store.get("conflicts:index:t1") == ["x1", "x2"]
    assert (await scan(store)).of(Kind.DANGLING) == []


async def test_a_conflict_planted_from_another_trip_is_not_taken_for_its_own(
    gw: Gateway, store: Store
) -> None:
    planted = {"id": "x9", "tripId": "t-other", "type": "overlap", "itemIds": ["b", "c"]}
    await store.set_many(
        table([EDGES[1], EDGES[2]])
        | {
            "conflicts:index:t1": ["x9"],
            "conflict:x9": planted | {"description": "CANARY"},
            "trip:t-other": {"id": "t-other", "userId": STRANGER, "title": "Theirs"},
        }
    )
    found = await detect(gw)
    (recorded,) = found["recorded"]
    assert [c["id"] for c in found["conflicts"]] == [recorded["id"]]
    assert "CANARY" not in str(found)
    assert await store.get("conflicts:index:t1") == ["x9", recorded["id"]]
    # An item of another trip the owner may read, listed in t1's itinerary, is not t1's.
    other = item("o1", "2026-06-10T12:10", "2026-06-10T12:20") | {"tripId": "t-mine"}
    await store.set_many(
        {
            "trip:t-mine": {"id": "t-mine", "userId": OWNER, "title": "Mine too"},
            "item:o1": other,
            "items:index:t1": ["b", "c", "o1"],
        }
    )
    assert (await detect(gw))["recorded"] == []


async def test_a_trips_time_zone_is_set_through_the_api(gw: Gateway, store: Store) -> None:
    create = mutation("createTrip", "trip { id timeZone }")
    update = mutation("updateTrip", "trip { id timeZone }")
    made = payload(
        await gw.ok(create, {"input": {"title": "T", "timeZone": " Europe/Lisbon "}}, viewer=OWNER)
    )
    assert made["trip"]["timeZone"] == "Europe/Lisbon"
    trip_id = made["trip"]["id"]
    for input_ in ({"title": "T", "timeZone": "Mars/Base"}, {"title": "T", "timeZone": "../x"}):
        errors = await refused(gw, store, create, input_, OWNER)
        assert [(e["field"], e["code"]) for e in errors] == [("timeZone", "BAD_USER_INPUT")]
    errors = await refused(gw, store, update, {"id": trip_id, "timeZone": "Nowhere"}, OWNER)
    assert [(e["field"], e["code"]) for e in errors] == [("timeZone", "BAD_USER_INPUT")]
    changed = payload(
        await gw.ok(update, {"input": {"id": trip_id, "timeZone": "Asia/Tokyo"}}, viewer=OWNER)
    )
    assert changed["trip"]["timeZone"] == "Asia/Tokyo"
    # An app's `tz` reads as the trip's zone, and detection uses it.
    items = [
        item("local", "2026-06-10T10:00", "2026-06-10T12:00"),
        item("utc", "2026-06-10T11:00:00Z", "2026-06-10T13:00:00Z"),
    ]
    await store.set_many(table(items, tz="Europe/Lisbon"))
    assert (await gw.ok('{ trip(id: "t1") { timeZone } }', viewer=OWNER)) == {
        "trip": {"timeZone": "Europe/Lisbon"}
    }
    assert (await detect(gw))["conflicts"] == []


async def test_concurrent_resolves_resolve_once(gw: Gateway, store: Store) -> None:
    await store.set_many(table([EDGES[1], EDGES[2]]))
    (overlap,) = (await detect(gw))["recorded"]
    runs = await asyncio.gather(
        *(
            gw.ok(RESOLVE, {"input": {"id": overlap["id"], "resolution": f"r{n}"}}, viewer=OWNER)
            for n in range(5)
        )
    )
    outcomes = [payload(r) for r in runs]
    done_ = [o["conflict"] for o in outcomes if o["conflict"]]
    assert len(done_) == 1
    assert [o["userErrors"][0]["code"] for o in outcomes if not o["conflict"]] == ["NOT_OPEN"] * 4
    stored = await store.get(f"conflict:{overlap['id']}")
    assert stored["resolution"] == done_[0]["resolution"]


async def test_a_conflict_list_kvgraph_cannot_read_is_left_as_it_is(
    gw: Gateway, store: Store
) -> None:
    await store.set_many(table([EDGES[1], EDGES[2]]) | {"conflicts:index:t1": {"not": "a list"}})
    errors = await refused(gw, store, DETECT, {"tripId": "t1"}, OWNER)
    assert [e["code"] for e in errors] == ["INVALID_RECORD"]
    assert "conflicts:index:t1" in errors[0]["message"]
