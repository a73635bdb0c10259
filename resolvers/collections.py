"""Collections (`collection:{id}`, listed in `collections:index:{userId}`): a user's named,
ordered lists of places, and the mutations that make, change and arrange them.

A collection's places are the references in its `placeIds` array (bare place ids, as apps
write them, or `kind:id`), resolved through the catalog like saved places: every collection
of a query level in one batch. Adding, moving and removing a place re-reads the collection in
the transaction that writes it (`Repository.revise`), so two concurrent edits both land.
A `placeIds` kvgraph cannot read (not an array of ids) is reported and never overwritten:
edits of that collection are refused until it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import InvalidData, NotFound
from resolvers import validate as v
from resolvers.access import record, viewer_only
from resolvers.common import IdArgs, Outcome, Problem, author, deleted, pages_of_index, written
from resolvers.context import Context
from resolvers.eager import gather_eagerly
from resolvers.locations import PLACE, find_place, find_places, place, refers_to
from resolvers.paging import Page, PageArgs, paginate
from resolvers.users import UserRef

TEXT = {"name": (v.TITLE_MAX, True), "description": (v.NOTES_MAX, False)}
MAX_PLACES = 1_000  # places one collection may hold (it is one record, read whole)
Patch = Callable[[m.Record | None], dict[str, Any]]


@viewer_only(empty=Page.empty)
async def user_collections(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's collections, in index order (`collections:index:{userId}`)."""
    return await pages_of_index(ctx, users, k.COLLECTIONS_INDEX, lambda u: u.id, e.COLLECTION, args)


async def collection(ctx: Context, collection_id: str) -> m.Collection | None:
    """A collection the viewer owns."""
    return await record(ctx, e.COLLECTION, collection_id)


async def collection_by_id(ctx: Context, args: IdArgs) -> m.Collection | None:
    """`collection(id:)`: a collection the viewer owns."""
    return await collection(ctx, args.id)


async def collection_places(
    ctx: Context, collections: Sequence[m.Collection], args: PageArgs
) -> list[Page]:
    """A page of each collection's places, in its order; the places of every collection of
    the level are read in one batch."""

    def page(c: m.Collection) -> Any:
        return paginate(c.place_ids or [], args, lambda chunk: find_places(ctx, chunk), kind=PLACE)

    return list(await gather_eagerly(page(c) for c in collections))


def _places_of(found: m.Record | None) -> list[str]:
    """A collection's references as stored, refusing one whose `placeIds` cannot be read."""
    if found is None:
        raise NotFound("collection not found", "collectionId")
    if "placeIds" in found.dropped_fields:
        raise InvalidData(
            "this collection's placeIds cannot be read; kvgraph leaves it as it is "
            "(fix it by hand, see `kvgraph check`)",
            "collectionId",
        )
    return list(getattr(found, "place_ids", None) or [])


def _at(refs: list[str], place_id: str) -> int:
    """Where a place stands in a collection; NotFound when it is not in it."""
    for n, ref in enumerate(refs):
        if refers_to(ref, place_id):
            return n
    raise NotFound("place is not in this collection", "placeId")


def _adding(place_id: str, position: int | None) -> Patch:
    def change(found: m.Record | None) -> dict[str, Any]:
        refs = _places_of(found)
        if any(refers_to(ref, place_id) for ref in refs):
            return {"placeIds": refs}  # there already (added concurrently): kept where it is
        if len(refs) >= MAX_PLACES:
            raise InvalidData(f"a collection holds at most {MAX_PLACES:,} places", "placeId")
        refs.insert(len(refs) if position is None else position, place_id)
        return {"placeIds": refs}

    return change


def _moving(place_id: str, position: int) -> Patch:
    def change(found: m.Record | None) -> dict[str, Any]:
        refs = _places_of(found)
        ref = refs.pop(_at(refs, place_id))
        refs.insert(min(position, len(refs)), ref)
        return {"placeIds": refs}

    return change


def _removing(place_id: str) -> Patch:
    def change(found: m.Record | None) -> dict[str, Any]:
        refs = _places_of(found)
        del refs[_at(refs, place_id)]
        return {"placeIds": refs}

    return change


async def create_collection(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Create an empty collection for the viewer (idempotent when the input has an id)."""
    user = author(ctx, e.COLLECTION)
    if problems := v.text_fields(data, TEXT):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.create(e.COLLECTION, {**data, "userId": user}))


async def _own(ctx: Context, collection_id: str, field: str) -> m.Collection | Outcome:
    """The viewer's collection, or the NOT_FOUND userError (anyone else's looks missing)."""
    found = await collection(ctx, collection_id)
    return found if found is not None else Outcome.fail("collection not found", field, "NOT_FOUND")


async def update_collection(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Rename or describe a collection; fields left out stay as they are."""
    author(ctx, e.COLLECTION, "change")
    collection_id = data.pop("id")
    found = await _own(ctx, collection_id, "id")
    if isinstance(found, Outcome):
        return found
    if problems := v.text_fields(data, TEXT, partial=True):
        return Outcome(None, problems)
    return await written(ctx, ctx.repo.update(e.COLLECTION, [collection_id], data))


async def delete_collection(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a collection and take it out of the viewer's index (its places stay)."""
    author(ctx, e.COLLECTION, "change")
    found = await _own(ctx, data["id"], "id")
    if isinstance(found, Outcome):
        return found
    return await deleted(ctx, e.COLLECTION, found)


async def _edit(ctx: Context, data: dict[str, Any], patch: Patch) -> Outcome:
    """Apply a place edit to the viewer's collection in one transaction."""
    collection_id = data["collectionId"]
    found = await _own(ctx, collection_id, "collectionId")
    if isinstance(found, Outcome):
        return found
    return await written(ctx, ctx.repo.revise(e.COLLECTION, [collection_id], patch))


async def add_collection_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Add a catalog place to a collection at `position` (default: the end); a place that
    is in it already stays where it is."""
    author(ctx, e.COLLECTION, "change")
    position, kind = data.get("position"), data.get("kind")
    if problems := v.position(position):
        return Outcome(None, problems)
    found = await (place(ctx, kind, data["placeId"]) if kind else find_place(ctx, data["placeId"]))
    if found is None:
        return Outcome(None, [Problem("placeId", "place not found", "NOT_FOUND")])
    mine = await collection(ctx, data["collectionId"])
    if mine is not None and any(refers_to(r, found.id) for r in mine.place_ids or ()):
        return Outcome(mine)  # in it already: nothing is written
    return await _edit(ctx, data, _adding(found.id, position))


async def move_collection_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Move a place to `position` in its collection (0 = first; past the end = last)."""
    author(ctx, e.COLLECTION, "change")
    if problems := v.position(data["position"]):
        return Outcome(None, problems)
    return await _edit(ctx, data, _moving(data["placeId"], data["position"]))


async def remove_collection_place(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Take a place out of a collection (the place itself stays in the catalog)."""
    author(ctx, e.COLLECTION, "change")
    return await _edit(ctx, data, _removing(data["placeId"]))
