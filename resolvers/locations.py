"""Places (events, restaurants, rentals): the public catalog, saved places, place references."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers.access import viewer_only
from resolvers.common import IdArgs, Outcome, viewer_id, written
from resolvers.context import Context, shown, usable
from resolvers.nodes import Fetch
from resolvers.paging import Page, PageArgs, paginate
from resolvers.users import UserRef

KINDS: tuple[str, ...] = k.LOCATION_KINDS
PLACE = "place"  # what place pages read (any kind), for their totalCount
_KIND_OF_MODEL = {spec.model: kind for kind, spec in e.LOCATIONS.items()}


@dataclass(slots=True)
class CatalogArgs(PageArgs):
    """`locations(...)`: paging plus the catalog's filters."""

    kind: str | None = None
    city: str | None = None
    search: str | None = None


async def place(ctx: Context, kind: str, id_: str) -> m.Place | None:
    """The place of a known kind, or None."""
    spec = e.LOCATIONS.get(kind)
    if spec is None or not k.is_id(id_):
        return None
    return usable(ctx, await ctx.loaders.entity(spec, id_))


def fetch_kind(kind: str) -> Fetch:
    """Fetch places of one kind by id (for `node(nodeId:)`)."""

    async def fetch(ctx: Context, id_: str) -> m.Place | None:
        return await place(ctx, kind, id_)

    return fetch


def kind_of(p: m.Place) -> str:
    """The kind (`event`, `restaurant`, `rental`) of a place record."""
    return _KIND_OF_MODEL[type(p)]


async def find_places(ctx: Context, refs: Sequence[str]) -> list[m.Place | None]:
    """Resolve place references (`kind:id`, or a bare id tried as each kind) in one batch;
    a reference met several times (many items at one place) is resolved once."""
    unique = list(dict.fromkeys(refs))
    pairs = [e.place_refs(ref) for ref in unique]
    loaded = iter(await ctx.loaders.records([(e.LOCATIONS[kd], i) for ps in pairs for kd, i in ps]))
    hits: dict[str, m.Place | None] = {}
    for ref, candidates in zip(unique, pairs, strict=True):
        hit = None
        for kind, id_ in candidates:  # every candidate is read (an invalid one is reported)
            found = usable(ctx, next(loaded))
            if hit is None and found is not None:
                hit = shown(ctx, f"{kind}:{id_}", found) if found.dropped_fields else found
        hits[ref] = hit
    return [hits[ref] for ref in refs]


async def find_place(ctx: Context, ref: str) -> m.Place | None:
    """Resolve one place reference."""
    return (await find_places(ctx, [ref]))[0]


async def location_by_id(ctx: Context, args: IdArgs) -> m.Place | None:
    """`location(id:)`: a place of any kind (public catalog)."""
    return await find_place(ctx, args.id) if k.is_id(args.id) else None


def _matches(p: m.Place, city: str | None, search: str | None) -> bool:
    if city and (p.city or "").casefold() != city.casefold():
        return False
    if search:
        needle = search.casefold()
        text = " ".join([p.name, p.description or "", p.city or "", *(p.tags or [])])
        return needle in text.casefold()
    return True


async def catalog(ctx: Context, args: CatalogArgs) -> Page:
    """`locations(...)`: a page of the public catalog, one kind or all, by city and text."""
    kinds = [args.kind] if args.kind else list(KINDS)
    indexes = await asyncio.gather(*(ctx.loaders.index(k.LOCATION_INDEX[kd].key()) for kd in kinds))
    refs = [
        f"{kind}:{id_}" for kind, found in zip(kinds, indexes, strict=True) for id_ in found.ids
    ]
    if not (args.city or args.search):
        return await paginate(refs, args, lambda chunk: find_places(ctx, chunk), kind=PLACE)
    places = await find_places(ctx, refs)
    kept = {
        r: p for r, p in zip(refs, places, strict=True) if p and _matches(p, args.city, args.search)
    }

    async def load(chunk: Sequence[str]) -> list[Any]:
        return [kept[r] for r in chunk]

    return await paginate(list(kept), args, load, kind=PLACE)


@viewer_only(empty=Page.empty)
async def saved_places(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's saved places (`saved:{userId}`: bare ids or `kind:id`)."""
    refs = await asyncio.gather(*(ctx.loaders.index(k.SAVED.key(u.id)) for u in users))
    return list(
        await asyncio.gather(
            *(paginate(r, args, lambda chunk: find_places(ctx, chunk), kind=PLACE) for r in refs)
        )
    )


def _refers_to(ref: str, place_id: str) -> bool:
    """Whether a saved entry (`id` or `kind:id`) names this place."""
    return any(id_ == place_id for _, id_ in e.place_refs(ref))


async def save_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Add a place to the viewer's saved places (saving twice is fine)."""
    user = viewer_id(ctx)
    place_id, kind = data["placeId"], data.get("kind")
    found = await (place(ctx, kind, place_id) if kind else find_place(ctx, place_id))
    if found is None:
        return Outcome.fail("place not found", "placeId", "NOT_FOUND")
    key = k.SAVED.key(user)
    if any(_refers_to(ref, found.id) for ref in (await ctx.loaders.index(key)).ids):
        return Outcome(found)  # saved already, perhaps as `kind:id`
    return await written(ctx, ctx.repo.add_to_list(key, found.id), key, shown=found)


async def unsave_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Remove a place from the viewer's saved places."""
    user = viewer_id(ctx)
    key = k.SAVED.key(user)
    saved = (await ctx.loaders.index(key)).ids
    entry = next((r for r in saved if _refers_to(r, data["placeId"])), None)
    if entry is None:
        return Outcome.fail("place is not saved", "placeId", "NOT_FOUND")
    return await written(
        ctx, ctx.repo.remove_from_list(key, entry), key, shown=await find_place(ctx, entry)
    )
