"""`Trip.budget` computed: remaining, the breakdown by item kind, and costs in other currencies
(converted with the budget's `rates` or left out and listed in `unconverted`)."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from tests.support import BACKENDS, Gateway

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

U = "user-1"
QUERY = """query { trip(id: "t1") { budget {
  total currency spentCurrency spent remaining
  breakdown { kind kindRaw spent itemCount }
  unconverted { currency amount itemIds }
} } }"""


def trip(items: list[dict[str, Any]], budget: dict[str, Any], **trip_fields: Any) -> dict:
    rows: dict[str, Any] = {
        f"trips:index:{U}": ["t1"],
        "trip:t1": {"id": "t1", "userId": U, "title": "Lisbon", **trip_fields},
        "budget:t1": {"tripId": "t1", **budget},
        "items:index:t1": [i["id"] for i in items],
    }
    for item in items:
        rows[f"item:{item['id']}"] = {"tripId": "t1", "title": item["id"], **item}
    return rows


async def budget_of(gateway: Gateway, store: Store, rows: dict[str, Any]) -> dict[str, Any]:
    await store.set_many(rows)
    return (await gateway.ok(QUERY, viewer=U))["trip"]["budget"]  # type: ignore[no-any-return]


async def test_a_budget_with_no_items(gateway: Gateway, store: Store) -> None:
    found = await budget_of(gateway, store, trip([], {"total": 500, "currency": "EUR"}))
    assert found == {
        "total": 500.0,
        "currency": "EUR",
        "spentCurrency": "EUR",
        "spent": 0.0,
        "remaining": 500.0,
        "breakdown": [],
        "unconverted": [],
    }
    assert await store.get("budget:alerts:t1") is None


async def test_breakdown_by_kind_and_remaining(gateway: Gateway, store: Store) -> None:
    items = [
        {"id": "a", "kind": "stay", "cost": 300},
        {"id": "b", "kind": "meal", "cost": 20.5},
        {"id": "c", "kind": "meal", "cost": 30},
        {"id": "d", "kind": "flight", "cost": 100},  # a kind kvgraph does not know
        {"id": "e", "cost": 5},  # no kind
        {"id": "f", "kind": "activity"},  # no cost: not counted
    ]
    found = await budget_of(gateway, store, trip(items, {"total": 400}, currency="EUR"))
    assert found["spent"] == 455.5
    assert found["remaining"] == -55.5  # over budget
    assert found["breakdown"] == [
        {"kind": "MEAL", "kindRaw": "meal", "spent": 50.5, "itemCount": 2},
        {"kind": "STAY", "kindRaw": "stay", "spent": 300.0, "itemCount": 1},
        {"kind": "OTHER", "kindRaw": "flight", "spent": 100.0, "itemCount": 1},
        {"kind": None, "kindRaw": None, "spent": 5.0, "itemCount": 1},
    ]


async def test_other_currencies_convert_by_rate_or_are_listed(
    gateway: Gateway, store: Store
) -> None:
    items = [
        {"id": "a", "cost": 100},  # the trip's EUR
        {"id": "b", "cost": 100, "currency": "USD"},  # converted: 1 USD = 0.9 EUR
        {"id": "c", "cost": 1000, "currency": "JPY"},  # no rate: listed, not summed
        {"id": "d", "cost": 2000, "currency": "JPY"},
    ]
    budget = {"total": 1000, "currency": "EUR", "rates": {"USD": 0.9}}
    found = await budget_of(gateway, store, trip(items, budget, currency="EUR"))
    assert found["spent"] == 190.0
    assert found["remaining"] == 810.0
    assert found["unconverted"] == [{"currency": "JPY", "amount": 3000.0, "itemIds": ["c", "d"]}]
    rates = await gateway.ok('{ trip(id: "t1") { budget { rates { currency rate } } } }', viewer=U)
    assert rates["trip"]["budget"]["rates"] == [{"currency": "USD", "rate": 0.9}]


async def test_without_any_currency_only_plain_costs_count(gateway: Gateway, store: Store) -> None:
    items = [{"id": "a", "cost": 10}, {"id": "b", "cost": 7, "currency": "USD"}]
    found = await budget_of(gateway, store, trip(items, {"total": 100}))
    assert (found["spentCurrency"], found["spent"]) == (None, 10.0)
    assert found["unconverted"] == [{"currency": "USD", "amount": 7.0, "itemIds": ["b"]}]


async def test_a_budget_without_total_has_no_remaining(gateway: Gateway, store: Store) -> None:
    found = await budget_of(gateway, store, trip([{"id": "a", "cost": 3}], {}))
    assert (found["spent"], found["remaining"]) == (3.0, None)


async def test_an_item_of_another_trip_listed_here_is_not_spent(
    gateway: Gateway, store: Store
) -> None:
    rows = trip([{"id": "a", "cost": 3}], {"total": 10})
    rows["items:index:t1"] = ["a", "x"]
    rows["item:x"] = {"id": "x", "tripId": "t2", "title": "elsewhere", "cost": 99}
    rows["trip:t2"] = {"id": "t2", "userId": U, "title": "Porto"}
    found = await budget_of(gateway, store, rows)
    assert found["spent"] == 3.0
