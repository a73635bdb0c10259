"""What the agents remember of a conversation: its current context (`context:{id}`), set by the
service role, and the history of the contexts it replaced (`context:history:{id}`), capped.

The history is paged by the snapshots' sequence numbers (`gql/kv/history.py`): a cursor keeps
its place while new snapshots arrive and the oldest past the cap (`KVGRAPH_CONTEXT_HISTORY_CAP`)
are dropped; a cursor whose snapshot was dropped continues with the oldest one kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.history import clear_context as clear
from gql.kv.history import record_context, sequence
from gql.kv.repo import RepoError
from resolvers import access
from resolvers.common import Outcome, pages_of_list
from resolvers.context import Context
from resolvers.paging import Page, PageArgs

FIELDS = ("entities", "preferences", "session")


async def context_history(
    ctx: Context, convs: Sequence[m.Conversation], args: PageArgs
) -> list[Page]:
    """A page of each conversation's earlier contexts, oldest first."""
    return await pages_of_list(
        ctx, convs, k.CONTEXT_HISTORY, lambda c: c.id, m.ContextSnapshot, args, sequence
    )


async def set_context(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Set a conversation's current context (the fields given replace those stored), keeping
    the one it replaces as the newest snapshot of its history; the service role only."""
    access.may_write(ctx, e.CONTEXT)
    conversation_id = data.pop("conversationId")
    if not k.is_id(conversation_id):
        return Outcome.fail("conversation not found", "conversationId", "NOT_FOUND")
    patch = {name: data[name] for name in FIELDS if name in data}
    if not patch:
        return Outcome.fail("give at least one of entities, preferences, session", None)
    cap = ctx.context_history_cap
    return await _written(
        ctx, conversation_id, record_context(ctx.repo, conversation_id, patch, cap)
    )


async def clear_context(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a conversation's current context, keeping it as the newest snapshot of its
    history; the service role only."""
    access.may_write(ctx, e.CONTEXT, "change")
    conversation_id = data["conversationId"]
    if not k.is_id(conversation_id):
        return Outcome.fail("conversation not found", "conversationId", "NOT_FOUND")
    cap = ctx.context_history_cap
    return await _written(ctx, conversation_id, clear(ctx.repo, conversation_id, cap))


async def _written(ctx: Context, conversation_id: str, write: Awaitable[Any]) -> Outcome:
    """The outcome of a write to a conversation's context and history."""
    try:
        found = await write
    except RepoError as exc:  # a missing conversation: its parent check says so, by field
        return Outcome.from_error(exc)
    return Outcome(found[0] if isinstance(found, tuple) else found)
