"""Every mutation asks for a signed-in user; another user's records look missing; a trip's
roles decide who edits it; mutations of one request see each other's writes.

Every failing mutation is run through `refused`, which also checks that nothing at all was
written (all keys and values are compared before and after).
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ACCEPT,
    ADD_ITEM,
    ADD_TO_COLLECTION,
    ALICE,
    BOB,
    CREATE_COLLECTION,
    CREATE_TRIP,
    DELETE_COLLECTION,
    DELETE_CONV,
    DELETE_TRIP,
    DISMISS,
    INVITE,
    MOVE_IN_COLLECTION,
    MOVE_ITEM,
    NOWHERE,
    POST_MESSAGE,
    REMOVE_COLLAB,
    REMOVE_FROM_COLLECTION,
    REMOVE_ITEM,
    SAVE,
    START_CONV,
    TRIP_ITEMS,
    UNSAVE,
    UPDATE_COLLAB,
    UPDATE_COLLECTION,
    UPDATE_ITEM,
    UPDATE_PROFILE,
    UPDATE_TRIP,
    Gateway,
    done,
    dump,
    fields,
    index,
    item_for,
    keys_of,
    refused,
    suggestion,
    trip_for,
)

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
    (INVITE, {"tripId": NOWHERE, "userId": BOB}),
    (UPDATE_COLLAB, {"tripId": NOWHERE, "userId": BOB, "role": "EDITOR"}),
    (REMOVE_COLLAB, {"tripId": NOWHERE, "userId": BOB}),
    (CREATE_COLLECTION, {"name": "x"}),
    (UPDATE_COLLECTION, {"id": NOWHERE, "name": "x"}),
    (DELETE_COLLECTION, {"id": NOWHERE}),
    (ADD_TO_COLLECTION, {"collectionId": NOWHERE, "placeId": NOWHERE}),
    (MOVE_IN_COLLECTION, {"collectionId": NOWHERE, "placeId": NOWHERE, "position": 0}),
    (REMOVE_FROM_COLLECTION, {"collectionId": NOWHERE, "placeId": NOWHERE}),
    (UPDATE_PROFILE, {"displayName": "x"}),
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
