"""`budget:alerts:{tripId}` elements to the standard of records: `check` reads each one,
`check --shapes` describes them, a mapping file names an app's fields and values for them,
and the alerts kvgraph records are written in the app's names."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv.check import Kind, repair, scan
from gql.kv.mapping import parse_mapping
from gql.kv.repo import Repository
from gql.kv.shapes import scan_shapes
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"
MAPPING = """
[budget_alerts.fields]
level = "type"
pct = "threshold"
text = "message"

[budget_alerts.values.type]
limit = { means = "threshold", write = true }
"""


def trip(alerts: Any) -> dict[str, Any]:
    return {
        f"trips:index:{U}": ["t1"],
        "trip:t1": {"id": "t1", "userId": U, "title": "Lisbon", "currency": "EUR"},
        "budget:t1": {"tripId": "t1", "total": 100},
        "budget:alerts:t1": alerts,
    }


async def test_check_reports_each_invalid_alert_and_repair_keeps_it(store: Store) -> None:
    good = {"type": "threshold", "threshold": 0.8, "message": "80 %"}
    await store.set_many(trip([good, "oops", {"threshold": "lots"}, {"type": "note"}]))
    report = await scan(store)
    invalid = [(p.key, p.kind) for p in report.problems]
    assert invalid == [("budget:alerts:t1[1]", Kind.INVALID)]
    assert "expected a JSON object" in report.problems[0].detail
    assert not [n for n in report.notes if n.key.startswith("budget:alerts:")]
    await repair(store, report, apply=True)
    assert (await store.get("budget:alerts:t1"))[1] == "oops"  # kept: it needs a human


async def test_check_on_valid_alerts_is_clean(store: Store) -> None:
    await store.set_many(trip([{"type": "threshold", "threshold": 0.8}]))
    assert (await scan(store)).clean


async def test_shapes_describe_the_alerts_and_propose_names(store: Store) -> None:
    await store.set_many(trip([{"level": "limit", "pct": 0.8, "text": "80 %"}] * 3))
    shapes = await scan_shapes(store)
    shape = shapes.entities["budget_alerts"]
    assert shape.records == 3
    assert set(shape.fields) == {"level", "pct", "text"}
    assert shapes.to_json()["entities"]["budget_alerts"]["pattern"] == "budget:alerts:{tripId}"


async def test_a_mapping_reads_and_writes_an_apps_alerts(store: Store, schema: object) -> None:
    mapping = parse_mapping(MAPPING)
    await store.set_many(trip([{"level": "limit", "pct": 0.5, "text": "half"}]))
    gw = Gateway(schema, store, mapping)
    query = '{ trip(id: "t1") { budget { alerts { nodes { type typeRaw threshold message } } } } }'
    data = await gw.ok(query, viewer=U)
    assert data["trip"]["budget"]["alerts"]["nodes"] == [
        {"type": "THRESHOLD", "typeRaw": "limit", "threshold": 0.5, "message": "half"}
    ]
    # The 50 % threshold is recorded already (in the app's names): only 80 % is new.
    repo = Repository(store, mapping)
    await repo.update(e.BUDGET, ["t1"], {"thresholds": [0.5, 0.8]})
    await repo.create(e.ITEM, {"tripId": "t1", "title": "Hotel", "cost": 85})
    stored = await store.get(k.BUDGET_ALERTS.key("t1"))
    assert len(stored) == 2
    assert (stored[1]["level"], stored[1]["pct"]) == ("limit", 0.8)
    assert "type" not in stored[1] and "threshold" not in stored[1]
    assert (await scan(store, mapping=mapping)).clean


async def test_an_unknown_alert_type_shows_as_other(gw: Gateway, store: Store) -> None:
    await store.set_many(trip([{"type": "overspend", "message": "careful"}]))
    query = '{ trip(id: "t1") { budget { alerts { nodes { type typeRaw } } } } }'
    data = await gw.ok(query, viewer=U)
    assert data["trip"]["budget"]["alerts"]["nodes"] == [{"type": "OTHER", "typeRaw": "overspend"}]
