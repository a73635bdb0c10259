"""Concurrent writers on one index lose nothing, within one store and across two.

Each test uses its own user id: Postgres advisory locks are per database, not per table, so
fixed keys would make parallel test runs on one database wait on each other.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from gql.kv import Store, entities
from gql.kv.check import scan
from gql.kv.repo import Repository
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

USER = f"user-{uuid.uuid4()}"
INDEX = f"trips:index:{USER}"


async def create_trips(repo: Repository, count: int, label: str) -> list[str]:
    """Create `count` trips for USER one after another; return their ids."""
    ids = []
    for n in range(count):
        record = await repo.create(entities.TRIP, {"userId": USER, "title": f"{label} {n}"})
        ids.append(record.id)  # type: ignore[attr-defined]
    return ids


async def delete_trips(repo: Repository, ids: list[str]) -> None:
    """Delete trips one after another, yielding between deletes."""
    for id_ in ids:
        await repo.delete(entities.TRIP, id_)
        await asyncio.sleep(0)


async def assert_consistent(store: Store, expected: set[str]) -> None:
    """The index lists exactly `expected`, once each, every id resolvable, check clean."""
    index = await store.get(INDEX)
    assert isinstance(index, list)
    assert len(index) == len(set(index)) == len(expected)
    assert set(index) == expected
    records = await store.get_many([f"trip:{i}" for i in index])
    assert all(r is not None and r["userId"] == USER for r in records)
    trips = [key async for key, _ in store.iter_prefix("trip:")]
    assert len(trips) == len(expected)
    report = await scan(store)
    assert report.clean, report.problems


async def test_200_concurrent_creates_on_one_index(store: Store) -> None:
    repo = Repository(store)
    batches = await asyncio.gather(*(create_trips(repo, 10, f"task{t}") for t in range(20)))
    created = {id_ for batch in batches for id_ in batch}
    assert len(created) == 200
    await assert_consistent(store, created)


async def test_concurrent_creates_and_deletes(store: Store) -> None:
    repo = Repository(store)
    existing = await create_trips(repo, 60, "old")
    doomed = [existing[i::4] for i in range(3)]  # 3 deleting tasks, 45 trips in all
    batches = await asyncio.gather(
        *(create_trips(repo, 10, f"new{t}") for t in range(10)),
        *(delete_trips(repo, ids) for ids in doomed),
    )
    created = {id_ for batch in batches if batch for id_ in batch}
    deleted = {id_ for ids in doomed for id_ in ids}
    assert len(created) == 100
    assert len(deleted) == 45
    await assert_consistent(store, created | (set(existing) - deleted))


async def test_two_store_objects_on_one_table(
    store: Store, make_store: Callable[[], Store]
) -> None:
    other = make_store()
    await other.open()
    first, second = Repository(store), Repository(other)
    batches = await asyncio.gather(
        *(create_trips(first, 10, f"a{t}") for t in range(5)),
        *(create_trips(second, 10, f"b{t}") for t in range(5)),
    )
    created = {id_ for batch in batches for id_ in batch}
    assert len(created) == 100
    await assert_consistent(store, created)
    await assert_consistent(other, created)
