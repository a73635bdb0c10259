"""The same text and id rules on both stores (issue 7, item 5): NUL characters and lone
surrogates are refused in anything written, ids have a length limit and a character set.

Every refusal is a userError with its field and code, and the whole table is unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import BACKENDS, Gateway, done, mutation, refused

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "u-text"


CREATE_TRIP = mutation("createTrip", "trip { id title }")
UPDATE_TRIP = mutation("updateTrip", "trip { id }")
ADD_ITEM = mutation("addItineraryItem", "item { id }")
START = mutation("startConversation", "conversation { id }")
POST = mutation("postMessage", "message { id }")
NUL, SURROGATE = "\x00", "\ud83d"  # a lone high surrogate (half an emoji)


@pytest.fixture
async def trip_id(gw: Gateway) -> str:
    return (await done(gw, CREATE_TRIP, {"title": "Lisbon"}, U))["id"]


@pytest.fixture
async def conversation_id(gw: Gateway) -> str:
    return (await done(gw, START, {"title": "Plans"}, U))["id"]


async def test_nul_in_a_trip_title(gw: Gateway, store: Store) -> None:
    (error,) = await refused(gw, store, CREATE_TRIP, {"title": f"Lis{NUL}bon"}, U)
    assert (error["field"], error["code"]) == ("title", "BAD_USER_INPUT")
    assert error["message"] == "title contains a NUL character (U+0000)"


async def test_lone_surrogate_in_item_notes(gw: Gateway, store: Store, trip_id: str) -> None:
    input_ = {"tripId": trip_id, "title": "Tram 28", "notes": f"bring {SURROGATE} coins"}
    (error,) = await refused(gw, store, ADD_ITEM, input_, U)
    assert (error["field"], error["code"]) == ("notes", "BAD_USER_INPUT")
    assert "lone surrogate (U+D83D)" in error["message"]


@pytest.mark.parametrize(
    ("query", "input_", "field"),
    [
        (UPDATE_TRIP, {"destination": f"Porto{NUL}"}, "destination"),
        (POST, {"content": f"hi{SURROGATE}"}, "content"),
        (START, {"title": f"{NUL}", "message": "hi"}, "title"),
        (START, {"title": "ok", "message": f"{SURROGATE}"}, "message"),
    ],
    ids=["update-trip", "post-message", "start-title", "start-message"],
)
async def test_other_mutations_refuse_bad_text(
    gw: Gateway,
    store: Store,
    trip_id: str,
    conversation_id: str,
    query: str,
    input_: dict[str, Any],
    field: str,
) -> None:
    ids = {UPDATE_TRIP: {"id": trip_id}, POST: {"conversationId": conversation_id}}
    (error,) = await refused(gw, store, query, {**ids.get(query, {}), **input_}, U)
    assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")


async def test_a_100000_character_client_id(gw: Gateway, store: Store) -> None:
    (error,) = await refused(gw, store, CREATE_TRIP, {"id": "x" * 100_000, "title": "Long"}, U)
    assert (error["field"], error["code"]) == ("id", "BAD_USER_INPUT")
    assert "at most 200 characters (this one has 100,000)" in error["message"]
    assert len(error["message"]) < 200  # the id itself is not echoed


@pytest.mark.parametrize("bad", ["a:b", "tab\there", f"nul{NUL}", f"half{SURROGATE}", "x" * 201])
async def test_client_ids_outside_the_id_rule(gw: Gateway, store: Store, bad: str) -> None:
    (error,) = await refused(gw, store, CREATE_TRIP, {"id": bad, "title": "Odd"}, U)
    assert (error["field"], error["code"]) == ("id", "BAD_USER_INPUT")


@pytest.mark.parametrize("good", ["x" * 200, "trip_lisbon-2025.v2", "viagem-à-praia-🙂"])
async def test_client_ids_inside_the_id_rule(gw: Gateway, store: Store, good: str) -> None:
    assert (await done(gw, CREATE_TRIP, {"id": good, "title": "Fine"}, U))["id"] == good
    assert (await store.get(f"trip:{good}"))["title"] == "Fine"
