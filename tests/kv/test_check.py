"""`check` finds each kind of corruption written raw into the table; `repair` fixes it once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.commands import cli
from gql.commands.check import summary
from gql.kv import Store
from gql.kv.check import Kind, Report, repair, scan
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"
T1, T2, T3, T4 = "t-1", "t-2", "t-3", "t-4"


def trip(id_: str, user: str = U, **extra: Any) -> dict[str, Any]:
    """A trip record in the seed's camelCase conventions."""
    return {"id": id_, "userId": user, "title": f"Trip {id_}", **extra}


def suggestion(id_: str, status: str) -> dict[str, Any]:
    """A suggestion record with a status."""
    return {"id": id_, "userId": U, "content": "Book early", "status": status}


CORRUPT: dict[str, Any] = {
    # dangling t-gone, duplicate t-1 (order t-2, t-1, t-3 must survive), orphan t-4
    f"trip:{T1}": trip(T1),
    f"trip:{T2}": trip(T2),
    f"trip:{T3}": trip(T3),
    f"trip:{T4}": trip(T4),
    f"trips:index:{U}": [T2, "t-gone", T1, T3, T1],
    # an orphan whose index key does not exist at all
    "conversation:c-1": {"id": "c-1", "userId": U, "title": "Paris"},
    # the filtered index lists a dismissed suggestion; an active one is missing from it
    "suggestion:s-1": suggestion("s-1", "dismissed"),
    "suggestion:s-2": suggestion("s-2", "active"),
    f"suggestions:index:{U}": ["s-1", "s-2"],
    f"suggestions:active:{U}": ["s-1"],
    # saved places: one real restaurant, one unknown place
    "restaurant:r-1": {"id": "r-1", "name": "Tasca"},
    "restaurants:index": ["r-1"],
    f"saved:{U}": ["r-1", "nowhere"],
    # invalid records of each role
    "trip:t-bad": {"id": "t-bad", "userId": U},  # no title
    "trips:index:user-2": {"not": "an array"},
    "items:index:t-1": ["i-1", 7],
    "context:history:c-1": {"not": "a list"},
    # unknown keys are counted and left alone
    "feature-flags": {"x": True},
    "session:abc": "whatever",
}


async def seed(store: Store) -> None:
    """Write the corrupted table raw, as another program would."""
    await store.set_many(CORRUPT)


def found(report: Report, kind: Kind) -> set[tuple[str, str]]:
    """(key, id) of each problem of a kind."""
    return {(p.key, p.id) for p in report.of(kind)}


async def snapshot(store: Store) -> dict[str, Any]:
    """Every key and value in the table."""
    return {key: value async for key, value in store.iter_prefix("")}


async def test_clean_store_is_clean(store: Store) -> None:
    await store.set_many({f"trip:{T1}": trip(T1), f"trips:index:{U}": [T1]})
    report = await scan(store)
    assert report.clean
    assert report.scanned == 2
    assert summary(report)[-1] == "no problems found"


async def test_check_finds_every_kind(store: Store) -> None:
    await seed(store)
    report = await scan(store)
    assert report.scanned == len(CORRUPT)
    assert report.unknown == 2
    assert found(report, Kind.DANGLING) == {
        (f"trips:index:{U}", "t-gone"),
        (f"suggestions:active:{U}", "s-1"),
        (f"saved:{U}", "nowhere"),
    }
    assert found(report, Kind.DUPLICATE) == {(f"trips:index:{U}", T1)}
    assert found(report, Kind.ORPHAN) == {
        (f"trips:index:{U}", T4),
        (f"conversation:index:{U}", "c-1"),
        (f"suggestions:active:{U}", "s-2"),
    }
    assert {p.key for p in report.of(Kind.INVALID)} == {
        "trip:t-bad",
        "trips:index:user-2",
        "items:index:t-1",
        "context:history:c-1",
    }


async def test_dry_run_writes_nothing(store: Store) -> None:
    await seed(store)
    before = await snapshot(store)
    plan = await repair(store, await scan(store), apply=False)
    assert f"trips:index:{U}: remove dangling id t-gone" in plan
    assert f"trips:index:{U}: append orphan {T4}" in plan
    assert any(line.startswith("trip:t-bad: left alone") for line in plan)
    assert await snapshot(store) == before


