"""What every domain shares: readable records, the viewer, pages of an index, mutation outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from gql.kv.entities import EntitySpec
from gql.kv.keys import KeyPattern, is_id
from gql.kv.models import OTHER, Record
from gql.kv.repo import RepoError
from gql.kv.text import text_problem
from resolvers import access
from resolvers.context import Context, usable
from resolvers.eager import gather_eagerly
from resolvers.errors import FORBIDDEN, NOT_FOUND, unauthenticated
from resolvers.loaders import Listing, Number, Stored
from resolvers.paging import Page, PageArgs, paginate

Keep = Callable[[Any], bool]
"""Whether a listed record belongs in a filtered list (a status asked for)."""


@dataclass(slots=True)
class IdArgs:
    """The argument of a root field that reads one record by its id."""

    id: str


@dataclass(slots=True)
class Problem:
    """One entry of a payload's `userErrors`."""

    field: str | None
    message: str
    code: str = "BAD_USER_INPUT"


@dataclass
class Outcome:
    """What a mutation returns: the record (or None) and its user errors."""

    record: Any = None
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def fail(cls, message: str, field_: str | None = None, code: str = "BAD_USER_INPUT") -> Outcome:
        """An outcome with one user error and no record."""
        return cls(None, [Problem(field_, message, code)])

    @classmethod
    def from_error(cls, error: RepoError) -> Outcome:
        """An outcome from an expected repository failure."""
        return cls.fail(error.message, error.field, error.code)


def denied(code: str | None, what: str, field_: str, action: str) -> Outcome:
    """The userError of a record the viewer cannot read (NOT_FOUND: it looks missing) or may
    read but not `action` (FORBIDDEN: its role does not allow it)."""
    if code == FORBIDDEN:
        return Outcome.fail(f"your role on this trip does not allow you to {action}", field_, code)
    return Outcome.fail(f"{what} not found", field_, NOT_FOUND)


async def written(ctx: Context, write: Awaitable[Any], *, shown: Any = None) -> Outcome:
    """Await a repository write: an expected failure becomes a userError. The payload shows
    `shown`, or what was written. (What the write changed, the request's loaders have
    forgotten already: the repository names it, see `Context`.)"""
    try:
        record = await write
    except RepoError as exc:
        return Outcome.from_error(exc)
    return Outcome(record if shown is None else shown)


async def deleted(ctx: Context, spec: EntitySpec, record: Any, *, shown: Any = None) -> Outcome:
    """Delete `record` of `spec` (through `written`) with all it owns (its spec says what)."""
    key_args = [getattr(record, field) for field in spec.key_fields]
    return await written(ctx, ctx.repo.delete(spec, *key_args), shown=shown)


def viewer_id(ctx: Context) -> str:
    """The signed-in user's id, or UNAUTHENTICATED."""
    if ctx.viewer_id is None:
        raise unauthenticated()
    return ctx.viewer_id


def author(ctx: Context, spec: EntitySpec, action: access.Action = "create") -> str:
    """The signed-in user who writes `spec` records, once its write rule admits them
    (`access.may_write`: UNAUTHENTICATED, or FORBIDDEN for a kind users do not write)."""
    access.may_write(ctx, spec, action)
    return viewer_id(ctx)


async def page_of(
    ctx: Context,
    spec: EntitySpec,
    ids: Listing | Sequence[str],
    args: PageArgs,
    children: KeyPattern | None = None,
    keep: Keep | None = None,
) -> Page:
    """One page of the records an index lists.

    `children` names the index keyed by these records' ids that the next query level
    usually reads (a trip's `items:index:`): it is fetched in the same batch as the page's
    records, which saves the next level a round trip. `keep` filters (by status): then every
    listed record is read at once (with every other list read at the same time) and the page
    and its cursors are those of the records kept.
    """
    if keep is not None:
        return await _kept_page(ctx, spec, ids, args, keep)
    prefetch = None
    if children is not None:
        prefix = children.literal_prefix

        def prefetch(page_ids: Sequence[str]) -> None:
            ctx.loaders.prefetch(prefix + i for i in page_ids if is_id(i))

    load = access.records(ctx, spec, listed=True)
    return await paginate(ids, args, load, prefetch, kind=spec.name)


async def _kept_page(
    ctx: Context, spec: EntitySpec, ids: Listing | Sequence[str], args: PageArgs, keep: Keep
) -> Page:
    """A page of the readable records an index lists that `keep` keeps (every one read)."""
    listed = await access.records(ctx, spec, listed=True)(
        ids.ids if isinstance(ids, Listing) else ids
    )
    kept = {r.id: r for r in listed if r is not None and keep(r)}

    async def load(chunk: Sequence[str]) -> list[Any]:
        return [kept[i] for i in chunk]

    return await paginate(list(kept), args, load, kind=spec.name)


