"""Jobs, their logs, automation rules and cached pages in the store: `check` and `repair`,
`check --shapes` proposals, and the repository's append."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv.check import Kind, repair, scan
from gql.kv.repo import NotFound, Repository, UnreadableList
from gql.kv.shapes import scan_shapes
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"
TABLE: dict[str, Any] = {
    # a dangling job id and a duplicate in the global index; an unlisted job
    "jobs:index": ["j1", "j-gone", "j1"],
    "job:j1": {"id": "j1", "type": "sync", "status": "done"},
    "job:j2": {"id": "j2", "type": "import", "status": "queued"},
    # a log whose job is gone, and one whose job is there
    "log:j-old": {"jobId": "j-old", "entries": [{"message": "x"}]},
    "log:j1": {"entries": [{"msg": "hi"}, "not an entry"]},
    # a rule its app never listed, and a dangling id in kvgraph's index
    "automation:r1": {"id": "r1", "userId": U, "title": "Cheap", "active": True},
    f"automations:index:{U}": ["r-gone"],
    # a page under kvgraph's hash and one an app cached under another name
    "websource:abc": {"url": "https://x.test/", "link": "https://x.test/"},
}


def found(report: Any, kind: Kind) -> list[tuple[str, str]]:
    return sorted((p.key, p.id) for p in report.of(kind))


async def test_check_reports_and_repair_fixes_them(store: Store) -> None:
    await store.set_many(TABLE)
    report = await scan(store)
    assert found(report, Kind.DANGLING) == [
        ("automations:index:user-1", "r-gone"),
        ("jobs:index", "j-gone"),
    ]
    assert found(report, Kind.DUPLICATE) == [("jobs:index", "j1")]
    assert found(report, Kind.UNLISTED) == [
        ("automations:index:user-1", "r1"),
        ("jobs:index", "j2"),
    ]
    assert [p.key for p in report.of(Kind.ORPHAN)] == ["log:j-old"]
    invalid = [(p.key, p.detail) for p in report.of(Kind.INVALID)]
    assert invalid == [("log:j1.entries[1]", "expected a JSON object, found str")]

    await repair(store, report, apply=True)
    assert await store.get("jobs:index") == ["j1", "j2"]
    assert await store.get(f"automations:index:{U}") == ["r1"]
    assert await store.get("log:j-old") is not None  # orphans only when asked
    assert (await store.get("log:j1"))["entries"][1] == "not an entry"  # left for a human
    again = await scan(store)
    assert sorted(p.kind for p in again.problems) == [Kind.INVALID, Kind.ORPHAN]
    await repair(store, again, apply=True, delete_orphans_too=True)
    assert await store.get("log:j-old") is None
    assert [p.kind for p in (await scan(store)).problems] == [Kind.INVALID]


async def test_check_shapes_proposes_an_apps_job_statuses_and_names(store: Store) -> None:
    await store.set_many(TABLE)
    proposal = (await scan_shapes(store)).proposal()
    statuses = proposal.values["job"]["status"]
    assert (statuses["done"].means, statuses["done"].write) == ("completed", True)
    assert (statuses["queued"].means, statuses["queued"].write) == ("pending", True)
    assert proposal.names["automation"]["title"].means == "name"
    assert proposal.names["automation"]["active"].means == "enabled"
    assert proposal.names["websource"]["link"].means == "url"


async def test_append_keeps_what_is_stored_and_refuses_what_it_cannot_read(
    store: Store,
) -> None:
    repo = Repository(store)
    with pytest.raises(NotFound):  # a log belongs to a job
        await repo.append(e.LOG, ["j1"], "entries", [{"message": "m"}])
    await store.set_many({"job:j1": {"id": "j1"}, "job:j2": {"id": "j2"}})
    created = await repo.append(e.LOG, ["j1"], "entries", [{"message": "m"}])
    assert created.entries == [{"message": "m"}]  # type: ignore[attr-defined]
    stored = await store.get("log:j1")
    assert stored["jobId"] == "j1" and stored["entries"] == [{"message": "m"}]
    await store.set("log:j2", {"entries": [7, {"at": 1732550400000}], "app": "kept"})
    await repo.append(e.LOG, ["j2"], "entries", [{"message": "n"}])
    stored = await store.get("log:j2")
    assert stored["entries"] == [7, {"at": 1732550400000}, {"message": "n"}]
    assert stored["app"] == "kept" and "updatedAt" in stored
    await store.set("log:j2", {"entries": {"not": "a list"}})
    with pytest.raises(UnreadableList, match="log:j2: its entries is not a list"):
        await repo.append(e.LOG, ["j2"], "entries", [{"message": "n"}])
    assert await store.get("log:j2") == {"entries": {"not": "a list"}}


async def test_a_log_stored_as_a_bare_list_reads_and_stays_a_list(store: Store) -> None:
    entries = [{"timestamp": "2024-12-24T02:00:01Z", "message": "started"}, {"msg": "done"}]
    await store.set_many({"job:j1": {"id": "j1"}, "log:j1": entries})
    log = e.LOG.validate("log:j1", await store.get("log:j1"))
    assert log.entries == entries and log.job_id == "j1"  # type: ignore[union-attr]
    report = await scan(store)
    assert not [p for p in report.problems if p.key == "log:j1"]
    await Repository(store).append(e.LOG, ["j1"], "entries", [{"message": "more"}])
    assert await store.get("log:j1") == [*entries, {"message": "more"}]


async def test_check_reports_a_workflow_move_it_cannot_read(store: Store) -> None:
    """A booking workflow's history is read entry by entry, by the API and by `check` alike."""
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": "u1", "title": "Lisbon"},
            "trips:index:u1": ["t1"],
            "workflow:w1": {
                "id": "w1",
                "tripId": "t1",
                "userId": "u1",
                "history": ["oops", {"step": "draft"}],
            },
            "workflows:index:u1": ["w1"],
        }
    )
    report = await scan(store)
    invalid = [(p.key, p.detail) for p in report.problems if p.kind is Kind.INVALID]
    assert invalid == [("workflow:w1.history[0]", "expected a JSON object, found str")]
    assert (await store.get("workflow:w1"))["history"][0] == "oops"  # reported, kept
