"""What every domain's resolvers share: paging over indexes, skipping bad records, access."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gql.kv.entities import EntitySpec
from gql.kv.keys import KeyPattern, is_id
from gql.kv.models import InvalidRecord, Record
from gql.kv.repo import RepoError
from resolvers.context import Context
from resolvers.errors import unauthenticated
from resolvers.loaders import Loaded
from resolvers.paging import Page, window

R = TypeVar("R", bound=Record)


@dataclass(slots=True)
class PageArgs:
    """Relay arguments of a connection field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


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


async def written(ctx: Context, write: Awaitable[Any], *forget: str, shown: Any = None) -> Outcome:
    """Await a repository write: an expected failure becomes a userError, and on success the
    request's loaders forget the `forget` keys. The payload shows `shown`, or what was written.
    """
    try:
        record = await write
    except RepoError as exc:
        return Outcome.from_error(exc)
    ctx.loaders.forget(*forget)
    return Outcome(record if shown is None else shown)


def usable(ctx: Context, loaded: Loaded) -> Any:
    """The record, or None if it is missing or invalid (invalid ones are reported)."""
    if isinstance(loaded, InvalidRecord):
        ctx.report(loaded)
        return None
    return loaded


def viewer_id(ctx: Context) -> str:
    """The signed-in user's id, or UNAUTHENTICATED."""
    if ctx.viewer_id is None:
        raise unauthenticated()
    return ctx.viewer_id


async def page_of(
    ctx: Context,
    spec: EntitySpec,
    ids: Sequence[str],
    args: PageArgs,
    children: KeyPattern | None = None,
) -> Page:
    """One page of the records an index lists; missing and invalid ones are skipped.

    `children` names the index keyed by these records' ids that the next query level
    usually reads (a trip's `items:index:`): it is fetched in the same batch as the records,
    which saves the next level a round trip.
    """
    win = window(ids, args.first, args.after, args.last, args.before)
    page_ids = ids[win.start : win.end]
    if children is not None:
        ctx.loaders.prefetch(children.literal_prefix + i for i in page_ids if is_id(i))
    loaded = await ctx.loaders.entities(spec, page_ids)
    nodes, positions = [], []
    for offset, record in enumerate(loaded, start=win.start):
        if (node := usable(ctx, record)) is not None:
            nodes.append(node)
            positions.append(offset)
    return Page(win, ids, nodes, positions)


async def records_of(ctx: Context, spec: EntitySpec, ids: Sequence[str]) -> list[Any]:
    """Every usable record an id list names, in order."""
    loaded = await ctx.loaders.entities(spec, ids)
    return [r for r in (usable(ctx, x) for x in loaded) if r is not None]


def clean_text(value: str | None, name: str, *, required: bool, limit: int) -> str | Problem | None:
    """Trim a text input and check its length; a Problem when it is not acceptable."""
    if value is None:
        return Problem(name, f"{name} is required") if required else None
    text = value.strip()
    if required and not text:
        return Problem(name, f"{name} must not be empty")
    if len(text) > limit:
        return Problem(name, f"{name} must be at most {limit} characters")
    return text
