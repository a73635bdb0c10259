"""Proactive suggestions: a user's list (by status), their trip, accepting or dismissing one.

The status as it stands: an `active` suggestion whose `expiresAt` has passed is expired. It
shows as `EXPIRED` (`statusRaw` keeps the stored value), is not listed as active, and cannot
be accepted or dismissed; reads never write, so the stored record keeps `active` until
kvgraph's next write to that user's suggestions (accepting, dismissing, creating one), which
stores `expired` and takes it out of `suggestions:active:{userId}` in the same transaction
(`Repository._expire`); `repair` takes it out of the index too. Accepting and dismissing
check the status again inside the write's transaction, so of two concurrent decisions one
wins and the other is NOT_ACTIVE. Accepting a suggestion whose `action` adds a place adds it
to the trip as an itinerary item in the same transaction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import RepoError, new_id
from resolvers import trips
from resolvers import validate as v
from resolvers.access import WRITERS, own_suggestion, records, trip_for, viewer_only
from resolvers.common import Keep, Outcome, author, denied, has_status, pages_of_index, written
from resolvers.context import Context
from resolvers.locations import find_place, kind_of, place
from resolvers.paging import Page, PageArgs
from resolvers.users import UserRef


@dataclass(slots=True)
class SuggestionArgs(PageArgs):
    """`suggestions(...)`: paging plus an optional status filter."""

    status: str | None = None


@viewer_only(empty=Page.empty)
async def user_suggestions(
    ctx: Context, users: Sequence[UserRef], args: SuggestionArgs
) -> list[Page]:
    """A page of each user's suggestions, optionally only those in one status.

    Filtering reads the full index rather than `suggestions:active:`, which apps may not keep
    exactly (kvgraph maintains it on every write for them).
    """
    keep = None if args.status is None else _in_status(args.status)
    return await pages_of_index(
        ctx, users, k.SUGGESTIONS_INDEX, lambda u: u.id, e.SUGGESTION, args, keep=keep
    )


def _in_status(status: str) -> Keep:
    """Whether a suggestion is in `status` as it stands now (an active one past its
    `expiresAt` is expired)."""
    return lambda found: has_status(found.current_status(), status, m.SUGGESTION_STATUSES)


async def statuses(ctx: Context, suggestions: Sequence[m.Suggestion]) -> list[str]:
    """Each suggestion's status as it stands (`OTHER` for a value kvgraph does not know)."""
    found = (s.current_status() for s in suggestions)
    return [c if c in m.SUGGESTION_STATUSES else m.OTHER for c in found]


async def raw_statuses(ctx: Context, suggestions: Sequence[m.Suggestion]) -> list[str]:
    """Each suggestion's status exactly as stored (before any mapping reads it)."""
    return [s.stored_values.get("status", s.status) for s in suggestions]


async def suggestion_items(
    ctx: Context, suggestions: Sequence[m.Suggestion]
) -> list[m.Item | None]:
    """The itinerary item accepting each suggestion added, if the viewer may read it."""
    wanted = [s.item_id for s in suggestions]
    found = iter(await records(ctx, e.ITEM)([i for i in wanted if i and k.is_id(i)]))
    return [next(found) if i and k.is_id(i) else None for i in wanted]


async def suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """A suggestion of the viewer's."""
    return await own_suggestion(ctx, suggestion_id)


async def suggestion_trips(
    ctx: Context, suggestions: Sequence[m.Suggestion]
) -> list[m.Trip | None]:
    """Each suggestion's trip, if it names one the viewer may read."""
    return await trips.trips_by_id(ctx, [s.trip_id for s in suggestions])


class NotActive(RepoError):
    """The suggestion is no longer active (decided, or expired) when the write runs."""

    code = "NOT_ACTIVE"


def _still_active(record: m.Record) -> None:
    """Refuse (inside the write's transaction) a suggestion that is no longer active."""
    found: m.Suggestion = record  # type: ignore[assignment]
    current = found.current_status()
    if current != "active":
        raise NotActive(f"suggestion is {current}, not active", "id")


async def _decidable(ctx: Context, suggestion_id: str) -> m.Suggestion | Outcome:
    """The viewer's suggestion if it is still active, else the userError refusing it."""
    author(ctx, e.SUGGESTION, "change")
    found = await own_suggestion(ctx, suggestion_id)
    if found is None:
        return Outcome.fail("suggestion not found", "id", "NOT_FOUND")
    current = found.current_status()
    if current != "active":
        return Outcome.fail(f"suggestion is {current}, not active", "id", "NOT_ACTIVE")
    return found


