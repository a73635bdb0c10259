"""Acceptance, trip tables of the seed (trips, itinerary_items, locations, saved_places,
collections, trip_collaborators, budget_tracking, conflict_resolutions,
proactive_suggestions, booking_workflows): written as the travel planner writes them, read
and changed over HTTP, the table checked afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from tests.acceptance.conftest import App
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

USER = "user-456"
FRIEND = "user-777"
STRANGER = "user-999"
T = "5f0c8a4e-3b7d-4c1e-9a52-2d6f1e8b7c30"
ERRORS = "userErrors { field message code }"

CATALOG: dict[str, Any] = {
    "event:e1": {
        "id": "e1",
        "name": "Fado night",
        "city": "Lisbon",
        "startsAt": "2025-01-11T21:00:00Z",
        "endsAt": "2025-01-11T23:30:00Z",
        "tags": ["music"],
        "createdAt": 1734000000000,
    },
    "restaurant:42": {  # a numeric id, as a SQL-minded app writes it
        "id": 42,
        "name": "Taberna",
        "city": "Lisbon",
        "cuisine": "portuguese",
        "rating": 4.6,
        "priceLevel": "$$",
        "openingHours": {"mon": "12:00-23:00"},
        "lat": 38.71,
        "lng": -9.14,
    },
    "rental:r9": {
        "id": "r9",
        "title": "Alfama loft",
        "city": "Lisbon",
        "pricePerNight": 120,
        "bedrooms": 2,
        "image": "https://example.com/r9.jpg",
    },
    "events:index": ["e1"],
    "restaurants:index": [42],
    "rentals:index": ["r9"],
}

TRIP: dict[str, Any] = {
    f"trip:{T}": {
        "id": T,
        "userId": USER,
        "title": "Lisbon long weekend",
        "destination": "Lisbon",
        "startDate": "2025-01-10",
        "endDate": "2025-01-13",
        "currency": "EUR",
        "createdAt": "2024-12-20T08:00:00.000Z",
        "coverPhoto": {"url": "https://example.com/l.jpg"},
    },
    "trip:t-old": {"id": "t-old", "userId": USER, "name": "Porto", "createdAt": 1733000000000},
    f"trips:index:{USER}": [T, "t-old"],
    "item:i1": {
        "id": "i1",
        "tripId": T,
        "title": "Dinner",
        "kind": "meal",
        "startTime": "2025-01-10T20:00:00+00:00",
        "endTime": "2025-01-10T22:00:00+00:00",
        "cost": 80,
        "locationType": "restaurant",
        "locationId": "42",
    },
    "item:i2": {
        "id": "i2",
        "tripId": T,
        "title": "Fado",
        "kind": "activity",
        "startTime": "2025-01-11T21:00:00",  # local wall-clock time, no offset
        "endTime": "2025-01-11T23:30:00",
        "cost": 35.5,
        "locationType": "event",
        "locationId": "e1",
    },
    "item:i3": {
        "id": "i3",
        "tripId": T,
        "title": "Stay",
        "kind": "stay",
        "cost": 360,
        "currency": "EUR",
        "locationType": "rental",
        "locationId": "r9",
        "bookingRef": "ABC123",
    },
    "item:i4": {"id": "i4", "tripId": T, "name": "Walk", "notes": "free"},
    f"items:index:{T}": ["i1", "i2", "i3", "i4"],
}


async def test_trips_items_and_their_places(app: App) -> None:
    await app.write({**CATALOG, **TRIP})
    query = """{ viewer { trips { totalCount nodes { id title destination startDate endDate
        currency createdAt items { totalCount nodes { id title kind startTime endTime notes
        cost { amount currency } location { __typename id name city } } } } } } }"""
    trips = (await app.ok(query, user=USER))["viewer"]["trips"]
    assert trips["totalCount"] == 2
    lisbon, porto = trips["nodes"]
    assert (porto["id"], porto["title"], porto["createdAt"]) == (
        "t-old",
        "Porto",
        "2024-11-30T20:53:20+00:00",
    )
    assert lisbon["startDate"] == "2025-01-10" and lisbon["endDate"] == "2025-01-13"
    assert lisbon["createdAt"] == "2024-12-20T08:00:00+00:00"
    items = lisbon["items"]["nodes"]
    assert [i["id"] for i in items] == ["i1", "i2", "i3", "i4"]
    assert items[0]["cost"] == {"amount": 80.0, "currency": "EUR"}
    assert items[0]["location"] == {
        "__typename": "Restaurant",
        "id": "42",
        "name": "Taberna",
        "city": "Lisbon",
    }
    assert items[1]["startTime"] == "2025-01-11T21:00:00"  # stays a local time
    assert items[1]["location"]["__typename"] == "Event"
    assert items[2]["location"]["name"] == "Alfama loft" and items[2]["kind"] == "STAY"
    assert (items[3]["title"], items[3]["kind"], items[3]["location"]) == ("Walk", None, None)
    assert await app.ok(f'{{ trip(id: "{T}") {{ id }} }}', user=STRANGER) == {"trip": None}


async def test_the_catalog(app: App) -> None:
    await app.write(CATALOG)
    query = """{ locations(first: 10) { totalCount nodes { __typename id name latitude longitude
        rating priceLevel imageUrl ... on Restaurant { cuisine openingHours }
        ... on Rental { pricePerNight bedrooms } ... on Event { startsAt endsAt } } } }"""
    found = (await app.ok(query, user=USER))["locations"]
    assert found["totalCount"] == 3
    by_id = {node["id"]: node for node in found["nodes"]}
    assert by_id["42"]["latitude"] == 38.71 and by_id["42"]["longitude"] == -9.14
    assert by_id["42"]["priceLevel"] == 2 and by_id["42"]["cuisine"] == "portuguese"
    assert by_id["r9"]["name"] == "Alfama loft" and by_id["r9"]["bedrooms"] == 2
    assert by_id["r9"]["imageUrl"] == "https://example.com/r9.jpg"
    assert by_id["e1"]["startsAt"] == "2025-01-11T21:00:00+00:00"
    one = await app.ok('{ location(id: "42") { name } }', user=USER)
    assert one == {"location": {"name": "Taberna"}}


async def test_item_mutations_keep_the_index_and_the_apps_fields(app: App) -> None:
    await app.write({**CATALOG, **TRIP})
    add = f"""mutation {{ addItineraryItem(input: {{tripId: "{T}", title: "Museum",
        kind: ACTIVITY, startTime: "2025-01-12T10:00:00", cost: 12, locationType: EVENT,
        locationId: "e1", position: 1}}) {{ item {{ id }} {ERRORS} }} }}"""
    new = (await app.mutate(add, user=USER))["item"]["id"]
    assert await app.raw(f"items:index:{T}") == ["i1", new, "i2", "i3", "i4"]
    stored = await app.raw(f"item:{new}")
    assert stored["tripId"] == T and stored["kind"] == "activity"
    # A local time stays local (no offset added), in the millisecond form JavaScript writes.
    assert stored["startTime"] == "2025-01-12T10:00:00.000" and stored["cost"] == 12
    assert (stored["locationType"], stored["locationId"]) == ("event", "e1")
    update = f"""mutation {{ updateItineraryItem(input: {{id: "i4", title: "Long walk"}})
        {{ item {{ title }} {ERRORS} }} }}"""
    await app.mutate(update, user=USER)
    walk = await app.raw("item:i4")
    assert walk == {"id": "i4", "tripId": T, "name": "Long walk", "notes": "free", **stamp(walk)}
    update_trip = f"""mutation {{ updateTrip(input: {{id: "t-old", title: "Porto again"}})
        {{ trip {{ title }} {ERRORS} }} }}"""
    await app.mutate(update_trip, user=USER)
    porto = await app.raw("trip:t-old")
    assert porto["name"] == "Porto again" and "title" not in porto
    assert isinstance(porto["updatedAt"], int) or porto["updatedAt"].endswith("Z")
    remove = f'mutation {{ removeItineraryItem(input: {{id: "i1"}}) {{ {ERRORS} }} }}'
    await app.mutate(remove, user=USER)
    assert await app.raw(f"items:index:{T}") == [new, "i2", "i3", "i4"]
    create = f"""mutation {{ createTrip(input: {{title: "Kyoto", startDate: "2025-04-01"}})
        {{ trip {{ id }} {ERRORS} }} }}"""
    kyoto = (await app.mutate(create, user=USER))["trip"]["id"]
    assert await app.raw(f"trips:index:{USER}") == [T, "t-old", kyoto]
    assert (await app.raw(f"trip:{kyoto}"))["startDate"] == "2025-04-01"


def stamp(record: dict[str, Any]) -> dict[str, Any]:
    """The `updatedAt` kvgraph stamped (ISO UTC), which must be there."""
    assert record["updatedAt"].endswith("Z"), record
    return {"updatedAt": record["updatedAt"]}


async def test_saved_places_both_patterns(app: App) -> None:
    await app.write(
        {
            **CATALOG,
            f"saved:{USER}": [42, "event:e1"],
            f"saved:{FRIEND}:r9": {"savedAt": "2024-12-01T10:00:00Z", "kind": "rental"},
            f"saved:{FRIEND}:42": {},
        }
    )
    query = "{ viewer { savedPlaces { totalCount nodes { __typename id name } } } }"
    mine = (await app.ok(query, user=USER))["viewer"]["savedPlaces"]
    assert mine["totalCount"] == 2
    assert mine["nodes"] == [
        {"__typename": "Restaurant", "id": "42", "name": "Taberna"},
        {"__typename": "Event", "id": "e1", "name": "Fado night"},
    ]
    theirs = (await app.ok(query, user=FRIEND))["viewer"]["savedPlaces"]
    assert {n["id"] for n in theirs["nodes"]} == {"r9", "42"}
    save = f'mutation {{ savePlace(input: {{placeId: "r9", kind: RENTAL}}) {{ place {{ id }} {ERRORS} }} }}'
    await app.mutate(save, user=USER)
    assert await app.raw(f"saved:{USER}") == [42, "event:e1", "r9"]
    await app.mutate(save.replace("r9", "e1").replace("RENTAL", "EVENT"), user=FRIEND)
    assert await app.raw(f"saved:{FRIEND}") is None  # that user's places are keys
    assert await app.raw(f"saved:{FRIEND}:e1") is not None
    unsave = f'mutation {{ unsavePlace(input: {{placeId: "42"}}) {{ {ERRORS} }} }}'
    await app.mutate(unsave, user=USER)
    assert await app.raw(f"saved:{USER}") == ["event:e1", "r9"]
    await app.mutate(unsave, user=FRIEND)
    assert await app.raw(f"saved:{FRIEND}:42") is None


async def test_collections(app: App) -> None:
    await app.write(
        {
            **CATALOG,
            "collection:c1": {
                "id": "c1",
                "userId": USER,
                "title": "Lisbon eats",
                "places": ["42", "e1"],
                "createdAt": "2024-12-02T10:00:00Z",
                "color": "teal",
            },
            "collection:c2": {"id": "c2", "userId": USER, "name": "Empty"},
            f"collections:index:{USER}": ["c1", "c2"],
        }
    )
    query = """{ viewer { collections { totalCount nodes { id name createdAt
        places { nodes { id name } } } } } }"""
    found = (await app.ok(query, user=USER))["viewer"]["collections"]
    assert found["totalCount"] == 2
    eats, empty = found["nodes"]
    assert (eats["name"], eats["createdAt"]) == ("Lisbon eats", "2024-12-02T10:00:00+00:00")
    assert eats["places"]["nodes"] == [
        {"id": "42", "name": "Taberna"},
        {"id": "e1", "name": "Fado night"},
    ]
    assert empty["places"]["nodes"] == []
    add = f"""mutation {{ addCollectionPlace(input: {{collectionId: "c1", placeId: "r9",
        kind: RENTAL, position: 0}}) {{ {ERRORS} }} }}"""
    await app.mutate(add, user=USER)
    stored = await app.raw("collection:c1")
    assert stored["places"][1:] == ["42", "e1"] and len(stored["places"]) == 3
    assert "placeIds" not in stored and stored["title"] == "Lisbon eats"
    assert stored["color"] == "teal"
    create = f'mutation {{ createCollection(input: {{name: "New"}}) {{ collection {{ id }} {ERRORS} }} }}'
    new = (await app.mutate(create, user=USER))["collection"]["id"]
    assert await app.raw(f"collections:index:{USER}") == ["c1", "c2", new]
    assert await app.ok('{ collection(id: "c1") { id } }', user=STRANGER) == {"collection": None}


async def test_collaborators(app: App) -> None:
    await app.write(
        {
            **TRIP,
            f"collaborator:{T}:{FRIEND}": {
                "tripId": T,
                "userId": FRIEND,
                "role": "viewer",
                "invitedAt": "2024-12-21T09:00:00Z",
            },
            f"profile:{FRIEND}": {"id": FRIEND, "displayName": "Bo", "email": "bo@example.com"},
        }
    )
    query = f"""{{ trip(id: "{T}") {{ title collaborators {{ totalCount nodes {{ userId role
        invitedAt user {{ displayName }} }} }} }} }}"""
    trip = (await app.ok(query, user=USER))["trip"]
    assert trip["collaborators"] == {
        "totalCount": 1,
        "nodes": [
            {
                "userId": FRIEND,
                "role": "VIEWER",
                "invitedAt": "2024-12-21T09:00:00+00:00",
                "user": {"displayName": "Bo"},
            }
        ],
    }
    shared = await app.ok(f'{{ trip(id: "{T}") {{ title owner {{ id }} }} }}', user=FRIEND)
    assert shared == {"trip": {"title": "Lisbon long weekend", "owner": {"id": USER}}}
    write = f'mutation {{ updateTrip(input: {{id: "{T}", title: "Mine"}}) {{ trip {{ id }} {ERRORS} }} }}'
    refused = await app.post(write, user=FRIEND)
    assert refused.get("errors") or refused["data"]["updateTrip"]["userErrors"]
    assert (await app.raw(f"trip:{T}"))["title"] == "Lisbon long weekend"
    invite = f"""mutation {{ inviteCollaborator(input: {{tripId: "{T}", userId: "{STRANGER}",
        role: EDITOR}}) {{ {ERRORS} }} }}"""
    await app.mutate(invite, user=USER)
    entry = await app.raw(f"collaborator:{T}:{STRANGER}")
    assert (entry["tripId"], entry["userId"], entry["role"]) == (T, STRANGER, "editor")
    assert entry["invitedAt"].endswith("Z")
    await app.mutate(write.replace("Mine", "Edited"), user=STRANGER)
    assert (await app.raw(f"trip:{T}"))["title"] == "Edited"
    remove = f"""mutation {{ removeCollaborator(input: {{tripId: "{T}", userId: "{FRIEND}"}})
        {{ {ERRORS} }} }}"""
    await app.mutate(remove, user=USER)
    assert await app.raw(f"collaborator:{T}:{FRIEND}") is None
    assert await app.ok(f'{{ trip(id: "{T}") {{ id }} }}', user=FRIEND) == {"trip": None}


async def test_budget_and_its_alerts(app: App) -> None:
    await app.write(
        {
            **TRIP,
            # "Store: total, spent, alerts, breakdown": the app's own running figures too.
            f"budget:{T}": {
                "tripId": T,
                "total": 500,
                "currency": "EUR",
                "spent": 10,
                "breakdown": {"meal": 10},
                "thresholds": [0.8, 1.0],
                "updatedAt": "2024-12-22T10:00:00Z",
            },
            f"budget:alerts:{T}": [
                {
                    "type": "threshold",
                    "threshold": 0.5,
                    "spent": 260,
                    "total": 500,
                    "currency": "EUR",
                    "message": "Half the budget is spent",
                    "at": "2024-12-22T10:00:00Z",
                },
                # An app's percentage and its own name for the time.
                {"threshold": 80, "message": "80% used", "createdAt": 1735034400000},
            ],
        }
    )
    query = f"""{{ trip(id: "{T}") {{ budget {{ tripId total currency spent remaining thresholds
        breakdown {{ kind spent itemCount }} alerts {{ totalCount nodes {{ type threshold spent
        message at }} }} }} }} }}"""
    budget = (await app.ok(query, user=USER))["trip"]["budget"]
    assert (budget["tripId"], budget["total"], budget["currency"]) == (T, 500.0, "EUR")
    assert budget["spent"] == 475.5 and budget["remaining"] == 24.5
    assert budget["thresholds"] == [0.8, 1.0]
    assert {(b["kind"], b["spent"], b["itemCount"]) for b in budget["breakdown"]} >= {
        ("MEAL", 80.0, 1),
        ("ACTIVITY", 35.5, 1),
        ("STAY", 360.0, 1),
    }
    assert budget["alerts"]["nodes"][0] == {
        "type": "THRESHOLD",
        "threshold": 0.5,
        "spent": 260.0,
        "message": "Half the budget is spent",
        "at": "2024-12-22T10:00:00+00:00",
    }
    assert budget["alerts"]["nodes"][1] == {
        "type": None,
        "threshold": 80.0,
        "spent": None,
        "message": "80% used",
        "at": "2024-12-24T10:00:00+00:00",
    }
    update = f'mutation {{ updateBudget(input: {{tripId: "{T}", total: 450}}) {{ {ERRORS} }} }}'
    await app.mutate(update, user=USER)
    stored = await app.raw(f"budget:{T}")
    assert stored["total"] == 450 and stored["breakdown"] == {"meal": 10}
    alerts = await app.raw(f"budget:alerts:{T}")
    assert alerts[0]["message"] == "Half the budget is spent"
    # 475.5 of 450 crosses 100 % (80 % is recorded already, as the app's 80): once.
    assert [a["threshold"] for a in alerts[2:]] == [1.0]
    assert alerts[1] == {"threshold": 80, "message": "80% used", "createdAt": 1735034400000}
    await app.mutate(update.replace("450", "440"), user=USER)
    assert len(await app.raw(f"budget:alerts:{T}")) == 3


async def test_conflicts(app: App) -> None:
    await app.write(
        {
            **TRIP,
            "conflict:cf1": {
                "id": "cf1",
                "tripId": T,
                "conflictType": "overlap",
                "description": "Dinner overlaps the show",
                "itemIds": ["i1", "i2"],
                "createdAt": "2024-12-23T10:00:00Z",
                "severity": "high",
            },
            f"conflicts:index:{T}": ["cf1"],
        }
    )
    query = f"""{{ trip(id: "{T}") {{ conflicts {{ totalCount nodes {{ id type status
        description detectedAt items {{ id }} }} }} }} }}"""
    conflicts = (await app.ok(query, user=USER))["trip"]["conflicts"]
    assert conflicts == {
        "totalCount": 1,
        "nodes": [
            {
                "id": "cf1",
                "type": "OVERLAP",
                "status": "OPEN",
                "description": "Dinner overlaps the show",
                "detectedAt": "2024-12-23T10:00:00+00:00",
                "items": [{"id": "i1"}, {"id": "i2"}],
            }
        ],
    }
    resolve = f"""mutation {{ resolveConflict(input: {{id: "cf1", resolution: "moved dinner"}})
        {{ conflict {{ status }} {ERRORS} }} }}"""
    await app.mutate(resolve, user=USER)
    stored = await app.raw("conflict:cf1")
    assert stored["status"] == "resolved" and stored["resolution"] == "moved dinner"
    assert stored["resolvedAt"].endswith("Z") and stored["resolvedBy"] == USER
    assert stored["conflictType"] == "overlap" and "type" not in stored
    assert stored["severity"] == "high"
    detect = f"""mutation {{ detectConflicts(input: {{tripId: "{T}"}}) {{ {ERRORS} }} }}"""
    await app.mutate(detect, user=USER)
    index = await app.raw(f"conflicts:index:{T}")
    assert index[0] == "cf1"
    for cid in index[1:]:
        assert (await app.raw(f"conflict:{cid}"))["tripId"] == T
    assert await app.ok(query, user=STRANGER) == {"trip": None}


SUGGESTIONS: dict[str, Any] = {
    "suggestion:s1": {
        "id": "s1",
        "userId": USER,
        "tripId": T,
        "title": "Try Taberna",
        "content": "A local favourite near your hotel.",
        "confidence": 0.92,
        "shown_at": "2024-12-24T09:00:00Z",
        "status": "active",
        "action": {"type": "addPlace", "placeType": "restaurant", "placeId": "42"},
    },
    "suggestion:s2": {
        "id": "s2",
        "userId": USER,
        "message": "Pack an umbrella",
        "status": "active",
        "expiresAt": "2024-12-01T00:00:00Z",  # passed: expired
    },
    "suggestion:s3": {"id": "s3", "userId": USER, "content": "Book early", "status": "active"},
    f"suggestions:index:{USER}": ["s1", "s2", "s3"],
    f"suggestions:active:{USER}": ["s1", "s2", "s3"],
}


async def test_suggestions(app: App) -> None:
    await app.write({**CATALOG, **TRIP, **SUGGESTIONS})
    query = """{ viewer { suggestions { totalCount nodes { id title content confidence shownAt
        status } } active: suggestions(status: ACTIVE) { nodes { id } } } }"""
    viewer = (await app.ok(query, user=USER))["viewer"]
    s1, s2, s3 = viewer["suggestions"]["nodes"]
    assert (s3["content"], s3["confidence"], s3["shownAt"]) == ("Book early", None, None)
    assert s1 == {
        "id": "s1",
        "title": "Try Taberna",
        "content": "A local favourite near your hotel.",
        "confidence": 0.92,
        "shownAt": "2024-12-24T09:00:00+00:00",
        "status": "ACTIVE",
    }
    assert (s2["content"], s2["status"]) == ("Pack an umbrella", "EXPIRED")
    assert viewer["active"]["nodes"] == [{"id": "s1"}, {"id": "s3"}]
    accept = f'mutation {{ acceptSuggestion(input: {{id: "s1"}}) {{ suggestion {{ item {{ id }} }} {ERRORS} }} }}'
    item = (await app.mutate(accept, user=USER))["suggestion"]["item"]["id"]
    assert (await app.raw(f"items:index:{T}"))[-1] == item
    added = await app.raw(f"item:{item}")
    assert (added["locationType"], added["locationId"], added["tripId"]) == ("restaurant", "42", T)
    accepted = await app.raw("suggestion:s1")
    assert accepted["status"] == "accepted" and accepted["shown_at"] == "2024-12-24T09:00:00Z"
    dismiss = f'mutation {{ dismissSuggestion(input: {{id: "s3"}}) {{ {ERRORS} }} }}'
    await app.mutate(dismiss, user=USER)
    assert (await app.raw("suggestion:s3"))["status"] == "dismissed"
    assert "s1" not in await app.raw(f"suggestions:active:{USER}")
    assert "s3" not in await app.raw(f"suggestions:active:{USER}")
    assert await app.raw(f"suggestions:index:{USER}") == ["s1", "s2", "s3"]


async def test_booking_workflows(app: App) -> None:
    await app.write(
        {
            **TRIP,
            "workflow:w1": {
                "id": "w1",
                "userId": USER,
                "tripId": T,
                "title": "Book the loft",
                "current_step": "searching",
                "status": "active",
                "data": {"nights": 3},
                "createdAt": "2024-12-24T08:00:00Z",
            },
            "workflow:w2": {"id": "w2", "userId": USER},
            f"workflows:index:{USER}": ["w1", "w2"],
        }
    )
    query = """{ viewer { workflows { totalCount nodes { id title currentStep status data
        allowedSteps trip { id } } } } }"""
    w1, w2 = (await app.ok(query, user=USER))["viewer"]["workflows"]["nodes"]
    assert w1["currentStep"] == "SEARCHING" and w1["status"] == "ACTIVE"
    assert w1["data"] == {"nights": 3} and w1["trip"] == {"id": T}
    assert "SELECTED" in w1["allowedSteps"] and "CONFIRMED" not in w1["allowedSteps"]
    assert w2["currentStep"] == "DRAFT" and w2["title"] is None
    advance = f"""mutation($to: WorkflowStep!) {{ advanceBookingWorkflow(input: {{id: "w1",
        to: $to}}) {{ {ERRORS} }} }}"""
    bad = await app.ok(advance, {"to": "CONFIRMED"}, user=USER)
    assert bad["advanceBookingWorkflow"]["userErrors"]
    assert (await app.raw("workflow:w1"))["current_step"] == "searching"
    await app.mutate(advance, {"to": "SELECTED"}, user=USER)
    stored = await app.raw("workflow:w1")
    assert stored["current_step"] == "selected" and "currentStep" not in stored
    assert stored["history"][-1]["step"] == "selected"
    assert stored["history"][-1]["at"].endswith("Z")
    assert await app.ok('{ bookingWorkflow(id: "w1") { id } }', user=STRANGER) == {
        "bookingWorkflow": None
    }


async def test_delete_trip_keeps_every_index(app: App) -> None:
    await app.write(
        {
            **TRIP,
            f"collaborator:{T}:{FRIEND}": {"tripId": T, "userId": FRIEND, "role": "editor"},
            f"trips:index:{FRIEND}": ["t-friend", T],
        }
    )
    delete = f'mutation {{ deleteTrip(input: {{id: "{T}"}}) {{ {ERRORS} }} }}'
    refused = await app.post(delete, user=FRIEND)
    assert refused.get("errors") or refused["data"]["deleteTrip"]["userErrors"]
    assert await app.raw(f"trip:{T}") is not None
    await app.mutate(delete, user=USER)
    assert await app.raw(f"trips:index:{USER}") == ["t-old"]
    assert await app.raw(f"trips:index:{FRIEND}") == ["t-friend"]
    assert await app.raw(f"trip:{T}") is None
    assert await app.raw(f"collaborator:{T}:{FRIEND}") is None
    assert await app.raw(f"items:index:{T}") is None and await app.raw("item:i1") is None
    assert await app.raw("trip:t-old") == TRIP["trip:t-old"]
