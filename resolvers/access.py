"""Who may read or write what: one read rule per kind of record, on every path.

A record is shown by id (root fields, `node(nodeId:)`, relations) exactly when it would be
shown in a list: lists read their records through `readable` too, so an id planted in
someone's index shows them nothing they could not read by id. Trips are readable by their
owner and collaborators; items, budgets and a trip's other children through their trip;
conversations, suggestions and other per-user records by their owner; messages and context
through their conversation; places (the public catalog) by everyone. Anything a viewer may
not see looks exactly like "not found".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.entities import EntitySpec
from gql.kv.keys import is_id
from resolvers.context import Context, shown, usable

WRITERS = frozenset({"owner", "editor"})  # trip roles that may change a trip and its items
# Collaborator roles that may edit a trip: `editor`, and `owner` as apps write it for a
# co-owner (it grants editing, never the trip owner's own rights). Any other role, known to
# kvgraph or not, reads only.
EDITING_ROLES = frozenset({"editor", "owner"})

Rule = Callable[[Context, Sequence[str], Sequence[Any]], Awaitable[list[bool]]]
"""Whether the viewer may read each record (given with the ids it was read by)."""


async def _load(ctx: Context, spec: EntitySpec, ids: Sequence[str]) -> list[Any]:
    return [usable(ctx, loaded) for loaded in await ctx.loaders.entities(spec, ids)]


async def trip_roles(ctx: Context, trips: Sequence[m.Trip]) -> list[str | None]:
    """The viewer's role on each trip: owner, editor, viewer, or None (no access).

    Collaborator entries are read (in one batch) only for trips the viewer does not own; an
    entry's role makes its holder an editor when it is one of EDITING_ROLES, else a viewer.
    """
    viewer, known = ctx.viewer_id, ctx.trip_roles  # known: roles met earlier this request
    if viewer is None:
        return [None] * len(trips)
    shared = [t for t in trips if t.user_id != viewer and t.id not in known]
    if shared:
        entries = await asyncio.gather(
            *(ctx.loaders.entity(e.COLLABORATOR, t.id, viewer) for t in shared)
        )
        for t, c in zip(shared, entries, strict=True):
            known[t.id] = _trip_role_of(usable(ctx, c))
    for t in trips:
        if t.user_id == viewer:
            known[t.id] = "owner"
    return [known[t.id] for t in trips]


def _trip_role_of(collaborator: m.Collaborator | None) -> str | None:
    if collaborator is None:
        return None
    return "editor" if collaborator.role in EDITING_ROLES else "viewer"


async def _trips(ctx: Context, ids: Sequence[str], trips: Sequence[Any]) -> list[bool]:
    return [role is not None for role in await trip_roles(ctx, trips)]


async def readable_trip_ids(ctx: Context, trip_ids: Sequence[str | None]) -> list[bool]:
    """Whether the viewer may read the trip of each id (each distinct trip read once)."""
    roles = ctx.trip_roles
    wanted = list(dict.fromkeys(i for i in trip_ids if i and i not in roles and is_id(i)))
    if wanted:
        found = await readable(ctx, e.TRIP, wanted, await _load(ctx, e.TRIP, wanted))
        for i, trip in zip(wanted, found, strict=True):
            if trip is None:
                roles[i] = None  # missing, invalid or not the viewer's
    return [i is not None and roles.get(i) is not None for i in trip_ids]


async def _child_of_trip(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await readable_trip_ids(ctx, [r.trip_id for r in records])


async def _keyed_by_trip(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await readable_trip_ids(ctx, list(ids))  # `budget:{tripId}`: the key names the trip


async def _owner(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [ctx.viewer_id is not None and r.user_id == ctx.viewer_id for r in records]


async def owned_conversation_ids(ctx: Context, ids: Sequence[str | None]) -> list[bool]:
    """Whether the viewer owns the conversation of each id."""
    wanted = list(dict.fromkeys(i for i in ids if i and is_id(i)))
    found = await readable(ctx, e.CONVERSATION, wanted, await _load(ctx, e.CONVERSATION, wanted))
    ok = {i for i, conv in zip(wanted, found, strict=True) if conv is not None}
    return [i in ok for i in ids]


async def _in_conversation(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await owned_conversation_ids(ctx, [r.conversation_id for r in records])


async def _keyed_by_conversation(
    ctx: Context, ids: Sequence[str], records: Sequence[Any]
) -> list[bool]:
    return await owned_conversation_ids(ctx, list(ids))  # `context:{conversationId}`


async def _keyed_by_viewer(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [is_viewer(ctx, i) for i in ids]  # `preferences:{userId}`: the key names the user


async def _public(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [True] * len(records)


RULES: dict[str, Rule] = {
    e.TRIP.name: _trips,
    e.ITEM.name: _child_of_trip,
    e.CONFLICT.name: _child_of_trip,
    e.BUDGET.name: _keyed_by_trip,
    e.CONVERSATION.name: _owner,
    e.MESSAGE.name: _in_conversation,
    e.CONTEXT.name: _keyed_by_conversation,
    e.SUGGESTION.name: _owner,
    e.AI_RUN.name: _owner,
    e.WORKFLOW.name: _owner,
    e.COLLECTION.name: _owner,
    e.EVENT.name: _public,
    e.RESTAURANT.name: _public,
    e.RENTAL.name: _public,
    # A profile's public fields (display name, avatar) show on a trip's owner; which fields
    # of a user other than the viewer may show is decided field by field (`viewer_only`).
    e.PROFILE.name: _public,
    e.PREFERENCES.name: _keyed_by_viewer,
}


async def readable(
    ctx: Context, spec: EntitySpec, ids: Sequence[str], records: Sequence[Any]
) -> list[Any]:
    """`records` (read by `ids`) with None where the viewer may not read them."""
    present = [(i, r) for i, r in zip(ids, records, strict=True) if r is not None]
    if not present:
        return list(records)
    allowed = iter(await RULES[spec.name](ctx, [i for i, _ in present], [r for _, r in present]))
    out: list[Any] = []
    for i, r in zip(ids, records, strict=True):
        if r is None or not next(allowed):
            out.append(None)
            continue
        if r.dropped_fields:
            shown(ctx, spec.pattern.literal_prefix + i, r)
        out.append(r)
    return out


def records(ctx: Context, spec: EntitySpec) -> Callable[[Sequence[str]], Awaitable[list[Any]]]:
    """Read the records of `spec` the viewer may read, by id (None for any other)."""

    async def load(ids: Sequence[str]) -> list[Any]:
        return await readable(ctx, spec, ids, await _load(ctx, spec, ids))

    return load


async def record(ctx: Context, spec: EntitySpec, id_: str) -> Any:
    """One record of `spec` the viewer may read, or None."""
    return (await records(ctx, spec)([id_]))[0] if is_id(id_) else None


async def trip_role(ctx: Context, trip_id: str) -> tuple[m.Trip | None, str | None]:
    """The trip and the viewer's role on it, or (None, None) when it is not readable."""
    trip: m.Trip | None = await record(ctx, e.TRIP, trip_id)
    if trip is None:
        return None, None
    return trip, (await trip_roles(ctx, [trip]))[0]


