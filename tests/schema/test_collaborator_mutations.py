"""Inviting, re-roling and removing collaborators: only the trip's owner, the entry and the
collaborator's `trips:index:` written together, refusals that write nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from gql.kv.check import repair, scan
from gql.kv.repo import Repository
from resolvers.ids import node_id
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    DELETE_TRIP,
    INVITE,
    NOWHERE,
    REMOVE_COLLAB,
    UPDATE_COLLAB,
    UPDATE_TRIP,
    Gateway,
    done,
    dump,
    fields,
    index,
    refused,
    trip_for,
)

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

CAROL = "ca201000-0000-4000-8000-000000000003"
STRANGER = "57a40000-0000-4000-8000-000000000004"
MY_TRIPS = "{ viewer { trips(first: 100) { nodes { id } } } }"
TRIP = "query Q($id: ID!) { trip(id: $id) { id title collaborators { totalCount } } }"


async def listed_trips(gw: Gateway, viewer: str) -> list[str]:
    data = await gw.ok(MY_TRIPS, viewer=viewer)
    return [t["id"] for t in data["viewer"]["trips"]["nodes"]]


async def shared(gw: Gateway, role: str = "VIEWER", user: str = BOB) -> str:
    """A trip of ALICE shared with `user`; its id."""
    trip_id: str = (await trip_for(gw))["id"]
    await done(gw, INVITE, {"tripId": trip_id, "userId": user, "role": role})
    return trip_id


async def test_invite_lists_the_trip_for_the_collaborator(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw))["id"]
    entry = await done(gw, INVITE, {"tripId": trip_id, "userId": BOB})
    assert entry["tripId"] == trip_id and entry["userId"] == BOB
    assert (entry["role"], entry["roleRaw"]) == ("VIEWER", "viewer")
    assert entry["invitedAt"] and entry["user"] == {"id": BOB, "displayName": None}
    assert entry["trip"] == {"id": trip_id}
    assert entry["nodeId"] == node_id("Collaborator", f"{trip_id}:{BOB}")
    stored = await store.get(k.COLLABORATOR.key(trip_id, BOB))
    assert stored["role"] == "viewer" and stored["tripId"] == trip_id
    assert await index(store, k.TRIPS_INDEX.key(BOB)) == [trip_id]
    assert await listed_trips(gw, BOB) == [trip_id]
    data = await gw.ok(TRIP, {"id": trip_id}, viewer=BOB)
    assert data["trip"]["collaborators"] == {"totalCount": 1}
    node = "query($n: ID!) { node(nodeId: $n) { ... on Collaborator { userId role } } }"
    for viewer in (ALICE, BOB):
        found = await gw.ok(node, {"n": entry["nodeId"]}, viewer=viewer)
        assert found == {"node": {"userId": BOB, "role": "VIEWER"}}
    assert await gw.ok(node, {"n": entry["nodeId"]}, viewer=STRANGER) == {"node": None}
    assert (await scan(store)).clean


async def test_the_role_decides_whether_the_collaborator_may_edit(
    gw: Gateway, store: Store
) -> None:
    trip_id = await shared(gw)
    errors = await refused(gw, store, UPDATE_TRIP, {"id": trip_id, "title": "Mine"}, BOB)
    assert fields(errors) == [("id", "FORBIDDEN")]
    changed = await done(gw, UPDATE_COLLAB, {"tripId": trip_id, "userId": BOB, "role": "EDITOR"})
    assert (changed["role"], changed["roleRaw"]) == ("EDITOR", "editor")
    assert (await store.get(k.COLLABORATOR.key(trip_id, BOB)))["role"] == "editor"
    assert (await done(gw, UPDATE_TRIP, {"id": trip_id, "title": "Ours"}, BOB))["title"] == "Ours"
    back = await done(gw, UPDATE_COLLAB, {"tripId": trip_id, "userId": BOB, "role": "VIEWER"})
    assert back["role"] == "VIEWER"
    errors = await refused(gw, store, UPDATE_TRIP, {"id": trip_id, "title": "Mine"}, BOB)
    assert fields(errors) == [("id", "FORBIDDEN")]


async def test_a_removed_collaborator_neither_lists_nor_reads_the_trip(
    gw: Gateway, store: Store
) -> None:
    trip_id = await shared(gw, "EDITOR")
    own = (await trip_for(gw, BOB))["id"]  # BOB's own trip stays listed
    assert await listed_trips(gw, BOB) == [trip_id, own]
    gone = await done(gw, REMOVE_COLLAB, {"tripId": trip_id, "userId": BOB})
    assert gone["userId"] == BOB and gone["role"] == "EDITOR"
    assert await store.get(k.COLLABORATOR.key(trip_id, BOB)) is None
    assert await index(store, k.TRIPS_INDEX.key(BOB)) == [own]
    assert await listed_trips(gw, BOB) == [own]
    assert await gw.ok(TRIP, {"id": trip_id}, viewer=BOB) == {"trip": None}
    errors = await refused(gw, store, UPDATE_TRIP, {"id": trip_id, "title": "x"}, BOB)
    assert fields(errors) == [("id", "NOT_FOUND")]
    assert (await gw.ok(TRIP, {"id": trip_id}, viewer=ALICE))["trip"]["collaborators"] == {
        "totalCount": 0
    }
    assert (await scan(store)).clean


@pytest.mark.parametrize("role", ["VIEWER", "EDITOR"])
async def test_only_the_owner_manages_collaborators(gw: Gateway, store: Store, role: str) -> None:
    trip_id = await shared(gw, role)
    attempts: list[tuple[str, dict[str, Any]]] = [
        (INVITE, {"tripId": trip_id, "userId": CAROL}),
        (UPDATE_COLLAB, {"tripId": trip_id, "userId": BOB, "role": "EDITOR"}),
        (REMOVE_COLLAB, {"tripId": trip_id, "userId": BOB}),
    ]
    for query, input_ in attempts:
        # A collaborator may read the trip but not manage it; a stranger does not see it.
        assert fields(await refused(gw, store, query, input_, BOB)) == [("tripId", "FORBIDDEN")]
        errors = await refused(gw, store, query, input_, STRANGER)
        assert fields(errors) == [("tripId", "NOT_FOUND")]
        assert "not found" in errors[0]["message"]


async def test_bad_requests_are_refused_and_write_nothing(gw: Gateway, store: Store) -> None:
    trip_id = await shared(gw)
    cases: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
        (INVITE, {"tripId": trip_id, "userId": BOB}, [("userId", "CONFLICT")]),
        (INVITE, {"tripId": trip_id, "userId": ALICE}, [("userId", "BAD_USER_INPUT")]),
        (INVITE, {"tripId": trip_id, "userId": "a:b"}, [("userId", "BAD_USER_INPUT")]),
        (INVITE, {"tripId": trip_id, "userId": ""}, [("userId", "BAD_USER_INPUT")]),
        (INVITE, {"tripId": NOWHERE, "userId": CAROL}, [("tripId", "NOT_FOUND")]),
        (
            UPDATE_COLLAB,
            {"tripId": trip_id, "userId": CAROL, "role": "EDITOR"},
            [("userId", "NOT_FOUND")],
        ),
        (REMOVE_COLLAB, {"tripId": trip_id, "userId": CAROL}, [("userId", "NOT_FOUND")]),
        (REMOVE_COLLAB, {"tripId": trip_id, "userId": ALICE}, [("userId", "BAD_USER_INPUT")]),
    ]
    for query, input_, expected in cases:
        assert fields(await refused(gw, store, query, input_)) == expected, input_


async def test_other_and_anonymous_are_refused_before_anything_is_written(
    gw: Gateway, store: Store
) -> None:
    trip_id = (await trip_for(gw))["id"]
    before = await dump(store)
    result = await gw.run(INVITE, {"input": {"tripId": trip_id, "userId": BOB, "role": "OTHER"}})
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"  # type: ignore[attr-defined]
    result = await gw.run(INVITE, {"input": {"tripId": trip_id, "userId": BOB}})
    assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]
    assert await dump(store) == before


async def test_deleting_the_trip_unlists_it_for_every_collaborator(
    gw: Gateway, store: Store
) -> None:
    trip_id = await shared(gw)
    await done(gw, INVITE, {"tripId": trip_id, "userId": CAROL, "role": "EDITOR"})
    kept = (await trip_for(gw, CAROL))["id"]
    await done(gw, DELETE_TRIP, {"id": trip_id})
    assert await index(store, k.TRIPS_INDEX.key(BOB)) == []
    assert await index(store, k.TRIPS_INDEX.key(CAROL)) == [kept]
    assert not [key async for key, _ in store.iter_prefix(f"collaborator:{trip_id}:")]
    assert (await scan(store)).clean


async def test_concurrent_invites_and_creates_lose_nothing(gw: Gateway, store: Store) -> None:
    """ALICE shares trips with BOB while BOB creates his own: one index, two writers."""
    trips = [(await trip_for(gw, title=f"T{n}"))["id"] for n in range(6)]

    async def invite(trip_id: str) -> None:
        await done(gw, INVITE, {"tripId": trip_id, "userId": BOB})

    async def create(n: int) -> str:
        return (await trip_for(gw, BOB, title=f"Bob {n}"))["id"]  # type: ignore[no-any-return]

    results = await asyncio.gather(*(invite(t) for t in trips), *(create(n) for n in range(6)))
    own = [r for r in results if r is not None]
    listed = await index(store, k.TRIPS_INDEX.key(BOB))
    assert sorted(listed) == sorted(trips + own) and len(listed) == 12
    await asyncio.gather(*(done(gw, REMOVE_COLLAB, {"tripId": t, "userId": BOB}) for t in trips))
    assert sorted(await index(store, k.TRIPS_INDEX.key(BOB))) == sorted(own)
    assert (await scan(store)).clean


async def test_concurrent_invites_of_one_user_conflict_like_a_repeated_one(
    gw: Gateway, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Invites of the same user at once: one shares the trip, each other gets the userError
    a repeated invite gets (none succeeds, none changes the winner's role). Every invite
    has read what it reads before any of them writes (the race, every time)."""
    trip_id = (await trip_for(gw))["id"]
    roles = ("VIEWER", "EDITOR") * 4
    together, create = asyncio.Barrier(len(roles)), Repository.create

    async def create_together(self: Repository, *args: Any, **kwargs: Any) -> Any:
        async with asyncio.timeout(10):
            await together.wait()
        return await create(self, *args, **kwargs)

    monkeypatch.setattr(Repository, "create", create_together)
    before = await dump(store)
    runs = await asyncio.gather(
        *(
            gw.ok(INVITE, {"input": {"tripId": trip_id, "userId": BOB, "role": role}}, viewer=ALICE)
            for role in roles
        )
    )
    monkeypatch.undo()
    outs = [run["inviteCollaborator"] for run in runs]
    won = [out for out in outs if not out["userErrors"]]
    lost = [out for out in outs if out["userErrors"]]
    assert (len(won), len(lost)) == (1, 7), outs
    again = await refused(gw, store, INVITE, {"tripId": trip_id, "userId": BOB})
    for out in lost:  # the same field, message and code, and no record
        assert (out["collaborator"], out["userErrors"]) == (None, again)
    assert fields(again) == [("userId", "CONFLICT")]
    after = await dump(store)
    entry_key, index_key = k.COLLABORATOR.key(trip_id, BOB), k.TRIPS_INDEX.key(BOB)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {entry_key, index_key}
    assert after[entry_key]["role"] == won[0]["collaborator"]["roleRaw"]
    assert after[index_key] == [trip_id]


