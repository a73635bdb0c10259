"""Background jobs (`job:{id}`, `jobs:index`) and their logs (`log:{jobId}`): written and read
by the service role only; a user finds none and writes none; refused writes change nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv.mapping import parse_mapping
from resolvers.context import SERVICE_ROLE
from resolvers.ids import node_id
from tests.support import (
    ALICE,
    BACKENDS,
    NOWHERE,
    Gateway,
    done,
    dump,
    fields,
    mutation,
    refused,
)

SERVICE = SERVICE_ROLE
JOB_F = "id type status statusRaw payload result createdAt updatedAt"
CREATE_JOB = mutation("createJob", f"job {{ {JOB_F} }}")
UPDATE_JOB = mutation("updateJob", f"job {{ {JOB_F} }}")
DELETE_JOB = mutation("deleteJob", "job { id type }")
APPEND_LOG = mutation(
    "appendJobLog",
    "log { jobId entries(first: 100) { totalCount nodes { at level levelRaw message data } } }",
)
JOB = """query($id: ID!) { job(id: $id) { id status
  log { jobId entries(first: 2) { totalCount nodes { message } pageInfo { endCursor } } } } }"""
JOBS = "query($s: JobStatus) { jobs(status: $s) { totalCount nodes { id status statusRaw } } }"
ENTRIES = """query($id: ID!, $after: String) { job(id: $id) { log { entries(first: 2, after: $after)
  { totalCount nodes { message level } pageInfo { hasNextPage endCursor } } } } }"""


async def service(gw: Gateway, query: str, input_: dict[str, Any]) -> Any:
    """Run a mutation as the service role that must succeed; return its entity."""
    return await done(gw, query, input_, viewer="agent-runner", role=SERVICE)


async def forbidden(
    gw: Gateway, store: Store, query: str, input_: dict[str, Any], **as_: Any
) -> str:
    """Run a mutation that must fail with a top-level error, writing nothing; its code."""
    before = await dump(store)
    result: Any = await gw.run(query, {"input": input_}, **as_)
    assert result.data is None and result.errors, result
    assert await dump(store) == before, "a refused mutation wrote to the store"
    (error,) = result.errors
    return error.extensions["code"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_job_is_created_read_updated_logged_and_deleted(gw: Gateway, store: Store) -> None:
    job = await service(gw, CREATE_JOB, {"type": " sync-catalog ", "payload": {"city": "Lisbon"}})
    assert job["type"] == "sync-catalog" and job["status"] == "PENDING"
    assert job["payload"] == {"city": "Lisbon"} and job["result"] is None
    jid = job["id"]
    assert await store.get("jobs:index") == [jid]
    assert (await store.get(f"job:{jid}"))["status"] == "pending"

    running = await service(gw, UPDATE_JOB, {"id": jid, "status": "RUNNING"})
    assert running["status"] == "RUNNING" and running["payload"] == {"city": "Lisbon"}
    first = [{"message": "started", "level": "INFO"}, {"message": "12 places", "data": {"n": 12}}]
    log = await service(gw, APPEND_LOG, {"jobId": jid, "entries": first})
    assert log["jobId"] == jid
    assert [(n["message"], n["level"]) for n in log["entries"]["nodes"]] == [
        ("started", "INFO"),
        ("12 places", "INFO"),
    ]
    more = [{"message": "done", "level": "WARNING", "at": "2026-06-01T10:00:00+02:00"}]
    log = await service(gw, APPEND_LOG, {"jobId": jid, "entries": more})
    assert log["entries"]["totalCount"] == 3
    assert log["entries"]["nodes"][2]["at"] == "2026-06-01T10:00:00+02:00"
    completed = await service(
        gw, UPDATE_JOB, {"id": jid, "status": "COMPLETED", "result": {"added": 12}}
    )
    assert completed["status"] == "COMPLETED" and completed["result"] == {"added": 12}

    read = await gw.ok(JOB, {"id": jid}, viewer="agent-runner", role=SERVICE)
    assert read["job"]["log"]["entries"]["totalCount"] == 3
    listed = await gw.ok(JOBS, viewer="agent-runner", role=SERVICE)
    assert listed["jobs"] == {
        "totalCount": 1,
        "nodes": [{"id": jid, "status": "COMPLETED", "statusRaw": "completed"}],
    }

    deleted = await service(gw, DELETE_JOB, {"id": jid})
    assert deleted == {"id": jid, "type": "sync-catalog"}
    assert await dump(store) == {"jobs:index": []}


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_user_reads_no_job_and_writes_none(gw: Gateway, store: Store) -> None:
    job = await service(gw, CREATE_JOB, {"type": "sync"})
    await service(gw, APPEND_LOG, {"jobId": job["id"], "entries": [{"message": "m"}]})
    for viewer in (ALICE, None):
        assert await gw.ok(JOB, {"id": job["id"]}, viewer=viewer) == {"job": None}
        assert await gw.ok(JOBS, viewer=viewer) == {"jobs": {"totalCount": 0, "nodes": []}}
        for kind, id_ in (("Job", job["id"]), ("AutomationLog", job["id"])):
            found = await gw.ok(
                "query($n: ID!) { node(nodeId: $n) { nodeId } }",
                {"n": node_id(kind, id_)},
                viewer=viewer,
            )
            assert found == {"node": None}
    writes = [
        (CREATE_JOB, {"type": "sync"}),
        (UPDATE_JOB, {"id": job["id"], "status": "FAILED"}),
        (DELETE_JOB, {"id": job["id"]}),
        (APPEND_LOG, {"jobId": job["id"], "entries": [{"message": "x"}]}),
    ]
    for query, input_ in writes:
        assert await forbidden(gw, store, query, input_, viewer=ALICE) == "FORBIDDEN"
        assert await forbidden(gw, store, query, input_, viewer=None) == "FORBIDDEN"


async def test_a_user_listing_jobs_reads_nothing(gw: Gateway, store: Store) -> None:
    await service(gw, CREATE_JOB, {"type": "sync"})
    result: Any = await gw.run(JOBS, viewer=ALICE)
    assert result.errors is None and result.extensions["kv"]["keys"] == 0


@pytest.mark.parametrize(
    ("query", "input_", "expected"),
    [
        (CREATE_JOB, {"type": "   "}, [("type", "BAD_USER_INPUT")]),
        (CREATE_JOB, {"type": "x" * 81}, [("type", "BAD_USER_INPUT")]),
        (
            CREATE_JOB,
            {"type": "t", "payload": {"x": "y" * 100_001}},
            [("payload", "BAD_USER_INPUT")],
        ),
        (CREATE_JOB, {"type": "t\x00"}, [("type", "BAD_USER_INPUT")]),
        (UPDATE_JOB, {"id": NOWHERE, "status": "RUNNING"}, [("id", "NOT_FOUND")]),
        (UPDATE_JOB, {"id": "JOB", "type": ""}, [("type", "BAD_USER_INPUT")]),
        (UPDATE_JOB, {"id": "JOB", "type": None}, [("type", "BAD_USER_INPUT")]),
        (UPDATE_JOB, {"id": "JOB", "status": None}, [("status", "BAD_USER_INPUT")]),
        (CREATE_JOB, {"type": "t", "status": None}, [("status", "BAD_USER_INPUT")]),
        (DELETE_JOB, {"id": NOWHERE}, [("id", "NOT_FOUND")]),
        (APPEND_LOG, {"jobId": NOWHERE, "entries": [{"message": "m"}]}, [("jobId", "NOT_FOUND")]),
        (APPEND_LOG, {"jobId": "JOB", "entries": []}, [("entries", "BAD_USER_INPUT")]),
        (
            APPEND_LOG,
            {"jobId": "JOB", "entries": [{"message": "m"}] * 101},
            [("entries", "BAD_USER_INPUT")],
        ),
        (
            APPEND_LOG,
            {"jobId": "JOB", "entries": [{"message": "m"}, {"level": "ERROR"}]},
            [("entries[1].message", "BAD_USER_INPUT")],
        ),
        (
            APPEND_LOG,
            {"jobId": "JOB", "entries": [{"message": " "}]},
            [("entries[0].message", "BAD_USER_INPUT")],
        ),
    ],
    ids=lambda v: str(v)[:50],
)
async def test_refused_job_writes_change_nothing(
    gw: Gateway,
    store: Store,
    query: str,
    input_: dict[str, Any],
    expected: list[tuple[str, str]],
) -> None:
    job = await service(gw, CREATE_JOB, {"type": "sync"})
    await service(gw, APPEND_LOG, {"jobId": job["id"], "entries": [{"message": "m"}]})
    for name in ("id", "jobId"):
        if input_.get(name) == "JOB":
            input_ = {**input_, name: job["id"]}
    errors = await refused(gw, store, query, input_, viewer="agent-runner", role=SERVICE)
    assert fields(errors) == expected


async def test_other_cannot_be_written(gw: Gateway, store: Store) -> None:
    code = await forbidden(
        gw, store, CREATE_JOB, {"type": "t", "status": "OTHER"}, viewer="r", role=SERVICE
    )
    assert code == "BAD_USER_INPUT"


async def test_log_entries_page_by_position_as_the_log_grows(
    gateway: Gateway, store: Store
) -> None:
    job = await service(gateway, CREATE_JOB, {"type": "sync"})
    jid = job["id"]
    three = [{"message": f"m{n}"} for n in range(3)]
    await service(gateway, APPEND_LOG, {"jobId": jid, "entries": three})
    as_service = {"viewer": "r", "role": SERVICE}
    first = (await gateway.ok(ENTRIES, {"id": jid}, **as_service))["job"]["log"]["entries"]
    assert [n["message"] for n in first["nodes"]] == ["m0", "m1"]
    await service(gateway, APPEND_LOG, {"jobId": jid, "entries": [{"message": "m3"}]})
    after = first["pageInfo"]["endCursor"]
    second = (await gateway.ok(ENTRIES, {"id": jid, "after": after}, **as_service))["job"]["log"]
    assert [n["message"] for n in second["entries"]["nodes"]] == ["m2", "m3"]
    assert second["entries"]["totalCount"] == 4
    assert second["entries"]["pageInfo"]["hasNextPage"] is False


async def test_a_log_as_apps_write_it(gateway: Gateway, store: Store) -> None:
    """Entries an app wrote (other names, unknown levels, one that is no object) read; the
    bad one is skipped and reported with its position."""
    await store.set_many(
        {
            "jobs:index": ["j1"],
            "job:j1": {"id": "j1", "type": "import", "status": "queued"},
            "log:j1": {
                "entries": [
                    {"timestamp": "2025-01-01T10:00:00Z", "level": "fatal", "msg": "boom"},
                    "not an entry",
                    {"message": "retry", "level": "info"},
                ]
            },
        }
    )
    result: Any = await gateway.run(
        """{ job(id: "j1") { status statusRaw log { jobId entries {
             totalCount nodes { at level levelRaw message } } } } }""",
        viewer="r",
        role=SERVICE,
    )
    job = result.data["job"]
    assert (job["status"], job["statusRaw"]) == ("OTHER", "queued")
    assert job["log"]["jobId"] == "j1"
    assert job["log"]["entries"]["totalCount"] == 2
    assert job["log"]["entries"]["nodes"] == [
        {
            "at": "2025-01-01T10:00:00+00:00",
            "level": "OTHER",
            "levelRaw": "fatal",
            "message": "boom",
        },
        {"at": None, "level": "INFO", "levelRaw": "info", "message": "retry"},
    ]
    assert "log:j1.entries[1]" in str(result.errors)


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "stored",
    # (a bare array is the log's entries, as an app may keep them: readable, appended to)
    [{"jobId": "j1", "entries": "text"}, "a string", {"jobId": "other", "entries": []}],
)
async def test_a_log_kvgraph_cannot_read_is_never_appended_to(
    gw: Gateway, store: Store, stored: Any
) -> None:
    await store.set_many({"jobs:index": ["j1"], "job:j1": {"id": "j1"}, "log:j1": stored})
    errors = await refused(
        gw, store, APPEND_LOG, {"jobId": "j1", "entries": [{"message": "m"}]}, "r", SERVICE
    )
    assert fields(errors) == [("entries", "INVALID_RECORD")]
    assert "log:j1" in errors[0]["message"]


async def test_jobs_filter_by_status(gateway: Gateway, store: Store) -> None:
    await store.set_many(
        {
            "jobs:index": ["j1", "j2", "j3", "j4"],
            "job:j1": {"id": "j1", "status": "pending"},
            "job:j2": {"id": "j2", "status": "failed"},
            "job:j3": {"id": "j3", "status": "queued"},
            "job:j4": {"id": "j4", "status": "pending"},
        }
    )

    async def ids(status: str | None) -> list[str]:
        data = await gateway.ok(JOBS, {"s": status}, viewer="r", role=SERVICE)
        assert data["jobs"]["totalCount"] == len(data["jobs"]["nodes"])
        return [n["id"] for n in data["jobs"]["nodes"]]

    assert await ids(None) == ["j1", "j2", "j3", "j4"]
    assert await ids("PENDING") == ["j1", "j4"]
    assert await ids("FAILED") == ["j2"]
    assert await ids("OTHER") == ["j3"]
    assert await ids("RUNNING") == []


async def test_a_mapping_names_an_apps_job_statuses(store: Store, schema: object) -> None:
    mapping = parse_mapping(
        '[job.values.status]\nqueued = "pending"\ndone = { means = "completed", write = true }'
    )
    gw = Gateway(schema, store, mapping)
    await store.set_many(
        {
            "jobs:index": ["j1", "j2"],
            "job:j1": {"id": "j1", "status": "queued"},
            "job:j2": {"id": "j2", "status": "done"},
        }
    )
    data = await gw.ok(JOBS, {"s": "PENDING"}, viewer="r", role=SERVICE)
    assert data["jobs"]["nodes"] == [{"id": "j1", "status": "PENDING", "statusRaw": "queued"}]
    await service(gw, UPDATE_JOB, {"id": "j1", "status": "COMPLETED"})
    assert (await store.get("job:j1"))["status"] == "done"  # the app's exact synonym


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_jobs_and_log_entries_are_all_kept(gw: Gateway, store: Store) -> None:
    created = await asyncio.gather(*(service(gw, CREATE_JOB, {"type": f"t{n}"}) for n in range(12)))
    ids = {job["id"] for job in created}
    assert set(await store.get("jobs:index")) == ids and len(await store.get("jobs:index")) == 12
    jid = created[0]["id"]
    await asyncio.gather(
        *(
            service(
                gw,
                APPEND_LOG,
                {"jobId": jid, "entries": [{"message": f"{t}.{n}"} for n in range(3)]},
            )
            for t in range(10)
        )
    )
    entries = (await store.get(f"log:{jid}"))["entries"]
    assert sorted(e["message"] for e in entries) == sorted(
        f"{t}.{n}" for t in range(10) for n in range(3)
    )
    for t in range(10):  # each call's entries stay together, in order
        mine = [e["message"] for e in entries if e["message"].startswith(f"{t}.")]
        at = [e["message"] for e in entries].index(mine[0])
        assert [e["message"] for e in entries[at : at + 3]] == mine


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_deleting_a_job_while_its_log_grows_leaves_no_orphan(
    gw: Gateway, store: Store
) -> None:
    job = await service(gw, CREATE_JOB, {"type": "sync"})
    jid = job["id"]
    appends = [
        gw.run(
            APPEND_LOG,
            {"input": {"jobId": jid, "entries": [{"message": "m"}]}},
            viewer="r",
            role=SERVICE,
        )
        for _ in range(5)
    ]
    await asyncio.gather(*appends, service(gw, DELETE_JOB, {"id": jid}))
    assert await store.get(f"log:{jid}") is None
    assert await store.get(f"job:{jid}") is None


@pytest.mark.parametrize("count", [2, 12])
async def test_logs_of_every_listed_job_in_one_round_trip(
    gateway: Gateway, store: Store, count: int
) -> None:
    """A level costs one batch whatever the number of jobs: their logs come together."""
    rows: dict[str, Any] = {"jobs:index": [f"j{n}" for n in range(count)]}
    for n in range(count):
        rows[f"job:j{n}"] = {"id": f"j{n}", "status": "running"}
        rows[f"log:j{n}"] = {"entries": [{"message": f"{n}.{e}"} for e in range(3)]}
    await store.set_many(rows)
    query = "{ jobs(first: 50) { nodes { id log { entries { totalCount nodes { message } } } } } }"
    result: Any = await gateway.run(query, viewer="r", role=SERVICE)
    assert result.errors is None, result.errors
    nodes = result.data["jobs"]["nodes"]
    assert [n["log"]["entries"]["totalCount"] for n in nodes] == [3] * count
    assert nodes[-1]["log"]["entries"]["nodes"][0] == {"message": f"{count - 1}.0"}
    assert result.extensions["kv"]["batches"] == 3  # the index, the jobs, their logs
