"""Proactive suggestions: the viewer's list (by status) and accepting or dismissing one."""

from __future__ import annotations

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers.access import own_suggestion
from resolvers.common import Outcome, PageArgs, page_of, records_of, viewer_id, written
from resolvers.context import Context
from resolvers.paging import Page, window


async def user_suggestions(ctx: Context, user_id: str, status: str | None, args: PageArgs) -> Page:
    """A page of a user's suggestions, optionally only those in one status.

    Filtering reads the full index rather than `suggestions:active:`, which apps may not keep
    exactly (kvgraph maintains it on every write for them).
    """
    ids = await ctx.loaders.index(k.SUGGESTIONS_INDEX.key(user_id))
    if status is None:
        return await page_of(ctx, e.SUGGESTION, ids, args)
    kept = [s for s in await records_of(ctx, e.SUGGESTION, ids) if s.status == status]
    refs = [s.id for s in kept]
    win = window(refs, args.first, args.after, args.last, args.before)
    return Page(win, refs, kept[win.start : win.end], list(range(win.start, win.end)))


async def suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """A suggestion of the viewer's."""
    return await own_suggestion(ctx, suggestion_id)


async def set_status(ctx: Context, suggestion_id: str, status: str) -> Outcome:
    """Accept or dismiss an active suggestion (the active index follows)."""
    user = viewer_id(ctx)
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
