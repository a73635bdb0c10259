"""Users: the viewer, their profile and preferences (a viewer without a profile is still one),
and `updateProfile`, which only ever writes the viewer's own `profile:{userId}`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import models as m
from resolvers import validate as v
from resolvers.access import records, viewer_only
from resolvers.common import Outcome, Problem, author, written
from resolvers.context import Context


@dataclass(frozen=True, slots=True)
class UserRef:
    """The source of a `User`: just the id; profile fields load on demand."""

    id: str


async def viewer(ctx: Context) -> UserRef | None:
    """The signed-in user, or None when anonymous."""
    return UserRef(ctx.viewer_id) if ctx.viewer_id else None


async def user(ctx: Context, user_id: str) -> UserRef | None:
    """A user by id: only the viewer themself."""
    return UserRef(user_id) if user_id == ctx.viewer_id else None


async def profiles(ctx: Context, users: Sequence[UserRef]) -> list[m.Profile | None]:
    """Each user's `profile:{userId}` record, if any."""
    return await records(ctx, e.PROFILE)([u.id for u in users])


def profile_field(name: str, *, public: bool) -> Callable[[Context, Sequence[UserRef]], Any]:
    """The batch function of one profile field; a private one shows for the viewer only."""

    async def field(ctx: Context, users: Sequence[UserRef]) -> list[Any]:
        return [getattr(p, name) if p else None for p in await profiles(ctx, users)]

    field.__name__ = f"user_{name}"
    return field if public else viewer_only(empty=lambda: None)(field)


@viewer_only(empty=lambda: None)
async def preferences(ctx: Context, users: Sequence[UserRef]) -> list[m.Preferences | None]:
    """Each user's `preferences:{userId}` record, if any."""
    return await records(ctx, e.PREFERENCES)([u.id for u in users])


PROFILE_TEXT = {"displayName": (v.TITLE_MAX, False), "avatarUrl": (v.URL_MAX, False)}


def _profile_problems(data: dict[str, Any]) -> list[Problem]:
    """Trim and check a profile patch: lengths, and an avatar that is an http(s) URL."""
    problems = v.text_fields(data, PROFILE_TEXT, partial=True)
    url = data.get("avatarUrl")
    if isinstance(url, str) and url and not v.is_web_url(url):
        problems.append(Problem("avatarUrl", "avatarUrl must be an http(s) URL"))
    return problems


def _profile_patch(data: dict[str, Any]) -> Callable[[m.Record | None], dict[str, Any]]:
    """The patch of `profile:{userId}`: the given fields, an empty text clearing one."""
    patch = {name: (value or None) for name, value in data.items()}
    return lambda _stored: patch


async def update_profile(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Change the viewer's own profile (`profile:{viewerId}`, made if missing); fields left
    out stay, and fields kvgraph does not know are kept."""
    user = author(ctx, e.PROFILE, "change")
    if problems := _profile_problems(data):
        return Outcome(None, problems)
    if not data:
        return Outcome.fail("give at least one field to change", None)
    return await written(
        ctx,
        ctx.repo.revise(e.PROFILE, [user], _profile_patch(data), create=True),
        shown=UserRef(user),
    )
