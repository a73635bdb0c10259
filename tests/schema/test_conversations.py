"""The conversation mutations (start, post a message, delete): effects on the raw keys,
userErrors.
"""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from tests.support import (
    ACCEPT,
    ALICE,
    BACKENDS,
    DELETE_CONV,
    DISMISS,
    NOWHERE,
    POST_MESSAGE,
    START_CONV,
    Gateway,
    done,
    fields,
    index,
    keys_of,
    refused,
    suggestion,
)


# ---------------------------------------------------------------- conversations
async def test_start_conversation_without_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"title": " Plan ", "agentType": "planner"})
    assert conv["title"] == "Plan"
    assert conv["agentType"] == "planner"
    assert conv["messages"] == {"totalCount": 0, "nodes": []}
    stored = await store.get(k.CONVERSATION.key(conv["id"]))
    assert stored["userId"] == ALICE
    assert stored["createdAt"].endswith("Z")
    assert stored["updatedAt"].endswith("Z")
    assert await index(store, k.CONVERSATIONS_INDEX.key(ALICE)) == [conv["id"]]
    assert await store.get(k.MESSAGES_INDEX.key(conv["id"])) is None


async def test_start_conversation_with_first_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"message": "  Where to eat?  "})
    assert conv["title"] is None
    assert conv["messages"]["totalCount"] == 1
    (msg,) = conv["messages"]["nodes"]
    assert msg["role"] == "USER"
    assert msg["content"] == "Where to eat?"
    assert await index(store, k.MESSAGES_INDEX.key(conv["id"])) == [msg["id"]]
    stored = await store.get(k.MESSAGE.key(msg["id"]))
    assert stored["conversationId"] == conv["id"]
    assert stored["role"] == "user"
    assert stored["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"message": ""}, "message"),
        ({"message": "   "}, "message"),
        ({"message": "m" * 10_001}, "message"),
        ({"title": "t" * 201}, "title"),
        ({"agentType": "a" * 81}, "agentType"),
    ],
)
async def test_start_conversation_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], field: str
) -> None:
    errors = await refused(gw, store, START_CONV, bad)
    assert fields(errors) == [(field, "BAD_USER_INPUT")]


async def test_post_message(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"message": "one"})
    cid = conv["id"]
    stamp = (await store.get(k.CONVERSATION.key(cid)))["updatedAt"]
    msg = await done(gw, POST_MESSAGE, {"conversationId": cid, "content": " two "})
    assert msg["content"] == "two"
    assert msg["role"] == "USER"
    assert msg["conversationId"] == cid
    first = conv["messages"]["nodes"][0]["id"]
    assert await index(store, k.MESSAGES_INDEX.key(cid)) == [first, msg["id"]]
    assert (await store.get(k.CONVERSATION.key(cid)))["updatedAt"] >= stamp
    query = "query Q($id: ID!) { conversation(id: $id) { messages { nodes { content } } } }"
    data = await gw.ok(query, {"id": cid}, viewer=ALICE)
    assert [n["content"] for n in data["conversation"]["messages"]["nodes"]] == ["one", "two"]


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"content": ""}, [("content", "BAD_USER_INPUT")]),
        ({"content": " \n "}, [("content", "BAD_USER_INPUT")]),
        ({"content": "c" * 10_001}, [("content", "BAD_USER_INPUT")]),
        ({"conversationId": NOWHERE}, [("conversationId", "NOT_FOUND")]),
        ({"conversationId": "conversation:index:x"}, [("conversationId", "NOT_FOUND")]),
    ],
)
async def test_post_message_refuses_bad_input(
    gw: Gateway, store: Store, bad: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    cid = (await done(gw, START_CONV, {"message": "hi"}))["id"]
    errors = await refused(gw, store, POST_MESSAGE, {"conversationId": cid, "content": "x", **bad})
    assert fields(errors) == expected


async def test_delete_conversation_removes_messages_and_context(gw: Gateway, store: Store) -> None:
    conv = await done(gw, START_CONV, {"title": "Plan", "message": "one"})
    cid = conv["id"]
    await done(gw, POST_MESSAGE, {"conversationId": cid, "content": "two"})
    other = await done(gw, START_CONV, {"message": "keep"})
    await store.set_many(
        {
            k.CONTEXT.key(cid): {"conversationId": cid, "session": {"step": 2}},
            k.CONTEXT_HISTORY.key(cid): [{"session": {"step": 1}}],
            k.CONTEXT.key(other["id"]): {"conversationId": other["id"]},
        }
    )
    message_ids = await index(store, k.MESSAGES_INDEX.key(cid))
    assert len(message_ids) == 2
    before = await keys_of(store)
    deleted = await done(gw, DELETE_CONV, {"id": cid})
    assert deleted == {"id": cid, "title": "Plan"}
    gone = {
        k.CONVERSATION.key(cid),
        k.MESSAGES_INDEX.key(cid),
        k.CONTEXT.key(cid),
        k.CONTEXT_HISTORY.key(cid),
        *(k.MESSAGE.key(m) for m in message_ids),
    }
    assert gone <= before
    assert await keys_of(store) == before - gone
    assert await index(store, k.CONVERSATIONS_INDEX.key(ALICE)) == [other["id"]]
    errors = await refused(gw, store, DELETE_CONV, {"id": cid})
    assert fields(errors) == [("id", "NOT_FOUND")]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_conversation_and_suggestion(gw: Gateway, store: Store) -> None:
    cid = (await done(gw, START_CONV, {"message": "hi"}))["id"]
    await done(gw, POST_MESSAGE, {"conversationId": cid, "content": "again"})
    await store.set(k.CONTEXT_HISTORY.key(cid), [{"a": 1}])
    await done(gw, DELETE_CONV, {"id": cid})
    assert await keys_of(store) == {k.CONVERSATIONS_INDEX.key(ALICE)}
    sid = await suggestion(store)
    await done(gw, ACCEPT, {"id": sid})
    assert await index(store, k.SUGGESTIONS_ACTIVE.key(ALICE)) == []
    errors = await refused(gw, store, DISMISS, {"id": sid})
    assert fields(errors) == [("id", "NOT_ACTIVE")]
