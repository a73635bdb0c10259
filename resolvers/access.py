"""Who may read or write what. Anything a viewer may not see looks exactly like "not found"."""

from __future__ import annotations

import asyncio

from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.keys import is_id
from resolvers.common import usable
from resolvers.context import Context


async def trip_role(ctx: Context, trip_id: str) -> tuple[m.Trip | None, str | None]:
    """The trip and the viewer's role on it: owner, editor, viewer, or None (no access)."""
    if ctx.viewer_id is None or not is_id(trip_id):
        return None, None
    trip_l, collab_l = await asyncio.gather(
        ctx.loaders.entity(e.TRIP, trip_id),
        ctx.loaders.entity(e.COLLABORATOR, trip_id, ctx.viewer_id),
    )
    trip: m.Trip | None = usable(ctx, trip_l)
    if trip is None:
        return None, None
    if trip.user_id == ctx.viewer_id:
        return trip, "owner"
    collab: m.Collaborator | None = usable(ctx, collab_l)
    return (trip, collab.role) if collab is not None else (None, None)


async def readable_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it or collaborates on it."""
    return (await trip_role(ctx, trip_id))[0]


async def writable_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it or is an editor on it."""
    trip, role = await trip_role(ctx, trip_id)
    return trip if role in {"owner", "editor"} else None


async def owned_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it."""
    trip, role = await trip_role(ctx, trip_id)
    return trip if role == "owner" else None


async def readable_item(ctx: Context, item_id: str) -> m.Item | None:
    """The item if its trip is readable."""
    if not is_id(item_id):
        return None
    item: m.Item | None = usable(ctx, await ctx.loaders.entity(e.ITEM, item_id))
    if item is None or await readable_trip(ctx, item.trip_id) is None:
        return None
    return item


async def own_conversation(ctx: Context, conversation_id: str) -> m.Conversation | None:
    """The conversation if the viewer owns it."""
    if ctx.viewer_id is None or not is_id(conversation_id):
        return None
    conv: m.Conversation | None = usable(
        ctx, await ctx.loaders.entity(e.CONVERSATION, conversation_id)
    )
    return conv if conv is not None and conv.user_id == ctx.viewer_id else None


async def own_suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """The suggestion if it is the viewer's."""
    if ctx.viewer_id is None or not is_id(suggestion_id):
        return None
    sug: m.Suggestion | None = usable(ctx, await ctx.loaders.entity(e.SUGGESTION, suggestion_id))
    return sug if sug is not None and sug.user_id == ctx.viewer_id else None
