"""The budget arithmetic shared by reads and writes (`gql/kv/spending.py`)."""

from __future__ import annotations

from typing import Any

from gql.kv import models as m
from gql.kv import spending as s


def budget(**fields: Any) -> m.Budget:
    return m.Budget.model_validate({"tripId": "t1", **fields})


def item(n: int, **fields: Any) -> m.Item:
    return m.Item.model_validate({"id": f"i{n}", "tripId": "t1", "title": "x", **fields})


def test_default_and_given_thresholds() -> None:
    assert s.thresholds(budget()) == (0.8, 1.0)
    assert s.thresholds(budget(thresholds=[])) == ()
    assert s.thresholds(budget(thresholds=[1.0, 0.5, 0.5, 0, -1])) == (0.5, 1.0)


def test_an_apps_percentages_read_as_percentages() -> None:
    assert s.thresholds(budget(thresholds=[80, 100])) == (0.8, 1.0)
    alerts = [m.BudgetAlert.model_validate({"type": "threshold", "threshold": 80})]
    assert s.recorded(alerts) == [0.8]
    assert s.due(budget(total=100, thresholds=[80, 100]), 100, s.recorded(alerts)) == [1.0]


def test_an_apps_alert_without_a_type_records_its_threshold() -> None:
    alerts = [m.BudgetAlert.model_validate({"threshold": 80, "message": "80% used"})]
    assert s.recorded(alerts) == [0.8]


def test_reaching_a_threshold_exactly_crosses_it() -> None:
    b = budget(total=0.3, thresholds=[1.0])
    assert s.crossed(b, 0.1 + 0.2) == [1.0]  # 0.30000000000000004 and float noise alike
    assert s.crossed(budget(total=100), 79.99) == []
    assert s.crossed(budget(total=100), 80) == [0.8]


def test_no_positive_total_no_alerts() -> None:
    for total in (None, 0, -5):
        assert s.crossed(budget(total=total), 1_000) == []


def test_recorded_thresholds_are_not_due_again() -> None:
    b = budget(total=100)
    assert s.due(b, 150, [0.8]) == [1.0]
    assert s.due(b, 150, [0.8, 1.0]) == []


def test_other_alerts_and_invalid_ones_record_nothing() -> None:
    found = [
        m.BudgetAlert.model_validate({"type": "note", "threshold": 0.8}),
        m.InvalidRecord("budget:alerts:t1[1]", "expected a JSON object"),
        None,
    ]
    assert s.recorded(found) == []


def test_spending_converts_by_rate_and_lists_the_rest() -> None:
    b = budget(currency="EUR", rates={"USD": 0.5})
    items = [
        item(1, cost=10, kind="meal"),
        item(2, cost=10, currency="USD", kind="meal"),
        item(3, cost=7, currency="GBP"),
        item(4, kind="stay"),
    ]
    found = s.spending(b, "EUR", items)
    assert (found.currency, found.spent) == ("EUR", 15.0)
    assert [(k.kind, k.spent, k.item_count) for k in found.breakdown()] == [("meal", 15.0, 2)]
    assert [(u.currency, u.amount, u.item_ids) for u in found.unconverted_costs()] == [
        ("GBP", 7.0, ["i3"])
    ]


def test_unusable_rates_convert_nothing() -> None:
    assert s.rate(budget(rates={"USD": -1}), "USD", "EUR") is None
    assert s.rate(budget(), "USD", "EUR") is None
    assert s.rate(budget(), None, "EUR") == 1.0  # a cost naming no currency
    assert s.rates_problem({"USD": True}) == "the rate of USD must be a number"
    assert s.rates_problem({"USD": float("inf")}) == "the rate of USD must be greater than 0"


def test_the_alert_message() -> None:
    b = budget(total=1500)
    alert = s.alert(b, 0.8, 1234.5, "EUR", "2026-01-01T00:00:00.000Z")
    assert alert["message"] == "80 % of the budget reached: 1,234.5 of 1,500 EUR spent"
    assert (alert["type"], alert["threshold"], alert["spent"]) == ("threshold", 0.8, 1234.5)
