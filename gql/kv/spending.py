"""Budget arithmetic: what a trip spent in its budget's currency, and which alerts are due.

One rule for reads (`Trip.budget`) and for writes (the repository records an alert in the
transaction of the write that crossed a threshold), so the two always agree.

Currencies. The budget's currency is its `currency`, else its trip's. An item's cost is in
the item's `currency`, else its trip's; a cost that names no currency at all (neither the
item nor its trip) is taken to be in the budget's currency. A cost in the budget's currency
counts as it is; a cost in another currency counts converted with the budget's `rates`
(`{"USD": 0.92}`: one USD is 0.92 of the budget's currency) when they name that currency,
and is otherwise left out of `spent` and listed in `unconverted` (per currency, with its
items). Costs in different currencies are never summed as they are.

Alerts. A budget's `thresholds` are fractions of its `total` (0.8 = 80 %); without the field,
`DEFAULT_THRESHOLDS`; an empty list asks for none. A value above `PERCENT_FROM` can only be
an app's percentage (kvgraph's mutations refuse it), so it is read as one (80 = 80 %), in
budgets and in recorded alerts alike. A threshold is crossed when `spent`
reaches `threshold * total` (a budget without a positive total has no alerts). Each
threshold is recorded once per budget, the first time it is crossed: a threshold already in
`budget:alerts:{tripId}` (an alert of type `threshold` with the same value, or an app's
alert with that value and no type at all) is never recorded again, also after spending fell
below it and rose again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gql.kv import models as m

DEFAULT_THRESHOLDS: tuple[float, ...] = (0.8, 1.0)
PERCENT_FROM = 10.0  # a threshold above this (1,000 % as a fraction) is a percentage
THRESHOLD = "threshold"  # the type of the alerts kvgraph records
_CENTS = 1e-9  # relative tolerance: 0.1 + 0.2 of a total of 0.3 crosses 100 %


@dataclass(slots=True)
class KindSpent:
    """What the items of one kind spent (kind None: items without a kind)."""

    kind: str | None
    spent: float = 0.0
    item_count: int = 0


@dataclass(slots=True)
class Unconverted:
    """Costs in one currency the budget has no rate for (currency None: none named)."""

    currency: str | None
    amount: float = 0.0
    item_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Spending:
    """A budget's spending: the total in its currency, by item kind, and what was left out."""

    currency: str | None
    spent: float = 0.0
    by_kind: dict[str | None, KindSpent] = field(default_factory=dict)
    unconverted: dict[str | None, Unconverted] = field(default_factory=dict)

    def breakdown(self) -> list[KindSpent]:
        """Spending per kind: kvgraph's kinds in their order, then others by name, then none."""
        order = {kind: n for n, kind in enumerate(m.ITEM_KINDS)}

        def rank(kind: str | None) -> tuple[int, int, str]:
            if kind is None:
                return (2, 0, "")
            return (0, order[kind], "") if kind in order else (1, 0, kind)

        return [self.by_kind[kind] for kind in sorted(self.by_kind, key=rank)]

    def unconverted_costs(self) -> list[Unconverted]:
        """The costs left out, one entry per currency, by currency."""
        return [self.unconverted[c] for c in sorted(self.unconverted, key=lambda c: c or "")]


def budget_currency(budget: m.Budget, trip_currency: str | None) -> str | None:
    """The currency a budget counts in: its own, else its trip's."""
    return budget.currency or trip_currency


def rate(budget: m.Budget, currency: str | None, target: str | None) -> float | None:
    """How much of the budget's currency one unit of `currency` is worth (None: unknown)."""
    if currency is None or currency == target:
        return 1.0
    rates = budget.rates or {}
    found = rates.get(currency)
    return found if found is not None and math.isfinite(found) and found >= 0 else None


def spending(budget: m.Budget, trip_currency: str | None, items: Iterable[m.Item]) -> Spending:
    """What `items` (a trip's, each once) spent against `budget` (see the module's rules)."""
    target = budget_currency(budget, trip_currency)
    out = Spending(target)
    for item in items:
        if item.cost is None:
            continue
        currency = item.currency or trip_currency
        factor = rate(budget, currency, target)
        if factor is None:
            left = out.unconverted.setdefault(currency, Unconverted(currency))
            left.amount += item.cost
            left.item_ids.append(item.id)
            continue
        amount = item.cost * factor
        out.spent += amount
        share = out.by_kind.setdefault(item.kind, KindSpent(item.kind))
        share.spent += amount
        share.item_count += 1
    return out


def thresholds(budget: m.Budget) -> tuple[float, ...]:
    """The budget's thresholds (fractions of its total), each once, in ascending order."""
    chosen = DEFAULT_THRESHOLDS if budget.thresholds is None else budget.thresholds
    return tuple(sorted({fraction(t) for t in chosen if math.isfinite(t) and t > 0}))


def fraction(threshold: float) -> float:
    """A threshold as a fraction of the total (an app's percentage, 80, is 0.8)."""
    return threshold / 100 if threshold > PERCENT_FROM else threshold


def crossed(budget: m.Budget, spent: float) -> list[float]:
    """The thresholds `spent` has reached (none without a positive total)."""
    total = budget.total
    if total is None or not math.isfinite(total) or total <= 0:
        return []
    return [t for t in thresholds(budget) if spent >= t * total * (1 - _CENTS)]


def recorded(alerts: Iterable[Any]) -> list[float]:
    """The thresholds a budget's alert list already records (other elements are ignored)."""
    out = []
    for alert in alerts:
        if not isinstance(alert, m.BudgetAlert) or alert.type not in (THRESHOLD, None):
            continue
        if alert.threshold:
            out.append(fraction(alert.threshold))
    return out


def due(budget: m.Budget, spent: float, done: Sequence[float]) -> list[float]:
    """The thresholds to record now: crossed and not recorded before."""
    return [t for t in crossed(budget, spent) if not any(math.isclose(t, d) for d in done)]


def alert(budget: m.Budget, threshold: float, spent: float, currency: str | None, at: str) -> dict:
    """The stored form of an alert for `threshold` (camelCase, kvgraph's field names)."""
    total = budget.total or 0.0
    money = f"{_amount(spent)} of {_amount(total)}" + (f" {currency}" if currency else "")
    return {
        "type": THRESHOLD,
        "threshold": threshold,
        "spent": round(spent, 2),
        "total": total,
        "currency": currency,
        "message": f"{_percent(threshold)} of the budget reached: {money} spent",
        "at": at,
    }


def _amount(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def counted_once(ids: Iterable[str]) -> list[str]:
    """Ids in order, each once (apps sometimes list an item twice)."""
    return list(dict.fromkeys(ids))


def rates_problem(rates: Mapping[str, Any] | None) -> str | None:
    """Why `rates` are not usable conversion rates (None: they are)."""
    if rates is None:
        return None
    for currency, value in rates.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            return f"the rate of {currency} must be a number"
        if not math.isfinite(value) or value <= 0:
            return f"the rate of {currency} must be greater than 0"
    return None