async def readable_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it or collaborates on it."""
    return await record(ctx, e.TRIP, trip_id)


async def writable_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it or is an editor on it."""
    trip, role = await trip_role(ctx, trip_id)
    return trip if role in WRITERS else None


async def owned_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it."""
    trip, role = await trip_role(ctx, trip_id)
    return trip if role == "owner" else None


async def readable_item(ctx: Context, item_id: str) -> m.Item | None:
    """The item if its trip is readable."""
    return await record(ctx, e.ITEM, item_id)


async def own_conversation(ctx: Context, conversation_id: str) -> m.Conversation | None:
    """The conversation if the viewer owns it."""
    return await record(ctx, e.CONVERSATION, conversation_id)


async def own_suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """The suggestion if it is the viewer's."""
    return await record(ctx, e.SUGGESTION, suggestion_id)


def is_viewer(ctx: Context, user_id: str) -> bool:
    """Whether `user_id` is the signed-in viewer."""
    return ctx.viewer_id is not None and user_id == ctx.viewer_id


def viewer_only(
    empty: Callable[[], Any],
) -> Callable[[Callable[..., Awaitable[list[Any]]]], Callable[..., Awaitable[list[Any]]]]:
    """A batch function over users that shows its value for the viewer only.

    A `User` other than the viewer (a trip's owner, seen by a collaborator) shows public
    profile fields only: for the fields marked with this, anyone else gets `empty()`.
    """

    def wrap(fn: Callable[..., Awaitable[list[Any]]]) -> Callable[..., Awaitable[list[Any]]]:
        async def batch(ctx: Context, users: Sequence[Any], *args: Any) -> list[Any]:
            mine = [u for u in users if is_viewer(ctx, u.id)]
            values = iter(await fn(ctx, mine, *args) if mine else ())
            return [next(values) if is_viewer(ctx, u.id) else empty() for u in users]

        batch.__name__ = fn.__name__
        batch.__doc__ = fn.__doc__
        return batch

    return wrap
