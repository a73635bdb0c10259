"""Booking workflows (`workflow:{id}`, listed in `workflows:index:{userId}`): a user's
multi-step bookings, which move only along allowed transitions.

The step graph (`TRANSITIONS`):

    draft -> searching -> selected -> booking -> confirmed
    searching -> draft            (start over)
    selected -> searching         (pick something else)
    booking -> failed -> booking  (retry) or -> searching
    any step but cancelled -> cancelled   (confirmed too: cancelling a booking)

`cancelled` is final. A step kvgraph does not know (an app's own, shown as `OTHER` with its
stored name in `currentStepRaw`) is kept; from it only `cancelled` is allowed, since kvgraph
cannot know where the app's step sits in the graph (a mapping file can name it as one of
kvgraph's steps, and then that step's transitions apply). Every move appends a
`WorkflowTransition` (step entered, step left, time, user, note) to the record's `history`
and sets its `status` (`STATUS_OF`), in one transaction that re-reads the current step, so
two concurrent moves cannot both start from the same step. A move that is not allowed is a
userError (`INVALID_TRANSITION`) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import RepoError, now
from resolvers import trips
from resolvers import validate as v
from resolvers.access import readable_trip, record, viewer_only
from resolvers.common import IdArgs, Outcome, author, deleted, pages_of_index, written
from resolvers.context import Context
from resolvers.paging import Page, PageArgs
from resolvers.users import UserRef

CANCELLED = "cancelled"
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("searching", CANCELLED),
    "searching": ("selected", "draft", CANCELLED),
    "selected": ("booking", "searching", CANCELLED),
    "booking": ("confirmed", "failed", CANCELLED),
    "failed": ("booking", "searching", CANCELLED),
    "confirmed": (CANCELLED,),
    CANCELLED: (),
}
FROM_UNKNOWN: tuple[str, ...] = (CANCELLED,)  # from a step kvgraph does not know
STATUS_OF = {
    "draft": "active",
    "searching": "active",
    "selected": "active",
    "booking": "active",
    "confirmed": "completed",
    "failed": "failed",
    CANCELLED: "cancelled",
}
if set(TRANSITIONS) != set(m.WORKFLOW_STEPS) or set(STATUS_OF) != set(m.WORKFLOW_STEPS):
    raise RuntimeError("every workflow step needs its transitions and its status")

TEXT = {"title": (v.TITLE_MAX, False)}


class InvalidTransition(RepoError):
    code = "INVALID_TRANSITION"


def allowed(step: str) -> tuple[str, ...]:
    """The steps a workflow at `step` may move to."""
    return TRANSITIONS.get(step, FROM_UNKNOWN)


# ---------------------------------------------------------------- reads
async def workflow(ctx: Context, workflow_id: str) -> m.Workflow | None:
    """A workflow of the viewer's."""
    return await record(ctx, e.WORKFLOW, workflow_id)


@viewer_only(empty=Page.empty)
async def user_workflows(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's booking workflows, in index order (`workflows:index:{userId}`)."""
    return await pages_of_index(ctx, users, k.WORKFLOWS_INDEX, lambda u: u.id, e.WORKFLOW, args)


async def workflow_trips(ctx: Context, found: Sequence[m.Workflow]) -> list[m.Trip | None]:
    """Each workflow's trip, if it names one the viewer may read."""
    return await trips.trips_by_id(ctx, [w.trip_id for w in found])


async def allowed_steps(ctx: Context, found: Sequence[m.Workflow]) -> list[list[str]]:
    """The steps each workflow may move to now."""
    return [list(allowed(w.current_step)) for w in found]


async def workflow_history(
    ctx: Context, found: Sequence[m.Workflow]
) -> list[list[m.WorkflowTransition]]:
    """Each workflow's moves, oldest first; an entry that is not a transition is skipped and
    reported as `workflow:{id}.history[n]`."""
    model = m.ELEMENTS[m.Workflow]["history"]
    out = []
    for w in found:
        moves: list[m.WorkflowTransition] = []
        for n, entry in enumerate(w.history or ()):
            key = f"{e.WORKFLOW.pattern.key(w.id)}.history[{n}]"
            move = m.validate(model, key, entry, ctx.mapping)
            if isinstance(move, m.InvalidRecord):
                ctx.report(move)
            elif isinstance(move, m.WorkflowTransition):
                moves.append(move)
        out.append(moves)
    return out


# ---------------------------------------------------------------- writes
def _move(step: str, previous: str | None, user: str, note: str | None) -> dict[str, Any]:
    """A history entry (camelCase)."""
    entry = {"step": step, "previous": previous, "at": now(), "by": user}
    return {**entry, "note": note} if note else entry


async def create_workflow(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Start a booking workflow for the viewer, at `draft` (optionally for one of their trips)."""
    user = author(ctx, e.WORKFLOW)
    problems = v.text_fields(data, TEXT)
    if problems:
        return Outcome(None, problems)
    trip_id = data.get("tripId")
    if trip_id is not None and await readable_trip(ctx, trip_id) is None:
        return Outcome.fail("trip not found", "tripId", "NOT_FOUND")
    entry = {
        **data,
        "userId": user,
        "currentStep": "draft",
        "status": STATUS_OF["draft"],
        "history": [_move("draft", None, user, None)],
    }
    return await written(ctx, ctx.repo.create(e.WORKFLOW, entry))


async def _own(ctx: Context, workflow_id: str) -> m.Workflow | Outcome:
    found = await workflow(ctx, workflow_id)
    return found if found is not None else Outcome.fail("workflow not found", "id", "NOT_FOUND")


async def _to(ctx: Context, data: dict[str, Any], step: str) -> Outcome:
    """Move a workflow of the viewer's to `step`, if its current step allows it."""
    user = author(ctx, e.WORKFLOW, "change")
    problems = v.text_fields(data, {"note": (v.NOTES_MAX, False)})
    if problems:
        return Outcome(None, problems)
    found = await _own(ctx, data["id"])
    if isinstance(found, Outcome):
        return found
    note, more = data.get("note"), ({"data": data["data"]} if "data" in data else {})

    def patch(before: m.Record) -> dict[str, Any]:
        current: m.Workflow = before  # type: ignore[assignment]
        if step not in allowed(current.current_step):
            options = ", ".join(allowed(current.current_step)) or "none: it is final"
            raise InvalidTransition(
                f"a workflow at {current.current_step!r} cannot move to {step!r} "
                f"(allowed: {options})",
                "to",
            )
        history = [*(current.history or ()), _move(step, current.current_step, user, note)]
        status = {"status": STATUS_OF[step]}
        return {"currentStep": step, "history": history, **status, **more}

    return await written(ctx, ctx.repo.change(e.WORKFLOW, [found.id], patch))


async def advance_workflow(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Move a workflow to the step `to`, along an allowed transition."""
    return await _to(ctx, data, data.pop("to"))


async def cancel_workflow(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Cancel a workflow (from any step but `cancelled`)."""
    return await _to(ctx, data, CANCELLED)


async def delete_workflow(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a workflow of the viewer's and take it out of their list."""
    author(ctx, e.WORKFLOW, "change")
    found = await _own(ctx, data["id"])
    if isinstance(found, Outcome):
        return found
    return await deleted(ctx, e.WORKFLOW, found)


async def workflow_by_id(ctx: Context, args: IdArgs) -> m.Workflow | None:
    """`bookingWorkflow(id:)`: a workflow of the viewer's."""
    return await workflow(ctx, args.id)
