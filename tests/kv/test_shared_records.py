"""The store side of collaborators, collections, saved places by key and profiles: keys,
index links that list another record's id, `check`, `check --shapes`, mapping files, and the
repository's read-modify-write (`revise`)."""

from __future__ import annotations

import asyncio

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.check import Kind, scan
from gql.kv.mapping import parse_mapping
from gql.kv.repo import InvalidData, NotFound, Repository
from gql.kv.shapes import scan_shapes
from resolvers.loaders import Loaders
from tests.support import BACKENDS

on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


def test_both_saved_patterns_parse_apart() -> None:
    assert k.parse("saved:u1").pattern is k.SAVED  # type: ignore[union-attr]
    found = k.parse("saved:u1:p1")
    assert found is not None and found.pattern is k.SAVED_PLACE
    assert found.params == {"userId": "u1", "placeId": "p1"}
    assert k.parse("saved:u1:restaurant:r1") is None  # a kind belongs in the value
    assert k.SAVED_PLACE.prefix("u1") == "saved:u1:"


def test_a_collaborator_entry_lists_its_trip_for_its_user() -> None:
    entry = m.Collaborator.model_validate({"tripId": "t1", "userId": "u2"})
    assert e.COLLABORATOR.index_entries(entry) == [("trips:index:u2", "t1")]
    assert e.INDEX_TARGET[k.TRIPS_INDEX.name] is e.TRIP  # trips:index: still lists trips


@on_both_stores
async def test_check_reports_the_new_kinds(store: Store) -> None:
    await store.set_many(
        {
            "saved:u1:p1": {"createdAt": "2024-12-24T10:00:00Z"},
            "saved:u1:p2": {"userId": "u9"},  # disagrees with its key
            "saved:u1:p3": ["not", "an", "object"],
            "collection:c1": {"id": "c1", "userId": "u1", "name": "C", "placeIds": ["p1"]},
            "collection:c2": {"id": "c2", "userId": "u1"},  # no name
            "collections:index:u1": ["c1", "c3"],
            "profile:u1": {"id": "u1", "displayName": "U"},
        }
    )
    report = await scan(store)
    found = {(p.kind, p.key, p.id) for p in report.problems}
    assert found == {
        (Kind.INVALID, "saved:u1:p2", ""),
        (Kind.INVALID, "saved:u1:p3", ""),
        (Kind.INVALID, "collection:c2", ""),
        (Kind.DANGLING, "collections:index:u1", "c3"),
    }
    assert report.unknown == 0


@on_both_stores
async def test_shapes_propose_the_apps_names(store: Store) -> None:
    await store.set_many(
        {
            "collection:c1": {"id": "c1", "ownerId": "u1", "title": "C", "items": ["p1"]},
            "collaborator:t1:u2": {"tripId": "t1", "userId": "u2", "role": "write"},
            "saved:u1:p1": {"kind": "restaurants"},
        }
    )
    proposal = (await scan_shapes(store)).proposal()
    assert proposal.names["collection"]["ownerId"].means == "userId"
    assert proposal.names["collection"]["items"].means == "placeIds"
    assert proposal.values["collaborator"]["role"]["write"].means == "editor"
    assert proposal.values["saved_place"]["locationType"]["restaurants"].means == "restaurant"


MAPPING = """
[collaborator.fields]
permission = "role"

[collaborator.values.role]
write = { means = "editor", write = true }
read = "viewer"

[collection.fields]
ownerId = "userId"
spots = "placeIds"

[saved_place.fields]
addedAt = "createdAt"
"""


@on_both_stores
async def test_mapping_file_aliases_and_values_read_and_write(store: Store) -> None:
    mapping = parse_mapping(MAPPING)
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": "u1", "title": "T"},
            "trips:index:u1": ["t1"],
            "trips:index:u2": ["t1"],
            "collaborator:t1:u2": {"tripId": "t1", "userId": "u2", "permission": "read"},
            "collection:c1": {"id": "c1", "ownerId": "u1", "name": "C", "spots": ["p1"]},
            "collections:index:u1": ["c1"],
            "saved:u1:p1": {"addedAt": "2024-12-24T10:00:00Z"},
        }
    )
    loaders = Loaders(store, mapping)
    entry = await loaders.entity(e.COLLABORATOR, "t1", "u2")
    assert isinstance(entry, m.Collaborator) and entry.role == "viewer"
    assert entry.stored_values == {"role": "read"}
    coll = await loaders.entity(e.COLLECTION, "c1")
    assert isinstance(coll, m.Collection) and coll.user_id == "u1" and coll.place_ids == ["p1"]
    saved = await loaders.entity(e.SAVED_PLACE, "u1", "p1")
    assert isinstance(saved, m.SavedPlace) and saved.created_at is not None
    # Read through the mapping, the records are valid and the share is listed for u2.
    assert (await scan(store, mapping=mapping)).clean
    repo = Repository(store, mapping)
    await repo.update(e.COLLABORATOR, ["t1", "u2"], {"role": "editor"})
    assert (await store.get("collaborator:t1:u2"))["permission"] == "write"
    await repo.revise(e.COLLECTION, ["c1"], lambda c: {"placeIds": [*c.place_ids, "p2"]})  # type: ignore[union-attr]
    assert (await store.get("collection:c1"))["spots"] == ["p1", "p2"]
    # A new collaborator is written in the app's names, its trip listed for its user.
    await repo.create(e.COLLABORATOR, {"tripId": "t1", "userId": "u3", "role": "editor"})
    assert await store.get("collaborator:t1:u3") == {
        "tripId": "t1",
        "userId": "u3",
        "permission": "write",
    }
    assert await store.get("trips:index:u3") == ["t1"]


