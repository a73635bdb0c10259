"""Trip budgets (`budget:{tripId}`): the stored total, and what the trip's items have spent."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers import items
from resolvers.access import record, records
from resolvers.common import pages_of_list
from resolvers.context import Context
from resolvers.paging import Page, PageArgs


async def trip_budgets(ctx: Context, trips: Sequence[m.Trip]) -> list[m.Budget | None]:
    """Each trip's budget record, if it has one."""
    return await records(ctx, e.BUDGET)([t.id for t in trips])


async def budget(ctx: Context, trip_id: str) -> m.Budget | None:
    """The budget of a trip the viewer may read."""
    return await record(ctx, e.BUDGET, trip_id)


async def budget_alerts(ctx: Context, budgets: Sequence[m.Budget], args: PageArgs) -> list[Page]:
    """A page of each budget's alerts, oldest first (`budget:alerts:{tripId}`)."""
    return await pages_of_list(
        ctx, budgets, k.BUDGET_ALERTS, lambda b: b.trip_id, m.BudgetAlert, args
    )


async def spent(ctx: Context, budgets: Sequence[m.Budget]) -> list[float]:
    """What each budget's trip has spent: its items' costs in the budget's currency.

    An item's cost is in its own currency or else its trip's (`items.item_costs`); costs in
    another currency than the budget's are left out (kvgraph converts no currencies).
    """
    lists = await asyncio.gather(
        *(ctx.loaders.index(k.ITEMS_INDEX.key(b.trip_id)) for b in budgets)
    )
    found = await asyncio.gather(*(records(ctx, e.ITEM, listed=True)(i.ids) for i in lists))
    costs = await asyncio.gather(*(items.item_costs(ctx, [i for i in f if i]) for f in found))
    return [
        sum(c.amount for c in trip_costs if c and (b.currency is None or c.currency == b.currency))
        for b, trip_costs in zip(budgets, costs, strict=True)
    ]
