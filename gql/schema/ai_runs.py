"""Agent runs: the type, totals per agent and per day, and the service role's mutations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import Node, node, record_data_field, root_mutations
from gql.schema.derive import UNSET, create_input, from_model, id_input, mutation, update_input
from resolvers import ai_runs


@strawberry.type(
    description="One run of a server-side agent for a user (`ai_run:{id}`), recorded by the "
    "service role and read by that user only."
)
@node(m.AIRun, ai_runs.ai_run)
@from_model(m.AIRun, hide=("user_id",))
class AIRun(Node):
    data: JSON = record_data_field()


@strawberry.type(description="Runs, tokens and time added up.")
class AIRunSums:
    runs: int
    input_tokens: float = strawberry.field(description="Input tokens (a sum may pass 2^31).")
    output_tokens: float = strawberry.field(description="Output tokens (a sum may pass 2^31).")
    duration_ms: float


@strawberry.type(description="One agent's runs in the range (`agentName` null: unnamed).")
class AIRunAgentTotals(AIRunSums):
    agent_name: str | None


@strawberry.type(description="The runs of one day in the range (the day rule: `AIRunTotals`).")
class AIRunDayTotals(AIRunSums):
    date: dt.date


@strawberry.type(
    description="A user's runs over a range of dates, per agent and per day. A run counts on "
    "the UTC date of its `createdAt` when that carries an offset (kvgraph's own stamps, epoch "
    "numbers), on the date as written when it is a local wall-clock time; runs without a "
    "readable `createdAt` are in no range and counted in `undated`."
)
class AIRunTotals:
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    all: AIRunSums = strawberry.field(description="Every run in the range.")
    by_agent: list[AIRunAgentTotals] = strawberry.field(
        description="Per agent, by name (unnamed last)."
    )
    by_day: list[AIRunDayTotals] = strawberry.field(
        description="Per day with runs, oldest first (days without runs are left out)."
    )
    undated: int = strawberry.field(
        description="The user's runs without a readable `createdAt`, in no range."
    )


TOTALS_TYPES = {
    "from_": Annotated[dt.date, strawberry.argument(name="from", description="First day.")],
    "to": Annotated[dt.date, strawberry.argument(description="Last day (included).")],
}

RecordAiRunInput = create_input(
    m.AIRun,
    "RecordAiRunInput",
    extra={
        "created_at": (
            dt.datetime | None,
            strawberry.field(default=UNSET, description="When the run started (default: now)."),
        )
    },
)
UpdateAiRunInput = update_input(m.AIRun, "UpdateAiRunInput")
DeleteAiRunInput = id_input("DeleteAiRunInput")


@root_mutations
@strawberry.type
class AIRunMutations:
    record_ai_run = mutation(
        ai_runs.record_ai_run,
        RecordAiRunInput,
        "ai_run",
        AIRun,
        "Record an agent run for the user `userId` names (the service role only).",
    )
    update_ai_run = mutation(
        ai_runs.update_ai_run,
        UpdateAiRunInput,
        "ai_run",
        AIRun,
        "Change an agent run, e.g. when it finishes (the service role only).",
    )
    delete_ai_run = mutation(
        ai_runs.delete_ai_run,
        DeleteAiRunInput,
        "ai_run",
        AIRun,
        "Delete an agent run (the service role only).",
    )
