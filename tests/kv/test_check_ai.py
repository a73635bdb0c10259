"""`check` and `repair` on agent runs, AI context histories and API keys written raw."""

from __future__ import annotations

import pytest

from gql.kv import Store
from gql.kv.check import Kind, repair, scan
from tests.support import BACKENDS

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"


def run(id_: str, user: str = U) -> dict[str, object]:
    return {"id": id_, "userId": user, "agentName": "scout", "status": "success"}


async def test_runs_out_of_step_with_their_index_are_found_and_repaired(store: Store) -> None:
    await store.set_many(
        {
            "ai_run:r1": run("r1"),
            "ai_run:r2": run("r2"),  # unlisted
            "ai_run:r3": run("r3", "someone-else"),  # listed by the wrong user
            "ai_run:r4": {"id": "r4"},  # invalid: no userId
            f"ai_runs:index:{U}": ["r1", "r1", "gone", "r3"],
        }
    )
    report = await scan(store)
    found = {(p.kind, p.key, p.id) for p in report.problems}
    index = f"ai_runs:index:{U}"
    assert (Kind.DUPLICATE, index, "r1") in found
    assert (Kind.DANGLING, index, "gone") in found
    assert (Kind.DANGLING, index, "r3") in found
    assert (Kind.UNLISTED, index, "r2") in found
    assert (Kind.UNLISTED, "ai_runs:index:someone-else", "r3") in found
    assert (Kind.INVALID, "ai_run:r4", "") in found
    await repair(store, report, apply=True)
    assert await store.get(index) == ["r1", "r2"]
    assert await store.get("ai_runs:index:someone-else") == ["r3"]
    again = await scan(store)
    assert {(p.kind, p.key) for p in again.problems} == {(Kind.INVALID, "ai_run:r4")}


async def test_unreadable_snapshots_and_orphan_histories_are_reported(store: Store) -> None:
    await store.set_many(
        {
            "conversation:c1": {"id": "c1", "userId": U},
            f"conversation:index:{U}": ["c1"],
            "context:history:c1": [{"seq": 0, "entities": {}}, "oops", {"seq": "x"}],
            "context:history:c-gone": [{"seq": 0}],
        }
    )
    report = await scan(store)
    invalid = [p.key for p in report.of(Kind.INVALID) if p.key.startswith("context:history:")]
    assert invalid == ["context:history:c1[1]"]  # a bad seq is dropped, not fatal
    orphans = [p.key for p in report.of(Kind.ORPHAN)]
    assert orphans == ["context:history:c-gone"]
    before = {key: value async for key, value in store.iter_prefix("context:")}
    await repair(store, report, apply=True)
    assert {key: value async for key, value in store.iter_prefix("context:")} == before
