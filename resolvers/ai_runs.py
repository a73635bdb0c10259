"""Agent runs (`ai_run:{id}`, `ai_runs:index:{userId}`): what server-side agents did for a
user, what it cost them in tokens and time, and totals per agent and per day.

Runs are written by the service role (the agent runner's `service_role` token) for the user
it names, and read by that user only. Totals go by a documented day rule: a run counts on the
UTC date of its `createdAt` when that carries an offset (kvgraph's own stamps, epoch numbers),
and on the date as written when it is a local wall-clock time (no zone to convert from); a run
without a readable `createdAt` is left out of the totals and counted in `undated`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers import access
from resolvers import validate as v
from resolvers.access import record, records, viewer_only
from resolvers.common import Outcome, Problem, deleted, pages_of_index, written
from resolvers.context import Context
from resolvers.eager import gather_eagerly
from resolvers.errors import bad_input
from resolvers.paging import Page, PageArgs
from resolvers.users import UserRef

AGENT_MAX = 200
MAX_DAYS = 366  # the longest range `aiRunTotals` adds up (one row per day at most)
MAX_TOKENS = 2**31 - 1  # a GraphQL Int (sums are Floats)


@viewer_only(empty=Page.empty)
async def user_ai_runs(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's agent runs, in index order (the order they were recorded)."""
    return await pages_of_index(ctx, users, k.AI_RUNS_INDEX, lambda u: u.id, e.AI_RUN, args)


async def ai_run(ctx: Context, run_id: str) -> m.AIRun | None:
    """A run of the viewer's (for `node(nodeId:)`)."""
    return await record(ctx, e.AI_RUN, run_id)


# ---------------------------------------------------------------- totals
@dataclass(slots=True)
class TotalsArgs:
    """`aiRunTotals(from:, to:)`: an inclusive range of dates."""

    from_: dt.date
    to: dt.date


@dataclass(slots=True)
class Sums:
    """Runs, tokens and time added up (one agent, one day or all of them)."""

    runs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    duration_ms: float = 0.0

    def add(self, run: m.AIRun) -> None:
        self.runs += 1
        self.input_tokens += run.input_tokens or 0
        self.output_tokens += run.output_tokens or 0
        self.duration_ms += run.duration_ms or 0.0


@dataclass(slots=True)
class AgentSums(Sums):
    agent_name: str | None = None


@dataclass(slots=True)
class DaySums(Sums):
    date: dt.date = dt.date.min


@dataclass(slots=True)
class Totals:
    """Totals of one user's runs over a range of dates."""

    from_: dt.date
    to: dt.date
    all: Sums = field(default_factory=Sums)
    by_agent: list[AgentSums] = field(default_factory=list)
    by_day: list[DaySums] = field(default_factory=list)
    undated: int = 0  # runs without a readable `createdAt`: in no range


def run_day(run: m.AIRun) -> dt.date | None:
    """The day a run counts on: the UTC date of an instant, the written date of a local
    time, None without a `createdAt`."""
    at = run.created_at
    if at is None:
        return None
    return at.date() if m.is_local(at) else at.astimezone(dt.UTC).date()


def _check_range(args: TotalsArgs) -> None:
    if args.to < args.from_:
        raise bad_input("`to` must not be before `from`")
    if (args.to - args.from_).days + 1 > MAX_DAYS:
        raise bad_input(f"a range covers at most {MAX_DAYS} days")


def totals_of(runs: Sequence[m.AIRun], args: TotalsArgs) -> Totals:
    """Add up runs whose day falls in the range, per agent (by name, unnamed last) and per
    day (days with runs only, in order)."""
    out = Totals(args.from_, args.to)
    agents: dict[str | None, AgentSums] = {}
    days: dict[dt.date, DaySums] = {}
    for run in runs:
        day = run_day(run)
        if day is None:
            out.undated += 1
            continue
        if not args.from_ <= day <= args.to:
            continue
        out.all.add(run)
        agents.setdefault(run.agent_name, AgentSums(agent_name=run.agent_name)).add(run)
        days.setdefault(day, DaySums(date=day)).add(run)
    out.by_agent = sorted(agents.values(), key=lambda a: (a.agent_name is None, a.agent_name or ""))
    out.by_day = [days[day] for day in sorted(days)]
    return out


@viewer_only(empty=lambda: None)
async def ai_run_totals(
    ctx: Context, users: Sequence[UserRef], args: TotalsArgs
) -> list[Totals | None]:
    """Each user's run totals over a range of dates (every run of their index is read)."""
    _check_range(args)

    async def one(user: UserRef) -> Totals:
        listing = await ctx.loaders.index(k.AI_RUNS_INDEX.key(user.id))
        found = await records(ctx, e.AI_RUN, listed=True)(listing.ids)
        return totals_of([r for r in found if r is not None], args)

    return list(await gather_eagerly(one(u) for u in users))


# ---------------------------------------------------------------- mutations
def _check(data: dict[str, Any], *, creating: bool) -> list[Problem]:
    """Check a run's fields in place (text trimmed, times written as given)."""
    problems = v.text_fields(data, {"agentName": (AGENT_MAX, False)}, partial=not creating)
    for name in ("inputTokens", "outputTokens"):
        value = data.get(name)
        if value is not None and not 0 <= value <= MAX_TOKENS:
            problems.append(Problem(name, f"{name} must be between 0 and {MAX_TOKENS}"))
    duration = data.get("durationMs")
    if duration is not None and (not math.isfinite(duration) or duration < 0):
        problems.append(Problem("durationMs", "durationMs must be a number >= 0"))
    if isinstance(data.get("createdAt"), dt.datetime):
        data["createdAt"] = v.iso_datetime(data["createdAt"])
    return problems


async def record_ai_run(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Record a run for the user it names (the service role only)."""
    access.may_write(ctx, e.AI_RUN)
    user_id = data["userId"]
    if not k.is_id(user_id):
        return Outcome.fail(f"userId: {k.id_problem(user_id)}", "userId")
    if problems := _check(data, creating=True):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.create(e.AI_RUN, data))


async def _stored_run(ctx: Context, run_id: str) -> m.AIRun | Outcome:
    """The run to change (the service role reads it by key), or the userError."""
    found = await ctx.loaders.entity(e.AI_RUN, run_id) if k.is_id(run_id) else None
    if not isinstance(found, m.AIRun):
        return Outcome.fail("AI run not found", "id", "NOT_FOUND")
    return found


async def update_ai_run(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a run's fields (a run that was `running` finishes); the service role only."""
    access.may_write(ctx, e.AI_RUN, "change")
    run_id = data.pop("id")
    found = await _stored_run(ctx, run_id)
    if isinstance(found, Outcome):
        return found
    if problems := _check(data, creating=False):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.AI_RUN, [run_id], data))


async def delete_ai_run(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a run and take it out of its user's index; the service role only."""
    access.may_write(ctx, e.AI_RUN, "change")
    found = await _stored_run(ctx, data["id"])
    if isinstance(found, Outcome):
        return found
    return await deleted(ctx, e.AI_RUN, found)
