"""Budget mutations, and the alerts writes record in `budget:alerts:{tripId}`: each threshold
once, in the transaction of the write that crossed it, also under concurrent writers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    NOWHERE,
    UPDATE_TRIP,
    Gateway,
    done,
    dump,
    fields,
    holds_any_text,
    item_for,
    mutation,
    read_raw,
    refused,
    trip_for,
    write_raw,
)

pytestmark = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)

BUDGET_F = (
    "tripId total currency thresholds rates { currency rate } spent remaining alerts { totalCount }"
)
CREATE = mutation("createBudget", f"budget {{ {BUDGET_F} }}")
UPDATE = mutation("updateBudget", f"budget {{ {BUDGET_F} }}")
UPDATE_ITEM = mutation("updateItineraryItem", "item { id }")
REMOVE_ITEM = mutation("removeItineraryItem", "item { id }")
ALERTS = """query($id: ID!) { trip(id: $id) { budget { alerts(first: 100) {
  nodes { type typeRaw threshold spent total currency message at } } } } }"""


async def alerts(gw: Gateway, trip_id: str) -> list[dict[str, Any]]:
    data = await gw.ok(ALERTS, {"id": trip_id}, viewer=ALICE)
    return data["trip"]["budget"]["alerts"]["nodes"]  # type: ignore[no-any-return]


async def thresholds(gw: Gateway, trip_id: str) -> list[float]:
    return [a["threshold"] for a in await alerts(gw, trip_id)]


async def budgeted(gw: Gateway, total: float = 100, **extra: Any) -> str:
    """A trip of Alice's in EUR with a budget of `total`."""
    trip_id: str = (await trip_for(gw, currency="EUR"))["id"]
    await done(gw, CREATE, {"tripId": trip_id, "total": total, **extra})
    return trip_id


async def share(store: Store, trip_id: str, user: str, role: str) -> None:
    key = k.COLLABORATOR.key(trip_id, user)
    await store.set(key, {"tripId": trip_id, "userId": user, "role": role})


# ---------------------------------------------------------------- create and update
async def test_create_and_update_a_budget(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw, currency="EUR"))["id"]
    await item_for(gw, trip_id, "Hotel", cost=40)
    created = await done(
        gw,
        CREATE,
        {
            "tripId": trip_id,
            "total": 100,
            "currency": "eur",
            "rates": [{"currency": "usd", "rate": 0.9}],
        },
    )
    assert created == {
        "tripId": trip_id,
        "total": 100.0,
        "currency": "EUR",
        "thresholds": None,
        "rates": [{"currency": "USD", "rate": 0.9}],
        "spent": 40.0,
        "remaining": 60.0,
        "alerts": {"totalCount": 0},
    }
    stored = await store.get(k.BUDGET.key(trip_id))
    assert stored["tripId"] == trip_id and "createdAt" in stored and "updatedAt" in stored
    assert stored["rates"] == {"USD": 0.9}  # stored as a map, as apps write it
    changed = await done(gw, UPDATE, {"tripId": trip_id, "thresholds": [0.3, 0.2, 0.3]})
    assert changed["thresholds"] == [0.2, 0.3]
    assert changed["total"] == 100.0  # left out: unchanged
    assert await thresholds(gw, trip_id) == [0.2, 0.3]  # crossed by the change itself


async def test_an_editor_may_budget_a_viewer_may_not(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw))["id"]
    await share(store, trip_id, BOB, "viewer")
    errors = await refused(gw, store, CREATE, {"tripId": trip_id, "total": 5}, viewer=BOB)
    assert fields(errors) == [("tripId", "FORBIDDEN")]
    await share(store, trip_id, BOB, "editor")
    assert (await done(gw, CREATE, {"tripId": trip_id, "total": 5}, viewer=BOB))["total"] == 5
    await share(store, trip_id, BOB, "viewer")
    errors = await refused(gw, store, UPDATE, {"tripId": trip_id, "total": 9}, viewer=BOB)
    assert fields(errors) == [("tripId", "FORBIDDEN")]


@pytest.mark.parametrize("query", [CREATE, UPDATE])
async def test_anonymous_budget_writes_are_unauthenticated(
    gw: Gateway, store: Store, query: str
) -> None:
    trip_id = await budgeted(gw)
    before = await dump(store)
    result: Any = await gw.run(query, {"input": {"tripId": trip_id, "total": 1}}, viewer=None)
    assert result.data is None
    assert [err.extensions["code"] for err in result.errors] == ["UNAUTHENTICATED"]
    assert await dump(store) == before


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"total": -1}, "total"),
        ({"currency": "euro"}, "currency"),
        ({"thresholds": [0]}, "thresholds"),
        ({"thresholds": [11]}, "thresholds"),
        ({"thresholds": [0.1] * 21}, "thresholds"),
        ({"rates": [{"currency": "dollar", "rate": 1}]}, "rates"),
        ({"rates": [{"currency": "USD", "rate": 0}]}, "rates"),
        ({"rates": [{"currency": "USD", "rate": 1}, {"currency": "usd", "rate": 2}]}, "rates"),
        ({"rates": [{"currency": "USD", "rate": 1}] * 201}, "rates"),
    ],
)
async def test_bad_budgets_are_refused(
    gw: Gateway, store: Store, patch: dict[str, Any], field: str
) -> None:
    trip_id = await budgeted(gw)
    other = (await trip_for(gw))["id"]
    for query, target in ((CREATE, other), (UPDATE, trip_id)):
        errors = await refused(gw, store, query, {"tripId": target, **patch})
        assert fields(errors) == [(field, "BAD_USER_INPUT")]


