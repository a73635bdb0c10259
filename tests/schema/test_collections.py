"""Collections (`collection:{id}`, `collections:index:{userId}`): create, read, update, delete,
ordered places (add, move, remove), the owner only, concurrent edits that lose nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from gql.kv.check import scan
from tests.support import (
    ADD_TO_COLLECTION,
    ALICE,
    BACKENDS,
    BOB,
    CREATE_COLLECTION,
    DELETE_COLLECTION,
    MOVE_IN_COLLECTION,
    NOWHERE,
    REMOVE_FROM_COLLECTION,
    UPDATE_COLLECTION,
    Gateway,
    done,
    dump,
    fields,
    index,
    place,
    refused,
)

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

MINE = """{ viewer { collections(first: 50) { totalCount nodes { id name
  places(first: 50) { totalCount nodes { __typename id name } } } } } }"""
ONE = "query Q($id: ID!) { collection(id: $id) { id name places { nodes { id } } } }"


def ids(collection: dict[str, Any]) -> list[str]:
    return [n["id"] for n in collection["places"]["nodes"]]


async def new(gw: Gateway, name: str = "Lisbon eats", viewer: str = ALICE) -> dict[str, Any]:
    return await done(gw, CREATE_COLLECTION, {"name": name}, viewer)  # type: ignore[no-any-return]


async def test_create_read_update_delete(gw: Gateway, store: Store) -> None:
    made = await new(gw, "  Lisbon eats ")
    assert made["name"] == "Lisbon eats" and made["createdAt"] and made["places"]["totalCount"] == 0
    stored = await store.get(k.COLLECTION.key(made["id"]))
    assert stored["userId"] == ALICE and stored["name"] == "Lisbon eats"
    assert await index(store, k.COLLECTIONS_INDEX.key(ALICE)) == [made["id"]]
    data = await gw.ok(MINE, viewer=ALICE)
    assert data["viewer"]["collections"]["totalCount"] == 1
    changed = await done(gw, UPDATE_COLLECTION, {"id": made["id"], "description": "Tascas"})
    assert (changed["name"], changed["description"]) == ("Lisbon eats", "Tascas")
    gone = await done(gw, DELETE_COLLECTION, {"id": made["id"]})
    assert gone["id"] == made["id"]
    assert await store.get(k.COLLECTION.key(made["id"])) is None
    assert await index(store, k.COLLECTIONS_INDEX.key(ALICE)) == []
    assert (await scan(store)).clean


async def test_places_are_added_moved_and_removed_in_order(gw: Gateway, store: Store) -> None:
    r1, r2 = await place(store, "restaurant", "Ramiro"), await place(store, "restaurant", "Zé")
    e1 = await place(store, "event", "Fado")
    cid = (await new(gw))["id"]
    add = {"collectionId": cid}
    assert ids(await done(gw, ADD_TO_COLLECTION, {**add, "placeId": r1})) == [r1]
    assert ids(await done(gw, ADD_TO_COLLECTION, {**add, "placeId": r2})) == [r1, r2]
    got = await done(gw, ADD_TO_COLLECTION, {**add, "placeId": e1, "kind": "EVENT", "position": 0})
    assert ids(got) == [e1, r1, r2]
    assert ids(await done(gw, ADD_TO_COLLECTION, {**add, "placeId": r1})) == [e1, r1, r2]
    assert ids(await done(gw, MOVE_IN_COLLECTION, {**add, "placeId": e1, "position": 9})) == [
        r1,
        r2,
        e1,
    ]
    assert ids(await done(gw, MOVE_IN_COLLECTION, {**add, "placeId": r2, "position": 0})) == [
        r2,
        r1,
        e1,
    ]
    assert ids(await done(gw, REMOVE_FROM_COLLECTION, {**add, "placeId": r1})) == [r2, e1]
    assert (await store.get(k.COLLECTION.key(cid)))["placeIds"] == [r2, e1]
    data = await gw.ok(ONE, {"id": cid}, viewer=ALICE)
    assert ids(data["collection"]) == [r2, e1]


async def test_places_of_every_collection_in_one_batch_per_level(gw: Gateway, store: Store) -> None:
    places = [await place(store, "restaurant", f"R{n}") for n in range(6)]
    for n in range(5):
        cid = (await new(gw, f"C{n}"))["id"]
        for p in places[n:]:
            await done(gw, ADD_TO_COLLECTION, {"collectionId": cid, "placeId": p})
    result = await gw.run(MINE, viewer=ALICE)
    assert result.errors is None  # type: ignore[attr-defined]
    found = result.data["viewer"]["collections"]["nodes"]  # type: ignore[attr-defined]
    assert [c["places"]["totalCount"] for c in found] == [6, 5, 4, 3, 2]
    # The index, the collections, every collection's places (each kind tried): 3 batches.
    assert result.extensions["kv"]["batches"] == 3  # type: ignore[attr-defined]


async def test_a_stranger_finds_nothing_and_changes_nothing(gw: Gateway, store: Store) -> None:
    r1 = await place(store, "restaurant", "Ramiro")
    cid = (await new(gw))["id"]
    await done(gw, ADD_TO_COLLECTION, {"collectionId": cid, "placeId": r1})
    assert await gw.ok(ONE, {"id": cid}, viewer=BOB) == {"collection": None}
    node = await gw.ok(ONE, {"id": cid}, viewer=ALICE)
    assert node["collection"]["id"] == cid
    attempts: list[tuple[str, dict[str, Any], str]] = [
        (UPDATE_COLLECTION, {"id": cid, "name": "Mine"}, "id"),
        (DELETE_COLLECTION, {"id": cid}, "id"),
        (ADD_TO_COLLECTION, {"collectionId": cid, "placeId": r1}, "collectionId"),
        (MOVE_IN_COLLECTION, {"collectionId": cid, "placeId": r1, "position": 0}, "collectionId"),
        (REMOVE_FROM_COLLECTION, {"collectionId": cid, "placeId": r1}, "collectionId"),
    ]
    for query, input_, field in attempts:
        assert fields(await refused(gw, store, query, input_, BOB)) == [(field, "NOT_FOUND")]


async def test_bad_requests_are_refused_and_write_nothing(gw: Gateway, store: Store) -> None:
    r1, r2 = await place(store, "restaurant", "Ramiro"), await place(store, "restaurant", "Zé")
    cid = (await new(gw))["id"]
    await done(gw, ADD_TO_COLLECTION, {"collectionId": cid, "placeId": r1})
    on = {"collectionId": cid}
    cases: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
        (CREATE_COLLECTION, {"name": "  "}, [("name", "BAD_USER_INPUT")]),
        (CREATE_COLLECTION, {"name": "x" * 201}, [("name", "BAD_USER_INPUT")]),
        (UPDATE_COLLECTION, {"id": cid, "name": None}, [("name", "BAD_USER_INPUT")]),
        (UPDATE_COLLECTION, {"id": NOWHERE, "name": "x"}, [("id", "NOT_FOUND")]),
        (ADD_TO_COLLECTION, {**on, "placeId": NOWHERE}, [("placeId", "NOT_FOUND")]),
        (ADD_TO_COLLECTION, {**on, "placeId": r2, "kind": "EVENT"}, [("placeId", "NOT_FOUND")]),
        (
            ADD_TO_COLLECTION,
            {**on, "placeId": r2, "position": -1},
            [("position", "BAD_USER_INPUT")],
        ),
        (MOVE_IN_COLLECTION, {**on, "placeId": r2, "position": 0}, [("placeId", "NOT_FOUND")]),
        (
            MOVE_IN_COLLECTION,
            {**on, "placeId": r1, "position": -2},
            [("position", "BAD_USER_INPUT")],
        ),
        (REMOVE_FROM_COLLECTION, {**on, "placeId": r2}, [("placeId", "NOT_FOUND")]),
        (
            REMOVE_FROM_COLLECTION,
            {"collectionId": NOWHERE, "placeId": r1},
            [("collectionId", "NOT_FOUND")],
        ),
    ]
    for query, input_, expected in cases:
        assert fields(await refused(gw, store, query, input_)) == expected, input_


async def test_unreadable_place_ids_are_never_overwritten(gw: Gateway, store: Store) -> None:
    r1 = await place(store, "restaurant", "Ramiro")
    await store.set_many(
        {
            "collection:c1": {"id": "c1", "userId": ALICE, "name": "Old", "placeIds": {"a": 1}},
            k.COLLECTIONS_INDEX.key(ALICE): ["c1"],
        }
    )
    before = await dump(store)
    result = await gw.run(
        ADD_TO_COLLECTION, {"input": {"collectionId": "c1", "placeId": r1}}, viewer=ALICE
    )
    out = result.data["addCollectionPlace"]  # type: ignore[attr-defined]
    assert out["collection"] is None
    assert fields(out["userErrors"]) == [("collectionId", "BAD_USER_INPUT")]
    assert "cannot be read" in out["userErrors"][0]["message"]
    # The field left empty is reported (INVALID_RECORD, naming it); nothing was written.
    assert result.errors[0].extensions["fields"] == ["placeIds"]  # type: ignore[attr-defined]
    assert await dump(store) == before


async def test_an_app_collection_reads_and_keeps_its_names(gw: Gateway, store: Store) -> None:
    """`title` for name and `places` for placeIds (synonyms), `kind:id` references: read as
    they are, and an edit writes to the names the record uses."""
    r1, e1 = await place(store, "restaurant", "Ramiro"), await place(store, "event", "Fado")
    await store.set_many(
        {
            "collection:c1": {
                "id": "c1",
                "userId": ALICE,
                "title": "App",
                "places": [f"event:{e1}"],
            },
            k.COLLECTIONS_INDEX.key(ALICE): ["c1"],
        }
    )
    data = await gw.ok(ONE, {"id": "c1"}, viewer=ALICE)
    assert data["collection"]["name"] == "App" and ids(data["collection"]) == [e1]
    await done(gw, ADD_TO_COLLECTION, {"collectionId": "c1", "placeId": r1})
    stored = await store.get("collection:c1")
    assert stored["places"] == [f"event:{e1}", r1] and "placeIds" not in stored
    await done(gw, REMOVE_FROM_COLLECTION, {"collectionId": "c1", "placeId": e1})
    assert (await store.get("collection:c1"))["places"] == [r1]


async def test_concurrent_edits_lose_nothing(gw: Gateway, store: Store) -> None:
    places = [await place(store, "restaurant", f"R{n}") for n in range(8)]
    cid = (await new(gw))["id"]
    await asyncio.gather(
        *(done(gw, ADD_TO_COLLECTION, {"collectionId": cid, "placeId": p}) for p in places)
    )
    assert sorted((await store.get(k.COLLECTION.key(cid)))["placeIds"]) == sorted(places)
    made = await asyncio.gather(*(new(gw, f"C{n}") for n in range(6)))
    listed = await index(store, k.COLLECTIONS_INDEX.key(ALICE))
    assert sorted(listed) == sorted([cid, *(c["id"] for c in made)])
    await asyncio.gather(
        *(
            done(gw, REMOVE_FROM_COLLECTION, {"collectionId": cid, "placeId": p})
            for p in places[:5]
        ),
        *(done(gw, DELETE_COLLECTION, {"id": c["id"]}) for c in made[:3]),
    )
    assert sorted((await store.get(k.COLLECTION.key(cid)))["placeIds"]) == sorted(places[5:])
    listed = await index(store, k.COLLECTIONS_INDEX.key(ALICE))
    assert sorted(listed) == sorted([cid, *(c["id"] for c in made[3:])])
    assert (await scan(store)).clean


async def test_both_executors_read_collections_alike(gateway: Gateway, store: Store) -> None:
    r1, e1 = await place(store, "restaurant", "Ramiro"), await place(store, "event", "Fado")
    await store.set_many(
        {
            "collection:c1": {
                "id": "c1",
                "userId": ALICE,
                "name": "A",
                "placeIds": [e1, "gone", r1],
            },
            "collection:c2": {"id": "c2", "userId": BOB, "name": "Bob's"},  # listed, not hers
            k.COLLECTIONS_INDEX.key(ALICE): ["c1", "c2"],
        }
    )
    data = await gateway.ok(MINE, viewer=ALICE)
    (c1,) = data["viewer"]["collections"]["nodes"]
    assert data["viewer"]["collections"]["totalCount"] == 1
    assert c1["places"]["totalCount"] == 2
    assert [(n["__typename"], n["id"]) for n in c1["places"]["nodes"]] == [
        ("Event", e1),
        ("Restaurant", r1),
    ]
