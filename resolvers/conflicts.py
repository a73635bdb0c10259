"""Conflicts of a trip's itinerary: detecting and recording them, listing and resolving them.

`detectConflicts(tripId)` reads the trip's items and their places and finds four kinds of
conflict (`models.ConflictType`): two items whose times overlap (`overlap`; a stay, kind
`stay`, overlaps only another stay), an item outside
the trip's dates (`outside_trip`), an item at a place whose opening hours exclude it
(`place_closed`) and one at an event it misses (`outside_event`). How times compare, which
time zone a local time is in and which opening-hours forms are read is `schedule.py`'s; a
place whose hours are in another form, or unknown for the day, is reported in `unchecked`,
never guessed. Items without a start time are not checked.

What is found is recorded in one transaction (`Repository.create_missing`) that never records
a conflict twice: a finding is new unless a conflict of the trip has the same type and items
and is open (or in a status kvgraph does not know), or was resolved while the items' times
were what they are now (its `fingerprint`). A conflict resolved ("we know, it is fine")
therefore stays resolved until the items it names change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import RepoError, now
from resolvers import items as items_
from resolvers import schedule as s
from resolvers import trips
from resolvers import validate as v
from resolvers.access import WRITERS, record, records, trip_for
from resolvers.common import Outcome, author, deleted, denied, has_status, pages_of_index, written
from resolvers.context import Context
from resolvers.errors import NOT_FOUND
from resolvers.paging import Page, PageArgs

OPEN, RESOLVED = "open", "resolved"
STAY = "stay"  # an item kind that overlaps only its own kind
# Two times compare as instants or by wall clock (`schedule`); either way, an item whose
# wall-clock start is more than this after another's end cannot overlap it (offsets differ
# by at most 26 hours), so overlaps are found in a sweep, not by trying every pair.
SLACK = dt.timedelta(hours=27)


@dataclass(slots=True)
class ConflictArgs(PageArgs):
    """`conflicts(...)`: paging plus a status (default open; null: every conflict)."""

    status: str | None = OPEN


@dataclass(slots=True)
class Unchecked:
    """An item detection could not check, and why."""

    item: m.Item
    reason: str


@dataclass(slots=True)
class Detection:
    """What `detectConflicts` found: every conflict (recorded now or before), those recorded
    now, and the items it could not check."""

    trip: m.Trip
    conflicts: list[m.Conflict] = field(default_factory=list)
    recorded: list[m.Conflict] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)


class NotOpen(RepoError):
    code = "NOT_OPEN"


# ---------------------------------------------------------------- reads
async def conflict(ctx: Context, conflict_id: str) -> m.Conflict | None:
    """A conflict of a trip the viewer may read."""
    return await record(ctx, e.CONFLICT, conflict_id)


async def trip_conflicts(ctx: Context, trips_: Sequence[m.Trip], args: ConflictArgs) -> list[Page]:
    """A page of each trip's conflicts in the status asked (`conflicts:index:{tripId}`),
    oldest first; `OTHER` is any status kvgraph does not know."""
    status = args.status  # None: every conflict (still read whole, paged by what is kept)
    return await pages_of_index(
        ctx,
        trips_,
        k.CONFLICTS_INDEX,
        lambda t: t.id,
        e.CONFLICT,
        args,
        keep=lambda c: has_status(c.status, status, m.CONFLICT_STATUSES),
    )


async def conflict_trips(ctx: Context, conflicts: Sequence[m.Conflict]) -> list[m.Trip | None]:
    """Each conflict's trip."""
    return await trips.trips_by_id(ctx, [c.trip_id for c in conflicts])


async def conflict_items(ctx: Context, conflicts: Sequence[m.Conflict]) -> list[list[m.Item]]:
    """The items each conflict names that still exist (all conflicts' items in one batch)."""
    ids = list(dict.fromkeys(i for c in conflicts for i in c.item_ids or () if k.is_id(i)))
    found = dict(zip(ids, await records(ctx, e.ITEM)(ids), strict=True))
    return [
        [found[i] for i in dict.fromkeys(c.item_ids or ()) if found.get(i) is not None]
        for c in conflicts
    ]


