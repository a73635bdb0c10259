"""`Repository.change` (a patch computed from the stored record, in its transaction) and
`Repository.create_missing` (create unless a listed record is the same, in one transaction)."""

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