def has_status(value: str | None, status: str | None, known: Collection[str]) -> bool:
    """Whether a record's status (`value`, as it stands) is the one a list asks for: None
    asks for any; `OTHER` is any status kvgraph does not know (none at all is not one)."""
    if status is None:
        return True
    if status == OTHER:
        return value is not None and value not in known
    return value == status


async def pages_of_index(
    ctx: Context,
    parents: Sequence[Any],
    index: KeyPattern,
    key_of: Callable[[Any], str],
    spec: EntitySpec,
    args: PageArgs,
    children: KeyPattern | None = None,
    keep: Keep | None = None,
) -> list[Page]:
    """For each parent, a page of the records its index (`index` keyed by `key_of(parent)`)
    lists (those `keep` keeps, see `page_of`): the indexes of all parents in one batch, then
    all pages' records in one. Parents naming the same index (a trip met again through its
    items) share one page."""
    keys = list(dict.fromkeys(index.key(key_of(p)) for p in parents))
    found = await gather_eagerly(ctx.loaders.index(key) for key in keys)
    pages = await gather_eagerly(page_of(ctx, spec, i, args, children, keep) for i in found)
    by_key = dict(zip(keys, pages, strict=True))
    return [by_key[index.key(key_of(p))] for p in parents]


async def pages_of_prefix(
    ctx: Context,
    parents: Sequence[Any],
    spec: EntitySpec,
    params_of: Callable[[Any], tuple[str, ...]],
    args: PageArgs,
) -> list[Page]:
    """For each parent, a page of the records of `spec` listed by key prefix, with no index
    (`collaborator:{tripId}:{userId}` under `collaborator:{tripId}:`; `params_of(parent)`
    gives the first key parameters): every parent's prefix and its records in one round trip,
    paged and counted like an index, in key order."""
    prefixes = [spec.pattern.prefix(*params_of(p)) for p in parents]
    unique_prefixes = list(dict.fromkeys(prefixes))
    found = await gather_eagerly(ctx.loaders.listed(prefix) for prefix in unique_prefixes)

    def page(prefix: str, listing: Listing) -> Awaitable[Page]:
        async def load(ids: Sequence[str]) -> list[Any]:
            loaded = await ctx.loaders.load_keys(spec, [prefix + i for i in ids])
            return await access.readable(ctx, spec, ids, loaded, listed=True)

        return paginate(listing, args, load, kind=spec.name)

    pages = await gather_eagerly(page(*pair) for pair in zip(unique_prefixes, found, strict=True))
    by_prefix = dict(zip(unique_prefixes, pages, strict=True))
    return [by_prefix[prefix] for prefix in prefixes]


async def pages_of_list(
    ctx: Context,
    parents: Sequence[Any],
    pattern: KeyPattern,
    key_of: Callable[[Any], str],
    model: type[Record],
    args: PageArgs,
    number: Number | None = None,
) -> list[Page]:
    """For each parent, a page of the objects its list key holds (`budget:alerts:{tripId}`:
    objects without ids, each read as `model`): every parent's list in one round trip, paged
    by position and counted like an index; an object that is not a valid `model` is skipped
    and reported as `key[position]`. The viewer may read the parents: the lists are theirs.
    `number` pages a list that also drops its oldest objects by their sequence numbers
    (`loaders.Stored`), so its cursors stay valid as the front goes."""
    keys = [pattern.key(key_of(p)) for p in parents]
    unique_keys = list(dict.fromkeys(keys))
    found = await gather_eagerly(ctx.loaders.objects(key, number) for key in unique_keys)

    def page(key: str, stored: Stored) -> Awaitable[Page]:
        async def load(refs: Sequence[str]) -> list[Any]:
            loaded = [ctx.loaders.element(model, key, stored, stored.at(ref)) for ref in refs]
            return [usable(ctx, one) for one in loaded]

        return paginate(stored, args, load, kind=model.__name__)

    pairs = zip(unique_keys, found, strict=True)
    pages = await gather_eagerly(page(key, stored) for key, stored in pairs)
    by_key = dict(zip(unique_keys, pages, strict=True))
    return [by_key[key] for key in keys]


def clean_text(value: str | None, name: str, *, required: bool, limit: int) -> str | Problem | None:
    """Trim a text input and check its length; a Problem when it is not acceptable."""
    if value is None:
        return Problem(name, f"{name} is required") if required else None
    text = value.strip()
    if required and not text:
        return Problem(name, f"{name} must not be empty")
    if len(text) > limit:
        return Problem(name, f"{name} must be at most {limit} characters")
    if (bad := text_problem(text, name)) is not None:  # the stores' own rule, checked early
        return Problem(name, bad[1])
    return text