# ---------------------------------------------------------------- detection
@dataclass(frozen=True, slots=True)
class _Planned:
    """An item with what detection needs: its times, its place, the zone its times are in."""

    item: m.Item
    when: s.When
    place: m.Place | None
    zone: Any


def _finding(kind: str, planned: Sequence[_Planned], trip: m.Trip, text: str) -> dict[str, Any]:
    """A conflict to record (camelCase), with the fingerprint of the items' times."""
    ids = sorted(p.item.id for p in planned)
    times = [
        f"{p.item.id}={p.item.start_time.isoformat() if p.item.start_time else ''}/"
        f"{p.item.end_time.isoformat() if p.item.end_time else ''}"
        for p in sorted(planned, key=lambda p: p.item.id)
    ]
    digest = hashlib.sha256("|".join([kind, *times]).encode()).hexdigest()[:16]
    return {
        "tripId": trip.id,
        "type": kind,
        "itemIds": ids,
        "description": text,
        "status": OPEN,
        "detectedAt": now(),
        "fingerprint": digest,
    }


def same(old: m.Record, new: m.Record) -> bool:
    """Whether a recorded conflict stands for a finding (see the module's docstring)."""
    a: m.Conflict = old  # type: ignore[assignment]
    b: m.Conflict = new  # type: ignore[assignment]
    if a.trip_id != b.trip_id or a.type != b.type:
        return False  # (a conflict of another trip planted in this one's list is not its own)
    if set(a.item_ids or ()) != set(b.item_ids or ()):
        return False
    return a.status != RESOLVED or a.fingerprint in (None, b.fingerprint)


def _overlaps(trip: m.Trip, planned: Sequence[_Planned]) -> list[dict[str, Any]]:
    """Every pair of items whose times overlap; a stay overlaps only another stay (one is at
    a rental while dining out, but not at two rentals)."""
    out = []
    order = sorted(planned, key=lambda p: _reading(p.when.start))
    for n, a in enumerate(order):
        horizon = _reading(a.when.last) + SLACK  # no later item can overlap `a` past it
        for b in order[n + 1 :]:
            if _reading(b.when.start) >= horizon:
                break
            if (a.item.kind == STAY) != (b.item.kind == STAY):
                continue
            if s.overlap(a.when, b.when):
                text = f"{a.item.title!r} and {b.item.title!r} overlap"
                out.append(_finding("overlap", [a, b], trip, text))
    return out


def _reading(at: dt.datetime) -> dt.datetime:
    """A time's wall-clock reading in its own offset (the order the sweep goes in)."""
    return at.replace(tzinfo=None)


def _outside_trip(trip: m.Trip, planned: Sequence[_Planned]) -> list[dict[str, Any]]:
    """Items before the trip's first day or after its last."""
    if trip.start_date is None and trip.end_date is None:
        return []
    span = f"{trip.start_date or '…'} to {trip.end_date or '…'}"
    return [
        _finding("outside_trip", [p], trip, f"{p.item.title!r} is outside the trip ({span})")
        for p in planned
        if s.outside_dates(p.when, p.zone, trip.start_date, trip.end_date)
    ]


def _at_places(
    trip: m.Trip, planned: Sequence[_Planned]
) -> tuple[list[dict[str, Any]], list[Unchecked]]:
    """Items at a place closed at their time, or at an event they miss; and the items whose
    place's hours kvgraph cannot read or does not know for that day."""
    found, unchecked = [], []
    for p in planned:
        place = p.place
        if place is None:
            continue
        starts, ends = getattr(place, "starts_at", None), getattr(place, "ends_at", None)
        if starts is not None:
            z = s.first_zone(place, trip)
            window = s.placed(starts, z), s.placed(ends, z) if ends is not None else None
            if s.outside_event(p.when, *window):
                text = f"{p.item.title!r} is not during {place.name!r}"
                found.append(_finding("outside_event", [p], trip, text))
        try:
            hours = s.read_hours(getattr(place, "opening_hours", None))
        except s.UnknownHours as exc:
            unchecked.append(Unchecked(p.item, f"{place.name!r} has {exc}, a form not read"))
            continue
        if hours is None:
            continue
        start, end = s.wall(p.when.start, p.zone), p.when.end and s.wall(p.when.end, p.zone)
        closed = hours.closed_for(start, end)
        if closed is None:
            unchecked.append(Unchecked(p.item, f"{place.name!r} has no hours for that day"))
        elif closed:
            text = f"{place.name!r} is closed for {p.item.title!r}"
            found.append(_finding("place_closed", [p], trip, text))
    return found, unchecked


