"""Booking workflows: the type with its allowed next steps and history, and the mutations
that create, move, cancel and delete one."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import Node, by_id, lazy, node, relation, root_mutations, root_query
from gql.schema.derive import UNSET, from_model, id_input, mutation
from gql.schema.enums import WorkflowStep
from resolvers import workflows


@strawberry.type(
    description="One move of a booking workflow, kept in its history: the step entered and "
    "the one left (null for the first), when and by whom."
)
@from_model(m.WorkflowTransition)
class WorkflowTransition:
    pass


@strawberry.type(
    description="A multi-step booking (`workflow:{id}`, listed in `workflows:index:{userId}`): "
    "draft, searching, selected, booking, then confirmed or failed; cancelled from any step. "
    "It moves only along allowed transitions (`allowedSteps`)."
)
@node(m.Workflow, workflows.workflow)
@from_model(m.Workflow, hide=("user_id", "trip_id", "history"))
class BookingWorkflow(Node):
    trip: Any = relation(
        workflows.workflow_trips, graphql_type=lazy("Trip", "gql.schema.trips") | None
    )
    allowed_steps: list[WorkflowStep] = relation(
        workflows.allowed_steps,
        description="The steps it may move to now (from a step kvgraph does not know: only "
        "CANCELLED).",
    )
    history: list[WorkflowTransition] = relation(
        workflows.workflow_history, description="Its moves, oldest first."
    )


@strawberry.input
class CreateBookingWorkflowInput:
    id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Optional client-chosen id: repeating the call is harmless."
    )
    title: str | None = UNSET
    trip_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="A trip of the viewer's (or shared with them) it books for."
    )
    data: JSON | None = strawberry.field(
        default=UNSET, description="The app's own data (search terms, the offer chosen, ...)."
    )


_NOTE = (
    str | None,
    strawberry.field(default=UNSET, description="Why, in words (kept in history)."),
)
_DATA = (
    JSON | None,
    strawberry.field(default=UNSET, description="Replaces the workflow's `data` when given."),
)
AdvanceBookingWorkflowInput = id_input(
    "AdvanceBookingWorkflowInput",
    to=(WorkflowStep, strawberry.field(description="The step to move to.")),
    note=_NOTE,
    data=_DATA,
)
CancelBookingWorkflowInput = id_input("CancelBookingWorkflowInput", note=_NOTE)
DeleteBookingWorkflowInput = id_input("DeleteBookingWorkflowInput")


@root_query
@strawberry.type
class WorkflowQuery:
    booking_workflow: BookingWorkflow | None = by_id(
        workflows.workflow_by_id, description="A booking workflow of the viewer's."
    )


@root_mutations
@strawberry.type
class WorkflowMutations:
    create_booking_workflow = mutation(
        workflows.create_workflow,
        CreateBookingWorkflowInput,
        "workflow",
        BookingWorkflow,
        "Start a booking workflow for the viewer, at DRAFT.",
    )
    advance_booking_workflow = mutation(
        workflows.advance_workflow,
        AdvanceBookingWorkflowInput,
        "workflow",
        BookingWorkflow,
        "Move a workflow to another step along an allowed transition; any other is a "
        "userError (INVALID_TRANSITION) and changes nothing.",
    )
    cancel_booking_workflow = mutation(
        workflows.cancel_workflow,
        CancelBookingWorkflowInput,
        "workflow",
        BookingWorkflow,
        "Cancel a workflow (from any step but CANCELLED).",
    )
    delete_booking_workflow = mutation(
        workflows.delete_workflow,
        DeleteBookingWorkflowInput,
        "workflow",
        BookingWorkflow,
        "Delete a workflow.",
        node_description="The workflow as it was before deletion.",
    )
