"""`updateProfile`: the viewer's own `profile:{userId}` only (made if missing, unknown fields
kept); other users still see only the public fields."""

from __future__ import annotations

import asyncio

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    CREATE_COLLECTION,
    INVITE,
    UPDATE_PROFILE,
    Gateway,
    done,
    dump,
    fields,
    refused,
    trip_for,
)

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

AVATAR = "https://cdn.example.com/a.png"


async def test_update_profile_creates_then_changes_it(gw: Gateway, store: Store) -> None:
    user = await done(gw, UPDATE_PROFILE, {"displayName": "  Alice  "})
    assert user == {"id": ALICE, "displayName": "Alice", "avatarUrl": None, "email": None}
    stored = await store.get(k.PROFILE.key(ALICE))
    assert stored["id"] == ALICE and stored["displayName"] == "Alice" and stored["createdAt"]
    user = await done(gw, UPDATE_PROFILE, {"avatarUrl": AVATAR})
    assert (user["displayName"], user["avatarUrl"]) == ("Alice", AVATAR)
    user = await done(gw, UPDATE_PROFILE, {"displayName": "", "avatarUrl": None})
    assert (user["displayName"], user["avatarUrl"]) == (None, None)


async def test_fields_kvgraph_does_not_know_are_kept(gw: Gateway, store: Store) -> None:
    await store.set(
        k.PROFILE.key(ALICE),
        {"id": ALICE, "email": "a@example.com", "name": "Al", "plan": {"tier": "pro"}},
    )
    user = await done(gw, UPDATE_PROFILE, {"displayName": "Alice"})
    assert user["email"] == "a@example.com" and user["displayName"] == "Alice"
    stored = await store.get(k.PROFILE.key(ALICE))
    # `name` is the synonym the record already used: the write goes there.
    assert stored["plan"] == {"tier": "pro"} and stored["name"] == "Alice"


async def test_others_see_public_fields_only(gw: Gateway, store: Store) -> None:
    await store.set(k.PROFILE.key(ALICE), {"id": ALICE, "email": "a@example.com"})
    await done(gw, UPDATE_PROFILE, {"displayName": "Alice", "avatarUrl": AVATAR})
    trip_id = (await trip_for(gw))["id"]
    await done(gw, CREATE_COLLECTION, {"name": "Private"})
    await done(gw, INVITE, {"tripId": trip_id, "userId": BOB})
    query = """query($id: ID!) { trip(id: $id) {
      owner { id displayName avatarUrl email trips { totalCount }
        collections { totalCount } savedPlaces { totalCount } } } }"""
    data = await gw.ok(query, {"id": trip_id}, viewer=BOB)
    assert data["trip"]["owner"] == {
        "id": ALICE,
        "displayName": "Alice",
        "avatarUrl": AVATAR,
        "email": None,
        "trips": {"totalCount": 0},
        "collections": {"totalCount": 0},
        "savedPlaces": {"totalCount": 0},
    }
    mine = await gw.ok(query, {"id": trip_id}, viewer=ALICE)
    assert mine["trip"]["owner"]["collections"] == {"totalCount": 1}
    # BOB's update writes BOB's profile, never ALICE's.
    before = await store.get(k.PROFILE.key(ALICE))
    assert (await done(gw, UPDATE_PROFILE, {"displayName": "Bob"}, BOB))["id"] == BOB
    assert await store.get(k.PROFILE.key(ALICE)) == before


@pytest.mark.parametrize(
    ("input_", "expected"),
    [
        ({"avatarUrl": "javascript:alert(1)"}, [("avatarUrl", "BAD_USER_INPUT")]),
        ({"avatarUrl": "not a url"}, [("avatarUrl", "BAD_USER_INPUT")]),
        ({"displayName": "x" * 201}, [("displayName", "BAD_USER_INPUT")]),
        ({}, [(None, "BAD_USER_INPUT")]),
    ],
)
async def test_bad_input_is_refused(
    gw: Gateway, store: Store, input_: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    await store.set(k.PROFILE.key(ALICE), {"id": ALICE, "displayName": "Alice"})
    assert fields(await refused(gw, store, UPDATE_PROFILE, input_)) == expected


async def test_anonymous_is_refused(gw: Gateway, store: Store) -> None:
    before = await dump(store)
    result = await gw.run(UPDATE_PROFILE, {"input": {"displayName": "x"}})
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]
    assert await dump(store) == before


async def test_concurrent_updates_of_a_missing_profile_both_land(gw: Gateway, store: Store) -> None:
    await asyncio.gather(
        done(gw, UPDATE_PROFILE, {"displayName": "Alice"}),
        done(gw, UPDATE_PROFILE, {"avatarUrl": AVATAR}),
    )
    stored = await store.get(k.PROFILE.key(ALICE))
    assert (stored["displayName"], stored["avatarUrl"]) == ("Alice", AVATAR)
