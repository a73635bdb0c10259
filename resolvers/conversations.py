"""Conversations with the AI agents: messages, context, and the conversation mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import new_id, now
from resolvers import validate as v
from resolvers.access import own_conversation, record, records, viewer_only
from resolvers.common import (
    IdArgs,
    Outcome,
    author,
    pages_of_index,
    written,
)
from resolvers.context import Context
from resolvers.paging import Page, PageArgs
from resolvers.users import UserRef

AGENT_MAX = 80


@viewer_only(empty=Page.empty)
async def user_conversations(ctx: Context, users: Sequence[UserRef], args: PageArgs) -> list[Page]:
    """A page of each user's conversations (`conversation:index:{userId}`)."""
    return await pages_of_index(
        ctx, users, k.CONVERSATIONS_INDEX, lambda u: u.id, e.CONVERSATION, args, k.MESSAGES_INDEX
    )


async def conversation(ctx: Context, conversation_id: str) -> m.Conversation | None:
    """A conversation the viewer owns."""
    return await own_conversation(ctx, conversation_id)


async def conversation_by_id(ctx: Context, args: IdArgs) -> m.Conversation | None:
    """`conversation(id:)`: a conversation the viewer owns."""
    return await own_conversation(ctx, args.id)


async def conversation_messages(
    ctx: Context, convs: Sequence[m.Conversation], args: PageArgs
) -> list[Page]:
    """A page of each conversation's messages, oldest first (index order)."""
    return await pages_of_index(ctx, convs, k.MESSAGES_INDEX, lambda c: c.id, e.MESSAGE, args)


async def message(ctx: Context, message_id: str) -> m.Message | None:
    """A message in a conversation the viewer owns."""
    return await record(ctx, e.MESSAGE, message_id)


async def contexts(ctx: Context, convs: Sequence[m.Conversation]) -> list[m.AIContext | None]:
    """Each conversation's current AI context (`context:{conversationId}`).

    The seed's context value need not carry its conversation id: its key gives it.
    """
    return await records(ctx, e.CONTEXT)([c.id for c in convs])


async def context_of(ctx: Context, conversation_id: str) -> m.AIContext | None:
    """The AI context of a conversation the viewer owns (for `node(nodeId:)`)."""
    conv = await own_conversation(ctx, conversation_id)
    return (await contexts(ctx, [conv]))[0] if conv else None


async def start_conversation(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Start a conversation for the viewer, optionally with a first user message."""
    user = author(ctx, e.CONVERSATION)
    first = data.pop("message", None)
    limits = {"title": (v.TITLE_MAX, False), "agentType": (AGENT_MAX, False)}
    problems = v.text_fields(data, limits)
    if first is not None:
        problems += v.text_fields(msg := {"message": first}, {"message": (v.CONTENT_MAX, True)})
        first = msg["message"]
    if problems:
        return Outcome(None, problems)
    conv_id = new_id()
    entries = [(e.CONVERSATION, {**data, "id": conv_id, "userId": user}, None)]
    if first:
        entries.append((e.MESSAGE, _message(conv_id, first), None))
    # One transaction: the conversation never exists without its first message.
    return await written(ctx, _first(ctx.repo.create_all(entries)))


async def _first(created: Awaitable[list[m.Record]]) -> m.Record:
    """The first record `create_all` made (the conversation; the one message)."""
    return (await created)[0]


def _message(conversation_id: str, content: str) -> dict[str, Any]:
    return {
        "conversationId": conversation_id,
        "role": "user",
        "content": content,
        "timestamp": now(),
    }


async def post_message(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Append the viewer's message to a conversation they own."""
    author(ctx, e.MESSAGE)
    conversation_id, content = data["conversationId"], data["content"]
    if await own_conversation(ctx, conversation_id) is None:
        return Outcome.fail("conversation not found", "conversationId", "NOT_FOUND")
    data = {"content": content}
    if problems := v.text_fields(data, {"content": (v.CONTENT_MAX, True)}):
        return Outcome(None, problems)
    # One transaction: the message, its index entry and the conversation's updatedAt.
    created = ctx.repo.create_all(
        [(e.MESSAGE, _message(conversation_id, data["content"]), None)],
        touch=[(e.CONVERSATION, conversation_id)],
    )
    return await written(ctx, _first(created))


async def delete_conversation(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Delete a conversation with its messages, context and context history."""
    author(ctx, e.CONVERSATION, "change")
    conversation_id = data["id"]
    if await own_conversation(ctx, conversation_id) is None:
        return Outcome.fail("conversation not found", "id", "NOT_FOUND")
    return await written(ctx, ctx.repo.delete(e.CONVERSATION, conversation_id))
