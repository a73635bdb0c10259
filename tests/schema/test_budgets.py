"""`Trip.budget`: the stored budget, what the trip's items spent, and its global id."""

from __future__ import annotations

from gql.kv import Store
from resolvers.ids import node_id
from tests.support import Gateway

U, OTHER = "user-1", "user-2"
BUDGET = """
query($id: ID!) {
  trip(id: $id) { budget { tripId total currency thresholds spent nodeId } }
}
"""


async def seed(store: Store, *, budget: dict | None) -> None:
    rows: dict = {
        f"trips:index:{U}": ["t1"],
        "trip:t1": {"id": "t1", "userId": U, "title": "Lisbon", "currency": "EUR"},
        "items:index:t1": ["i1", "i2", "i3", "i4", "ghost"],
        "item:i1": {"id": "i1", "tripId": "t1", "title": "Hotel", "cost": 300},
        "item:i2": {"id": "i2", "tripId": "t1", "title": "Dinner", "cost": 45.5, "currency": "EUR"},
        "item:i3": {"id": "i3", "tripId": "t1", "title": "Flight", "cost": 200, "currency": "USD"},
        "item:i4": {"id": "i4", "tripId": "t1", "title": "Walk"},
    }
    if budget is not None:
        rows["budget:t1"] = budget
    await store.set_many(rows)


async def test_budget_with_what_the_items_spent(gw: Gateway, store: Store) -> None:
    await seed(
        store, budget={"tripId": "t1", "total": 1000, "currency": "EUR", "thresholds": [0.8]}
    )
    data = await gw.ok(BUDGET, {"id": "t1"}, viewer=U)
    assert data["trip"]["budget"] == {
        "tripId": "t1",
        "total": 1000.0,
        "currency": "EUR",
        "thresholds": [0.8],
        "spent": 345.5,  # the trip's EUR (own or inherited) costs; USD left out
        "nodeId": node_id("Budget", "t1"),
    }


async def test_budget_without_currency_counts_in_the_trips(gw: Gateway, store: Store) -> None:
    """Costs in several currencies are never summed as they are: the budget counts in its
    trip's currency, and the USD cost without a rate is left out and listed."""
    await seed(store, budget={"tripId": "t1", "total": 1000})
    query = """query($id: ID!) { trip(id: $id) { budget {
      spent spentCurrency unconverted { currency amount itemIds } } } }"""
    data = await gw.ok(query, {"id": "t1"}, viewer=U)
    assert data["trip"]["budget"] == {
        "spent": 345.5,
        "spentCurrency": "EUR",
        "unconverted": [{"currency": "USD", "amount": 200.0, "itemIds": ["i3"]}],
    }


async def test_trip_without_budget(gw: Gateway, store: Store) -> None:
    await seed(store, budget=None)
    assert await gw.ok(BUDGET, {"id": "t1"}, viewer=U) == {"trip": {"budget": None}}


async def test_budget_by_node_id_follows_the_trips_access(gw: Gateway, store: Store) -> None:
    await seed(store, budget={"tripId": "t1", "total": 10})
    query = "query($n: ID!) { node(nodeId: $n) { ... on Budget { total } } }"
    variables = {"n": node_id("Budget", "t1")}
    assert await gw.ok(query, variables, viewer=U) == {"node": {"total": 10.0}}
    assert await gw.ok(query, variables, viewer=OTHER) == {"node": None}


async def test_budget_costs_a_level_not_a_batch_per_trip(gw: Gateway, store: Store) -> None:
    rows: dict = {f"trips:index:{U}": [f"t{n}" for n in range(5)]}
    for n in range(5):
        rows[f"trip:t{n}"] = {"id": f"t{n}", "userId": U, "title": f"T{n}"}
        rows[f"budget:t{n}"] = {"tripId": f"t{n}", "total": n}
    await store.set_many(rows)
    query = "{ viewer { trips { nodes { budget { total spent } } } } }"
    result = await gw.run(query, viewer=U)
    assert result.errors is None
    totals = [t["budget"]["total"] for t in result.data["viewer"]["trips"]["nodes"]]
    assert totals == [0.0, 1.0, 2.0, 3.0, 4.0]
    # index, trips (+ item indexes prefetched), budgets, item records: by depth, not by trip
    assert result.extensions["kv"]["batches"] <= 4


async def test_an_item_listed_twice_is_spent_once(gw: Gateway, store: Store) -> None:
    """Apps append ids twice; the items index is read as its distinct ids, as `items` lists."""
    await seed(store, budget={"tripId": "t1", "total": 1000, "currency": "EUR"})
    await store.set("items:index:t1", ["i1", "i2", "i1", "i3", "i2", "i4"])
    data = await gw.ok(BUDGET, {"id": "t1"}, viewer=U)
    assert data["trip"]["budget"]["spent"] == 345.5
