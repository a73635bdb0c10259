"""Places (events, restaurants, rentals): the public catalog, item locations, saved places."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers.common import Outcome, PageArgs, usable, viewer_id, written
from resolvers.context import Context
from resolvers.paging import Page, window

KINDS: tuple[str, ...] = k.LOCATION_KINDS


async def place(ctx: Context, kind: str, id_: str) -> m.Place | None:
    """The place of a known kind, or None."""
    spec = e.LOCATIONS.get(kind)
    if spec is None or not k.is_id(id_):
        return None
    return usable(ctx, await ctx.loaders.entity(spec, id_))


async def find_places(ctx: Context, refs: Sequence[str]) -> list[m.Place | None]:
    """Resolve place references (`kind:id`, or a bare id tried as each kind) in one batch."""
    pairs = [e.place_refs(ref) for ref in refs]
    loaded = iter(await ctx.loaders.records([(e.LOCATIONS[kd], i) for ps in pairs for kd, i in ps]))
    out = []
    for candidates in pairs:
        found = [usable(ctx, next(loaded)) for _ in candidates]
        out.append(next((p for p in found if p is not None), None))
    return out


async def find_place(ctx: Context, ref: str) -> m.Place | None:
    """Resolve one place reference."""
    return (await find_places(ctx, [ref]))[0]


def location_ref(item: m.Item) -> str:
    """The place reference of an itinerary item (`kind:id`, a bare id, or "" for none)."""
    if not item.location_id:
        return ""
    return f"{item.location_type}:{item.location_id}" if item.location_type else item.location_id


def _matches(p: m.Place, city: str | None, search: str | None) -> bool:
    if city and (p.city or "").casefold() != city.casefold():
        return False
    if search:
        needle = search.casefold()
        text = " ".join([p.name, p.description or "", p.city or "", *(p.tags or [])])
        return needle in text.casefold()
    return True


async def _catalog_refs(ctx: Context, kinds: Sequence[str]) -> list[str]:
    indexes = await asyncio.gather(*(ctx.loaders.index(k.LOCATION_INDEX[kd].key()) for kd in kinds))
    return [f"{kind}:{id_}" for kind, ids in zip(kinds, indexes, strict=True) for id_ in ids]


async def catalog(
    ctx: Context, kind: str | None, city: str | None, search: str | None, args: PageArgs
) -> Page:
    """A page of the public catalog, optionally one kind, filtered by city and text."""
    refs = await _catalog_refs(ctx, [kind] if kind else list(KINDS))
    if city or search:
        places = await find_places(ctx, refs)
        kept = [
            (r, p) for r, p in zip(refs, places, strict=True) if p and _matches(p, city, search)
        ]
        refs, loaded = [r for r, _ in kept], [p for _, p in kept]
        win = window(refs, args.first, args.after, args.last, args.before)
        chosen = list(range(win.start, win.end))
        return Page(win, refs, [loaded[i] for i in chosen], chosen)
    win = window(refs, args.first, args.after, args.last, args.before)
    page_places = await find_places(ctx, refs[win.start : win.end])
    pairs = [(i, p) for i, p in enumerate(page_places, start=win.start) if p is not None]
    return Page(win, refs, [p for _, p in pairs], [i for i, _ in pairs])


async def saved_places(ctx: Context, user_id: str, args: PageArgs) -> Page:
    """A page of the places a user saved (entries are `kind:id` or bare ids)."""
    refs = await ctx.loaders.index(k.SAVED.key(user_id))
    win = window(refs, args.first, args.after, args.last, args.before)
    places = await find_places(ctx, refs[win.start : win.end])
    pairs = [(i, p) for i, p in enumerate(places, start=win.start) if p is not None]
    return Page(win, refs, [p for _, p in pairs], [i for i, _ in pairs])


def _refers_to(ref: str, place_id: str) -> bool:
    """Whether a saved entry (`id` or `kind:id`) names this place."""
    return any(id_ == place_id for _, id_ in e.place_refs(ref))


def kind_of(p: Any) -> str:
    """The kind (`event`, `restaurant`, `rental`) of a place record."""
    return type(p).__name__.lower()


async def save_place(ctx: Context, place_id: str, kind: str | None) -> Outcome:
    """Add a place to the viewer's saved places (saving twice is fine)."""
    user = viewer_id(ctx)
    found = await (place(ctx, kind, place_id) if kind else find_place(ctx, place_id))
    if found is None:
        return Outcome.fail("place not found", "placeId", "NOT_FOUND")
    key = k.SAVED.key(user)
    if any(_refers_to(ref, found.id) for ref in await ctx.loaders.index(key)):
        return Outcome(found)  # saved already, perhaps as `kind:id`
    return await written(ctx, ctx.repo.add_to_list(key, found.id), key, shown=found)


async def unsave_place(ctx: Context, place_id: str) -> Outcome:
    """Remove a place from the viewer's saved places."""
    user = viewer_id(ctx)
    key = k.SAVED.key(user)
    saved = await ctx.loaders.index(key)
    entry = next((r for r in saved if _refers_to(r, place_id)), None)
    if entry is None:
        return Outcome.fail("place is not saved", "placeId", "NOT_FOUND")
    await ctx.repo.remove_from_list(key, entry)
    ctx.loaders.forget(key)
    return Outcome(await find_place(ctx, entry))
