"""`Budget.alerts`: a page over a stored list of objects without ids (`budget:alerts:{tripId}`),
by position: cursors keep their place as the list grows at its end."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

OWNER = "owner-1"
PAGE = """query($after: String) { trip(id: "t0") { budget { alerts(first: 2, after: $after) {
  totalCount nodes { type threshold } pageInfo { hasNextPage endCursor } } } } }"""


def alert(n: int) -> dict[str, Any]:
    return {"type": "threshold", "threshold": n / 10, "message": f"alert {n}"}


def trips(count: int, alerts: int) -> dict[str, Any]:
    rows: dict[str, Any] = {f"trips:index:{OWNER}": [f"t{n}" for n in range(count)]}
    for n in range(count):
        rows[f"trip:t{n}"] = {"id": f"t{n}", "userId": OWNER, "title": f"Trip {n}"}
        rows[f"budget:t{n}"] = {"tripId": f"t{n}", "total": 100}
        rows[f"budget:alerts:t{n}"] = [alert(a) for a in range(alerts)]
    return rows


def alerts_of(data: dict[str, Any]) -> dict[str, Any]:
    return data["trip"]["budget"]["alerts"]  # type: ignore[no-any-return]


async def test_a_cursor_keeps_its_place_as_the_list_grows(gateway: Gateway, store: Store) -> None:
    await store.set_many(trips(1, 3))
    first = alerts_of(await gateway.ok(PAGE, viewer=OWNER))
    assert first["totalCount"] == 3
    assert [n["threshold"] for n in first["nodes"]] == [0.0, 0.1]
    await store.set("budget:alerts:t0", [alert(a) for a in range(5)])  # two more, at the end
    after = first["pageInfo"]["endCursor"]
    second = alerts_of(await gateway.ok(PAGE, {"after": after}, viewer=OWNER))
    assert [n["threshold"] for n in second["nodes"]] == [0.2, 0.3]
    assert second["totalCount"] == 5 and second["pageInfo"]["hasNextPage"] is True
    third = alerts_of(
        await gateway.ok(PAGE, {"after": second["pageInfo"]["endCursor"]}, viewer=OWNER)
    )
    assert [n["threshold"] for n in third["nodes"]] == [0.4]
    assert third["pageInfo"]["hasNextPage"] is False


async def test_alerts_of_every_budget_in_one_round_trip(gateway: Gateway, store: Store) -> None:
    await store.set_many(trips(8, 4))
    query = "{ viewer { trips { nodes { budget { %s } } } } }"
    without = await gateway.run(query % "total", viewer=OWNER)
    with_alerts = await gateway.run(query % "total alerts { totalCount }", viewer=OWNER)
    assert with_alerts.errors is None, with_alerts.errors  # type: ignore[attr-defined]
    nodes = with_alerts.data["viewer"]["trips"]["nodes"]  # type: ignore[attr-defined]
    assert [n["budget"]["alerts"]["totalCount"] for n in nodes] == [4] * 8
    batches = [r.extensions["kv"]["batches"] for r in (without, with_alerts)]  # type: ignore[attr-defined]
    assert batches[1] == batches[0] + 1


async def test_an_unreadable_alert_is_skipped_and_reported(gateway: Gateway, store: Store) -> None:
    await store.set_many(trips(1, 0) | {"budget:alerts:t0": [alert(1), "oops", alert(3)]})
    result = await gateway.run(PAGE, viewer=OWNER)
    page = alerts_of(result.data)  # type: ignore[attr-defined]
    assert page["totalCount"] == 2
    assert [n["threshold"] for n in page["nodes"]] == [0.1, 0.3]
    assert "budget:alerts:t0[1]" in str(result.errors)  # type: ignore[attr-defined]


async def test_a_list_that_is_no_array_is_reported(gateway: Gateway, store: Store) -> None:
    await store.set_many(trips(1, 0) | {"budget:alerts:t0": {"not": "a list"}})
    result = await gateway.run(PAGE, viewer=OWNER)
    assert alerts_of(result.data)["totalCount"] == 0  # type: ignore[attr-defined]
    assert "budget:alerts:t0" in str(result.errors)  # type: ignore[attr-defined]
    assert await store.get("budget:alerts:t0") == {"not": "a list"}  # kept as stored


async def test_a_stranger_reads_no_alerts(gateway: Gateway, store: Store) -> None:
    await store.set_many(trips(1, 2))
    assert await gateway.ok(PAGE, viewer="stranger") == {"trip": None}