@on_both_stores
async def test_revise_reads_and_writes_in_one_transaction(store: Store) -> None:
    repo = Repository(store)
    made = await repo.create(e.COLLECTION, {"userId": "u1", "name": "C", "placeIds": []})
    cid: str = made.id  # type: ignore[attr-defined]

    def add(place_id: str):  # type: ignore[no-untyped-def]
        return lambda c: {"placeIds": [*(c.place_ids or []), place_id]}

    await asyncio.gather(*(repo.revise(e.COLLECTION, [cid], add(f"p{n}")) for n in range(10)))
    stored = await store.get(f"collection:{cid}")
    assert sorted(stored["placeIds"]) == sorted(f"p{n}" for n in range(10))
    with pytest.raises(NotFound):
        await repo.revise(e.COLLECTION, ["nope"], add("p"))
    with pytest.raises(InvalidData):
        await repo.revise(e.COLLECTION, [cid], lambda c: {"id": "another-id"})
    created = await repo.revise(e.PROFILE, ["u7"], lambda p: {"displayName": "Seven"}, create=True)
    assert isinstance(created, m.Profile) and created.id == "u7"
    assert (await store.get("profile:u7"))["displayName"] == "Seven"


@on_both_stores
async def test_a_share_added_during_a_trip_delete_is_swept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete scans the trip's collaborators before its transaction; an invite that lands
    in between is deleted (and unlisted) right after: no orphan, no dangling id."""
    repo = Repository(store)
    await repo.create(e.TRIP, {"id": "t1", "userId": "u1", "title": "T"})
    scans = 0
    real = repo._prefixed

    async def late_invite(spec: e.EntitySpec, key_args: list[str]) -> list[str]:
        nonlocal scans
        scans += 1
        found = await real(spec, key_args)
        if scans == 1:  # the invite commits right after the first scan
            await repo.create(e.COLLABORATOR, {"tripId": "t1", "userId": "u2"})
        return found

    monkeypatch.setattr(repo, "_prefixed", late_invite)
    await repo.delete(e.TRIP, "t1")
    assert scans == 2
    assert await store.get("collaborator:t1:u2") is None
    assert await store.get("trips:index:u2") == []
    assert (await scan(store)).clean


@on_both_stores
async def test_a_share_is_revoked_even_when_its_index_is_unreadable(store: Store) -> None:
    repo = Repository(store)
    await repo.create(e.TRIP, {"id": "t1", "userId": "u1", "title": "T"})
    await repo.create(e.COLLABORATOR, {"tripId": "t1", "userId": "u2"})
    await repo.create(e.COLLABORATOR, {"tripId": "t1", "userId": "u3"})
    await store.set_many({"trips:index:u2": {"not": "a list"}, "trips:index:u3": "oops"})
    await repo.delete(e.COLLABORATOR, "t1", "u2")  # the entry goes; the index is left as is
    assert await store.get("collaborator:t1:u2") is None
    assert await store.get("trips:index:u2") == {"not": "a list"}
    await repo.delete(e.TRIP, "t1")  # and a trip delete is not held up by it either
    assert await store.get("collaborator:t1:u3") is None
    assert await store.get("trip:t1") is None


@on_both_stores
async def test_a_saved_key_for_a_place_the_catalog_lacks_is_noted(store: Store) -> None:
    await store.set_many(
        {
            "restaurant:r1": {"id": "r1", "name": "R"},
            "restaurants:index": ["r1"],
            "saved:u1:r1": {},
            "saved:u1:ChIJ1": {},
            "saved:u1:r2": {"locationType": "restaurant"},
        }
    )
    report = await scan(store)
    assert report.clean
    assert sorted(n.key for n in report.notes) == ["saved:u1:ChIJ1", "saved:u1:r2"]
