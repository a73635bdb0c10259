"""Itinerary items: a trip's items in itinerary order, their cost, and the item mutations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import InvalidData
from resolvers import trips
from resolvers import validate as v
from resolvers.access import WRITERS, readable_item, trip_for
from resolvers.common import Outcome, Problem, author, denied, pages_of_index, written
from resolvers.context import Context
from resolvers.errors import NOT_FOUND
from resolvers.locations import find_place, find_places, kind_of, place
from resolvers.paging import Page, PageArgs

TEXT = {"title": (v.TITLE_MAX, True), "notes": (v.NOTES_MAX, False)}


@dataclass(slots=True)
class Money:
    amount: float
    currency: str | None


@dataclass(slots=True)
class Coordinates:
    latitude: float
    longitude: float


async def trip_items(ctx: Context, trips_: Sequence[m.Trip], args: PageArgs) -> list[Page]:
    """A page of each trip's items in itinerary order (`items:index:{tripId}`)."""
    return await pages_of_index(ctx, trips_, k.ITEMS_INDEX, lambda t: t.id, e.ITEM, args)


async def item(ctx: Context, item_id: str) -> m.Item | None:
    """An item whose trip the viewer may read."""
    return await readable_item(ctx, item_id)


async def item_trips(ctx: Context, items: Sequence[m.Item]) -> list[m.Trip | None]:
    """Each item's trip."""
    return await trips.trips_by_id(ctx, [i.trip_id for i in items])


async def item_locations(ctx: Context, items: Sequence[m.Item]) -> list[m.Place | None]:
    """Each item's place (`{locationType}:{locationId}`), all in one batch."""
    return await find_places(ctx, location_refs(items))


async def item_coordinates(ctx: Context, items: Sequence[m.Item]) -> list[Coordinates | None]:
    """Each item's own coordinates (an app's embedded `location: {lat, lng}`), if it has them."""
    return [Coordinates(*i.coordinates) if i.coordinates else None for i in items]


def location_refs(items: Sequence[m.Item]) -> list[str]:
    """The place reference of each itinerary item (`kind:id`, a bare id, or "" for none).

    A `locationType` kvgraph does not know (an app's `hotel`) is ignored: the id is then
    looked up as every kind, like a bare id.
    """
    known = e.LOCATIONS
    return [
        (f"{kind}:{at}" if (kind := i.location_type) in known else at)
        if (at := i.location_id)
        else ""
        for i in items
    ]


async def item_costs(ctx: Context, items: Sequence[m.Item]) -> list[Money | None]:
    """Each item's cost, in its own currency or else its trip's (read only when needed)."""
    needs_trip = [i for i in items if i.cost is not None and not i.currency]
    of_trip = await trips.trips_by_id(ctx, [i.trip_id for i in needs_trip])
    currency = {
        i.trip_id: t.currency if t else None for i, t in zip(needs_trip, of_trip, strict=True)
    }
    return [
        None if i.cost is None else Money(i.cost, i.currency or currency.get(i.trip_id))
        for i in items
    ]


def _times(data: dict[str, Any]) -> None:
    for name in ("startTime", "endTime"):
        if isinstance(data.get(name), dt.datetime):
            data[name] = v.iso_datetime(data[name])


def _check(data: dict[str, Any], *, creating: bool) -> list[Problem]:
    problems = v.text_fields(data, TEXT, partial=not creating)
    problems += v.currency(data) + v.amount(data, "cost")
    problems += v.ordered(data.get("startTime"), data.get("endTime"), "startTime", "endTime")
    _times(data)
    return problems


async def _check_location(ctx: Context, data: dict[str, Any]) -> list[Problem]:
    """Resolve `locationId` (with or without `locationType`) to a place that exists."""
    if data.get("locationId") is None:
        if data.get("locationType") is not None:
            return [Problem("locationId", "locationType needs a locationId")]
        if "locationId" in data:  # unlinking: drop the kind too
            data["locationType"] = None
        return []
    kind = data.get("locationType")
    found = await (
        place(ctx, kind, data["locationId"]) if kind else find_place(ctx, data["locationId"])
    )
    if found is None:
        return [Problem("locationId", "no such place", "NOT_FOUND")]
    data["locationType"], data["locationId"] = kind_of(found), found.id
    return []


def _time_order(record: m.Record) -> None:
    it: m.Item = record  # type: ignore[assignment]
    if it.start_time and it.end_time and m.earlier(it.end_time, it.start_time):
        raise InvalidData("endTime must not be before startTime", "endTime")


async def add_item(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Add an item to a trip the viewer may edit, at `position` (default: the end)."""
    author(ctx, e.ITEM)
    trip_id, position = data.pop("tripId"), data.pop("position", None)
    trip, why = await trip_for(ctx, trip_id, WRITERS)
    if trip is None:
        return denied(why, "trip", "tripId", "change its itinerary")
    problems = _check(data, creating=True) + v.position(position)
    problems += await _check_location(ctx, data)
    if problems:
        return Outcome(None, problems)
    return await written(
        ctx, ctx.repo.create(e.ITEM, {**data, "tripId": trip_id}, position=position)
    )


async def _editable(ctx: Context, item_id: str) -> m.Item | Outcome:
    """The item if the viewer may edit its trip, else the userError refusing it."""
    it = await readable_item(ctx, item_id)
    if it is None:
        return denied(NOT_FOUND, "item", "id", "")
    trip, why = await trip_for(ctx, it.trip_id, WRITERS)
    return it if trip is not None else denied(why, "item", "id", "change it")


async def update_item(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change an item's fields; fields the input leaves out stay as they are."""
    author(ctx, e.ITEM, "change")
    item_id = data.pop("id")
    it = await _editable(ctx, item_id)
    if isinstance(it, Outcome):
        return it
    problems = _check(data, creating=False)
    if "locationId" in data or "locationType" in data:
        problems += await _check_location(ctx, data)
    if problems:
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.ITEM, [item_id], data, check=_time_order))


async def remove_item(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete an item and take it out of its trip's itinerary."""
    author(ctx, e.ITEM, "change")
    item_id = data["id"]
    it = await _editable(ctx, item_id)
    if isinstance(it, Outcome):
        return it
    return await written(ctx, ctx.repo.delete(e.ITEM, item_id))


async def move_item(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Move an item to `position` in its trip's itinerary (0 = first; past the end = last)."""
    author(ctx, e.ITEM, "change")
    item_id, position = data["id"], data["position"]
    if problems := v.position(position):
        return Outcome(None, problems)
    it = await _editable(ctx, item_id)
    if isinstance(it, Outcome):
        return it
    index_key = k.ITEMS_INDEX.key(it.trip_id)
    return await written(ctx, ctx.repo.move(index_key, item_id, position), shown=it)
