"""Trip budgets (`budget:{tripId}`): the stored total, what the trip's items spent (in the
budget's currency, by item kind, and what could not be converted), the alerts recorded in
`budget:alerts:{tripId}`, and the budget mutations.

The arithmetic and its rules live in `gql/kv/spending.py`, shared with the repository, which
records an alert in the same transaction as the write that crossed a threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv import spending as s
from resolvers import trips
from resolvers import validate as v
from resolvers.access import WRITERS, record, records, trip_for
from resolvers.common import Outcome, Problem, author, denied, pages_of_list, written
from resolvers.context import Context
from resolvers.eager import gather_eagerly
from resolvers.paging import Page, PageArgs

MAX_THRESHOLDS = 20
MAX_RATES = 200
MAX_THRESHOLD = s.PERCENT_FROM  # 1,000 % of the total; above it, a stored value is a percentage


@dataclass(slots=True)
class KindShare:
    """`Budget.breakdown`: what the items of one kind spent (kind None: no kind)."""

    kind: str | None
    kind_raw: str | None
    spent: float
    item_count: int


@dataclass(slots=True)
class RateOf:
    """`Budget.rates`: what one unit of `currency` is worth in the budget's currency."""

    currency: str
    rate: float


@dataclass(slots=True)
class UnconvertedCost:
    """`Budget.unconverted`: costs in one currency the budget has no rate for."""

    currency: str | None
    amount: float
    item_ids: list[str]


async def trip_budgets(ctx: Context, trips_: Sequence[m.Trip]) -> list[m.Budget | None]:
    """Each trip's budget record, if it has one."""
    return await records(ctx, e.BUDGET)([t.id for t in trips_])


async def budget(ctx: Context, trip_id: str) -> m.Budget | None:
    """The budget of a trip the viewer may read."""
    return await record(ctx, e.BUDGET, trip_id)


async def budget_alerts(ctx: Context, budgets: Sequence[m.Budget], args: PageArgs) -> list[Page]:
    """A page of each budget's alerts, oldest first (`budget:alerts:{tripId}`)."""
    return await pages_of_list(
        ctx, budgets, k.BUDGET_ALERTS, lambda b: b.trip_id, m.BudgetAlert, args
    )


async def budget_rates(ctx: Context, budgets: Sequence[m.Budget]) -> list[list[RateOf] | None]:
    """Each budget's conversion rates, by currency (None: none set)."""
    return [
        None if b.rates is None else [RateOf(c, r) for c, r in sorted(b.rates.items())]
        for b in budgets
    ]


async def spendings(ctx: Context, budgets: Sequence[m.Budget]) -> list[s.Spending]:
    """What each budget's trip spent, by `spending`'s rules: its items (each once, only those
    of this trip) and its trip's currency, each level of them in one batch."""
    lists = await gather_eagerly(ctx.loaders.index(k.ITEMS_INDEX.key(b.trip_id)) for b in budgets)
    found = await gather_eagerly(
        records(ctx, e.ITEM, listed=True)(s.counted_once(i.ids)) for i in lists
    )
    of_trip = await trips.trips_by_id(ctx, [b.trip_id for b in budgets])
    return [
        s.spending(b, t.currency if t else None, [i for i in its if i and i.trip_id == b.trip_id])
        for b, t, its in zip(budgets, of_trip, found, strict=True)
    ]


async def spent(ctx: Context, budgets: Sequence[m.Budget]) -> list[float]:
    """What each budget's trip spent in the budget's currency (converted by its rates)."""
    return [round(x.spent, 10) for x in await spendings(ctx, budgets)]


async def remaining(ctx: Context, budgets: Sequence[m.Budget]) -> list[float | None]:
    """Each budget's total minus what was spent (negative: over budget; None: no total)."""
    found = await spendings(ctx, budgets)
    return [
        None if b.total is None else round(b.total - x.spent, 10)
        for b, x in zip(budgets, found, strict=True)
    ]


async def counted_currencies(ctx: Context, budgets: Sequence[m.Budget]) -> list[str | None]:
    """The currency each budget counts in: its own, else its trip's."""
    return [x.currency for x in await spendings(ctx, budgets)]


async def breakdowns(ctx: Context, budgets: Sequence[m.Budget]) -> list[list[KindShare]]:
    """What each budget's items spent per item kind."""
    return [
        [
            KindShare(_known_kind(share.kind), share.kind, round(share.spent, 10), share.item_count)
            for share in x.breakdown()
        ]
        for x in await spendings(ctx, budgets)
    ]


async def unconverted(ctx: Context, budgets: Sequence[m.Budget]) -> list[list[UnconvertedCost]]:
    """The costs each budget left out, per currency it has no rate for."""
    return [
        [
            UnconvertedCost(c.currency, round(c.amount, 10), c.item_ids)
            for c in x.unconverted_costs()
        ]
        for x in await spendings(ctx, budgets)
    ]


def _known_kind(kind: str | None) -> str | None:
    return kind if kind is None or kind in m.ITEM_KINDS else m.OTHER


# ---------------------------------------------------------------- mutations
def _check(data: dict[str, Any]) -> list[Problem]:
    problems = v.currency(data) + v.amount(data, "total")
    found = data.get("thresholds")
    if found is not None:
        if len(found) > MAX_THRESHOLDS:
            problems.append(Problem("thresholds", f"at most {MAX_THRESHOLDS} thresholds"))
        elif any(not math.isfinite(t) or t <= 0 or t > MAX_THRESHOLD for t in found):
            problems.append(
                Problem(
                    "thresholds",
                    f"a threshold is a fraction of the total, above 0 and at most "
                    f"{MAX_THRESHOLD:g} (0.8 = 80 %)",
                )
            )
        else:
            data["thresholds"] = sorted(set(found))
    problems += _check_rates(data)
    return problems


def _check_rates(data: dict[str, Any]) -> list[Problem]:
    """Check the input's rates (`[{currency, rate}]`) and turn them into the stored map."""
    given = data.get("rates")
    if given is None:
        return []
    if len(given) > MAX_RATES:
        return [Problem("rates", f"at most {MAX_RATES} rates")]
    rates: dict[str, float] = {}
    for entry in given:
        currency = entry["currency"].strip().upper()
        if not v.CURRENCY.match(currency):
            return [Problem("rates", "a rate's currency must be a 3-letter code such as USD")]
        if currency in rates:
            return [Problem("rates", f"{currency} has two rates")]
        rates[currency] = entry["rate"]
    if (why := s.rates_problem(rates)) is not None:
        return [Problem("rates", why)]
    data["rates"] = dict(sorted(rates.items()))
    return []


async def create_budget(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Give a trip the viewer may edit its budget; an alert is recorded at once for each
    threshold its items already crossed. A trip has one budget: a second is refused."""
    author(ctx, e.BUDGET)
    trip_id = data["tripId"]
    trip, why = await trip_for(ctx, trip_id, WRITERS)
    if trip is None:
        return denied(why, "trip", "tripId", "change its budget")
    if problems := _check(data):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.create(e.BUDGET, data, new_only=True))


async def update_budget(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a trip's budget (total, currency, thresholds, rates); fields left out stay."""
    author(ctx, e.BUDGET, "change")
    trip_id = data.pop("tripId")
    trip, why = await trip_for(ctx, trip_id, WRITERS)
    if trip is None:
        return denied(why, "trip", "tripId", "change its budget")
    if await budget(ctx, trip_id) is None:
        return Outcome.fail("this trip has no budget: create one", "tripId", "NOT_FOUND")
    if problems := _check(data):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.BUDGET, [trip_id], data))
