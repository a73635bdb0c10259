"""Conversations with the AI agents: messages, context, `conversation(id:)`, the mutations."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import (
    Connection,
    Node,
    by_id,
    connection,
    node,
    record_data_field,
    relation,
    root_mutations,
    root_query,
)
from gql.schema.derive import UNSET, create_input, from_model, id_input, mutation
from resolvers import contexts, conversations


@strawberry.type(description="A conversation's current AI context (`context:{conversationId}`).")
@node(m.AIContext, conversations.context_of, id_of=lambda c: str(c.conversation_id))
@from_model(m.AIContext)
class AIContext(Node):
    data: JSON = record_data_field()


@strawberry.type(
    description="An earlier context of a conversation (an element of "
    "`context:history:{conversationId}`): the context as it was until `recordedAt`."
)
@from_model(m.ContextSnapshot)
class AIContextSnapshot:
    data: JSON = record_data_field()


@strawberry.type(description="A message (`message:{id}`).")
@node(m.Message, conversations.message)
@from_model(m.Message)
class Message(Node):
    pass


@strawberry.type(description="A conversation with an AI agent (`conversation:{id}`).")
@node(m.Conversation, conversations.conversation)
@from_model(m.Conversation, hide=("user_id",))
class Conversation(Node):
    messages: Connection[Message] = connection(conversations.conversation_messages)
    context: AIContext | None = relation(conversations.contexts)
    context_history: Connection[AIContextSnapshot] = connection(
        contexts.context_history,
        description="The contexts this conversation had, oldest first; the oldest go past "
        "the server's cap. A cursor keeps its place as snapshots come and go.",
    )


StartConversationInput = create_input(
    m.Conversation,
    "StartConversationInput",
    hide=("id", "user_id"),
    extra={
        "message": (
            str | None,
            strawberry.field(default=UNSET, description="Optional first message."),
        )
    },
)
PostMessageInput = create_input(m.Message, "PostMessageInput", hide=("id", "role", "timestamp"))
DeleteConversationInput = id_input("DeleteConversationInput")


@root_query
@strawberry.type
class ConversationQuery:
    conversation: Conversation | None = by_id(
        conversations.conversation_by_id, description="A conversation the viewer owns."
    )


@root_mutations
@strawberry.type
class ConversationMutations:
    start_conversation = mutation(
        conversations.start_conversation,
        StartConversationInput,
        "conversation",
        Conversation,
        "Start a conversation, optionally with a first message.",
    )
    post_message = mutation(
        conversations.post_message,
        PostMessageInput,
        "message",
        Message,
        "Post the viewer's message to a conversation.",
    )
    delete_conversation = mutation(
        conversations.delete_conversation,
        DeleteConversationInput,
        "conversation",
        Conversation,
        "Delete a conversation with its messages and context.",
    )
