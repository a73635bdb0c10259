"""`check` finds each kind of corruption written raw into the table; `repair` fixes it once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.commands import cli
from gql.commands.check import summary
from gql.kv import Store
from gql.kv.check import Kind, Report, repair, scan
from gql.kv.mapping import parse_mapping
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


def item(id_: str, trip_id: str = T1) -> dict[str, Any]:
    """An itinerary item record."""
    return {"id": id_, "tripId": trip_id, "title": f"Item {id_}"}


CORRUPT: dict[str, Any] = {
    # dangling t-gone, duplicate t-1 (order t-2, t-1, t-3 must survive), unlisted t-4
    f"trip:{T1}": trip(T1),
    f"trip:{T2}": trip(T2),
    f"trip:{T3}": trip(T3),
    f"trip:{T4}": trip(T4),
    f"trips:index:{U}": [T2, "t-gone", T1, T3, T1],
    # an unlisted conversation whose index key does not exist at all
    "conversation:c-1": {"id": "c-1", "userId": U, "title": "Paris"},
    # the filtered index lists a dismissed suggestion; an active one is missing from it
    "suggestion:s-1": suggestion("s-1", "dismissed"),
    "suggestion:s-2": suggestion("s-2", "active"),
    f"suggestions:index:{U}": ["s-1", "s-2"],
    f"suggestions:active:{U}": ["s-1"],
    # saved places: one real restaurant, one id the catalog does not know (kept)
    "restaurant:r-1": {"id": "r-1", "name": "Tasca"},
    "restaurants:index": ["r-1"],
    f"saved:{U}": ["r-1", "nowhere"],
    # an index with a bad element is still checked element by element: the null is kept,
    # 7 (a number, read as the id "7") is dangling, i-1 is listed twice, i-2 is unlisted
    "item:i-1": item("i-1"),
    "item:i-2": item("i-2"),
    f"items:index:{T1}": ["i-1", 7, None, "i-1"],
    # invalid records of each role
    "trip:t-bad": {"id": "t-bad", "userId": U},  # no title
    "trips:index:user-2": {"not": "an array"},
    "context:history:c-1": {"not": "a list"},
    # unknown keys are counted and left alone
    "feature-flags": {"x": True},
    "session:abc": "whatever",
}
INVALID = ("trip:t-bad", "trips:index:user-2", f"items:index:{T1}", "context:history:c-1")


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
        (f"items:index:{T1}", "7"),
    }
    assert found(report, Kind.DUPLICATE) == {(f"trips:index:{U}", T1), (f"items:index:{T1}", "i-1")}
    assert found(report, Kind.UNLISTED) == {
        (f"trips:index:{U}", T4),
        (f"conversation:index:{U}", "c-1"),
        (f"suggestions:active:{U}", "s-2"),
        (f"items:index:{T1}", "i-2"),
    }
    assert found(report, Kind.NOTE) == {(f"saved:{U}", "nowhere")}
    assert {p.key for p in report.of(Kind.INVALID)} == set(INVALID)
    (bad,) = [p for p in report.problems if p.key == f"items:index:{T1}" and p.kind is Kind.INVALID]
    assert bad.detail == "element(s) 2 (null) are not ids; kept as they are"
    assert report.of(Kind.ORPHAN) == []


async def test_dry_run_writes_nothing(store: Store) -> None:
    await seed(store)
    before = await snapshot(store)
    plan = [c.line() for c in await repair(store, await scan(store), apply=False)]
    assert f"trips:index:{U}: remove dangling id t-gone" in plan
    assert f"trips:index:{U}: append unlisted id {T4}" in plan
    assert any(line.startswith("trip:t-bad: left alone (invalid") for line in plan)
    assert await snapshot(store) == before


async def test_apply_fixes_keeps_order_and_is_idempotent(store: Store) -> None:
    await seed(store)
    await repair(store, await scan(store), apply=True)
    assert await store.get(f"trips:index:{U}") == [T2, T1, T3, T4]
    assert await store.get(f"conversation:index:{U}") == ["c-1"]
    assert await store.get(f"suggestions:active:{U}") == ["s-2"]
    assert await store.get(f"saved:{U}") == ["r-1", "nowhere"]  # an external id is kept
    # the element kvgraph does not understand stays where it was
    assert await store.get(f"items:index:{T1}") == ["i-1", None, "i-2"]
    after = await snapshot(store)
    # invalid records are reported, never deleted or rewritten
    for key in ("trip:t-bad", "trips:index:user-2", "context:history:c-1"):
        assert after[key] == CORRUPT[key]
    report = await scan(store)
    assert {p.kind for p in report.problems} == {Kind.INVALID}
    second = await repair(store, report, apply=True)
    assert all(not c.writes and "invalid" in c.detail for c in second)
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
    assert found(report, Kind.UNLISTED) == {("trips:index:user-2", T1)}
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
    assert "problems: 3 dangling, 4 unlisted, 2 duplicate, 4 invalid" in out
    assert f"dangling   trips:index:{U} t-gone: trip:t-gone is missing" in out
    assert "notes: 1 (kept as they are)" in out

    # repair exits 1 while it leaves invalid records alone (they need a human)
    assert await asyncio.to_thread(cli.main, ["repair", *flags]) == 1
    out = capsys.readouterr().out
    assert "dry run: nothing written; run with --apply" in out
    assert await store.get(f"trips:index:{U}") == CORRUPT[f"trips:index:{U}"]

    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 1
    out = capsys.readouterr().out
    assert "repaired: " in out
    assert "4 invalid record(s) left alone: they need a human" in out
    assert "dry run" not in out

    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 1
    assert "repair: nothing to fix" in capsys.readouterr().out

    await store.delete_many(["trip:t-bad", "trips:index:user-2", "context:history:c-1"])
    await store.set(f"items:index:{T1}", ["i-1", "i-2"])
    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 0
    assert "repair: nothing to fix" in capsys.readouterr().out
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


async def test_trip_shared_with_a_collaborator_is_kept(store: Store) -> None:
    shared = {
        f"trip:{T1}": trip(T1, "owner"),
        "trips:index:owner": [T1],
        f"collaborator:{T1}:{U}": {"tripId": T1, "userId": U, "role": "editor"},
        f"trips:index:{U}": [T1],  # GraphQL lists it for the collaborator too
    }
    await store.set_many(shared)
    report = await scan(store)
    assert report.clean, report.problems
    await repair(store, report, apply=True)
    assert await snapshot(store) == shared
    # without the collaborator entry it is someone else's trip: dangling, removed
    await store.delete(f"collaborator:{T1}:{U}")
    report = await scan(store)
    assert found(report, Kind.DANGLING) == {(f"trips:index:{U}", T1)}
    await repair(store, report, apply=True)
    assert await store.get(f"trips:index:{U}") == []


async def test_external_place_ids_are_kept_and_noted(store: Store) -> None:
    saved = ["r-1", "ChIJN1t_tDeuEmsRUsoyG83frY4", {"placeId": "ChIJrTLr", "savedAt": 1}]
    await store.set_many(
        {
            "restaurant:r-1": {"id": "r-1", "name": "Tasca"},
            "restaurants:index": ["r-1"],
            f"saved:{U}": saved,
            "saved:u2": ["google:ChIJabc", "r-1"],  # another service's reference
        }
    )
    report = await scan(store)
    assert report.clean, report.problems
    assert found(report, Kind.NOTE) == {
        (f"saved:{U}", "ChIJN1t_tDeuEmsRUsoyG83frY4"),
        (f"saved:{U}", "ChIJrTLr"),
        ("saved:u2", "google:ChIJabc"),
    }
    before = await snapshot(store)
    assert await repair(store, report, apply=True) == []
    assert await snapshot(store) == before


async def test_repair_keeps_the_stored_form_of_every_element(store: Store) -> None:
    await store.set_many(
        {
            f"trip:{T1}": trip(T1),
            "trip:17": trip("17"),
            f"trip:{T2}": trip(T2),
            f"trips:index:{U}": [T1, 17, {"id": T2, "pinned": True}, "t-gone", None, 17],
            "item:i-1": item("i-1"),
            f"items:index:{T1}": '["i-1", "i-gone"]',  # double-encoded
        }
    )
    report = await scan(store)
    assert found(report, Kind.DANGLING) == {
        (f"trips:index:{U}", "t-gone"),
        (f"items:index:{T1}", "i-gone"),
    }
    assert found(report, Kind.DUPLICATE) == {(f"trips:index:{U}", "17")}
    assert found(report, Kind.NOTE) == {(f"items:index:{T1}", "")}
    await repair(store, report, apply=True)
    assert await store.get(f"trips:index:{U}") == [T1, 17, {"id": T2, "pinned": True}, None]
    assert await store.get(f"items:index:{T1}") == '["i-1"]'


async def test_unreadable_index_is_reported_and_never_written(store: Store) -> None:
    await store.set_many(
        {f"trip:{T1}": trip(T1), f"trips:index:{U}": "not json", "trips:index:u2": 42}
    )
    report = await scan(store)
    assert {(p.key, p.detail) for p in report.of(Kind.INVALID)} == {
        (f"trips:index:{U}", "a string that is not a JSON array of ids"),
        ("trips:index:u2", "a number, not an array of ids"),
    }
    assert report.of(Kind.UNLISTED) == []  # its content is unknown: no claim about it
    before = await snapshot(store)
    await repair(store, report, apply=True)
    assert await snapshot(store) == before


LEFTOVERS: dict[str, Any] = {
    # what a deleted trip t-gone and a deleted conversation c-gone left behind
    "item:i-1": item("i-1", "t-gone"),
    "item:i-2": item("i-2", "t-gone"),
    "items:index:t-gone": ["i-1"],
    "conflict:x-1": {"id": "x-1", "tripId": "t-gone"},
    "budget:t-gone": {"tripId": "t-gone", "total": 100},
    "budget:alerts:t-gone": [],
    "collaborator:t-gone:u2": {"tripId": "t-gone", "userId": "u2"},
    "message:m-1": {"id": "m-1", "conversationId": "c-gone", "content": "hi"},
    "messages:index:c-gone": ["m-1"],
    "context:c-gone": {"session": {}},
    "context:history:c-gone": [],
}
# A live trip with its own children, untouched by everything below.
LIVE: dict[str, Any] = {
    f"trip:{T1}": trip(T1),
    f"trips:index:{U}": [T1],
    "item:i-9": item("i-9"),
    f"items:index:{T1}": ["i-9"],
}


async def test_leftovers_of_a_deleted_parent_are_orphans(store: Store) -> None:
    await store.set_many({**LEFTOVERS, **LIVE})
    report = await scan(store)
    assert {(p.key, p.parent) for p in report.problems} == {
        (key, "conversation:c-gone" if "c-gone" in key or key == "message:m-1" else "trip:t-gone")
        for key in LEFTOVERS
    }
    assert {p.kind for p in report.problems} == {Kind.ORPHAN}


async def test_repair_never_recreates_a_deleted_parents_index(store: Store) -> None:
    leftovers = {key: LEFTOVERS[key] for key in ("item:i-1", "item:i-2", "message:m-1")}
    await store.set_many({**leftovers, **LIVE})
    before = await snapshot(store)
    report = await scan(store)
    assert {p.kind for p in report.problems} == {Kind.ORPHAN}
    changes = await repair(store, report, apply=True)
    assert all(not c.writes for c in changes)
    assert await snapshot(store) == before  # no items:index:t-gone, nothing deleted


async def test_orphans_are_deleted_only_when_asked(store: Store) -> None:
    await store.set_many({**LEFTOVERS, **LIVE})
    report = await scan(store)
    plan = await repair(store, report, apply=False, delete_orphans_too=True)
    assert {c.key for c in plan if c.action == "delete orphan"} == set(LEFTOVERS)
    assert await snapshot(store) == {**LEFTOVERS, **LIVE}
    await repair(store, report, apply=True, delete_orphans_too=True)
    assert await snapshot(store) == LIVE
    assert (await scan(store)).clean


async def test_orphans_whose_parent_came_back_are_kept(store: Store) -> None:
    await store.set_many({**LEFTOVERS, **LIVE})
    report = await scan(store)
    # after the scan the app writes the trip again, and moves one message elsewhere
    await store.set("trip:t-gone", trip("t-gone"))
    await store.set("message:m-1", {"id": "m-1", "conversationId": "c-live", "content": "hi"})
    changes = await repair(store, report, apply=True, delete_orphans_too=True)
    deleted = {c.key for c in changes if c.action == "delete orphan"}
    assert deleted == {"messages:index:c-gone", "context:c-gone", "context:history:c-gone"}
    assert await store.get("item:i-1") == LEFTOVERS["item:i-1"]
    assert await store.get("message:m-1") is not None


async def test_a_filtered_index_keeps_ids_whose_status_kvgraph_does_not_know(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # `pending` and `snoozed` are the app's; a mapping can name one of them (counts as known).
    await store.set_many(
        {
            "suggestion:s-p": suggestion("s-p", "pending"),
            "suggestion:s-z": suggestion("s-z", "snoozed"),
            "suggestion:s-d": suggestion("s-d", "dismissed"),
            "suggestion:s-a": suggestion("s-a", "active"),
            f"suggestions:index:{U}": ["s-p", "s-z", "s-d", "s-a"],
            f"suggestions:active:{U}": ["s-p", "s-z", "s-d", "s-a"],
        }
    )
    report = await scan(store)
    assert found(report, Kind.DANGLING) == {(f"suggestions:active:{U}", "s-d")}
    assert found(report, Kind.NOTE) == {
        (f"suggestions:active:{U}", "s-p"),
        (f"suggestions:active:{U}", "s-z"),
    }
    assert report.of(Kind.UNLISTED) == []  # nor is an unknown status ever added
    url, table = store_url
    flags = ["--store-url", url, "--kv-table", table]
    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 0
    assert await store.get(f"suggestions:active:{U}") == ["s-p", "s-z", "s-a"]
    assert "1 change(s) written" in capsys.readouterr().out

    # Mapped, `pending` means active (so it belongs in the index) and `snoozed` dismissed
    # (known, and not active: it goes).
    await store.set(f"suggestions:active:{U}", ["s-a"])
    mapping = parse_mapping('[suggestion.values.status]\nsnoozed = "dismissed"\npending = "active"')
    report = await scan(store, mapping=mapping)
    assert found(report, Kind.UNLISTED) == {(f"suggestions:active:{U}", "s-p")}
    await store.set(f"suggestions:active:{U}", ["s-p", "s-z", "s-a"])
    report = await scan(store, mapping=mapping)
    assert found(report, Kind.DANGLING) == {(f"suggestions:active:{U}", "s-z")}
    await repair(store, report, apply=True, mapping=mapping)
    assert await store.get(f"suggestions:active:{U}") == ["s-p", "s-a"]
