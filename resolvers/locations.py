"""Places (events, restaurants, rentals): the public catalog, saved places, place references."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers.access import readable, viewer_only
from resolvers.common import IdArgs, Outcome, author, written
from resolvers.context import Context, shown, usable
from resolvers.eager import gather_eagerly
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
    indexes = await gather_eagerly(ctx.loaders.index(k.LOCATION_INDEX[kd].key()) for kd in kinds)
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


async def saved_refs(ctx: Context, users: Sequence[UserRef]) -> list[list[str]]:
    """Each user's saved place references under both of the seed's patterns, read together
    (one round trip for the indexes, one for the prefixes): `saved:{userId}` in its order
    (bare ids or `kind:id`), then the `saved:{userId}:{placeId}` keys in key order, each
    place once (a place named by both is listed where the index has it)."""
    indexes = asyncio.gather(*(ctx.loaders.index(k.SAVED.key(u.id)) for u in users))
    prefixes = [k.SAVED_PLACE.prefix(u.id) for u in users]
    listings = asyncio.gather(*(ctx.loaders.listed(p) for p in prefixes))
    found, listed = await asyncio.gather(indexes, listings)
    entries = await gather_eagerly(
        _saved_entries(ctx, prefix, listing.ids)
        for prefix, listing in zip(prefixes, listed, strict=True)
    )
    out = []
    for index, own in zip(found, entries, strict=True):
        refs = list(index.ids)
        named = {id_ for ref in refs for _, id_ in e.place_refs(ref)}
        refs += [ref for ref, place_id in own if place_id not in named]
        out.append(refs)
    return out


async def _saved_entries(
    ctx: Context, prefix: str, place_ids: Sequence[str]
) -> list[tuple[str, str]]:
    """The readable `saved:{userId}:{placeId}` entries under `prefix` (read with their
    listing: no round trip) as (place reference, place id): `kind:id` when the entry names
    a catalog kind, else the bare id."""
    if not place_ids:
        return []
    loaded = await ctx.loaders.load_keys(e.SAVED_PLACE, [prefix + i for i in place_ids])
    entries = await readable(ctx, e.SAVED_PLACE, list(place_ids), loaded, listed=True)
    out = []
    for entry in entries:
        if isinstance(entry, m.SavedPlace):
            kind = entry.location_type
            ref = f"{kind}:{entry.place_id}" if kind in e.LOCATIONS else entry.place_id
            out.append((ref, entry.place_id))
    return out


@viewer_only(empty=Page.empty)
async def saved_places(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's saved places, from both patterns (`saved_refs`)."""
    refs = await saved_refs(ctx, users)
    return list(
        await gather_eagerly(
            paginate(r, args, lambda chunk: find_places(ctx, chunk), kind=PLACE) for r in refs
        )
    )


def refers_to(ref: str, place_id: str) -> bool:
    """Whether a stored place reference (`id` or `kind:id`) names this place."""
    return any(id_ == place_id for _, id_ in e.place_refs(ref))


async def uses_saved_keys(ctx: Context, user: str) -> bool:
    """Whether a user's saved places are written as `saved:{userId}:{placeId}` keys: when
    they have no `saved:{userId}` index but such keys (the pattern the table already uses
    for them); the index otherwise, and by default."""
    has_index, listing = await asyncio.gather(
        ctx.loaders.has(k.SAVED.key(user)), ctx.loaders.listed(k.SAVED_PLACE.prefix(user))
    )
    return not has_index and len(listing) > 0


async def save_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Add a place to the viewer's saved places, in the pattern the table uses for them
    (`uses_saved_keys`); saving a saved place again changes nothing."""
    user = author(ctx, e.SAVED_PLACE)
    place_id, kind = data["placeId"], data.get("kind")
    found = await (place(ctx, kind, place_id) if kind else find_place(ctx, place_id))
    if found is None:
        return Outcome.fail("place not found", "placeId", "NOT_FOUND")
    (saved,) = await saved_refs(ctx, [UserRef(user)])
    if any(refers_to(ref, found.id) for ref in saved):
        return Outcome(found)  # saved already, perhaps as `kind:id` or under its own key
    if await uses_saved_keys(ctx, user):
        entry = {"userId": user, "placeId": found.id, "locationType": kind_of(found)}
        write = ctx.repo.create(e.SAVED_PLACE, entry)
        return await written(ctx, write, shown=found)
    key = k.SAVED.key(user)
    return await written(ctx, ctx.repo.add_to_list(key, found.id), shown=found)


async def unsave_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Remove a place from the viewer's saved places, under whichever pattern (or both)
    names it, in one transaction."""
    user = author(ctx, e.SAVED_PLACE, "change")
    place_id, key = data["placeId"], k.SAVED.key(user)
    prefix = k.SAVED_PLACE.prefix(user)
    index, listing = await asyncio.gather(ctx.loaders.index(key), ctx.loaders.listed(prefix))
    entry = next((r for r in index.ids if refers_to(r, place_id)), None)
    own = [prefix + place_id] if listing.position(place_id) is not None else []
    if entry is None and not own:
        return Outcome.fail("place is not saved", "placeId", "NOT_FOUND")
    gone = await find_place(ctx, entry) if entry else await _own_place(ctx, prefix, place_id)
    outcome = await written(ctx, ctx.repo.remove_from_list(key, entry, delete=own), shown=True)
    return outcome if outcome.problems else Outcome(gone)  # None: a place the catalog lacks


async def _own_place(ctx: Context, prefix: str, place_id: str) -> m.Place | None:
    """The place a `saved:{userId}:{placeId}` entry names."""
    refs = await _saved_entries(ctx, prefix, [place_id])
    return await find_place(ctx, refs[0][0]) if refs else None
