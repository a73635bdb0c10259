"""A child created while its parent is deleted: either the delete wins cleanly or the create
fails with NOT_FOUND; no orphan and no child index outlives the parent (issue 6, item 7).

Each round fires 20 creates of a child and one delete of its parent at once, plus creates on
a sibling parent that stays, whose index must list exactly the creates that succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.check import scan
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "u-races"
ROUNDS, CHILDREN = 20, 20
UE = "userErrors { field message code }"
CREATE_TRIP = f"mutation($i: CreateTripInput!) {{ createTrip(input: $i) {{ trip {{ id }} {UE} }} }}"
DELETE_TRIP = f"mutation($i: DeleteTripInput!) {{ deleteTrip(input: $i) {{ trip {{ id }} {UE} }} }}"
ADD_ITEM = f"mutation($i: AddItineraryItemInput!) {{ addItineraryItem(input: $i) {{ item {{ id }} {UE} }} }}"
START = (
    "mutation($i: StartConversationInput!) "
    f"{{ startConversation(input: $i) {{ conversation {{ id }} {UE} }} }}"
)
POST = f"mutation($i: PostMessageInput!) {{ postMessage(input: $i) {{ message {{ id }} {UE} }} }}"
DELETE_CONV = (
    "mutation($i: DeleteConversationInput!) "
    f"{{ deleteConversation(input: $i) {{ conversation {{ id }} {UE} }} }}"
)


async def mutate(gw: Gateway, query: str, input_: dict[str, Any]) -> dict[str, Any]:
    """Run a mutation as U; return its payload."""
    (payload,) = (await gw.ok(query, {"i": input_}, viewer=U)).values()
    return payload  # type: ignore[no-any-return]


async def created(gw: Gateway, query: str, input_: dict[str, Any]) -> str:
    payload = await mutate(gw, query, input_)
    assert payload["userErrors"] == []
    (entity,) = (v for name, v in payload.items() if name != "userErrors")
    return entity["id"]  # type: ignore[no-any-return]


def outcome(payload: dict[str, Any]) -> str | None:
    """The id a create returned, or None when it failed with NOT_FOUND (anything else fails)."""
    errors = payload["userErrors"]
    if errors:
        assert [e["code"] for e in errors] == ["NOT_FOUND"], errors
        return None
    (entity,) = (v for name, v in payload.items() if name != "userErrors")
    return entity["id"]  # type: ignore[no-any-return]


async def children_of(store: Store, prefix: str, field: str, parent: str) -> list[str]:
    """Keys of the records under `prefix` whose `field` names `parent`."""
    return [key async for key, value in store.iter_prefix(prefix) if value.get(field) == parent]


async def listed_once(store: Store, index_key: str) -> set[str]:
    """The ids an index lists, after checking that none is listed twice."""
    ids = await store.get(index_key)
    assert len(ids) == len(set(ids)), ids
    return set(ids)


Add = Callable[[str, int], Awaitable[dict[str, Any]]]


async def race(
    gw: Gateway, add: Add, doomed: str, kept: str, delete: str
) -> tuple[list[str | None], list[str | None]]:
    """Create CHILDREN children of `doomed` and of `kept` while `doomed` is deleted; return
    the outcomes of the creates on each."""
    make = [add(parent, n) for n in range(CHILDREN) for parent in (doomed, kept)]
    middle = len(make) // 2
    results = await asyncio.gather(
        *make[:middle], mutate(gw, delete, {"id": doomed}), *make[middle:]
    )
    removed = results.pop(middle)
    assert removed["userErrors"] == [], removed
    outcomes = [outcome(p) for p in results]
    return outcomes[0::2], outcomes[1::2]


async def test_add_item_racing_delete_trip_leaves_no_orphan(gw: Gateway, store: Store) -> None:
    async def add(trip_id: str, n: int) -> dict[str, Any]:
        return await mutate(gw, ADD_ITEM, {"tripId": trip_id, "title": f"Item {n}"})

    kept = await created(gw, CREATE_TRIP, {"title": "Kept"})
    listed: list[str] = []
    for round_ in range(ROUNDS):
        doomed = await created(gw, CREATE_TRIP, {"title": f"Round {round_}"})
        _, made = await race(gw, add, doomed, kept, DELETE_TRIP)
        assert await store.get(f"trip:{doomed}") is None
        assert await store.get(f"items:index:{doomed}") is None
        assert await children_of(store, "item:", "tripId", doomed) == []
        listed += [i for i in made if i is not None]
        assert len(listed) == (round_ + 1) * CHILDREN  # the kept trip refused none
        assert await listed_once(store, f"items:index:{kept}") == set(listed)
    assert (await scan(store)).clean


async def test_post_message_racing_delete_conversation_leaves_no_orphan(
    gw: Gateway, store: Store
) -> None:
    async def post(conversation_id: str, n: int) -> dict[str, Any]:
        return await mutate(gw, POST, {"conversationId": conversation_id, "content": f"m{n}"})

    kept = await created(gw, START, {"title": "Kept"})
    listed: list[str] = []
    for round_ in range(ROUNDS):
        doomed = await created(gw, START, {"title": f"Round {round_}", "message": "hi"})
        _, made = await race(gw, post, doomed, kept, DELETE_CONV)
        assert await store.get(f"conversation:{doomed}") is None
        assert await store.get(f"messages:index:{doomed}") is None
        assert await children_of(store, "message:", "conversationId", doomed) == []
        listed += [i for i in made if i is not None]
        assert len(listed) == (round_ + 1) * CHILDREN
        assert await listed_once(store, f"messages:index:{kept}") == set(listed)
    assert (await scan(store)).clean
