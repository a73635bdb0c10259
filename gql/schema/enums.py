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


@strawberry.enum
class BudgetAlertType(Enum):
    THRESHOLD = "threshold"
    OTHER = OTHER_VALUE


# The model's value set (a Literal) -> the GraphQL enum that shows it.
ENUMS: dict[Any, type[Enum]] = {
    m.ItemKind: ItemKind,
    m.LocationType: LocationKind,
    m.Role: MessageRole,
    m.SuggestionStatus: SuggestionStatus,
    m.CollaboratorRole: CollaboratorRole,
    m.BudgetAlertType: BudgetAlertType,
}
