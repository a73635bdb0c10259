"""Children and parents: a create locks and re-reads its parent, a delete finds every child.

Race tests through GraphQL are in tests/schema/test_parent_races.py; these pin the rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv.repo import NotFound, Repository, UnreadableIndex
from tests.support import BACKENDS

BOTH = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

TRIP = {"id": "t1", "userId": "u1", "title": "Lisbon"}


async def snapshot(store: Store) -> dict[str, Any]:
    return {key: value async for key, value in store.iter_prefix("")}


def test_every_child_is_deleted_with_its_parent() -> None:
    for spec in e.SPECS.values():
        if spec.parent is None:
            continue
        parent = e.SPECS[spec.parent.pattern.name]
        owned = (
            {child for _, child in parent.child_indexes}
            | {p.name for p in parent.owned_keys}
            | {p.name for p in parent.owned_prefixes}
        )
        assert spec.name in owned, f"deleting a {parent.name} leaves its {spec.name}s behind"
    for name, spec in e.KEY_PARENT.items():
        assert spec.parent is None, f"{name}: a parent of a parent is not supported"


CHILDREN = [
    (e.ITEM, {"tripId": "gone", "title": "Tram"}, "tripId"),
    (e.CONFLICT, {"tripId": "gone"}, "tripId"),
    (e.BUDGET, {"tripId": "gone", "total": 10}, "tripId"),
    (e.COLLABORATOR, {"tripId": "gone", "userId": "u2"}, "tripId"),
    (e.MESSAGE, {"conversationId": "gone", "content": "hi"}, "conversationId"),
    (e.CONTEXT, {"conversationId": "gone"}, "conversationId"),
]


@BOTH
@pytest.mark.parametrize(("spec", "data", "field"), CHILDREN, ids=lambda v: getattr(v, "name", ""))
async def test_a_child_of_a_missing_parent_is_not_found(
    store: Store, spec: e.EntitySpec, data: dict[str, Any], field: str
) -> None:
    repo = Repository(store)
    await repo.create(e.TRIP, TRIP)
    before = await snapshot(store)
    with pytest.raises(NotFound) as refused:
        await repo.create(spec, data)
    assert (refused.value.field, refused.value.code) == (field, "NOT_FOUND")
    assert await snapshot(store) == before


@BOTH
async def test_a_parent_created_in_the_same_call_counts(store: Store) -> None:
    repo = Repository(store)
    await repo.create_all(
        [
            (e.TRIP, TRIP, None),
            (e.ITEM, {"id": "i1", "tripId": "t1", "title": "Tram"}, None),
            (e.BUDGET, {"tripId": "t1", "total": 100}, None),
        ]
    )
    assert await store.get("items:index:t1") == ["i1"]


@BOTH
async def test_an_item_cannot_move_to_a_missing_trip(store: Store) -> None:
    repo = Repository(store)
    await repo.create(e.TRIP, TRIP)
    await repo.create(e.ITEM, {"id": "i1", "tripId": "t1", "title": "Tram"})
    with pytest.raises(NotFound):
        await repo.update(e.ITEM, ["i1"], {"tripId": "gone"})
    assert (await store.get("item:i1"))["tripId"] == "t1"


def item(id_: str, trip_id: str = "t1") -> dict[str, Any]:
    return {"id": id_, "tripId": trip_id, "title": id_}


LIVE = {"trip:t2": {**TRIP, "id": "t2"}, "item:k1": item("k1", "t2"), "items:index:t2": ["k1"]}


@BOTH
@pytest.mark.parametrize(
    "items_index",
    [{"broken": True}, ["i1", {"ref": "i2"}], "not json"],
    ids=["object", "unknown-element", "text"],
)
async def test_delete_trip_finds_items_an_unclean_index_hides(
    store: Store, items_index: Any
) -> None:
    await store.set_many(
        {
            "trip:t1": TRIP,
            "trips:index:u1": ["t1", "t2"],
            "item:i1": item("i1"),
            "item:i2": item("i2"),
            "items:index:t1": items_index,
            "conflict:x1": {"id": "x1", "tripId": "t1"},
            "conflicts:index:t1": ["x1"],
            **LIVE,
        }
    )
    await Repository(store).delete(e.TRIP, "t1")
    assert await snapshot(store) == {"trips:index:u1": ["t2"], **LIVE}


@BOTH
async def test_delete_trip_with_a_clean_index_does_not_scan(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_scan(*args: Any) -> list[str]:
        raise AssertionError("scanned although the index could be read")

    monkeypatch.setattr(Repository, "_scan_children", no_scan)
    await store.set_many(
        {"trip:t1": TRIP, "item:i1": item("i1"), "items:index:t1": '["i1"]', **LIVE}
    )
    await Repository(store).delete(e.TRIP, "t1")
    assert await snapshot(store) == LIVE


@BOTH
async def test_delete_refuses_to_overwrite_an_unreadable_owner_index(store: Store) -> None:
    await store.set_many({"trip:t1": TRIP, "trips:index:u1": {"t1": 1}})
    before = await snapshot(store)
    with pytest.raises(UnreadableIndex) as refused:
        await Repository(store).delete(e.TRIP, "t1")
    assert "trips:index:u1" in refused.value.message
    assert await snapshot(store) == before
