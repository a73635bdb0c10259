"""Collaborators (`collaborator:{tripId}:{userId}`): who a trip is shared with, and the
owner's mutations that invite, re-role and remove them.

Only the trip's owner manages its collaborators: anyone else who may read the trip (an editor
or viewer collaborator) is refused with FORBIDDEN, anyone else sees NOT_FOUND, and nothing is
written. A user lists the trips shared with them in their own `trips:index:{userId}` (the
seed's index, which `User.trips` reads): the entry and that index entry are written and
removed in one transaction by the repository (the collaborator spec's shared index link), so
a removed collaborator neither lists nor reads the trip any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import IdTaken, now
from resolvers.access import OWNER, readable, records, trip_for
from resolvers.common import Outcome, author, deleted, denied, written
from resolvers.context import Context
from resolvers.errors import NOT_FOUND
from resolvers.users import UserRef

ROLES = m.COLLABORATOR_ROLES  # the roles a mutation may give: viewer, editor
ACTION = "manage its collaborators (only its owner may)"


def collaborator_id(c: m.Collaborator) -> str:
    """A collaborator's own id (for `nodeId`): `{tripId}:{userId}`, its key's parameters."""
    return f"{c.trip_id}:{c.user_id}"


async def collaborator(ctx: Context, id_: str) -> m.Collaborator | None:
    """A collaborator entry by `{tripId}:{userId}`, if the viewer may read its trip."""
    trip_id, sep, user_id = id_.partition(":")
    if not sep or not (k.is_id(trip_id) and k.is_id(user_id)):
        return None
    found = await ctx.loaders.entity(e.COLLABORATOR, trip_id, user_id)
    return (await readable(ctx, e.COLLABORATOR, [user_id], [found]))[0]


async def collaborator_users(ctx: Context, entries: Sequence[m.Collaborator]) -> list[UserRef]:
    """Each entry's user (public profile fields only, unless it is the viewer)."""
    return [UserRef(c.user_id) for c in entries]


async def collaborator_trips(ctx: Context, entries: Sequence[m.Collaborator]) -> list[Any]:
    """Each entry's trip, in one batch (an entry shows only to those who read its trip)."""
    return await records(ctx, e.TRIP)([c.trip_id for c in entries])


def _role(data: dict[str, Any]) -> str | Outcome:
    """The role an input gives (default viewer), or the userError refusing it."""
    role = data.get("role") or "viewer"
    if role not in ROLES:
        return Outcome.fail(f"role must be one of {', '.join(ROLES)}", "role")
    return str(role)


async def _owned_trip(ctx: Context, data: dict[str, Any]) -> m.Trip | Outcome:
    """The input's trip if the viewer owns it, else the userError refusing it."""
    trip, why = await trip_for(ctx, data["tripId"], OWNER)
    return trip if trip is not None else denied(why, "trip", "tripId", ACTION)


def _user_id(data: dict[str, Any], trip: m.Trip) -> str | Outcome:
    """The input's user id, unless it cannot be one or names the trip's owner."""
    user_id = str(data["userId"])
    if (problem := k.id_problem(user_id)) is not None:
        return Outcome.fail(f"userId: {problem}", "userId")
    if user_id == trip.user_id:
        return Outcome.fail("the trip's owner is not one of its collaborators", "userId")
    return user_id


async def _entry(ctx: Context, trip: m.Trip, user_id: str) -> m.Collaborator | Outcome:
    """The trip's entry for `user_id`, or the userError saying there is none."""
    entry = await ctx.loaders.entity(e.COLLABORATOR, trip.id, user_id)
    if isinstance(entry, m.Collaborator):
        return entry
    if isinstance(entry, m.InvalidRecord):
        message = f"its entry cannot be read ({entry.message}): fix it by hand"
        return Outcome.fail(message, "userId", "INVALID_RECORD")
    return Outcome.fail("collaborator not found", "userId", NOT_FOUND)


async def _target(ctx: Context, data: dict[str, Any]) -> tuple[m.Trip, str] | Outcome:
    """The owned trip and the user an input names, or the userError refusing them."""
    trip = await _owned_trip(ctx, data)
    if isinstance(trip, Outcome):
        return trip
    user_id = _user_id(data, trip)
    return user_id if isinstance(user_id, Outcome) else (trip, user_id)


async def invite_collaborator(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Share the viewer's trip with a user (viewer or editor): the entry and the trip in the
    user's `trips:index:` in one transaction; inviting someone twice is a userError."""
    author(ctx, e.COLLABORATOR)
    target = await _target(ctx, data)
    if isinstance(target, Outcome):
        return target
    (trip, user_id), role = target, _role(data)
    if isinstance(role, Outcome):
        return role
    entry = {"tripId": trip.id, "userId": user_id, "role": role, "invitedAt": now()}
    return await written(ctx, _create_once(ctx, entry))


async def _create_once(ctx: Context, entry: dict[str, Any]) -> m.Record:
    """Create the entry unless one exists, in the create's transaction (of concurrent invites
    of one user, one wins): an existing one, even one kvgraph cannot read, is IdTaken."""
    try:
        return await ctx.repo.create(e.COLLABORATOR, entry, new_only=True)
    except IdTaken:
        message = "already a collaborator (change their role with updateCollaborator)"
        raise IdTaken(message, "userId") from None


async def update_collaborator(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a collaborator's role on the viewer's trip."""
    author(ctx, e.COLLABORATOR, "change")
    target = await _target(ctx, data)
    if isinstance(target, Outcome):
        return target
    (trip, user_id), role = target, _role(data)
    if isinstance(role, Outcome):
        return role
    entry = await _entry(ctx, trip, user_id)
    if isinstance(entry, Outcome):
        return entry
    return await written(ctx, ctx.repo.update(e.COLLABORATOR, [trip.id, user_id], {"role": role}))


async def remove_collaborator(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Stop sharing the viewer's trip with a user: the entry is deleted and the trip leaves
    the user's `trips:index:` in one transaction."""
    author(ctx, e.COLLABORATOR, "change")
    target = await _target(ctx, data)
    if isinstance(target, Outcome):
        return target
    trip, user_id = target
    entry = await _entry(ctx, trip, user_id)
    if isinstance(entry, Outcome):
        return entry
    return await deleted(ctx, e.COLLABORATOR, entry, shown=entry)
