"""`node(nodeId:)`: any object by its global id, with the same access rules as its root field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gql.kv import models as m
from resolvers import conversations, items, locations, suggestions, trips
from resolvers.context import Context
from resolvers.errors import bad_input
from resolvers.ids import parse_node_id
from resolvers.users import UserRef

# The GraphQL type name of each record class: `__typename`, `nodeId` and `node(nodeId:)`.
TYPE_NAMES: dict[type, str] = {
    UserRef: "User",
    m.Trip: "Trip",
    m.Item: "ItineraryItem",
    m.Event: "Event",
    m.Restaurant: "Restaurant",
    m.Rental: "Rental",
    m.Conversation: "Conversation",
    m.Message: "Message",
    m.AIContext: "AIContext",
    m.Suggestion: "Suggestion",
}

Fetch = Callable[[Context, str], Awaitable[Any]]
FETCH: dict[str, Fetch] = {
    "Trip": trips.trip,
    "ItineraryItem": items.item,
    "Conversation": conversations.conversation,
    "Message": conversations.message,
    "Suggestion": suggestions.suggestion,
}


async def _context(ctx: Context, conversation_id: str) -> Any:
    conv = await conversations.conversation(ctx, conversation_id)
    return await conversations.context(ctx, conv) if conv else None


async def node(ctx: Context, token: str) -> Any:
    """The object a `nodeId` names, or None when it is missing or not the viewer's."""
    type_name, id_ = parse_node_id(token)
    if type_name == "User":
        return UserRef(id_) if id_ == ctx.viewer_id else None
    if type_name in {"Event", "Restaurant", "Rental"}:
        return await locations.place(ctx, type_name.lower(), id_)
    if type_name == "AIContext":
        return await _context(ctx, id_)
    fetch = FETCH.get(type_name)
    if fetch is None:
        raise bad_input(f"unknown node type {type_name!r}")
    return await fetch(ctx, id_)
