"""`Repository.change` and `revise` (a patch computed from the stored record, in its
transaction: the same write as `update`) and `Repository.create_missing` (create unless a
listed record is the same, in one transaction)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.repo import InvalidData, NotFound, RepoError, Repository, UnreadableIndex
from tests.support import BACKENDS, dump

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

TRIP = {"trip:t1": {"id": "t1", "userId": "u1", "title": "T"}}


def same_type(old: m.Record, new: m.Record) -> bool:
    return getattr(old, "type", None) == getattr(new, "type", None)


def conflict(kind: str) -> dict[str, Any]:
    return {"tripId": "t1", "type": kind, "itemIds": ["a", "b"]}


async def test_change_sees_the_stored_record_and_may_refuse(store: Store) -> None:
    repo = Repository(store)
    await store.set_many(
        {"workflows:index:u1": ["w1"], "workflow:w1": {"id": "w1", "userId": "u1"}}
    )

    def step(before: m.Record) -> dict[str, Any]:
        found: m.Workflow = before  # type: ignore[assignment]
        if found.current_step != "draft":
            raise RepoError("moved already", "to")
        return {"currentStep": "searching"}

    runs = await asyncio.gather(
        *(repo.change(e.WORKFLOW, ["w1"], step) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, m.Workflow) for r in runs) == 1
    assert sum(isinstance(r, RepoError) for r in runs) == 4
    before = await dump(store)
    with pytest.raises(RepoError):
        await repo.change(e.WORKFLOW, ["w1"], step)
    with pytest.raises(InvalidData):  # a key field cannot change
        await repo.change(e.WORKFLOW, ["w1"], lambda _: {"id": "w2"})
    with pytest.raises(NotFound):
        await repo.change(e.WORKFLOW, ["nope"], step)
    assert await dump(store) == before


BUDGETED = TRIP | {
    "budget:t1": {"tripId": "t1", "total": 100, "thresholds": [0.5, 1.0]},
    "items:index:t1": ["i1"],
    "item:i1": {"id": "i1", "tripId": "t1", "title": "Hotel", "cost": 10},
}


async def alerted(store: Store) -> list[float]:
    return [alert["threshold"] for alert in await store.get("budget:alerts:t1") or []]


async def test_change_and_revise_record_the_alerts_they_make_due(store: Store) -> None:
    """Every write path runs what `update` runs after a write (budget alerts here)."""
    repo = Repository(store)
    await store.set_many(BUDGETED)
    await repo.change(e.ITEM, ["i1"], lambda _: {"cost": 60})
    assert await alerted(store) == [0.5]
    await repo.revise(e.BUDGET, ["t1"], lambda _: {"thresholds": [0.5, 0.6, 1.0]})
    assert await alerted(store) == [0.5, 0.6]
    made = {"tripId": "t1", "title": "Dinner", "cost": 40}
    await repo.revise(e.ITEM, ["i2"], lambda _: made, create=True)
    assert await alerted(store) == [0.5, 0.6, 1.0]
    assert await store.get("items:index:t1") == ["i1", "i2"]


async def test_change_and_revise_expire_the_users_suggestions(store: Store) -> None:
    repo = Repository(store)
    past = {"status": "active", "expiresAt": "2000-01-01T00:00:00Z"}
    await store.set_many(
        {
            "suggestions:index:u1": ["s1", "s2"],
            "suggestions:active:u1": ["s1", "s2"],
            "suggestion:s1": {"id": "s1", "userId": "u1", "content": "old", **past},
            "suggestion:s2": {"id": "s2", "userId": "u1", "content": "new", "status": "active"},
        }
    )
    await repo.change(e.SUGGESTION, ["s2"], lambda _: {"content": "newer"})
    assert (await store.get("suggestion:s1"))["status"] == "expired"
    assert await store.get("suggestions:active:u1") == ["s2"]


@pytest.mark.parametrize("path", ["change", "revise"])
async def test_change_and_revise_recheck_a_moved_parent(store: Store, path: str) -> None:
    repo = Repository(store)
    await store.set_many(BUDGETED)
    before = await dump(store)
    with pytest.raises(NotFound) as missing:
        await getattr(repo, path)(e.ITEM, ["i1"], lambda _: {"tripId": "gone"})
    assert missing.value.field == "tripId"
    assert await dump(store) == before


async def test_create_missing_records_each_once(store: Store) -> None:
    repo = Repository(store)
    await store.set_many(TRIP)
    key = "conflicts:index:t1"
    runs = await asyncio.gather(
        *(
            repo.create_missing(e.CONFLICT, key, [conflict("overlap"), conflict("x")], same_type)
            for _ in range(6)
        )
    )
    assert sum(len(created) for created, _ in runs) == 2
    assert all(len(created) + len(matched) == 2 for created, matched in runs)
    listed = await store.get(key)
    assert len(listed) == len(set(listed)) == 2
    # Entries like one another in one call are created once.
    await store.delete_many([key, *(f"conflict:{i}" for i in listed)])
    created, matched = await repo.create_missing(
        e.CONFLICT, key, [conflict("x"), conflict("x")], same_type
    )
    assert (len(created), matched) == (1, [])


async def test_create_missing_refuses_what_it_cannot_keep(store: Store) -> None:
    repo = Repository(store)
    with pytest.raises(NotFound):  # the trip is gone
        await repo.create_missing(e.CONFLICT, "conflicts:index:t1", [conflict("x")], same_type)
    await store.set_many(TRIP | {"conflicts:index:t1": {"not": "a list"}})
    before = await dump(store)
    with pytest.raises(UnreadableIndex):
        await repo.create_missing(e.CONFLICT, "conflicts:index:t1", [conflict("x")], same_type)
    with pytest.raises(ValueError, match="does not list"):
        await repo.create_missing(e.CONFLICT, "conflicts:index:t2", [conflict("x")], same_type)
    assert await dump(store) == before
    assert await repo.create_missing(e.CONFLICT, "conflicts:index:t1", [], same_type) == ([], [])
