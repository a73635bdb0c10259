"""Trip budgets: the `Budget` type (read-only)."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Connection, Node, connection, node, relation
from gql.schema.derive import from_model
from resolvers import budgets


@strawberry.type(description="A budget alert, one of the list `budget:alerts:{tripId}`.")
@from_model(m.BudgetAlert)
class BudgetAlert:
    pass


@strawberry.type(description="A trip's budget (`budget:{tripId}`).")
@node(m.Budget, budgets.budget, id_of=lambda b: str(b.trip_id))
@from_model(m.Budget)
class Budget(Node):
    spent: float = relation(
        budgets.spent,
        description="The trip's item costs in the budget's currency (others are left out).",
    )
    alerts: Connection[BudgetAlert] = connection(
        budgets.budget_alerts,
        description="Alerts recorded for the budget, oldest first (`budget:alerts:{tripId}`); "
        "a cursor keeps its place as alerts are added.",
    )