async def test_check_and_repair_keep_shares_listed(gw: Gateway, store: Store) -> None:
    """An app that writes the entry alone: `check` reports the unlisted share, `repair`
    lists it; an entry the app deleted leaves a dangling id that repair removes."""
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": ALICE, "title": "Shared"},
            "trips:index:" + ALICE: ["t1"],
            "collaborator:t1:" + BOB: {"tripId": "t1", "userId": BOB, "role": "viewer"},
            "trips:index:" + CAROL: ["t1"],  # CAROL's entry is gone
            "collaborator:t9:" + BOB: {"tripId": "t9", "userId": BOB},  # trip t9 is gone
        }
    )
    report = await scan(store)
    found = {(p.kind.value, p.key, p.id) for p in report.problems}
    assert found == {
        ("unlisted", "trips:index:" + BOB, "t1"),
        ("dangling", "trips:index:" + CAROL, "t1"),
        ("orphan", "collaborator:t9:" + BOB, ""),
    }
    await repair(store, report, apply=True, delete_orphans_too=True)
    assert await index(store, "trips:index:" + BOB) == ["t1"]
    assert await index(store, "trips:index:" + CAROL) == []
    assert (await scan(store)).clean
    assert await listed_trips(gw, BOB) == ["t1"]


async def test_both_executors_read_collaborators_alike(gateway: Gateway, store: Store) -> None:
    """The level executor and graphql-core answer the new fields the same."""
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": ALICE, "title": "Shared"},
            "trips:index:" + ALICE: ["t1"],
            "trips:index:" + BOB: ["t1"],
            "collaborator:t1:" + BOB: {"tripId": "t1", "userId": BOB, "role": "co-pilot"},
            "profile:" + BOB: {"id": BOB, "displayName": "Bob", "email": "b@example.com"},
            "profile:" + ALICE: {"id": ALICE, "displayName": "Alice", "email": "a@example.com"},
        }
    )
    query = """{ viewer { trips { nodes { id owner { displayName email }
      collaborators { nodes { nodeId role roleRaw user { id displayName email } trip { id } } }
    } } } }"""
    bob = await gateway.ok(query, viewer=BOB)
    (trip,) = bob["viewer"]["trips"]["nodes"]
    assert trip["owner"] == {"displayName": "Alice", "email": None}
    assert trip["collaborators"]["nodes"] == [
        {
            "nodeId": node_id("Collaborator", f"t1:{BOB}"),
            "role": "OTHER",
            "roleRaw": "co-pilot",
            "user": {"id": BOB, "displayName": "Bob", "email": "b@example.com"},
            "trip": {"id": "t1"},
        }
    ]
    alice = await gateway.ok(query, viewer=ALICE)
    (seen,) = alice["viewer"]["trips"]["nodes"][0]["collaborators"]["nodes"]
    assert seen["user"] == {"id": BOB, "displayName": "Bob", "email": None}
