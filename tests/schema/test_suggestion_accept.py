"""Accepting a suggestion that adds a place (the item and the decision in one transaction),
concurrent decisions, and suggestions past their `expiresAt`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv.check import repair, scan
from gql.kv.repo import Repository
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    DISMISS,
    Gateway,
    done,
    fields,
    mutation,
    place,
    refused,
    trip_for,
)

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

ACCEPT = mutation(
    "acceptSuggestion",
    "suggestion { id status statusRaw item { id title kind location { __typename id name } "
    "trip { id } } }",
)
PAST, FUTURE = "2020-01-01T00:00:00Z", "2999-01-01T00:00:00Z"
LIST = "query($s: SuggestionStatus) { viewer { suggestions(status: $s) { nodes { id status statusRaw } } } }"


async def suggest(store: Store, user: str = ALICE, **fields_: Any) -> str:
    data = {"userId": user, "content": "Try this", "status": "active", **fields_}
    record = await Repository(store).create(e.SUGGESTION, data)
    return record.id  # type: ignore[attr-defined, no-any-return]


async def add_place(store: Store, gw: Gateway, **action: Any) -> tuple[str, str, str]:
    """(trip id, place id, suggestion id) of a suggestion to add a restaurant to a trip."""
    trip_id = (await trip_for(gw, currency="EUR"))["id"]
    place_id = await place(store, "restaurant", "Tasca")
    action = {"type": "addPlace", "placeType": "restaurant", "placeId": place_id, **action}
    return trip_id, place_id, await suggest(store, tripId=trip_id, action=action)


async def trip_items(store: Store, trip_id: str) -> Any:
    return await store.get(k.ITEMS_INDEX.key(trip_id))


async def test_accepting_adds_the_place_to_the_trip(gw: Gateway, store: Store) -> None:
    trip_id, place_id, sid = await add_place(store, gw, notes="Book ahead")
    accepted = await done(gw, ACCEPT, {"id": sid})
    item = accepted["item"]
    assert accepted["status"] == "ACCEPTED"
    assert item["title"] == "Tasca" and item["kind"] == "MEAL"
    assert item["location"] == {"__typename": "Restaurant", "id": place_id, "name": "Tasca"}
    assert item["trip"] == {"id": trip_id}
    assert await trip_items(store, trip_id) == [item["id"]]
    stored = await store.get(k.SUGGESTION.key(sid))
    assert (stored["status"], stored["itemId"]) == ("accepted", item["id"])
    assert (await store.get(k.ITEM.key(item["id"])))["notes"] == "Book ahead"
    assert await store.get(k.SUGGESTIONS_ACTIVE.key(ALICE)) == []


async def test_accepting_a_plain_suggestion_adds_nothing(gw: Gateway, store: Store) -> None:
    sid = await suggest(store)
    accepted = await done(gw, ACCEPT, {"id": sid})
    assert (accepted["status"], accepted["item"]) == ("ACCEPTED", None)
    assert not [key async for key, _ in store.iter_prefix("item:")]


async def test_an_accepted_cost_can_cross_the_budget(gw: Gateway, store: Store) -> None:
    trip_id, _, sid = await add_place(store, gw, cost=90)
    create = mutation("createBudget", "budget { spent }")
    await done(gw, create, {"tripId": trip_id, "total": 100})
    await done(gw, ACCEPT, {"id": sid})
    alerts = await store.get(k.BUDGET_ALERTS.key(trip_id))
    assert [a["threshold"] for a in alerts] == [0.8]


async def test_refused_accepts_change_nothing(gw: Gateway, store: Store) -> None:
    trip_id, _, sid = await add_place(store, gw)
    # A collaborator who only views the trip cannot add to it.
    key = k.COLLABORATOR.key(trip_id, BOB)
    await store.set(key, {"tripId": trip_id, "userId": BOB, "role": "viewer"})
    action = {"type": "addPlace", "placeType": "restaurant", "placeId": "nowhere"}
    theirs = await suggest(store, BOB, tripId=trip_id, action=action)
    errors = await refused(gw, store, ACCEPT, {"id": theirs}, viewer=BOB)
    assert fields(errors) == [("id", "FORBIDDEN")]
    await store.set(key, {"tripId": trip_id, "userId": BOB, "role": "editor"})
    errors = await refused(gw, store, ACCEPT, {"id": theirs}, viewer=BOB)
    assert fields(errors) == [("id", "NOT_FOUND")]  # the place is gone
    lost = await suggest(store, tripId="no-such-trip", action={**action, "placeId": "x"})
    assert fields(await refused(gw, store, ACCEPT, {"id": lost})) == [("id", "NOT_FOUND")]
    bare = await suggest(store, action={"type": "addPlace", "placeId": "x"})
    assert fields(await refused(gw, store, ACCEPT, {"id": bare})) == [("id", "INVALID_RECORD")]
    errors = await refused(gw, store, ACCEPT, {"id": sid}, viewer=BOB)  # not Bob's
    assert fields(errors) == [("id", "NOT_FOUND")]


async def test_the_item_and_the_decision_are_written_together(gw: Gateway, store: Store) -> None:
    """An itinerary kvgraph cannot add to refuses the item, and so the acceptance too."""
    trip_id, _, sid = await add_place(store, gw)
    await store.set(k.ITEMS_INDEX.key(trip_id), {"not": "a list"})
    errors = await refused(gw, store, ACCEPT, {"id": sid})
    assert fields(errors) == [(None, "INVALID_RECORD")]
    assert (await store.get(k.SUGGESTION.key(sid)))["status"] == "active"


async def test_accept_and_a_concurrent_dismiss_one_wins(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw))["id"]
    place_id = await place(store, "event", "Fado night")
    action = {"type": "addPlace", "placeType": "event", "placeId": place_id}
    for _ in range(4):
        sid = await suggest(store, tripId=trip_id, action=action)
        runs = [gw.run(query, {"input": {"id": sid}}, viewer=ALICE) for query in (ACCEPT, DISMISS)]
        out = [next(iter(r.data.values())) for r in await asyncio.gather(*runs)]  # type: ignore[attr-defined]
        won = [o for o in out if not o["userErrors"]]
        lost = [o for o in out if o["userErrors"]]
        assert len(won) == 1 and len(lost) == 1
        assert [err["code"] for err in lost[0]["userErrors"]] == ["NOT_ACTIVE"]
        stored = await store.get(k.SUGGESTION.key(sid))
        items = await trip_items(store, trip_id) or []
        if won[0]["suggestion"]["status"] == "ACCEPTED":
            assert stored["status"] == "accepted" and stored["itemId"] in items
        else:
            assert stored["status"] == "dismissed" and "itemId" not in stored
    accepted = [s for s in await _stored(store) if s["status"] == "accepted"]
    assert len(await trip_items(store, trip_id) or []) == len(accepted)
    assert await store.get(k.SUGGESTIONS_ACTIVE.key(ALICE)) == []


async def _stored(store: Store) -> list[dict[str, Any]]:
    return [v async for _, v in store.iter_prefix(k.SUGGESTION.literal_prefix)]


async def test_an_expired_suggestion_is_not_active(gw: Gateway, store: Store) -> None:
    old = await suggest(store)
    later = await suggest(store, expiresAt=FUTURE)
    await store.set(
        k.SUGGESTION.key(old),
        {**await store.get(k.SUGGESTION.key(old)), "expiresAt": PAST},
    )  # expired since it was listed as active
    active_key = k.SUGGESTIONS_ACTIVE.key(ALICE)
    assert await store.get(active_key) == [old, later]
    active = await gw.ok(LIST, {"s": "ACTIVE"}, viewer=ALICE)
    assert active["viewer"]["suggestions"]["nodes"] == [
        {"id": later, "status": "ACTIVE", "statusRaw": "active"}
    ]
    expired = await gw.ok(LIST, {"s": "EXPIRED"}, viewer=ALICE)
    assert expired["viewer"]["suggestions"]["nodes"] == [
        {"id": old, "status": "EXPIRED", "statusRaw": "active"}
    ]
    for query in (ACCEPT, DISMISS):  # refused, and a refusal writes nothing
        errors = await refused(gw, store, query, {"id": old})
        assert fields(errors) == [("id", "NOT_ACTIVE")]
        assert "expired" in errors[0]["message"]
    # The next write to Alice's suggestions stores the expiry and unlists it.
    await done(gw, DISMISS, {"id": later})
    stored = await store.get(k.SUGGESTION.key(old))
    assert (stored["status"], stored["expiresAt"]) == ("expired", PAST)
    assert await store.get(active_key) == []


async def test_a_new_suggestion_sweeps_and_an_expired_one_is_not_listed(
    gw: Gateway, store: Store
) -> None:
    old = await suggest(store)
    await store.set(
        k.SUGGESTION.key(old), {**await store.get(k.SUGGESTION.key(old)), "expiresAt": PAST}
    )
    born_expired = await suggest(store, expiresAt=PAST)
    fresh = await suggest(store)
    assert await store.get(k.SUGGESTIONS_ACTIVE.key(ALICE)) == [fresh]
    assert (await store.get(k.SUGGESTION.key(old)))["status"] == "expired"
    assert (await store.get(k.SUGGESTION.key(born_expired)))["status"] == "active"  # as given
    assert await store.get(k.SUGGESTIONS_INDEX.key(ALICE)) == [old, born_expired, fresh]


async def test_repair_unlists_an_expired_suggestion(gw: Gateway, store: Store) -> None:
    sid = await suggest(store)
    key = k.SUGGESTION.key(sid)
    await store.set(key, {**await store.get(key), "expiresAt": PAST})
    report = await scan(store)
    assert [(p.key, p.id) for p in report.problems] == [(k.SUGGESTIONS_ACTIVE.key(ALICE), sid)]
    await repair(store, report, apply=True)
    assert await store.get(k.SUGGESTIONS_ACTIVE.key(ALICE)) == []
    assert (await scan(store)).clean


async def test_accept_and_a_concurrent_trip_delete_leave_no_half_write(
    gw: Gateway, store: Store
) -> None:
    """Whichever runs first, no item outlives its trip and the suggestion is accepted exactly
    when its item was written."""
    delete = mutation("deleteTrip", "trip { id }")
    for _ in range(4):
        trip_id, _, sid = await add_place(store, gw)
        accept, deleted = await asyncio.gather(
            gw.run(ACCEPT, {"input": {"id": sid}}, viewer=ALICE),
            gw.run(delete, {"input": {"id": trip_id}}, viewer=ALICE),
        )
        assert deleted.data["deleteTrip"]["userErrors"] == []  # type: ignore[attr-defined]
        errors = accept.data["acceptSuggestion"]["userErrors"]  # type: ignore[attr-defined]
        stored = await store.get(k.SUGGESTION.key(sid))
        assert not [key async for key in _items_of(store, trip_id)]
        if errors:
            assert [err["code"] for err in errors] == ["NOT_FOUND"]
            assert stored["status"] == "active" and "itemId" not in stored
        else:
            assert stored["status"] == "accepted"
            assert await store.get(k.ITEM.key(stored["itemId"])) is None  # deleted with it


async def _items_of(store: Store, trip_id: str) -> Any:
    async for key, value in store.iter_prefix(k.ITEM.literal_prefix):
        if isinstance(value, dict) and value.get("tripId") == trip_id:
            yield key