async def test_apply_fixes_keeps_order_and_is_idempotent(store: Store) -> None:
    await seed(store)
    await repair(store, await scan(store), apply=True)
    assert await store.get(f"trips:index:{U}") == [T2, T1, T3, T4]
    assert await store.get(f"conversation:index:{U}") == ["c-1"]
    assert await store.get(f"suggestions:active:{U}") == ["s-2"]
    assert await store.get(f"saved:{U}") == ["r-1"]
    after = await snapshot(store)
    # invalid records are reported, never deleted or rewritten
    for key in ("trip:t-bad", "trips:index:user-2", "items:index:t-1", "context:history:c-1"):
        assert after[key] == CORRUPT[key]
    report = await scan(store)
    assert {p.kind for p in report.problems} == {Kind.INVALID}
    second = await repair(store, report, apply=True)
    assert all(": left alone, invalid" in line for line in second)
    assert await snapshot(store) == after


async def test_repair_rechecks_entities_before_writing(store: Store) -> None:
    await seed(store)
    report = await scan(store)
    # after the scan another writer creates the "dangling" trip and deletes the orphan
    await store.set("trip:t-gone", trip("t-gone"))
    await store.delete(f"trip:{T4}")
    await repair(store, report, apply=True)
    assert await store.get(f"trips:index:{U}") == [T2, "t-gone", T1, T3]


async def test_repair_keeps_ids_added_concurrently(store: Store) -> None:
    await seed(store)
    report = await scan(store)
    await store.set_many(
        {"trip:t-new": trip("t-new"), f"trips:index:{U}": [*CORRUPT[f"trips:index:{U}"], "t-new"]}
    )
    await repair(store, report, apply=True)
    assert await store.get(f"trips:index:{U}") == [T2, T1, T3, "t-new", T4]


async def test_wrong_owner_is_moved(store: Store) -> None:
    await store.set_many({f"trip:{T1}": trip(T1, "user-2"), f"trips:index:{U}": [T1]})
    report = await scan(store)
    assert found(report, Kind.DANGLING) == {(f"trips:index:{U}", T1)}
    assert found(report, Kind.ORPHAN) == {("trips:index:user-2", T1)}
    await repair(store, report, apply=True)
    assert await store.get_many([f"trips:index:{U}", "trips:index:user-2"]) == [[], [T1]]
    assert (await scan(store)).clean


async def test_key_mismatch_is_invalid_not_reindexed(store: Store) -> None:
    await store.set_many({f"trip:{T1}": trip(T2), f"trips:index:{U}": [T1]})
    report = await scan(store)
    assert [(p.kind, p.key) for p in report.problems] == [(Kind.INVALID, f"trip:{T1}")]
    await repair(store, report, apply=True)
    assert await store.get(f"trips:index:{U}") == [T1]


async def test_progress_is_reported(store: Store) -> None:
    await store.set_many({f"trip:{i:03d}": trip(f"{i:03d}") for i in range(25)})
    seen: list[int] = []
    await scan(store, seen.append, every=10)
    assert seen == [10, 20]


async def test_cli_check_and_repair(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, table = store_url
    flags = ["--store-url", url, "--kv-table", table]
    await seed(store)

    assert await asyncio.to_thread(cli.main, ["check", *flags]) == 1
    out = capsys.readouterr().out
    assert "problems: 3 dangling, 3 orphan, 1 duplicate, 4 invalid" in out
    assert f"dangling   trips:index:{U} t-gone: trip:t-gone is missing" in out

    assert await asyncio.to_thread(cli.main, ["repair", *flags]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing written; run with --apply" in out
    assert await store.get(f"trips:index:{U}") == CORRUPT[f"trips:index:{U}"]

    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 0
    out = capsys.readouterr().out
    assert "repaired: " in out
    assert "4 invalid record(s) left alone: they need a human" in out
    assert "dry run" not in out

    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 0
    assert "repair: nothing to fix" in capsys.readouterr().out

    for key in ("trip:t-bad", "trips:index:user-2", "items:index:t-1", "context:history:c-1"):
        await store.delete(key)
    assert await asyncio.to_thread(cli.main, ["check", *flags]) == 0
    assert "no problems found" in capsys.readouterr().out


async def test_saved_entries_may_name_their_kind(store: Store) -> None:
    await store.set_many(
        {
            "restaurant:r-1": {"id": "r-1", "name": "Tasca"},
            "restaurants:index": ["r-1"],
            "saved:u9": ["restaurant:r-1", "rental:r-1", "r-1"],
        }
    )
    report = await scan(store)
    assert [(p.kind, p.id) for p in report.problems] == [(Kind.DANGLING, "rental:r-1")]
