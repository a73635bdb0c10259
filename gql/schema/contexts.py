"""Setting a conversation's AI context (the service role), its earlier one kept in the history."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql.schema.base import root_mutations
from gql.schema.conversations import AIContext
from gql.schema.derive import UNSET, mutation
from resolvers import contexts


@strawberry.input
class SetContextInput:
    conversation_id: strawberry.ID
    entities: JSON | None = strawberry.field(default=UNSET, description="Replaces the stored.")
    preferences: JSON | None = strawberry.field(default=UNSET, description="Replaces the stored.")
    session: JSON | None = strawberry.field(default=UNSET, description="Replaces the stored.")


@strawberry.input
class ClearContextInput:
    conversation_id: strawberry.ID


@root_mutations
@strawberry.type
class ContextMutations:
    set_context = mutation(
        contexts.set_context,
        SetContextInput,
        "context",
        AIContext,
        "Set a conversation's current AI context (the fields given replace those stored); the "
        "context it replaces becomes the newest snapshot of `Conversation.contextHistory` "
        "(the service role only).",
    )
    clear_context = mutation(
        contexts.clear_context,
        ClearContextInput,
        "context",
        AIContext,
        "Delete a conversation's current AI context, keeping it as the newest snapshot of "
        "`Conversation.contextHistory` (the service role only).",
    )
