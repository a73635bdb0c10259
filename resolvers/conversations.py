"""Conversations with the AI agents: messages, context, and the conversation mutations."""

from __future__ import annotations

from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.repo import RepoError, new_id, now
from resolvers import validate as v
from resolvers.access import own_conversation
from resolvers.common import Outcome, PageArgs, page_of, usable, viewer_id, written
from resolvers.context import Context
from resolvers.paging import Page

AGENT_MAX = 80


async def user_conversations(ctx: Context, user_id: str, args: PageArgs) -> Page:
    """A page of a user's conversations (`conversation:index:{userId}`)."""
    ids = await ctx.loaders.index(k.CONVERSATIONS_INDEX.key(user_id))
    return await page_of(ctx, e.CONVERSATION, ids, args, children=k.MESSAGES_INDEX)


async def conversation(ctx: Context, conversation_id: str) -> m.Conversation | None:
    """A conversation the viewer owns."""
    return await own_conversation(ctx, conversation_id)


async def messages(ctx: Context, conv: m.Conversation, args: PageArgs) -> Page:
    """A page of a conversation's messages, oldest first (index order)."""
    ids = await ctx.loaders.index(k.MESSAGES_INDEX.key(conv.id))
    return await page_of(ctx, e.MESSAGE, ids, args)


async def message(ctx: Context, message_id: str) -> m.Message | None:
    """A message in a conversation the viewer owns."""
    if not k.is_id(message_id):
        return None
    msg: m.Message | None = usable(ctx, await ctx.loaders.entity(e.MESSAGE, message_id))
    if msg is None or await own_conversation(ctx, msg.conversation_id) is None:
        return None
    return msg


async def context(ctx: Context, conv: m.Conversation) -> m.AIContext | None:
    """The conversation's current AI context (`context:{conversationId}`)."""
    found: m.AIContext | None = usable(ctx, await ctx.loaders.entity(e.CONTEXT, conv.id))
    if found is not None and found.conversation_id is None:
        return found.model_copy(update={"conversation_id": conv.id})
    return found


async def start_conversation(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Start a conversation for the viewer, optionally with a first user message."""
    user = viewer_id(ctx)
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
    try:  # one transaction: the conversation never exists without its first message
        conv, *_ = await ctx.repo.create_all(entries)
    except RepoError as exc:
        return Outcome.from_error(exc)
    ctx.loaders.forget(k.CONVERSATIONS_INDEX.key(user), k.MESSAGES_INDEX.key(conv_id))
    return Outcome(conv)


def _message(conversation_id: str, content: str) -> dict[str, Any]:
    return {
        "conversationId": conversation_id,
        "role": "user",
        "content": content,
        "timestamp": now(),
    }


async def post_message(ctx: Context, conversation_id: str, content: str) -> Outcome:
    """Append the viewer's message to a conversation they own."""
    viewer_id(ctx)
    if await own_conversation(ctx, conversation_id) is None:
        return Outcome.fail("conversation not found", "conversationId", "NOT_FOUND")
    data = {"content": content}
    if problems := v.text_fields(data, {"content": (v.CONTENT_MAX, True)}):
        return Outcome(None, problems)
    try:  # one transaction: the message, its index entry and the conversation's updatedAt
        (message,) = await ctx.repo.create_all(
            [(e.MESSAGE, _message(conversation_id, data["content"]), None)],
            touch=[(e.CONVERSATION, conversation_id)],
        )
    except RepoError as exc:
        return Outcome.from_error(exc)
    ctx.loaders.forget(
        k.MESSAGES_INDEX.key(conversation_id), e.CONVERSATION.pattern.key(conversation_id)
    )
    return Outcome(message)


async def delete_conversation(ctx: Context, conversation_id: str) -> Outcome:
    """Delete a conversation with its messages, context and context history."""
    user = viewer_id(ctx)
    if await own_conversation(ctx, conversation_id) is None:
        return Outcome.fail("conversation not found", "id", "NOT_FOUND")
    return await written(
        ctx,
        ctx.repo.delete(e.CONVERSATION, conversation_id),
        k.CONVERSATIONS_INDEX.key(user),
        e.CONVERSATION.pattern.key(conversation_id),
    )
