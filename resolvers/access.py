"""Who may read or write what: one read rule and one write rule per kind of record.

A record is shown by id (root fields, `node(nodeId:)`, relations) exactly when it would be
shown in a list: lists read their records through `readable` too, so an id planted in
someone's index shows them nothing they could not read by id. Trips are readable by their
owner and collaborators; items, budgets and a trip's other children through their trip;
conversations, suggestions and other per-user records by their owner; messages and context
through their conversation; places (the public catalog) by everyone. Anything a viewer may
not see looks exactly like "not found".

An invalid record is reported (`INVALID_RECORD`, with its key) only where the viewer may know
it exists: listed in an index the viewer reads, or of a kind whose rule goes by the key alone
(a readable trip's `budget:{tripId}`, the viewer's `preferences:{userId}`, the catalog). Read
by id, a record whose rule needs its contents (a trip's owner) shows as not found, unreported,
so a report never names what the viewer may not read.

Writes are declared the same way, in `WRITES`, and every mutation asks `may_write` first:
users write their own kinds (the mutation then checks which records: owner, trip role), the
service role the kinds server-side code writes (AI runs, jobs, what agents remember), nobody
the catalog. A kind without a write rule makes the module refuse to import.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.entities import EntitySpec
from gql.kv.keys import is_id
from resolvers.context import SERVICE_ROLE, Context, shown
from resolvers.eager import gather_eagerly
from resolvers.errors import FORBIDDEN, NOT_FOUND, ClientError, unauthenticated

WRITERS = frozenset({"owner", "editor"})  # trip roles that may change a trip and its items
OWNER = frozenset({"owner"})  # the trip owner's own rights: deleting the trip
# Collaborator roles that may edit a trip: `editor`, and `owner` as apps write it for a
# co-owner (it grants editing, never the trip owner's own rights). Any other role, known to
# kvgraph or not, reads only.
EDITING_ROLES = frozenset({"editor", "owner"})

Check = Callable[[Context, Sequence[str], Sequence[Any]], Awaitable[list[bool]]]
"""Whether the viewer may read each record (given with the ids it was read by)."""


@dataclass(frozen=True)
class Rule:
    """The read rule of one kind of record."""

    check: Check
    by_key: bool = False  # decided by the ids alone (the records may be None)


def _trip_key(trip_id: str) -> str:
    return e.TRIP.pattern.literal_prefix + trip_id


async def trip_roles(ctx: Context, trips: Sequence[m.Trip]) -> list[str | None]:
    """The viewer's role on each trip: owner, editor, viewer, or None (no access).

    Collaborator entries are read (in one batch) only for trips the viewer does not own; an
    entry's role makes its holder an editor when it is one of EDITING_ROLES, else a viewer.
    Roles are remembered by the trip's key (a record's `id` always equals its key's: the
    loaders refuse one that disagrees).
    """
    viewer, known = ctx.viewer_id, ctx.trip_roles  # known: roles met earlier this request
    if viewer is None:
        return [None] * len(trips)
    keys = [_trip_key(t.id) for t in trips]
    shared = [
        (t, key)
        for t, key in zip(trips, keys, strict=True)
        if t.user_id != viewer and key not in known
    ]
    if shared:
        entries = await gather_eagerly(
            ctx.loaders.entity(e.COLLABORATOR, t.id, viewer) for t, _ in shared
        )
        for (_, key), c in zip(shared, entries, strict=True):
            # An invalid entry grants nothing and is not reported: it names a trip the
            # viewer may not read.
            known[key] = _trip_role_of(c if isinstance(c, m.Collaborator) else None)
    for t, key in zip(trips, keys, strict=True):
        if t.user_id == viewer:
            known[key] = "owner"
    return [known[key] for key in keys]


def _trip_role_of(collaborator: m.Collaborator | None) -> str | None:
    if collaborator is None:
        return None
    return "editor" if collaborator.role in EDITING_ROLES else "viewer"


async def _trips(ctx: Context, ids: Sequence[str], trips: Sequence[Any]) -> list[bool]:
    return [role is not None for role in await trip_roles(ctx, trips)]


async def readable_trip_ids(ctx: Context, trip_ids: Sequence[str | None]) -> list[bool]:
    """Whether the viewer may read the trip of each id (each distinct trip read once)."""
    roles = ctx.trip_roles
    keys = {i: _trip_key(i) for i in dict.fromkeys(trip_ids) if i and is_id(i)}  # each once
    wanted = [i for i, key in keys.items() if key not in roles]
    if wanted:
        found = await readable(ctx, e.TRIP, wanted, await ctx.loaders.entities(e.TRIP, wanted))
        for i, trip in zip(wanted, found, strict=True):
            if trip is None:
                roles[keys[i]] = None  # missing, invalid or not the viewer's
    allowed: dict[str | None, bool] = {i: roles.get(key) is not None for i, key in keys.items()}
    return [allowed.get(i, False) for i in trip_ids]


async def _child_of_trip(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await readable_trip_ids(ctx, [r.trip_id for r in records])


async def _keyed_by_trip(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await readable_trip_ids(ctx, list(ids))  # `budget:{tripId}`: the key names the trip


async def _owner(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [ctx.viewer_id is not None and r.user_id == ctx.viewer_id for r in records]


async def owned_conversation_ids(ctx: Context, ids: Sequence[str | None]) -> list[bool]:
    """Whether the viewer owns the conversation of each id."""
    wanted = list(dict.fromkeys(i for i in ids if i and is_id(i)))
    found = await readable(
        ctx, e.CONVERSATION, wanted, await ctx.loaders.entities(e.CONVERSATION, wanted)
    )
    ok = {i for i, conv in zip(wanted, found, strict=True) if conv is not None}
    return [i in ok for i in ids]


async def _in_conversation(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return await owned_conversation_ids(ctx, [r.conversation_id for r in records])


async def _keyed_by_conversation(
    ctx: Context, ids: Sequence[str], records: Sequence[Any]
) -> list[bool]:
    return await owned_conversation_ids(ctx, list(ids))  # `context:{conversationId}`


async def _keyed_by_viewer(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [is_viewer(ctx, i) for i in ids]  # `preferences:{userId}`: the key names the user


async def _public(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [True] * len(ids)


async def _service(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [ctx.role == SERVICE_ROLE] * len(ids)  # jobs and their logs: server-side work


async def _nobody(ctx: Context, ids: Sequence[str], records: Sequence[Any]) -> list[bool]:
    return [False] * len(ids)


RULES: dict[str, Rule] = {
    e.TRIP.name: Rule(_trips),
    e.ITEM.name: Rule(_child_of_trip),
    e.CONFLICT.name: Rule(_child_of_trip),
    e.COLLABORATOR.name: Rule(_child_of_trip),
    e.BUDGET.name: Rule(_keyed_by_trip, by_key=True),
    e.CONVERSATION.name: Rule(_owner),
    e.MESSAGE.name: Rule(_in_conversation),
    e.CONTEXT.name: Rule(_keyed_by_conversation, by_key=True),
    e.SUGGESTION.name: Rule(_owner),
    e.AI_RUN.name: Rule(_owner),
    e.WORKFLOW.name: Rule(_owner),
    e.COLLECTION.name: Rule(_owner),
    e.SAVED_PLACE.name: Rule(_owner),  # `saved:{userId}:{placeId}`: the key names its user
    e.AUTOMATION.name: Rule(_owner),
    **{spec.name: Rule(_public, by_key=True) for spec in e.LOCATIONS.values()},  # the catalog
    # A profile's public fields (display name, avatar) show on a trip's owner; which fields
    # of a user other than the viewer may show is decided field by field (`viewer_only`).
    e.PROFILE.name: Rule(_public, by_key=True),
    e.PREFERENCES.name: Rule(_keyed_by_viewer, by_key=True),
    e.APIKEY.name: Rule(_keyed_by_viewer, by_key=True),
    e.JOB.name: Rule(_service, by_key=True),
    e.LOG.name: Rule(_service, by_key=True),
    e.WEBSOURCE.name: Rule(_service, by_key=True),
}
_UNREADABLE = Rule(_nobody, by_key=True)  # a kind without a rule: nobody reads it
if missing := sorted(set(e.SPECS) - set(RULES)):
    raise RuntimeError(f"entity kinds without a read rule: {', '.join(missing)}")


class Writer(StrEnum):
    """Who may write records of a kind through a mutation."""

    USER = "user"  # a signed-in user; the mutation decides which records (owner, trip role)
    SERVICE = "service"  # server-side code only: a token with the role `service_role`
    NOBODY = "nobody"  # not written through the API (the catalog: seeded or imported)


@dataclass(frozen=True)
class WriteRule:
    """The write rule of one kind of record: who creates it, who changes or deletes it."""

    create: Writer
    change: Writer | None = None  # None: whoever may create it

    def writer(self, action: Action) -> Writer:
        return self.create if action == "create" or self.change is None else self.change


Action = Literal["create", "change"]
USER, SERVICE = WriteRule(Writer.USER), WriteRule(Writer.SERVICE)

WRITES: dict[str, WriteRule] = {
    e.TRIP.name: USER,
    e.ITEM.name: USER,
    e.CONFLICT.name: USER,
    e.COLLABORATOR.name: USER,
    e.BUDGET.name: USER,
    e.CONVERSATION.name: USER,
    e.MESSAGE.name: USER,
    e.CONTEXT.name: SERVICE,  # what the agents remember of a conversation
    # Agents propose suggestions; their user accepts or dismisses them.
    e.SUGGESTION.name: WriteRule(Writer.SERVICE, change=Writer.USER),
    e.AI_RUN.name: SERVICE,  # recorded by the agent runner for a user
    e.WORKFLOW.name: USER,
    e.COLLECTION.name: USER,
    e.SAVED_PLACE.name: USER,
    e.AUTOMATION.name: USER,
    e.PROFILE.name: USER,
    e.PREFERENCES.name: USER,
    e.APIKEY.name: USER,
    e.JOB.name: SERVICE,
    e.LOG.name: SERVICE,
    e.WEBSOURCE.name: SERVICE,
    **{spec.name: WriteRule(Writer.NOBODY) for spec in e.LOCATIONS.values()},  # the catalog
}
_UNWRITABLE = WriteRule(Writer.NOBODY)  # a kind without a rule: nobody writes it
if missing := sorted(set(e.SPECS) - set(WRITES)):
    raise RuntimeError(f"entity kinds without a write rule: {', '.join(missing)}")


def may_write(ctx: Context, spec: EntitySpec, action: Action = "create") -> None:
    """Raise unless the caller may `action` records of `spec` (its rule in WRITES).

    Every mutation asks this first. A user kind needs a signed-in viewer (UNAUTHENTICATED),
    and the mutation then checks which records are theirs; a service kind needs the service
    role, and any other caller is FORBIDDEN, signed in or not; nobody writes the rest.
    """
    writer = WRITES.get(spec.name, _UNWRITABLE).writer(action)
    if writer is Writer.USER:
        if ctx.viewer_id is None:
            raise unauthenticated()
        return
    if writer is Writer.SERVICE and ctx.role == SERVICE_ROLE:
        return
    who = "the service role" if writer is Writer.SERVICE else "nobody through the API"
    raise ClientError(f"{spec.name} records are written by {who}", FORBIDDEN)


async def readable(
    ctx: Context,
    spec: EntitySpec,
    ids: Sequence[str],
    loaded: Sequence[Any],
    *,
    listed: bool = False,
) -> list[Any]:
    """The records `loaded` by `ids`, with None where the viewer may not read them.

    Invalid ones are None too, and reported where the viewer may know they exist: when
    `listed` (the ids come from an index the viewer reads) or the rule goes by the key.
    """
    rule = RULES.get(spec.name, _UNREADABLE)
    prefix = spec.pattern.literal_prefix
    if len(ids) == len(loaded) and all(issubclass(c, m.Record) for c in set(map(type, loaded))):
        # Every one a valid record (the common case): one pass, no positions to keep.
        allowed = await rule.check(ctx, ids, loaded) if ids else []
        if all(allowed) and m.Record.all_plain(loaded):
            return list(loaded)  # (what `_shown` would give each one)
        return [
            _shown(ctx, prefix, i, r) if ok else None
            for i, r, ok in zip(ids, loaded, allowed, strict=True)
        ]
    valid = [
        (n, i, r)
        for n, (i, r) in enumerate(zip(ids, loaded, strict=True))
        if isinstance(r, m.Record)
    ]
    out: list[Any] = [None] * len(ids)
    if valid:
        allowed = await rule.check(ctx, [i for _, i, _ in valid], [r for _, _, r in valid])
        for (n, i, r), ok in zip(valid, allowed, strict=True):
            if ok:
                out[n] = _shown(ctx, prefix, i, r)
    invalid = [(i, r) for i, r in zip(ids, loaded, strict=True) if isinstance(r, m.InvalidRecord)]
    if invalid:
        await _report(ctx, rule, invalid, listed)
    return out


def _shown(ctx: Context, prefix: str, i: str, record: m.Record) -> m.Record:
    """A readable record as shown (one that left fields empty is noted, `shown`)."""
    return shown(ctx, prefix + i, record) if record.dropped_fields else record


async def _report(
    ctx: Context, rule: Rule, invalid: Sequence[tuple[str, m.InvalidRecord]], listed: bool
) -> None:
    """Report the invalid records the viewer may know of.

    A valid record stored under another record's key (a copy, its id naming the original)
    is reported only to a viewer the rule lets read it as stored: an index listing someone
    else's copy must not tell its reader that the record exists, nor what its id says.
    """
    if not (listed or rule.by_key):
        return
    allowed = (
        [True] * len(invalid)
        if listed
        else await rule.check(ctx, [i for i, _ in invalid], [None] * len(invalid))
    )
    misplaced = [n for n, (_, r) in enumerate(invalid) if r.found is not None and allowed[n]]
    if misplaced:
        ids = [invalid[n][0] for n in misplaced]
        found = [invalid[n][1].found for n in misplaced]
        for n, ok in zip(misplaced, await rule.check(ctx, ids, found), strict=True):
            allowed[n] = ok
    for (_, record), ok in zip(invalid, allowed, strict=True):
        if ok:
            ctx.report(record)


def records(
    ctx: Context, spec: EntitySpec, *, listed: bool = False
) -> Callable[[Sequence[str]], Awaitable[list[Any]]]:
    """Read the records of `spec` the viewer may read, by id (None for any other).

    `listed`: the ids come from an index the viewer may read (its invalid records are
    reported).
    """

    async def load(ids: Sequence[str]) -> list[Any]:
        return await readable(ctx, spec, ids, await ctx.loaders.entities(spec, ids), listed=listed)

    return load


async def record(ctx: Context, spec: EntitySpec, id_: str) -> Any:
    """One record of `spec` the viewer may read, or None."""
    return (await records(ctx, spec)([id_]))[0] if is_id(id_) else None


async def trip_role(ctx: Context, trip_id: str) -> tuple[m.Trip | None, str | None]:
    """The trip and the viewer's role on it, or (None, None) when it is not readable."""
    trip: m.Trip | None = await record(ctx, e.TRIP, trip_id)
    if trip is None:
        return None, None
    return trip, (await trip_roles(ctx, [trip]))[0]