def find(
    trip: m.Trip, items: Sequence[m.Item], places: Sequence[m.Place | None]
) -> tuple[list[dict[str, Any]], list[Unchecked]]:
    """The conflicts among a trip's items (their places given in the same order), and the
    items whose places could not be checked."""
    planned = []
    for it, place in zip(items, places, strict=True):
        if it.start_time is None:
            continue  # an item without a time conflicts with nothing
        zone = s.first_zone(it, place, trip)
        end = s.placed(it.end_time, zone) if it.end_time is not None else None
        when = s.When(s.placed(it.start_time, zone), end)
        planned.append(_Planned(it, when, place, zone))
    at_places, unchecked = _at_places(trip, planned)
    return _overlaps(trip, planned) + _outside_trip(trip, planned) + at_places, unchecked


async def _trip_items(ctx: Context, trip: m.Trip) -> list[m.Item]:
    """The trip's readable items, each once, in itinerary order (an item of another trip
    listed in its index is not one of its items)."""
    listing = await ctx.loaders.index(k.ITEMS_INDEX.key(trip.id))
    ids = list(dict.fromkeys(listing.ids))
    found = await records(ctx, e.ITEM, listed=True)(ids)
    return [it for it in found if it is not None and it.trip_id == trip.id]


async def detect_conflicts(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Find the conflicts of a trip the viewer may edit and record the new ones."""
    author(ctx, e.CONFLICT)
    trip, why = await trip_for(ctx, data["tripId"], WRITERS)
    if trip is None:
        return denied(why, "trip", "tripId", "record its conflicts")
    found_items = await _trip_items(ctx, trip)
    places = await items_.item_locations(ctx, found_items)
    findings, unchecked = find(trip, found_items, places)
    index_key = k.CONFLICTS_INDEX.key(trip.id)
    try:
        created, matched = await ctx.repo.create_missing(e.CONFLICT, index_key, findings, same)
    except RepoError as exc:
        return Outcome.from_error(exc)
    every: list[m.Conflict] = [*matched, *created]  # type: ignore[list-item]
    return Outcome(Detection(trip, every, created, unchecked))  # type: ignore[arg-type]


# ---------------------------------------------------------------- resolving and deleting
async def _editable(ctx: Context, conflict_id: str, action: str) -> m.Conflict | Outcome:
    """The conflict if the viewer may edit its trip, else the userError refusing it."""
    found = await conflict(ctx, conflict_id)
    if found is None:
        return denied(NOT_FOUND, "conflict", "id", "")
    trip, why = await trip_for(ctx, found.trip_id, WRITERS)
    return found if trip is not None else denied(why, "conflict", "id", action)


async def resolve_conflict(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Mark an open conflict resolved, with who resolved it, when and how (`resolution`)."""
    user = author(ctx, e.CONFLICT, "change")
    problems = v.text_fields(data, {"resolution": (v.NOTES_MAX, False)})
    if problems:
        return Outcome(None, problems)
    found = await _editable(ctx, data["id"], "resolve its conflicts")
    if isinstance(found, Outcome):
        return found

    def patch(before: m.Record) -> dict[str, Any]:
        current: m.Conflict = before  # type: ignore[assignment]
        if current.status == RESOLVED:
            raise NotOpen("conflict is resolved already", "id")
        given = {"resolution": data["resolution"]} if data.get("resolution") else {}
        return {"status": RESOLVED, "resolvedAt": now(), "resolvedBy": user, **given}

    return await written(ctx, ctx.repo.change(e.CONFLICT, [found.id], patch))


async def delete_conflict(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a conflict and take it out of its trip's list."""
    author(ctx, e.CONFLICT, "change")
    found = await _editable(ctx, data["id"], "delete its conflicts")
    if isinstance(found, Outcome):
        return found
    return await deleted(ctx, e.CONFLICT, found)
