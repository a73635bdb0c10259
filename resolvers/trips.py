"""Trips: a user's list, one trip, its owner, and the trip mutations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import InvalidData
from resolvers import validate as v
from resolvers.access import OWNER, WRITERS, readable_trip, records, trip_for, viewer_only
from resolvers.common import (
    IdArgs,
    Outcome,
    Problem,
    author,
    denied,
    pages_of_index,
    pages_of_prefix,
    written,
)
from resolvers.context import Context
from resolvers.paging import Page, PageArgs
from resolvers.users import UserRef

TEXT = {"title": (v.TITLE_MAX, True), "destination": (v.TITLE_MAX, False), "status": (40, False)}


@viewer_only(empty=Page.empty)
async def user_trips(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's trips, in index order (`trips:index:{userId}`)."""
    return await pages_of_index(
        ctx, users, k.TRIPS_INDEX, lambda u: u.id, e.TRIP, args, children=k.ITEMS_INDEX
    )


async def trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """A trip the viewer may read."""
    return await readable_trip(ctx, trip_id)


async def trip_by_id(ctx: Context, args: IdArgs) -> m.Trip | None:
    """`trip(id:)`: a trip the viewer owns or collaborates on."""
    return await readable_trip(ctx, args.id)


async def trips_by_id(ctx: Context, ids: Sequence[str | None]) -> list[m.Trip | None]:
    """The readable trip of each id (None for no id)."""
    found = iter(await records(ctx, e.TRIP)([i for i in ids if i is not None]))
    return [next(found) if i is not None else None for i in ids]


async def trip_collaborators(ctx: Context, trips: Sequence[m.Trip], args: PageArgs) -> list[Page]:
    """A page of each trip's collaborators (`collaborator:{tripId}:{userId}`, by user id)."""
    return await pages_of_prefix(ctx, trips, e.COLLABORATOR, lambda t: (t.id,), args)


async def trip_owners(ctx: Context, trips: Sequence[m.Trip]) -> list[UserRef]:
    """Each trip's owner."""
    return [UserRef(t.user_id) for t in trips]


def _dates(data: dict[str, Any]) -> None:
    for name in ("startDate", "endDate"):
        if isinstance(data.get(name), dt.date):
            data[name] = data[name].isoformat()


def _check(data: dict[str, Any], *, creating: bool) -> list[Problem]:
    problems = v.text_fields(data, TEXT, partial=not creating) + v.currency(data)
    problems += v.time_zone(data)
    problems += v.ordered(data.get("startDate"), data.get("endDate"), "startDate", "endDate")
    _dates(data)
    return problems


def _order_check(record: m.Record) -> None:
    trip_r: m.Trip = record  # type: ignore[assignment]
    if trip_r.start_date and trip_r.end_date and trip_r.end_date < trip_r.start_date:
        raise InvalidData("endDate must not be before startDate", "endDate")


async def create_trip(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Create a trip for the viewer (idempotent when the input carries an id)."""
    user = author(ctx, e.TRIP)
    if problems := _check(data, creating=True):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.create(e.TRIP, {**data, "userId": user}))


async def update_trip(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change a trip's fields; fields the input leaves out stay as they are."""
    author(ctx, e.TRIP, "change")
    trip_id = data.pop("id")
    found, why = await trip_for(ctx, trip_id, WRITERS)
    if found is None:
        return denied(why, "trip", "id", "change it")
    if problems := _check(data, creating=False):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.TRIP, [trip_id], data, check=_order_check))


async def delete_trip(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a trip with its items, conflicts, budget and collaborators."""
    author(ctx, e.TRIP, "change")
    trip_id = data["id"]
    found, why = await trip_for(ctx, trip_id, OWNER)
    if found is None:
        return denied(why, "trip", "id", "delete it (only its owner may)")
    return await written(ctx, ctx.repo.delete(e.TRIP, trip_id))
