"""What a write changed, the rest of its request reads afresh; a delete takes what its record
owns (its spec's owned keys, children, shares) and leaves none of it.

Which keys a write changed is named in one place, by the repository (the keys its committed
transaction wrote), not listed by hand in each resolver: a write that entails more than its
own record (a trip's items and budget, the suggestions a write expires) is forgotten whole.
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from resolvers.context import SERVICE_ROLE
from tests.support import ALICE, BACKENDS, BOB, Gateway, done, dump, mutation

BOTH = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNED = """fragment Owned on Trip { title items { totalCount } conflicts(status: null) { totalCount }
  budget { total alerts { totalCount } } collaborators { totalCount } }"""
TRIP_THEN_DELETE = (
    """mutation($t: ID!) {
  a: updateTrip(input: {id: $t, title: "Seen"}) { trip { ...Owned } }
  b: deleteTrip(input: {id: $t}) { trip { ...Owned } }
}
"""
    + OWNED
)
TRIP_ROWS: dict[str, Any] = {
    f"trips:index:{ALICE}": ["t1"],
    "trip:t1": {"id": "t1", "userId": ALICE, "title": "Lisbon"},
    "items:index:t1": ["i1"],
    "item:i1": {"id": "i1", "tripId": "t1", "title": "Hotel", "cost": 90},
    "conflicts:index:t1": ["x1"],
    "conflict:x1": {"id": "x1", "tripId": "t1", "type": "overlap", "itemIds": ["i1"]},
    "budget:t1": {"tripId": "t1", "total": 100},
    "budget:alerts:t1": [{"type": "threshold", "threshold": 0.8}],
    f"collaborator:t1:{BOB}": {"tripId": "t1", "userId": BOB, "role": "viewer"},
    f"trips:index:{BOB}": ["t1"],
}
CONVERSATION_ROWS: dict[str, Any] = {
    f"conversation:index:{ALICE}": ["c1"],
    "conversation:c1": {"id": "c1", "userId": ALICE, "title": "Ideas"},
    "messages:index:c1": ["m1"],
    "message:m1": {"id": "m1", "conversationId": "c1", "role": "user", "content": "Hi"},
    "context:c1": {"entities": {"step": 2}},
    "context:history:c1": [{"entities": {"step": 1}, "seq": 0}],
}
JOB_ROWS: dict[str, Any] = {
    "jobs:index": ["j1"],
    "job:j1": {"id": "j1", "type": "sync", "status": "done"},
    "log:j1": {"jobId": "j1", "entries": [{"message": "ran", "level": "info"}]},
}


def declared(spec: e.EntitySpec, id_: str) -> set[str]:
    """The keys a spec declares its record owns (owned keys and child indexes)."""
    patterns = (*spec.owned_keys, *(pattern for pattern, _ in spec.child_indexes))
    return {pattern.key(id_) for pattern in patterns}


async def deleted_keys(store: Store, before: dict[str, Any]) -> set[str]:
    """The keys of `before` the table no longer holds (every other key is unchanged, or an
    index the delete took an id out of)."""
    after = await dump(store)
    assert after.keys() <= before.keys()
    for key, value in after.items():
        parsed = k.parse(key)
        assert value == before[key] or (parsed and parsed.pattern.role is k.Role.INDEX), key
    return before.keys() - after.keys()


def test_every_entity_that_owns_keys_is_deleted_here() -> None:
    """A new entity with owned keys needs its case below."""
    owning = {name for name, spec in e.SPECS.items() if spec.owned_keys or spec.child_indexes}
    assert owning == {e.TRIP.name, e.CONVERSATION.name, e.JOB.name}


@BOTH
async def test_a_deleted_trip_leaves_none_of_its_keys_and_none_is_read_again(
    gw: Gateway, store: Store
) -> None:
    await store.set_many(TRIP_ROWS)
    before = await dump(store)
    data = await gw.ok(TRIP_THEN_DELETE, {"t": "t1"}, viewer=ALICE)
    seen = data["a"]["trip"]
    assert seen["items"]["totalCount"] == 1 and seen["budget"]["alerts"]["totalCount"] == 1
    assert data["b"]["trip"] == {
        "title": "Seen",
        "items": {"totalCount": 0},
        "conflicts": {"totalCount": 0},
        "budget": None,
        "collaborators": {"totalCount": 0},
    }
    gone = await deleted_keys(store, before)
    assert declared(e.TRIP, "t1") <= gone
    assert gone == declared(e.TRIP, "t1") | {"trip:t1", "item:i1", "conflict:x1"} | {
        f"collaborator:t1:{BOB}"
    }
    assert await store.get_many([f"trips:index:{ALICE}", f"trips:index:{BOB}"]) == [[], []]


@BOTH
async def test_a_deleted_conversation_leaves_none_of_its_keys(gw: Gateway, store: Store) -> None:
    await store.set_many(CONVERSATION_ROWS)
    before = await dump(store)
    delete = mutation("deleteConversation", "conversation { id messages { totalCount } }")
    found = await done(gw, delete, {"id": "c1"})
    assert found == {"id": "c1", "messages": {"totalCount": 0}}
    gone = await deleted_keys(store, before)
    assert gone == declared(e.CONVERSATION, "c1") | {"conversation:c1", "message:m1"}


@BOTH
async def test_a_deleted_job_leaves_none_of_its_keys(gw: Gateway, store: Store) -> None:
    await store.set_many(JOB_ROWS)
    before = await dump(store)
    delete = mutation("deleteJob", "job { id log { jobId } }")
    found = await done(gw, delete, {"id": "j1"}, viewer="runner", role=SERVICE_ROLE)
    assert found == {"id": "j1", "log": None}
    assert await deleted_keys(store, before) == declared(e.JOB, "j1") | {"job:j1"}


SWEEP = """mutation {
  a: updateProfile(input: {displayName: "A"}) { user { ...Mine } }
  b: dismissSuggestion(input: {id: "s2"}) { suggestion { id status } }
  c: updateProfile(input: {displayName: "B"}) { user { ...Mine } }
}
fragment Mine on User { suggestions { nodes { id status statusRaw } } }"""


@BOTH
async def test_what_a_write_entails_is_read_afresh_by_the_rest_of_the_request(
    gw: Gateway, store: Store
) -> None:
    """Dismissing one suggestion stores `expired` on another that has expired (the same
    transaction): a later field of the request reads the stored value, not the one before."""
    past = {"status": "active", "expiresAt": "2000-01-01T00:00:00Z"}
    await store.set_many(
        {
            f"suggestions:index:{ALICE}": ["s1", "s2"],
            f"suggestions:active:{ALICE}": ["s1", "s2"],
            "suggestion:s1": {"id": "s1", "userId": ALICE, "content": "old", **past},
            "suggestion:s2": {"id": "s2", "userId": ALICE, "content": "new", "status": "active"},
        }
    )
    data = await gw.ok(SWEEP, viewer=ALICE)
    first, last = (data[f]["user"]["suggestions"]["nodes"] for f in ("a", "c"))
    assert [(s["id"], s["statusRaw"]) for s in first] == [("s1", "active"), ("s2", "active")]
    assert (await store.get("suggestion:s1"))["status"] == "expired"
    assert [(s["id"], s["statusRaw"]) for s in last] == [("s1", "expired"), ("s2", "dismissed")]
