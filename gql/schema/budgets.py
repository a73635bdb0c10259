"""Trip budgets: the `Budget` type (spending, breakdown, alerts) and its mutations."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Connection, Node, connection, node, relation, root_mutations
from gql.schema.derive import UNSET, create_input, from_model, mutation
from gql.schema.enums import ItemKind
from resolvers import budgets


@strawberry.type(
    description="A budget alert, one of the list `budget:alerts:{tripId}`: kvgraph records "
    "one (type THRESHOLD) the first time the trip's spending reaches each threshold."
)
@from_model(m.BudgetAlert)
class BudgetAlert:
    pass


@strawberry.type(description="What the items of one kind spent, in the budget's currency.")
class BudgetKindSpent:
    kind: ItemKind | None = strawberry.field(description="The item kind; null: items without one.")
    kind_raw: str | None = strawberry.field(description="The kind exactly as stored.")
    spent: float
    item_count: int = strawberry.field(description="How many items with a cost counted.")


@strawberry.type(description="Costs left out of `spent`: in a currency the budget has no rate for.")
class UnconvertedCost:
    currency: str | None = strawberry.field(
        description="Their currency; null: none named while the budget counts in one."
    )
    amount: float = strawberry.field(description="Their sum, in that currency.")
    item_ids: list[strawberry.ID] = strawberry.field(description="The items, in itinerary order.")


@strawberry.type(description="How much one unit of a currency is worth in the budget's currency.")
class CurrencyRate:
    currency: str
    rate: float


@strawberry.input(description='A conversion rate: `{currency: "USD", rate: 0.92}`.')
class CurrencyRateInput:
    currency: str
    rate: float


@strawberry.type(
    description="A trip's budget (`budget:{tripId}`). Spending counts the trip's item costs "
    "in the budget's currency: costs in another currency are converted with `rates` or, "
    "without a rate, left out and listed in `unconverted` (never summed as they are)."
)
@node(m.Budget, budgets.budget, id_of=lambda b: str(b.trip_id))
@from_model(m.Budget, hide=("rates",))
class Budget(Node):
    rates: list[CurrencyRate] | None = relation(
        budgets.budget_rates,
        description="Rates converting item costs in other currencies (stored as "
        '`{"USD": 0.92}`), by currency; null: none set.',
    )
    spent: float = relation(
        budgets.spent,
        description="The trip's item costs in `spentCurrency`: costs in another currency "
        "converted with `rates`, those without a rate left out (see `unconverted`).",
    )
    remaining: float | None = relation(
        budgets.remaining,
        description="`total` minus `spent` (negative: over budget; null: no total).",
    )
    spent_currency: str | None = relation(
        budgets.counted_currencies,
        description="The currency `spent` and `remaining` are in: the budget's, else the trip's.",
    )
    breakdown: list[BudgetKindSpent] = relation(
        budgets.breakdowns,
        description="`spent` per item kind (ItemKind order, other kinds, then items without "
        "a kind); kinds without costs are left out.",
    )
    unconverted: list[UnconvertedCost] = relation(
        budgets.unconverted,
        description="Costs left out of `spent`, per currency the budget has no rate for.",
    )
    alerts: Connection[BudgetAlert] = connection(
        budgets.budget_alerts,
        description="Alerts recorded for the budget, oldest first (`budget:alerts:{tripId}`); "
        "a cursor keeps its place as alerts are added.",
    )


RATES_INPUT = (
    list[CurrencyRateInput] | None,
    strawberry.field(
        default=UNSET,
        description="Conversion rates, one per currency (they replace the stored ones; null "
        "removes them).",
    ),
)
CreateBudgetInput = create_input(
    m.Budget, "CreateBudgetInput", hide=("rates",), extra={"rates": RATES_INPUT}
)
UpdateBudgetInput = create_input(
    m.Budget, "UpdateBudgetInput", hide=("rates",), extra={"rates": RATES_INPUT}
)


@root_mutations
@strawberry.type
class BudgetMutations:
    create_budget = mutation(
        budgets.create_budget,
        CreateBudgetInput,
        "budget",
        Budget,
        "Give a trip you own or edit its budget (one per trip). `thresholds` are fractions of "
        "`total` (default 0.8 and 1.0); `rates` convert other currencies, e.g. "
        '{"USD": 0.92}. Thresholds the items already reached are recorded as alerts at once.',
    )
    update_budget = mutation(
        budgets.update_budget,
        UpdateBudgetInput,
        "budget",
        Budget,
        "Change a trip's budget; fields left out stay as they are. A threshold reached by "
        "the change is recorded as an alert (each threshold once per budget).",
    )