async def trip_for(
    ctx: Context, trip_id: str, roles: frozenset[str]
) -> tuple[m.Trip | None, str | None]:
    """The trip if the viewer's role on it is one of `roles`; else (None, why): NOT_FOUND
    when the viewer cannot read it, FORBIDDEN when it can but may not do this."""
    trip, role = await trip_role(ctx, trip_id)
    if trip is None:
        return None, NOT_FOUND
    return (trip, None) if role in roles else (None, FORBIDDEN)


async def readable_trip(ctx: Context, trip_id: str) -> m.Trip | None:
    """The trip if the viewer owns it or collaborates on it."""
    return await record(ctx, e.TRIP, trip_id)


async def readable_item(ctx: Context, item_id: str) -> m.Item | None:
    """The item if its trip is readable."""
    return await record(ctx, e.ITEM, item_id)


async def own_conversation(ctx: Context, conversation_id: str) -> m.Conversation | None:
    """The conversation if the viewer owns it."""
    return await record(ctx, e.CONVERSATION, conversation_id)


async def own_suggestion(ctx: Context, suggestion_id: str) -> m.Suggestion | None:
    """The suggestion if it is the viewer's."""
    return await record(ctx, e.SUGGESTION, suggestion_id)


def is_viewer(ctx: Context, user_id: str) -> bool:
    """Whether `user_id` is the signed-in viewer."""
    return ctx.viewer_id is not None and user_id == ctx.viewer_id


def viewer_only(
    empty: Callable[[], Any],
) -> Callable[[Callable[..., Awaitable[list[Any]]]], Callable[..., Awaitable[list[Any]]]]:
    """A batch function over users that shows its value for the viewer only.

    A `User` other than the viewer (a trip's owner, seen by a collaborator) shows public
    profile fields only: for the fields marked with this, anyone else gets `empty()`.
    """

    def wrap(fn: Callable[..., Awaitable[list[Any]]]) -> Callable[..., Awaitable[list[Any]]]:
        async def batch(ctx: Context, users: Sequence[Any], *args: Any) -> list[Any]:
            mine = [u for u in users if is_viewer(ctx, u.id)]
            values = iter(await fn(ctx, mine, *args) if mine else ())
            return [next(values) if is_viewer(ctx, u.id) else empty() for u in users]

        batch.__name__ = fn.__name__
        batch.__doc__ = fn.__doc__
        return batch

    return wrap