async def test_refusals_change_nothing(gw: Gateway, store: Store) -> None:
    trip_id = await budgeted(gw)
    errors = await refused(gw, store, CREATE, {"tripId": trip_id, "total": 1})
    assert fields(errors) == [("tripId", "CONFLICT")]
    bare = (await trip_for(gw))["id"]
    errors = await refused(gw, store, UPDATE, {"tripId": bare, "total": 1})
    assert fields(errors) == [("tripId", "NOT_FOUND")]
    for query in (CREATE, UPDATE):
        errors = await refused(gw, store, query, {"tripId": NOWHERE, "total": 1})
        assert fields(errors) == [("tripId", "NOT_FOUND")]
        errors = await refused(gw, store, query, {"tripId": trip_id, "total": 1}, viewer=BOB)
        assert fields(errors) == [("tripId", "NOT_FOUND")]  # a stranger: looks missing


# ---------------------------------------------------------------- alerts
async def test_each_threshold_is_recorded_once(gw: Gateway, store: Store) -> None:
    trip_id = await budgeted(gw)  # default thresholds 0.8 and 1.0
    hotel = (await item_for(gw, trip_id, "Hotel", cost=50))["id"]
    assert await thresholds(gw, trip_id) == []
    dinner = (await item_for(gw, trip_id, "Dinner", cost=35))["id"]
    assert await thresholds(gw, trip_id) == [0.8]
    # Down below 80 %, then up again: the threshold was crossed twice, recorded once.
    await done(gw, UPDATE_ITEM, {"id": dinner, "cost": 5})
    await done(gw, UPDATE_ITEM, {"id": dinner, "cost": 40})
    assert await thresholds(gw, trip_id) == [0.8]
    await done(gw, REMOVE_ITEM, {"id": dinner})
    await item_for(gw, trip_id, "Dinner", cost=35)
    assert await thresholds(gw, trip_id) == [0.8]
    await done(gw, UPDATE_ITEM, {"id": hotel, "cost": 65})  # 100 of 100
    found = await alerts(gw, trip_id)
    assert [a["threshold"] for a in found] == [0.8, 1.0]
    last = found[1]
    assert (last["type"], last["typeRaw"]) == ("THRESHOLD", "threshold")
    assert (last["spent"], last["total"], last["currency"]) == (100.0, 100.0, "EUR")
    assert last["message"] == "100 % of the budget reached: 100 of 100 EUR spent"
    assert last["at"]


async def test_a_lower_total_records_the_crossing(gw: Gateway, store: Store) -> None:
    trip_id = await budgeted(gw, total=1000, thresholds=[0.5])
    await item_for(gw, trip_id, "Hotel", cost=300)
    assert await thresholds(gw, trip_id) == []
    await done(gw, UPDATE, {"tripId": trip_id, "total": 500})
    assert await thresholds(gw, trip_id) == [0.5]


async def test_a_budget_created_over_a_threshold_records_it(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw, currency="EUR"))["id"]
    await item_for(gw, trip_id, "Hotel", cost=90)
    await done(gw, CREATE, {"tripId": trip_id, "total": 100})
    assert await thresholds(gw, trip_id) == [0.8]


async def test_costs_in_other_currencies_count_only_by_rate(gw: Gateway, store: Store) -> None:
    trip_id = await budgeted(gw, thresholds=[0.5])
    await item_for(gw, trip_id, "Flight", cost=1000, currency="JPY")  # no rate: not counted
    assert await thresholds(gw, trip_id) == []
    await done(
        gw, UPDATE, {"tripId": trip_id, "rates": [{"currency": "JPY", "rate": 0.006}]}
    )  # 6 EUR
    assert await thresholds(gw, trip_id) == []
    await done(
        gw, UPDATE, {"tripId": trip_id, "rates": [{"currency": "JPY", "rate": 0.06}]}
    )  # 60 EUR
    assert await thresholds(gw, trip_id) == [0.5]


