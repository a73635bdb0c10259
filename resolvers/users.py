"""The viewer: profile and preferences (a viewer without a profile record is still a viewer)."""

from __future__ import annotations

from dataclasses import dataclass

from gql.kv import entities as e
from gql.kv import models as m
from resolvers.common import usable
from resolvers.context import Context


@dataclass(slots=True)
class UserRef:
    """The source of a `User`: just the id; profile fields load on demand."""

    id: str


def viewer(ctx: Context) -> UserRef | None:
    """The signed-in user, or None when anonymous."""
    return UserRef(ctx.viewer_id) if ctx.viewer_id else None


async def profile(ctx: Context, user: UserRef) -> m.Profile | None:
    """The user's `profile:{userId}` record, if any."""
    return usable(ctx, await ctx.loaders.entity(e.PROFILE, user.id))


async def preferences(ctx: Context, user: UserRef) -> m.Preferences | None:
    """The user's `preferences:{userId}` record, if any."""
    return usable(ctx, await ctx.loaders.entity(e.PREFERENCES, user.id))
