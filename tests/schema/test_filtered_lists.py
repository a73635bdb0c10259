"""Lists filtered by status (`User.suggestions(status:)`, `jobs(status:)`,
`Trip.conflicts(status:)`): what each keeps, its pages and cursors, and what it costs: every
listed record read once per list, all parents' lists in one batch, whatever their number."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from resolvers.context import SERVICE_ROLE
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNER = "owner-1"
PAGE = "totalCount nodes { id } pageInfo { hasNextPage endCursor }"


def suggestion_rows(count: int) -> dict[str, Any]:
    """Suggestions s0.. of OWNER: every third dismissed, one expired, one of an unknown status."""
    rows: dict[str, Any] = {f"suggestions:index:{OWNER}": [f"s{n}" for n in range(count)]}
    for n in range(count):
        status = "dismissed" if n % 3 == 0 else "active"
        rows[f"suggestion:s{n}"] = {
            "id": f"s{n}",
            "userId": OWNER,
            "content": "x",
            "status": status,
        }
    rows["suggestion:s1"]["expiresAt"] = "2000-01-01T00:00:00Z"
    rows["suggestion:s2"]["status"] = "snoozed"
    return rows


def job_rows(count: int) -> dict[str, Any]:
    rows: dict[str, Any] = {"jobs:index": [f"j{n}" for n in range(count)]}
    for n in range(count):
        rows[f"job:j{n}"] = {"id": f"j{n}", "type": "t", "status": ("completed", "failed")[n % 2]}
    rows["job:j1"]["status"] = "paused"  # a status kvgraph does not know: OTHER
    rows["job:j3"].pop("status")  # no status: neither a known one nor OTHER
    return rows


def conflict_rows(trips: int, count: int) -> dict[str, Any]:
    rows: dict[str, Any] = {f"trips:index:{OWNER}": [f"t{t}" for t in range(trips)]}
    for t in range(trips):
        rows[f"trip:t{t}"] = {"id": f"t{t}", "userId": OWNER, "title": f"Trip {t}"}
        ids = [f"t{t}c{n}" for n in range(count)]
        rows[f"conflicts:index:t{t}"] = ids
        for n, id_ in enumerate(ids):
            status = ("open", "resolved", "ignored")[n % 3]
            rows[f"conflict:{id_}"] = {"id": id_, "tripId": f"t{t}", "type": "x", "status": status}
    return rows


def ids(page: dict[str, Any]) -> list[str]:
    return [node["id"] for node in page["nodes"]]


async def run(gw: Gateway, query: str, variables: dict[str, Any], **as_: Any) -> tuple[Any, int]:
    result: Any = await gw.run(query, variables, **as_)
    assert result.errors is None, result.errors
    return result.data, result.extensions["kv"]["batches"]


SUGGESTIONS = f"""query($s: SuggestionStatus, $after: String) {{ viewer {{
  suggestions(status: $s, first: 2, after: $after) {{ {PAGE} }} }} }}"""


async def test_suggestions_by_status(gw: Gateway, store: Store) -> None:
    await store.set_many(suggestion_rows(8))
    found: dict[str, list[str]] = {}
    for status in ("ACTIVE", "DISMISSED", "EXPIRED", "OTHER"):
        data, batches = await run(gw, SUGGESTIONS, {"s": status}, viewer=OWNER)
        page = data["viewer"]["suggestions"]
        found[status] = ids(page)
        assert batches == 2, status  # the index, then every suggestion it lists
        if page["pageInfo"]["hasNextPage"]:
            after = {"s": status, "after": page["pageInfo"]["endCursor"]}
            data, _ = await run(gw, SUGGESTIONS, after, viewer=OWNER)
            found[status] += ids(data["viewer"]["suggestions"])
    assert found == {
        "ACTIVE": ["s4", "s5", "s7"],
        "DISMISSED": ["s0", "s3", "s6"],
        "EXPIRED": ["s1"],
        "OTHER": ["s2"],
    }


JOBS = f"""query($s: JobStatus, $after: String) {{
  jobs(status: $s, first: 2, after: $after) {{ {PAGE} }} }}"""


async def test_jobs_by_status(gw: Gateway, store: Store) -> None:
    await store.set_many(job_rows(7))
    found: dict[str, list[str]] = {}
    for status in ("COMPLETED", "FAILED", "OTHER"):
        as_ = {"viewer": "runner", "role": SERVICE_ROLE}
        data, batches = await run(gw, JOBS, {"s": status}, **as_)
        found[status] = ids(data["jobs"])
        assert batches == 2, status  # the index, then every job it lists
        if data["jobs"]["pageInfo"]["hasNextPage"]:
            after = {"s": status, "after": data["jobs"]["pageInfo"]["endCursor"]}
            data, _ = await run(gw, JOBS, after, **as_)
            found[status] += ids(data["jobs"])
        assert data["jobs"]["totalCount"] == len(found[status])
    assert found == {"COMPLETED": ["j0", "j2", "j4", "j6"], "FAILED": ["j5"], "OTHER": ["j1"]}


CONFLICTS = f"""query($s: ConflictStatus) {{ viewer {{ trips {{ nodes {{ id
  conflicts(status: $s, first: 2) {{ {PAGE} }} }} }} }} }}"""


@pytest.mark.parametrize("trips", [1, 4])
async def test_conflicts_by_status_of_every_trip_in_one_batch(
    gw: Gateway, store: Store, trips: int
) -> None:
    await store.set_many(conflict_rows(trips, 7))
    for status, kept in (("OPEN", [0, 3]), ("RESOLVED", [1, 4]), ("OTHER", [2, 5]), (None, [0, 1])):
        data, batches = await run(gw, CONFLICTS, {"s": status}, viewer=OWNER)
        nodes = data["viewer"]["trips"]["nodes"]
        assert [ids(n["conflicts"]) for n in nodes] == [
            [f"t{t}c{n}" for n in kept] for t in range(trips)
        ], status
        total = {"OPEN": 3, "RESOLVED": 2, "OTHER": 2, None: 7}[status]
        assert [n["conflicts"]["totalCount"] for n in nodes] == [total] * trips
        # The trips index, the trips, their conflict indexes, then all their conflicts.
        assert batches == 4, status
