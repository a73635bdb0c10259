"""Proactive suggestions: a user's list (by status), their trip, accepting or dismissing one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers import trips
from resolvers.access import own_suggestion, records, viewer_only
from resolvers.common import Outcome, author, page_of, written
from resolvers.context import Context
from resolvers.loaders import Listing
from resolvers.paging import Page, PageArgs, paginate
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
    indexes = await asyncio.gather(
        *(ctx.loaders.index(k.SUGGESTIONS_INDEX.key(u.id)) for u in users)
    )
    return list(await asyncio.gather(*(_page(ctx, ids, args) for ids in indexes)))


async def _page(ctx: Context, listing: Listing, args: SuggestionArgs) -> Page:
    if args.status is None:
        return await page_of(ctx, e.SUGGESTION, listing, args)
    listed = await records(ctx, e.SUGGESTION, listed=True)(listing.ids)
    kept = {s.id: s for s in listed if s and _has(s, args.status)}

    async def load(chunk: Sequence[str]) -> list[Any]:
        return [kept[i] for i in chunk]

    return await paginate(list(kept), args, load, kind=e.SUGGESTION.name)


def _has(found: m.Suggestion, status: str) -> bool:
    """Whether a suggestion is in `status`; `OTHER` is any status kvgraph does not know."""
    if status == m.OTHER:
        return found.status not in m.SUGGESTION_STATUSES
    return found.status == status


async def suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """A suggestion of the viewer's."""
    return await own_suggestion(ctx, suggestion_id)


async def suggestion_trips(
    ctx: Context, suggestions: Sequence[m.Suggestion]
) -> list[m.Trip | None]:
    """Each suggestion's trip, if it names one the viewer may read."""
    return await trips.trips_by_id(ctx, [s.trip_id for s in suggestions])


async def _set_status(ctx: Context, suggestion_id: str, status: str) -> Outcome:
    """Accept or dismiss an active suggestion (the active index follows)."""
    user = author(ctx, e.SUGGESTION, "change")
    found = await own_suggestion(ctx, suggestion_id)
    if found is None:
        return Outcome.fail("suggestion not found", "id", "NOT_FOUND")
    if found.status != "active":
        return Outcome.fail(f"suggestion is {found.status}, not active", "id", "NOT_ACTIVE")
    return await written(
        ctx,
        ctx.repo.update(e.SUGGESTION, [suggestion_id], {"status": status}),
        e.SUGGESTION.pattern.key(suggestion_id),
        k.SUGGESTIONS_ACTIVE.key(user),
    )


async def accept_suggestion(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Accept an active suggestion."""
    return await _set_status(ctx, data["id"], "accepted")


async def dismiss_suggestion(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Dismiss an active suggestion."""
    return await _set_status(ctx, data["id"], "dismissed")