async def dismiss_suggestion(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Dismiss an active suggestion (the active index follows)."""
    found = await _decidable(ctx, data["id"])
    if isinstance(found, Outcome):
        return found
    dismissed = {"status": "dismissed"}
    return await written(
        ctx, ctx.repo.update(e.SUGGESTION, [found.id], dismissed, expect=_still_active)
    )


async def accept_suggestion(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Accept an active suggestion; one whose `action` adds a place adds that place to its
    trip as an itinerary item in the same transaction (both or neither)."""
    found = await _decidable(ctx, data["id"])
    if isinstance(found, Outcome):
        return found
    patch: dict[str, Any] = {"status": "accepted"}
    create: list[tuple[Any, dict[str, Any], int | None]] = []
    if _adds_place(found.action):
        planned = await _planned_item(ctx, found)
        if isinstance(planned, Outcome):
            return planned
        patch["itemId"] = planned["id"]
        create.append((e.ITEM, planned, None))
    update = ctx.repo.update(e.SUGGESTION, [found.id], patch, expect=_still_active, create=create)
    return await written(ctx, update)


ADD_PLACE = "addPlace"  # the `action.type` of a suggestion that proposes a place for a trip
# The item kind a place of each catalog kind becomes (a kind not named here: no kind).
ITEM_KIND_OF_PLACE = {"event": "activity", "restaurant": "meal", "rental": "stay"}
ACTION_TEXT = {"title": v.TITLE_MAX, "notes": v.NOTES_MAX}


def _adds_place(action: Any) -> bool:
    """Whether a suggestion's `action` proposes adding a place (`{"type": "addPlace", ...}`)."""
    return isinstance(action, dict) and action.get("type") == ADD_PLACE


async def _planned_item(ctx: Context, found: m.Suggestion) -> dict[str, Any] | Outcome:
    """The itinerary item accepting an `addPlace` suggestion adds, or why it cannot.

    The action names the place (`placeType` and `placeId`, or a `kind:id` / bare id in
    `placeId`) and may give the item's `title` (default: the place's name), `kind` (default:
    from the place's kind), `notes`, `cost` and `currency`; the trip is the suggestion's
    `tripId` (or the action's). The viewer must be allowed to edit that trip.
    """
    action: dict[str, Any] = found.action
    trip_id = found.trip_id or action.get("tripId")
    place_id, place_type = action.get("placeId"), action.get("placeType")
    if not isinstance(trip_id, str) or not k.is_id(trip_id):
        return Outcome.fail(
            "the suggestion names no trip to add the place to", "id", "INVALID_RECORD"
        )
    trip, why = await trip_for(ctx, trip_id, WRITERS)
    if trip is None:
        return denied(why, "trip", "id", "change its itinerary")
    if not isinstance(place_id, str) or not k.is_id(place_id):
        return Outcome.fail("the suggestion names no place", "id", "INVALID_RECORD")
    if isinstance(place_type, str) and place_type in e.LOCATIONS:
        spot = await place(ctx, place_type, place_id)
    else:
        spot = await find_place(ctx, place_id)
    if spot is None:
        return Outcome.fail("the suggested place no longer exists", "id", "NOT_FOUND")
    kind = kind_of(spot)
    item: dict[str, Any] = {
        "id": new_id(),
        "tripId": trip.id,
        "title": spot.name,
        "locationType": kind,
        "locationId": spot.id,
    }
    if kind in ITEM_KIND_OF_PLACE:
        item["kind"] = ITEM_KIND_OF_PLACE[kind]
    return item | _action_fields(action)


def _action_fields(action: dict[str, Any]) -> dict[str, Any]:
    """The item fields an `addPlace` action gives that are acceptable (others are ignored)."""
    out: dict[str, Any] = {}
    for name, limit in ACTION_TEXT.items():
        text = action.get(name)
        if isinstance(text, str) and text.strip() and len(text.strip()) <= limit:
            out[name] = text.strip()
    if action.get("kind") in m.ITEM_KINDS:
        out["kind"] = action["kind"]
    cost = action.get("cost")
    if _amount(cost):
        out["cost"] = cost
    currency = action.get("currency")
    if isinstance(currency, str) and v.CURRENCY.match(currency):
        out["currency"] = currency
    return out


def _amount(value: Any) -> bool:
    """Whether `value` is a usable cost: a finite number, not negative."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value) and value >= 0