async def test_the_trips_currency_changing_can_cross(gw: Gateway, store: Store) -> None:
    trip_id = (await trip_for(gw, currency="USD"))["id"]
    await item_for(gw, trip_id, "Hotel", cost=90)  # in the trip's USD
    await done(gw, CREATE, {"tripId": trip_id, "total": 100, "currency": "EUR"})
    assert await thresholds(gw, trip_id) == []
    await done(gw, UPDATE_TRIP, {"id": trip_id, "currency": "EUR"})
    assert await thresholds(gw, trip_id) == [0.8]


async def test_alerts_the_app_wrote_are_kept(gw: Gateway, store: Store) -> None:
    trip_id = await budgeted(gw)
    theirs = {"type": "note", "message": "set by the app", "extra": {"n": 1}}
    await store.set(k.BUDGET_ALERTS.key(trip_id), [theirs, "junk"])
    await item_for(gw, trip_id, "Hotel", cost=85)
    stored = await store.get(k.BUDGET_ALERTS.key(trip_id))
    assert stored[:2] == [theirs, "junk"]
    assert [a["threshold"] for a in stored[2:]] == [0.8]


async def test_an_alert_list_that_is_no_list_is_reported_and_kept(
    gw: Gateway, store: Store, store_url: tuple[str, str]
) -> None:
    """A crossing write goes on; the alerts it could not record are reported, and the list
    kvgraph cannot read is kept byte for byte (JSON that is no array; where the value column
    holds any text, text that is no JSON)."""
    corrupt = ['{"not": "a list"}', *(["[1, 2"] if await holds_any_text(store_url) else [])]
    for value in corrupt:
        trip_id = await budgeted(gw)
        alerts_key = k.BUDGET_ALERTS.key(trip_id)
        await write_raw(store_url, {alerts_key: value})
        kept = await read_raw(store_url, [alerts_key])
        add = mutation("addItineraryItem", "item { id cost { amount } }")
        hotel = {"tripId": trip_id, "title": "Hotel", "cost": 80}
        result = await gw.run(add, {"input": hotel}, viewer=ALICE)
        out = result.data["addItineraryItem"]  # type: ignore[attr-defined]
        assert out["userErrors"] == [] and out["item"]["cost"] == {"amount": 80.0}, value
        (error,) = result.errors  # type: ignore[attr-defined]
        assert error.extensions["code"] == "INVALID_RECORD" and alerts_key in error.message
        assert await read_raw(store_url, [alerts_key]) == kept
        lower = {"input": {"tripId": trip_id, "total": 50}}
        update = await gw.run(UPDATE, lower, viewer=ALICE)
        assert update.data["updateBudget"]["userErrors"] == []  # type: ignore[attr-defined]
        assert alerts_key in str(update.errors)  # type: ignore[attr-defined]
        assert await read_raw(store_url, [alerts_key]) == kept


async def test_concurrent_item_writes_crossing_a_threshold_record_one_alert(
    gw: Gateway, store: Store
) -> None:
    trip_id = await budgeted(gw, thresholds=[0.5, 0.9])
    add = mutation("addItineraryItem", "item { id }")
    inputs = [{"tripId": trip_id, "title": f"Item {n}", "cost": 0} for n in range(10)]
    added = await asyncio.gather(*(gw.run(add, {"input": i}, viewer=ALICE) for i in inputs))
    ids = [r.data["addItineraryItem"]["item"]["id"] for r in added]  # type: ignore[attr-defined]

    async def costs(cost: float) -> None:
        """Every item's cost set at once, by concurrent updates (each locks only its item)."""
        runs = [gw.run(UPDATE_ITEM, {"input": {"id": i, "cost": cost}}, viewer=ALICE) for i in ids]
        for result in await asyncio.gather(*runs):
            assert result.errors is None, result.errors  # type: ignore[attr-defined]
            assert result.data["updateItineraryItem"]["userErrors"] == []  # type: ignore[attr-defined]

    await costs(10)
    assert await thresholds(gw, trip_id) == [0.5, 0.9]
    await costs(0)  # down, and concurrently up again: still one alert per threshold
    await costs(10)
    assert await thresholds(gw, trip_id) == [0.5, 0.9]


async def test_a_later_mutation_of_the_same_request_sees_the_new_alert(
    gw: Gateway, store: Store
) -> None:
    trip_id = await budgeted(gw)
    both = """mutation($trip: ID!) {
      a: updateBudget(input: {tripId: $trip, total: 100}) { budget { alerts { totalCount } } }
      b: addItineraryItem(input: {tripId: $trip, title: "Hotel", cost: 90}) {
        item { trip { budget { spent alerts { totalCount } } } } }
    }"""
    data = await gw.ok(both, {"trip": trip_id}, viewer=ALICE)
    assert data["a"]["budget"]["alerts"]["totalCount"] == 0
    assert data["b"]["item"]["trip"]["budget"] == {"spent": 90.0, "alerts": {"totalCount": 1}}
