"""Agent runs: recorded, changed and deleted by the service role for a named user, read by that
user only (`User.aiRuns`, `node(nodeId:)`), totals per agent and per day over a range, the
index kept in step under concurrent writers, app records read through synonyms and mappings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from gql.kv.mapping import parse_mapping
from resolvers.context import SERVICE_ROLE
from resolvers.ids import node_id
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    NOWHERE,
    Gateway,
    done,
    dump,
    fields,
    index,
    mutation,
    refused,
)

RUN_F = "id agentName inputTokens outputTokens durationMs status statusRaw createdAt"
RECORD = mutation("recordAiRun", f"aiRun {{ {RUN_F} }}")
UPDATE = mutation("updateAiRun", f"aiRun {{ {RUN_F} }}")
DELETE = mutation("deleteAiRun", "aiRun { id }")
RUNS = f"{{ viewer {{ aiRuns {{ totalCount nodes {{ {RUN_F} }} }} }} }}"
NODE = "query($n: ID!) { node(nodeId: $n) { ... on AIRun { id agentName } } }"
TOTALS = """query($from: Date!, $to: Date!) { viewer { aiRunTotals(from: $from, to: $to) {
  from to undated all { runs inputTokens outputTokens durationMs }
  byAgent { agentName runs inputTokens outputTokens durationMs }
  byDay { date runs inputTokens } } } }"""
AGENT = "agent-runner"  # the `sub` of the service role's token


def run_input(**extra: Any) -> dict[str, Any]:
    return {
        "userId": ALICE,
        "agentName": "dining-orchestrator",
        "inputTokens": 250,
        "outputTokens": 180,
        "durationMs": 1200.5,
        "status": "SUCCESS",
        **extra,
    }


async def record(gw: Gateway, **extra: Any) -> dict[str, Any]:
    return await done(gw, RECORD, run_input(**extra), viewer=AGENT, role=SERVICE_ROLE)  # type: ignore[no-any-return]


async def forbidden(
    gw: Gateway, store: Store, query: str, input_: dict[str, Any], **who: Any
) -> str:
    """Run a mutation refused as a whole (an error with a code, no data); nothing written."""
    before = await dump(store)
    result = await gw.run(query, {"input": input_}, **who)
    assert result.data is None, result.data  # type: ignore[attr-defined]
    (error,) = result.errors  # type: ignore[attr-defined]
    assert await dump(store) == before, "a refused mutation wrote to the store"
    return error.extensions["code"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- create, read, update, delete
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_the_service_role_records_a_run_its_user_reads(gw: Gateway, store: Store) -> None:
    run = await record(gw, createdAt="2024-12-24T10:15:00Z")
    assert run["agentName"] == "dining-orchestrator" and run["status"] == "SUCCESS"
    stored = await store.get(k.AI_RUN.key(run["id"]))
    assert stored == {
        "id": run["id"],
        "userId": ALICE,
        "agentName": "dining-orchestrator",
        "inputTokens": 250,
        "outputTokens": 180,
        "durationMs": 1200.5,
        "status": "success",
        "createdAt": "2024-12-24T10:15:00.000Z",
    }
    assert await index(store, k.AI_RUNS_INDEX.key(ALICE)) == [run["id"]]
    mine = await gw.ok(RUNS, viewer=ALICE)
    assert mine["viewer"]["aiRuns"] == {"totalCount": 1, "nodes": [run]}
    found = await gw.ok(NODE, {"n": node_id("AIRun", run["id"])}, viewer=ALICE)
    assert found["node"] == {"id": run["id"], "agentName": "dining-orchestrator"}


async def test_kvgraph_stamps_created_at(gw: Gateway, store: Store) -> None:
    run = await record(gw)
    assert (await store.get(k.AI_RUN.key(run["id"])))["createdAt"].endswith("Z")


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_stranger_finds_no_run(gw: Gateway, store: Store) -> None:
    run = await record(gw)
    for viewer, role in ((BOB, None), (None, None), (AGENT, SERVICE_ROLE)):
        found = await gw.ok(NODE, {"n": node_id("AIRun", run["id"])}, viewer=viewer, role=role)
        assert found == {"node": None}, (viewer, role)
    theirs = await gw.ok(RUNS, viewer=BOB)
    assert theirs["viewer"]["aiRuns"] == {"totalCount": 0, "nodes": []}


async def test_a_run_listed_in_someone_elses_index_shows_nothing(gw: Gateway, store: Store) -> None:
    run = await record(gw)
    await store.set(k.AI_RUNS_INDEX.key(BOB), [run["id"]])
    assert (await gw.ok(RUNS, viewer=BOB))["viewer"]["aiRuns"]["nodes"] == []


async def test_the_service_role_updates_a_run(gw: Gateway, store: Store) -> None:
    run = await record(gw, status="RUNNING", outputTokens=None, durationMs=None)
    assert run["status"] == "RUNNING"
    changed = await done(
        gw,
        UPDATE,
        {"id": run["id"], "status": "ERROR", "outputTokens": 12, "durationMs": 30000},
        viewer=AGENT,
        role=SERVICE_ROLE,
    )
    assert (changed["status"], changed["outputTokens"], changed["durationMs"]) == (
        "ERROR",
        12,
        30000.0,
    )
    stored = await store.get(k.AI_RUN.key(run["id"]))
    assert stored["status"] == "error" and stored["agentName"] == "dining-orchestrator"
    assert stored["createdAt"] == (await store.get(k.AI_RUN.key(run["id"])))["createdAt"]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_the_service_role_deletes_a_run(gw: Gateway, store: Store) -> None:
    keep, gone = await record(gw), await record(gw)
    out = await done(gw, DELETE, {"id": gone["id"]}, viewer=AGENT, role=SERVICE_ROLE)
    assert out == {"id": gone["id"]}
    assert await store.get(k.AI_RUN.key(gone["id"])) is None
    assert await index(store, k.AI_RUNS_INDEX.key(ALICE)) == [keep["id"]]


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("query", "input_"),
    [
        (RECORD, run_input()),
        (UPDATE, {"id": NOWHERE, "status": "ERROR"}),
        (DELETE, {"id": NOWHERE}),
    ],
)
async def test_only_the_service_role_writes_runs(
    gw: Gateway, store: Store, query: str, input_: dict[str, Any]
) -> None:
    run = await record(gw)
    input_ = {**input_, "id": run["id"]} if "id" in input_ else input_
    assert await forbidden(gw, store, query, input_, viewer=ALICE) == "FORBIDDEN"
    assert await forbidden(gw, store, query, input_) == "FORBIDDEN"
    assert await forbidden(gw, store, query, input_, viewer=BOB, role="authenticated") == (
        "FORBIDDEN"
    )


@pytest.mark.parametrize(
    ("input_", "expected"),
    [
        (run_input(userId="a:b"), [("userId", "BAD_USER_INPUT")]),
        (run_input(inputTokens=-1), [("inputTokens", "BAD_USER_INPUT")]),
        (run_input(outputTokens=-5), [("outputTokens", "BAD_USER_INPUT")]),
        (run_input(durationMs=-0.5), [("durationMs", "BAD_USER_INPUT")]),
        (run_input(agentName="x" * 201), [("agentName", "BAD_USER_INPUT")]),
    ],
)
async def test_bad_runs_are_user_errors(
    gw: Gateway, store: Store, input_: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    await record(gw)
    errors = await refused(gw, store, RECORD, input_, viewer=AGENT, role=SERVICE_ROLE)
    assert fields(errors) == expected


async def test_a_missing_run_is_not_found(gw: Gateway, store: Store) -> None:
    await record(gw)
    for query, input_ in ((UPDATE, {"id": NOWHERE, "status": "ERROR"}), (DELETE, {"id": NOWHERE})):
        errors = await refused(gw, store, query, input_, viewer=AGENT, role=SERVICE_ROLE)
        assert fields(errors) == [("id", "NOT_FOUND")]
    errors = await refused(
        gw, store, UPDATE, {"id": NOWHERE, "inputTokens": -3}, viewer=AGENT, role=SERVICE_ROLE
    )
    assert fields(errors) == [("id", "NOT_FOUND")]


async def test_an_id_of_another_users_run_is_taken(gw: Gateway, store: Store) -> None:
    run = await record(gw)
    again = await record(gw, id=run["id"])  # a retried create: harmless
    assert again["id"] == run["id"]
    errors = await refused(
        gw, store, RECORD, run_input(id=run["id"], userId=BOB), viewer=AGENT, role=SERVICE_ROLE
    )
    assert fields(errors) == [("id", "CONFLICT")]


async def test_other_cannot_be_written(gw: Gateway, store: Store) -> None:
    run = await record(gw)
    before = await dump(store)
    result = await gw.run(
        UPDATE, {"input": {"id": run["id"], "status": "OTHER"}}, viewer=AGENT, role=SERVICE_ROLE
    )
    assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"  # type: ignore[attr-defined]
    assert await dump(store) == before


# ---------------------------------------------------------------- concurrency
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_records_lose_no_index_entry(gw: Gateway, store: Store) -> None:
    runs = await asyncio.gather(*(record(gw, agentName=f"agent-{n}") for n in range(20)))
    ids = {run["id"] for run in runs}
    assert set(await index(store, k.AI_RUNS_INDEX.key(ALICE))) == ids
    deletions = [
        done(gw, DELETE, {"id": run["id"]}, viewer=AGENT, role=SERVICE_ROLE) for run in runs[:10]
    ]
    await asyncio.gather(*deletions, *(record(gw) for _ in range(5)))
    listed = await index(store, k.AI_RUNS_INDEX.key(ALICE))
    assert len(listed) == 15 and not {run["id"] for run in runs[:10]} & set(listed)


# ---------------------------------------------------------------- totals
def _rows(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rows: dict[str, Any] = {k.AI_RUNS_INDEX.key(ALICE): [f"r{n}" for n in range(len(runs))]}
    for n, run in enumerate(runs):
        rows[k.AI_RUN.key(f"r{n}")] = {"id": f"r{n}", "userId": ALICE, **run}
    return rows


TOTALS_RUNS = [
    {"agentName": "scout", "inputTokens": 100, "outputTokens": 10, "durationMs": 1.5,
     "createdAt": "2026-06-01T23:30:00-02:00"},  # 2026-06-02 in UTC
    {"agentName": "scout", "inputTokens": 200, "outputTokens": 20, "durationMs": 2,
     "createdAt": "2026-06-02T08:00:00Z"},
    {"agentName": "planner", "inputTokens": 1, "outputTokens": 2, "durationMs": 3,
     "createdAt": "2026-06-01T23:30:00"},  # local wall-clock: the date as written
    {"inputTokens": 5, "createdAt": 1780358400000},  # epoch ms: 2026-06-02T00:00:00Z
    {"agentName": "scout", "inputTokens": 7, "createdAt": "2026-06-04T00:00:00Z"},  # outside
    {"agentName": "scout", "inputTokens": 9},  # no createdAt: undated
    {"agentName": "scout", "inputTokens": 9, "createdAt": "soon"},  # unreadable: undated
]  # fmt: skip


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_totals_per_agent_and_per_day(gw: Gateway, store: Store) -> None:
    await store.set_many(_rows(TOTALS_RUNS))
    result = await gw.run(TOTALS, {"from": "2026-06-01", "to": "2026-06-03"}, viewer=ALICE)
    (report,) = result.errors  # type: ignore[attr-defined]
    assert report.extensions["key"] == "ai_run:r6"  # the unreadable createdAt, reported
    totals = result.data["viewer"]["aiRunTotals"]  # type: ignore[attr-defined]
    assert (totals["from"], totals["to"], totals["undated"]) == ("2026-06-01", "2026-06-03", 2)
    assert totals["all"] == {"runs": 4, "inputTokens": 306, "outputTokens": 32, "durationMs": 6.5}
    assert totals["byAgent"] == [
        {"agentName": "planner", "runs": 1, "inputTokens": 1, "outputTokens": 2, "durationMs": 3},
        {"agentName": "scout", "runs": 2, "inputTokens": 300, "outputTokens": 30,
         "durationMs": 3.5},
        {"agentName": None, "runs": 1, "inputTokens": 5, "outputTokens": 0, "durationMs": 0},
    ]  # fmt: skip
    assert totals["byDay"] == [
        {"date": "2026-06-01", "runs": 1, "inputTokens": 1},
        {"date": "2026-06-02", "runs": 3, "inputTokens": 305},
    ]


async def test_totals_of_a_single_day_and_of_nothing(gw: Gateway, store: Store) -> None:
    await store.set_many(_rows(TOTALS_RUNS[:5]))
    data = await gw.ok(TOTALS, {"from": "2026-06-04", "to": "2026-06-04"}, viewer=ALICE)
    assert data["viewer"]["aiRunTotals"]["all"]["inputTokens"] == 7
    empty = await gw.ok(TOTALS, {"from": "2025-01-01", "to": "2025-01-31"}, viewer=BOB)
    assert empty["viewer"]["aiRunTotals"]["all"]["runs"] == 0
    assert empty["viewer"]["aiRunTotals"]["byDay"] == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("2026-06-03", "2026-06-01", "must not be before"), ("2025-01-01", "2026-01-02", "366")],
)
async def test_a_bad_range_is_bad_input(
    gw: Gateway, store: Store, start: str, end: str, message: str
) -> None:
    result = await gw.run(TOTALS, {"from": start, "to": end}, viewer=ALICE)
    (error,) = result.errors  # type: ignore[attr-defined]
    assert error.extensions["code"] == "BAD_USER_INPUT" and message in error.message


async def test_a_full_year_is_allowed(gw: Gateway, store: Store) -> None:
    await store.set_many(_rows(TOTALS_RUNS[:6]))
    data = await gw.ok(TOTALS, {"from": "2026-01-01", "to": "2026-12-31"}, viewer=ALICE)
    assert data["viewer"]["aiRunTotals"]["all"]["runs"] == 5


# ---------------------------------------------------------------- app records
async def test_app_names_and_unknown_statuses(gw: Gateway, store: Store) -> None:
    await store.set_many(
        _rows([{"agent": "scout", "promptTokens": 3, "completionTokens": 4, "status": "succeeded"}])
    )
    (run,) = (await gw.ok(RUNS, viewer=ALICE))["viewer"]["aiRuns"]["nodes"]
    assert (run["agentName"], run["inputTokens"], run["outputTokens"]) == ("scout", 3, 4)
    assert (run["status"], run["statusRaw"]) == ("OTHER", "succeeded")
    mapping = parse_mapping('[ai_run.values.status]\nsucceeded = "success"\n')
    mapped = Gateway(gw.schema, store, mapping)
    (run,) = (await mapped.ok(RUNS, viewer=ALICE))["viewer"]["aiRuns"]["nodes"]
    assert (run["status"], run["statusRaw"]) == ("SUCCESS", "succeeded")


async def test_an_invalid_run_is_reported_and_skipped(gw: Gateway, store: Store) -> None:
    rows = _rows([{"agentName": "ok"}, {"agentName": "bad"}])
    rows[k.AI_RUN.key("r1")] = {"id": "r1"}  # no userId
    await store.set_many(rows)
    result = await gw.run(RUNS, viewer=ALICE)
    page = result.data["viewer"]["aiRuns"]  # type: ignore[attr-defined]
    assert page["totalCount"] == 1 and [n["id"] for n in page["nodes"]] == ["r0"]
    assert "ai_run:r1" in str(result.errors)  # type: ignore[attr-defined]


async def test_a_collaborator_sees_none_of_the_owners_runs_or_key(
    gw: Gateway, store: Store
) -> None:
    await record(gw, createdAt="2026-06-01T10:00:00Z")
    await store.set_many(
        {
            "trip:t1": {"id": "t1", "userId": ALICE, "title": "Lisbon"},
            f"collaborator:t1:{BOB}": {"tripId": "t1", "userId": BOB, "role": "editor"},
            f"apikey:{ALICE}": {"userId": ALICE, "provider": "openai", "hint": "abcd"},
        }
    )
    query = """{ trip(id: "t1") { owner { aiRuns { totalCount nodes { id } }
      aiRunTotals(from: "2026-06-01", to: "2026-06-02") { undated } apiKey { hint } } } }"""
    owner = (await gw.ok(query, viewer=BOB))["trip"]["owner"]
    assert owner == {"aiRuns": {"totalCount": 0, "nodes": []}, "aiRunTotals": None, "apiKey": None}
    mine = (await gw.ok(query, viewer=ALICE))["trip"]["owner"]
    assert mine["aiRuns"]["totalCount"] == 1 and mine["apiKey"] == {"hint": "abcd"}
