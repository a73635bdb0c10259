"""Level-at-a-time resolvers: each takes every parent object of one query level at once.

The level executor (`gql/executor.py`) calls these with all the parents a field has in the
whole response, so a list level costs one call (and one key batch) instead of one coroutine
per row. Each is the batched form of a per-object resolver elsewhere in `resolvers/`; `args`
are the field's coerced GraphQL arguments (camelCase names).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from typing import Any

from gql.kv import models as m
from gql.kv.keys import is_id
from resolvers import conversations, items, locations, nodes, suggestions, trips, users
from resolvers.common import PageArgs
from resolvers.context import Context
from resolvers.ids import node_id as make_node_id
from resolvers.nodes import TYPE_NAMES
from resolvers.users import UserRef

Batch = Callable[[Context, Sequence[Any], dict[str, Any]], Awaitable[list[Any]]]
PerRoot = Callable[[Context, Any, dict[str, Any]], Awaitable[Any]]


def page_args(args: dict[str, Any]) -> PageArgs:
    """Relay arguments from a field's argument dict."""
    return PageArgs(args.get("first"), args.get("after"), args.get("last"), args.get("before"))


def plain(value: Any) -> Any:
    """An enum argument as its value; anything else unchanged."""
    return value.value if isinstance(value, Enum) else value


def each(fn: PerRoot) -> Batch:
    """A batch that runs a per-object resolver for every parent concurrently."""

    async def batch(ctx: Context, roots: Sequence[Any], args: dict[str, Any]) -> list[Any]:
        if len(roots) == 1:
            return [await fn(ctx, roots[0], args)]
        return list(await asyncio.gather(*(fn(ctx, root, args) for root in roots)))

    return batch


async def by_unique(
    roots: Sequence[Any], key: Callable[[Any], str | None], fetch: Callable[[str], Awaitable[Any]]
) -> list[Any]:
    """Fetch once per distinct key of the roots and hand each root its result."""
    wanted = {k for k in map(key, roots) if k}
    found = dict(zip(wanted, await asyncio.gather(*(fetch(k) for k in wanted)), strict=True))
    return [found.get(key(root)) for root in roots]  # type: ignore[arg-type]  # None: no key


# ---------------------------------------------------------------- any node
async def node_ids(ctx: Context, roots: Sequence[Any], args: dict[str, Any]) -> list[str]:
    """`nodeId` of every root."""
    return [
        make_node_id(
            TYPE_NAMES[type(r)], str(r.conversation_id if isinstance(r, m.AIContext) else r.id)
        )
        for r in roots
    ]


async def record_data(ctx: Context, roots: Sequence[Any], args: dict[str, Any]) -> list[Any]:
    """The whole stored record of every root."""
    return [r.to_json() for r in roots]


# ---------------------------------------------------------------- items
async def item_locations(ctx: Context, roots: Sequence[m.Item], args: dict[str, Any]) -> list[Any]:
    """Each item's place, all in one batch."""
    return list(await locations.find_places(ctx, [locations.location_ref(r) for r in roots]))


async def item_trips(ctx: Context, roots: Sequence[m.Item], args: dict[str, Any]) -> list[Any]:
    """Each item's trip (fetched once per distinct trip)."""
    return await by_unique(roots, lambda r: r.trip_id, lambda t: trips.trip(ctx, t))


async def item_costs(ctx: Context, roots: Sequence[m.Item], args: dict[str, Any]) -> list[Any]:
    """Each item's cost, in its own currency or else its trip's."""
    needs_trip = [r for r in roots if r.cost is not None and not r.currency]
    trip_of = await by_unique(needs_trip, lambda r: r.trip_id, lambda t: trips.trip(ctx, t))
    currency = {
        r.trip_id: t.currency if t else None for r, t in zip(needs_trip, trip_of, strict=True)
    }
    return [
        None if r.cost is None else items.Money(r.cost, r.currency or currency.get(r.trip_id))
        for r in roots
    ]


trip_items = each(lambda ctx, trip, args: items.trip_items(ctx, trip, page_args(args)))
trip_owner = each(lambda ctx, trip, args: _value(UserRef(trip.user_id)))

# ---------------------------------------------------------------- conversations, suggestions
conversation_messages = each(
    lambda ctx, conv, args: conversations.messages(ctx, conv, page_args(args))
)
conversation_context = each(lambda ctx, conv, args: conversations.context(ctx, conv))
suggestion_trip = each(
    lambda ctx, sug, args: trips.trip(ctx, sug.trip_id) if sug.trip_id else _value(None)
)


# ---------------------------------------------------------------- the viewer
async def _profile_field(ctx: Context, user: UserRef, name: str) -> Any:
    found = await users.profile(ctx, user)
    return getattr(found, name) if found else None


user_email = each(lambda ctx, u, args: _profile_field(ctx, u, "email"))
user_display_name = each(lambda ctx, u, args: _profile_field(ctx, u, "display_name"))
user_avatar_url = each(lambda ctx, u, args: _profile_field(ctx, u, "avatar_url"))
user_preferences = each(lambda ctx, u, args: users.preferences(ctx, u))
user_trips = each(lambda ctx, u, args: trips.user_trips(ctx, u.id, page_args(args)))
user_conversations = each(
    lambda ctx, u, args: conversations.user_conversations(ctx, u.id, page_args(args))
)
user_suggestions = each(
    lambda ctx, u, args: suggestions.user_suggestions(
        ctx, u.id, plain(args.get("status")), page_args(args)
    )
)
user_saved_places = each(lambda ctx, u, args: locations.saved_places(ctx, u.id, page_args(args)))


async def _value(value: Any) -> Any:
    return value


# ---------------------------------------------------------------- the Query root
async def viewer(ctx: Context, roots: Sequence[Any], args: dict[str, Any]) -> list[Any]:
    """The signed-in user (the root has one parent: the root value)."""
    return [users.viewer(ctx) for _ in roots]


query_node = each(lambda ctx, _, args: nodes.node(ctx, args["nodeId"]))
query_trip = each(lambda ctx, _, args: trips.trip(ctx, args["id"]))
query_conversation = each(lambda ctx, _, args: conversations.conversation(ctx, args["id"]))
query_location = each(
    lambda ctx, _, args: (
        locations.find_place(ctx, args["id"]) if is_id(args["id"]) else _value(None)
    )
)
query_locations = each(
    lambda ctx, _, args: locations.catalog(
        ctx, plain(args.get("kind")), args.get("city"), args.get("search"), page_args(args)
    )
)
