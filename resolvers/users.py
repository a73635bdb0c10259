"""Users: the viewer, their profile and preferences (a viewer without a profile is still one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gql.kv import entities as e
from gql.kv import models as m
from resolvers.access import records, viewer_only
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
