"""The GraphQL enums, and which record-model value set each one shows."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry

from gql.kv import models as m
from gql.kv.catalog import CATALOG

if TYPE_CHECKING:
    LocationKind = Enum
else:  # the catalog's kinds (`gql/kv/catalog.py`): `RENTAL = "rental"`, ...
    LocationKind = strawberry.enum(
        Enum("LocationKind", {kind.name.upper(): kind.name for kind in CATALOG}),
        description="The kinds of place in the catalog.",
    )


OTHER_VALUE = strawberry.enum_value(
    m.OTHER, description="A stored value kvgraph does not know: read it from the `...Raw` field."
)


@strawberry.enum
class ItemKind(Enum):
    ACTIVITY = "activity"
    MEAL = "meal"
    STAY = "stay"
    TRANSPORT = "transport"
    OTHER = OTHER_VALUE


@strawberry.enum
class MessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"
    OTHER = OTHER_VALUE


@strawberry.enum
class SuggestionStatus(Enum):
    ACTIVE = "active"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    EXPIRED = "expired"
    OTHER = OTHER_VALUE


@strawberry.enum
class CollaboratorRole(Enum):
    VIEWER = "viewer"
    EDITOR = "editor"
    OTHER = OTHER_VALUE


@strawberry.enum(description="What kind of conflict `detectConflicts` found.")
class ConflictType(Enum):
    OVERLAP = strawberry.enum_value("overlap", description="Two items' times overlap.")
    OUTSIDE_TRIP = strawberry.enum_value(
        "outside_trip", description="An item is outside the trip's dates."
    )
    PLACE_CLOSED = strawberry.enum_value(
        "place_closed", description="An item's place is closed then (its opening hours)."
    )
    OUTSIDE_EVENT = strawberry.enum_value(
        "outside_event", description="An item at an event is not during the event."
    )
    OTHER = OTHER_VALUE


@strawberry.enum
class ConflictStatus(Enum):
    OPEN = "open"
    RESOLVED = "resolved"
    OTHER = OTHER_VALUE


@strawberry.enum(description="A booking workflow's step.")
class WorkflowStep(Enum):
    DRAFT = "draft"
    SEARCHING = "searching"
    SELECTED = "selected"
    BOOKING = "booking"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OTHER = OTHER_VALUE


@strawberry.enum(description="Where a booking workflow stands, from its step.")
class WorkflowStatus(Enum):
    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OTHER = OTHER_VALUE


@strawberry.enum
class BudgetAlertType(Enum):
    THRESHOLD = "threshold"
    OTHER = OTHER_VALUE


@strawberry.enum(description="Where a background job stands.")
class JobStatus(Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    OTHER = OTHER_VALUE


@strawberry.enum(description="How an agent run ended (`ai_run:{id}` status).")
class AIRunStatus(Enum):
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    OTHER = OTHER_VALUE


@strawberry.enum(description="How much a job's log entry matters.")
class LogLevel(Enum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    OTHER = OTHER_VALUE


# The model's value set (a Literal) -> the GraphQL enum that shows it.
ENUMS: dict[Any, type[Enum]] = {
    m.ItemKind: ItemKind,
    m.LocationType: LocationKind,
    m.Role: MessageRole,
    m.SuggestionStatus: SuggestionStatus,
    m.CollaboratorRole: CollaboratorRole,
    m.ConflictType: ConflictType,
    m.ConflictStatus: ConflictStatus,
    m.WorkflowStep: WorkflowStep,
    m.WorkflowStatus: WorkflowStatus,
    m.BudgetAlertType: BudgetAlertType,
    m.JobStatus: JobStatus,
    m.LogLevel: LogLevel,
    m.AIRunStatus: AIRunStatus,
}
