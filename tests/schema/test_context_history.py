"""AI context history: `setContext` (the service role) keeps the context it replaces as the
newest snapshot, at most the configured number of them; `Conversation.contextHistory` pages
them by sequence number, so cursors stay valid while the oldest are dropped."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gql.kv import Store
from gql.kv import keys as k
from gql.kv.history import appended, sequence
from resolvers.context import SERVICE_ROLE
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    DELETE_CONV,
    NOWHERE,
    TEXT_BACKENDS,
    Gateway,
    done,
    dump,
    fields,
    mutation,
    refused,
    write_raw,
)

AGENT = "agent-runner"
CONV = "c1"
SET = mutation("setContext", "context { conversationId entities session updatedAt }")
CLEAR = mutation("clearContext", "context { entities }")
PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  conversation(id: $id) { contextHistory(first: $first, after: $after, last: $last,
    before: $before) { totalCount nodes { seq entities recordedAt }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


def gateway(schema: object, store: Store, cap: int = 3) -> Gateway:
    return Gateway(schema, store, context_history_cap=cap)


async def conversation(store: Store, user: str = ALICE, conv: str = CONV) -> None:
    await store.set_many(
        {
            k.CONVERSATION.key(conv): {"id": conv, "userId": user, "title": "Lisbon"},
            k.CONVERSATIONS_INDEX.key(user): [conv],
        }
    )


async def set_context(gw: Gateway, n: int, conv: str = CONV) -> dict[str, Any]:
    input_ = {"conversationId": conv, "entities": {"step": n}}
    return await done(gw, SET, input_, viewer=AGENT, role=SERVICE_ROLE)  # type: ignore[no-any-return]


async def page(gw: Gateway, viewer: str = ALICE, **args: Any) -> dict[str, Any]:
    data = await gw.ok(PAGE, {"id": CONV, **args}, viewer=viewer)
    return data["conversation"]["contextHistory"]  # type: ignore[no-any-return]


def steps(found: dict[str, Any]) -> list[int]:
    return [node["entities"]["step"] for node in found["nodes"]]


# ---------------------------------------------------------------- recording
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_each_new_context_keeps_the_one_it_replaces(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    first = await set_context(gw, 0)
    assert first["conversationId"] == CONV and first["entities"] == {"step": 0}
    assert await store.get(k.CONTEXT_HISTORY.key(CONV)) is None
    await done(
        gw,
        SET,
        {"conversationId": CONV, "session": {"turns": 2}},
        viewer=AGENT,
        role=SERVICE_ROLE,
    )
    stored = await store.get(k.CONTEXT.key(CONV))
    assert stored["entities"] == {"step": 0} and stored["session"] == {"turns": 2}
    (snapshot,) = await store.get(k.CONTEXT_HISTORY.key(CONV))
    assert snapshot["seq"] == 0 and snapshot["entities"] == {"step": 0}
    assert "session" not in snapshot and snapshot["recordedAt"].endswith("Z")
    history = await page(gw)
    assert history["totalCount"] == 1 and history["nodes"][0]["seq"] == 0


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_the_oldest_snapshots_go_past_the_cap(schema: object, store: Store) -> None:
    gw = gateway(schema, store, cap=3)
    await conversation(store)
    for n in range(6):
        await set_context(gw, n)
    stored = await store.get(k.CONTEXT_HISTORY.key(CONV))
    assert [s["seq"] for s in stored] == [2, 3, 4]
    assert steps(await page(gw)) == [2, 3, 4]
    assert (await store.get(k.CONTEXT.key(CONV)))["entities"] == {"step": 5}


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_clearing_keeps_the_context_as_the_newest_snapshot(
    schema: object, store: Store
) -> None:
    gw = gateway(schema, store, cap=2)
    await conversation(store)
    for n in range(3):
        await set_context(gw, n)
    cleared = await done(gw, CLEAR, {"conversationId": CONV}, viewer=AGENT, role=SERVICE_ROLE)
    assert cleared["entities"] == {"step": 2}
    assert await store.get(k.CONTEXT.key(CONV)) is None
    assert steps(await page(gw)) == [1, 2]
    errors = await refused(
        gw, store, CLEAR, {"conversationId": CONV}, viewer=AGENT, role=SERVICE_ROLE
    )
    assert fields(errors) == [("conversationId", "NOT_FOUND")]
    errors = await refused(
        gw, store, CLEAR, {"conversationId": NOWHERE}, viewer=AGENT, role=SERVICE_ROLE
    )
    assert fields(errors) == [("conversationId", "NOT_FOUND")]
    before = await dump(store)
    result = await gw.run(CLEAR, {"input": {"conversationId": CONV}}, viewer=ALICE)
    assert result.errors[0].extensions["code"] == "FORBIDDEN"  # type: ignore[attr-defined]
    assert await dump(store) == before


# ---------------------------------------------------------------- cursors across trimming
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_cursor_stays_valid_as_the_front_is_dropped(schema: object, store: Store) -> None:
    gw = gateway(schema, store, cap=3)
    await conversation(store)
    for n in range(4):  # history: 0 1 2
        await set_context(gw, n)
    first = await page(gw, first=2)
    assert steps(first) == [0, 1] and first["pageInfo"]["hasNextPage"] is True
    kept = await page(gw, first=1)  # a cursor on snapshot 0
    for n in range(4, 6):  # history: 2 3 4 (0 and 1 dropped)
        await set_context(gw, n)
    after = await page(gw, first=2, after=first["pageInfo"]["endCursor"])
    assert steps(after) == [2, 3]  # after snapshot 1: nothing skipped, nothing repeated
    assert after["pageInfo"]["hasNextPage"] is True
    rest = await page(gw, first=2, after=after["pageInfo"]["endCursor"])
    assert steps(rest) == [4] and rest["pageInfo"]["hasNextPage"] is False
    gone = await page(gw, first=5, after=kept["pageInfo"]["endCursor"])
    assert steps(gone) == [2, 3, 4]  # its snapshot was dropped: the oldest kept follow it
    back = await page(gw, last=1, before=rest["pageInfo"]["endCursor"])
    assert steps(back) == [3]
    older = await page(gw, last=5, before=first["pageInfo"]["endCursor"])
    assert steps(older) == []  # everything before snapshot 1 was dropped


async def test_a_cursor_keeps_its_place_as_the_list_grows(schema: object, store: Store) -> None:
    gw = gateway(schema, store, cap=50)
    await conversation(store)
    for n in range(3):
        await set_context(gw, n)
    first = await page(gw, first=1)
    for n in range(3, 5):
        await set_context(gw, n)
    assert steps(await page(gw, after=first["pageInfo"]["endCursor"])) == [1, 2, 3]


async def test_an_apps_history_without_numbers_is_numbered_then_trimmed(
    schema: object, store: Store
) -> None:
    gw = gateway(schema, store, cap=3)
    await conversation(store)
    app = [{"entities": {"step": n}, "note": f"app {n}"} for n in range(3)]
    await store.set_many(
        {k.CONTEXT.key(CONV): {"entities": {"step": 3}}, k.CONTEXT_HISTORY.key(CONV): app}
    )
    first = await page(gw, first=2)
    assert steps(first) == [0, 1]
    await set_context(gw, 4)
    stored = await store.get(k.CONTEXT_HISTORY.key(CONV))
    assert [(s["seq"], s.get("note")) for s in stored] == [(1, "app 1"), (2, "app 2"), (3, None)]
    assert steps(await page(gw, after=first["pageInfo"]["endCursor"])) == [2, 3]


def test_sequence_numbers_rise_strictly() -> None:
    assert sequence([{}, {"seq": 5}, {"seq": 5}, "bad", {"seq": 2}, {"seq": 9.0}]) == [
        0,
        5,
        6,
        7,
        8,
        9,
    ]
    assert sequence([{"seq": True}, {"seq": -1}, {"seq": "3"}]) == [0, 1, 2]
    kept = appended([{"a": 1}, "bad", {"seq": 7}], {"b": 2}, cap=3)
    assert kept == ["bad", {"seq": 7}, {"b": 2, "seq": 8}]


# ---------------------------------------------------------------- who, refusals
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_only_the_service_role_sets_a_context(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    await set_context(gw, 0)
    before = await dump(store)
    for who in ({"viewer": ALICE}, {}, {"viewer": BOB, "role": "authenticated"}):
        result = await gw.run(SET, {"input": {"conversationId": CONV, "entities": {}}}, **who)
        assert result.data is None  # type: ignore[attr-defined]
        assert result.errors[0].extensions["code"] == "FORBIDDEN"  # type: ignore[attr-defined]
    assert await dump(store) == before


@pytest.mark.parametrize(
    ("input_", "expected"),
    [
        ({"conversationId": NOWHERE, "entities": {}}, [("conversationId", "NOT_FOUND")]),
        ({"conversationId": "a:b", "entities": {}}, [("conversationId", "NOT_FOUND")]),
        ({"conversationId": CONV}, [(None, "BAD_USER_INPUT")]),
        ({"conversationId": CONV, "session": {"x": "\x00"}}, [("session.x", "BAD_USER_INPUT")]),
    ],
)
async def test_bad_contexts_are_user_errors(
    schema: object, store: Store, input_: dict[str, Any], expected: list[tuple[Any, str]]
) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    await set_context(gw, 0)
    errors = await refused(gw, store, SET, input_, viewer=AGENT, role=SERVICE_ROLE)
    assert fields(errors) == expected


async def test_a_history_that_is_no_list_is_kept(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    await set_context(gw, 0)
    await store.set(k.CONTEXT_HISTORY.key(CONV), {"not": "a list"})
    errors = await refused(
        gw, store, SET, {"conversationId": CONV, "entities": {}}, viewer=AGENT, role=SERVICE_ROLE
    )
    assert fields(errors) == [(None, "INVALID_RECORD")]


@pytest.mark.parametrize("store_url", TEXT_BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "stored",
    ['["a", "list"]', '"a string"', "not json", '{"conversationId": "c2", "entities": {}}'],
)
@pytest.mark.parametrize("query", [SET, CLEAR])
async def test_a_stored_context_kvgraph_cannot_read_is_reported_and_kept(
    schema: object, store: Store, store_url: tuple[str, str], stored: str, query: str
) -> None:
    """Stored data kvgraph cannot read is never the client's fault: INVALID_RECORD, kept."""
    gw = gateway(schema, store)
    await conversation(store)
    await write_raw(store_url, {k.CONTEXT.key(CONV): stored})
    input_ = {"conversationId": CONV, **({"entities": {}} if query is SET else {})}
    errors = await refused(gw, store, query, input_, viewer=AGENT, role=SERVICE_ROLE)
    assert fields(errors) == [(None, "INVALID_RECORD")]
    assert k.CONTEXT.key(CONV) in errors[0]["message"]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_stranger_reads_no_history(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    for n in range(3):
        await set_context(gw, n)
    data = await gw.ok(PAGE, {"id": CONV}, viewer=BOB)
    assert data == {"conversation": None}
    assert await gw.ok(PAGE, {"id": CONV}) == {"conversation": None}


async def test_an_unreadable_snapshot_is_skipped_and_reported(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    history = [{"seq": 0, "entities": {"step": 0}}, "oops", {"seq": 4, "entities": {"step": 4}}]
    await store.set(k.CONTEXT_HISTORY.key(CONV), history)
    result = await gw.run(PAGE, {"id": CONV}, viewer=ALICE)
    found = result.data["conversation"]["contextHistory"]  # type: ignore[attr-defined]
    assert found["totalCount"] == 2 and steps(found) == [0, 4]
    assert "context:history:c1[1]" in str(result.errors)  # type: ignore[attr-defined]


async def test_deleting_the_conversation_deletes_its_history(schema: object, store: Store) -> None:
    gw = gateway(schema, store)
    await conversation(store)
    for n in range(3):
        await set_context(gw, n)
    await done(gw, DELETE_CONV, {"id": CONV})
    assert set(await dump(store)) == {k.CONVERSATIONS_INDEX.key(ALICE)}


# ---------------------------------------------------------------- concurrency
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_contexts_lose_no_snapshot(schema: object, store: Store) -> None:
    gw = gateway(schema, store, cap=50)
    await conversation(store)
    await asyncio.gather(*(set_context(gw, n) for n in range(12)))
    stored = await store.get(k.CONTEXT_HISTORY.key(CONV))
    assert [s["seq"] for s in stored] == list(range(11))
    current = (await store.get(k.CONTEXT.key(CONV)))["entities"]["step"]
    recorded = {s["entities"]["step"] for s in stored}
    assert recorded | {current} == set(range(12)) and current not in recorded


# ---------------------------------------------------------------- the setting, over HTTP
async def test_the_configured_cap_reaches_requests(aiohttp_client: Any, tmp_path: Any) -> None:
    from gql.web.appkeys import STORE
    from gql.web.auth import mint_token
    from tests.support import SECRET, app_client, over

    client = await app_client(aiohttp_client, tmp_path, context_history_cap=2)
    await conversation(client.server.app[STORE])
    service = {"Authorization": f"Bearer {mint_token(SECRET, AGENT, role=SERVICE_ROLE)}"}
    for n in range(5):
        variables = {"input": {"conversationId": CONV, "entities": {"step": n}}}
        resp = await over(client, "POST", SET, variables=variables, headers=service)
        assert (await resp.json())["data"]["setContext"]["userErrors"] == []
    owner = {"Authorization": f"Bearer {mint_token(SECRET, ALICE)}"}
    resp = await over(client, "POST", PAGE, variables={"id": CONV}, headers=owner)
    assert steps((await resp.json())["data"]["conversation"]["contextHistory"]) == [2, 3]


@pytest.mark.parametrize("cap", [0, 1001, "many"])
def test_a_bad_cap_is_refused(monkeypatch: pytest.MonkeyPatch, cap: object) -> None:
    from pydantic import ValidationError

    from gql.web.settings import Settings, config_errors

    monkeypatch.setenv("KVGRAPH_CONTEXT_HISTORY_CAP", str(cap))
    with pytest.raises(ValidationError) as caught:
        Settings()
    (line,) = config_errors(caught.value)
    assert line.startswith("KVGRAPH_CONTEXT_HISTORY_CAP: ")


async def test_the_demo_conversations_have_a_history(schema: object, store: Store) -> None:
    from gql.commands.demo import DEMO_USER_ID, seed_demo

    await seed_demo(store)
    query = """{ viewer { conversations { nodes { context { session }
      contextHistory { totalCount nodes { seq session } } } } } }"""
    data = await gateway(schema, store).ok(query, viewer=DEMO_USER_ID)
    for conv in data["viewer"]["conversations"]["nodes"]:
        history = conv["contextHistory"]
        turns = conv["context"]["session"]["turns"]
        assert history["totalCount"] == turns - 1 > 0
        assert [n["seq"] for n in history["nodes"]] == list(range(turns - 1))
        assert [n["session"]["turns"] for n in history["nodes"]] == list(range(1, turns))


async def test_histories_of_every_conversation_in_one_round_trip(
    schema: object, store: Store
) -> None:
    gw = gateway(schema, store)
    rows: dict[str, Any] = {k.CONVERSATIONS_INDEX.key(ALICE): [f"c{n}" for n in range(8)]}
    for n in range(8):
        rows[k.CONVERSATION.key(f"c{n}")] = {"id": f"c{n}", "userId": ALICE}
        rows[k.CONTEXT_HISTORY.key(f"c{n}")] = [{"seq": s} for s in range(n)]
    await store.set_many(rows)
    query = "{ viewer { conversations { nodes { id %s } } } }"
    without = await gw.run(query % "", viewer=ALICE)
    with_history = await gw.run(query % "contextHistory { totalCount }", viewer=ALICE)
    assert with_history.errors is None  # type: ignore[attr-defined]
    nodes = with_history.data["viewer"]["conversations"]["nodes"]  # type: ignore[attr-defined]
    assert [n["contextHistory"]["totalCount"] for n in nodes] == list(range(8))
    batches = [r.extensions["kv"]["batches"] for r in (without, with_history)]  # type: ignore[attr-defined]
    assert batches[1] == batches[0] + 1
