"""Subscriptions over graphql-transport-ws on /graphql: the four fields, and every HTTP rule
(auth, expiry, origin, allow-list, limits, rate limit, timeout) holding on the socket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gql.kv.changes import ChangeFeed, EventReads
from gql.web.appkeys import AUTH, METRICS, RELEASE, STORE
from gql.web.auth import mint_token
from gql.web.persisted import Operation, document_hash, manifest
from gql.web.release import Release
from gql.web.subscriptions import TransportWS
from tests.support import ALICE, BOB, SECRET, app_client, board_data
from tests.web.gqlws import GqlWs, bearer, connect

MESSAGE_ADDED = "subscription M($id: ID!) { messageAdded(conversationId: $id) { id content role } }"
START = (
    "mutation S($input: StartConversationInput!) "
    "{ startConversation(input: $input) { conversation { id } } }"
)
POST = (
    "mutation P($input: PostMessageInput!) "
    "{ postMessage(input: $input) { message { id } userErrors { code } } }"
)


def token(user: str = ALICE, hours: float = 1.0) -> str:
    return mint_token(SECRET, user, hours=hours)


def auth(user: str = ALICE) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user)}"}


async def http(client: Any, query: str, variables: dict[str, Any], user: str = ALICE) -> Any:
    resp = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=auth(user)
    )
    body = await resp.json()
    assert resp.status == 200 and "errors" not in body, body
    return body["data"]


async def conversation(client: Any, user: str = ALICE) -> str:
    data = await http(client, START, {"input": {"title": "chat"}}, user)
    return str(data["startConversation"]["conversation"]["id"])


async def post(client: Any, conv: str, content: str, user: str = ALICE) -> str:
    data = await http(client, POST, {"input": {"conversationId": conv, "content": content}}, user)
    return str(data["postMessage"]["message"]["id"])


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> Any:
    return await app_client(aiohttp_client, tmp_path, metrics=True)


async def test_a_message_posted_over_http_reaches_the_subscriber(client: Any) -> None:
    conv = await conversation(client)
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
        await _subscribed(client)
        posted = await post(client, conv, "hello")
        payload = await ws.data(op)
        assert payload == {
            "data": {"messageAdded": {"id": posted, "content": "hello", "role": "USER"}}
        }
        second = await post(client, conv, "again")
        assert (await ws.data(op))["data"]["messageAdded"]["id"] == second
        await ws.complete(op)
    await _until_no_watchers(client)


async def _subscribed(client: Any, count: int = 1) -> None:
    """Wait until `count` subscriptions watch the store (the subscribe has been handled)."""
    feed: ChangeFeed = client.app[STORE].changes
    for _ in range(400):
        if feed.active >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"only {feed.active} subscriptions are active")


async def _until_no_watchers(client: Any) -> None:
    feed: ChangeFeed = client.app[STORE].changes
    for _ in range(400):
        if len(feed) == 0:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{len(feed)} watchers left")


CREATE_TRIP = "mutation C($input: CreateTripInput!) { createTrip(input: $input) { trip { id } } }"
ADD_ITEM = (
    "mutation A($input: AddItineraryItemInput!) "
    "{ addItineraryItem(input: $input) { item { id } userErrors { code } } }"
)
ITINERARY = (
    "subscription I($id: ID!) { itineraryChanged(tripId: $id) "
    "{ id title items(first: 10) { nodes { title } } } }"
)
ALERTS = "subscription B($id: ID!) { budgetAlertRaised(tripId: $id) { type message threshold } }"
SUGGESTIONS = "subscription { suggestionChanged { id status content } }"
DISMISS = (
    "mutation D($input: DismissSuggestionInput!) "
    "{ dismissSuggestion(input: $input) { suggestion { id } } }"
)


async def trip(client: Any, user: str = ALICE) -> str:
    data = await http(client, CREATE_TRIP, {"input": {"title": "Lisbon"}}, user)
    return str(data["createTrip"]["trip"]["id"])


async def test_someone_elses_conversation_is_an_error_and_nothing_arrives(client: Any) -> None:
    conv = await conversation(client, ALICE)
    async with connect(client, "/graphql") as bob, connect(client, "/graphql") as alice:
        await bob.init(bearer(token(BOB)))
        await alice.init(bearer(token(ALICE)))
        op = await bob.subscribe(MESSAGE_ADDED, {"id": conv})
        error = await bob.next(op)
        assert error["type"] == "error"
        assert [e["extensions"]["code"] for e in error["payload"]] == ["NOT_FOUND"]
        mine = await alice.subscribe(MESSAGE_ADDED, {"id": conv})
        await _subscribed(client)
        await post(client, conv, "private")
        assert (await alice.data(mine))["data"]["messageAdded"]["content"] == "private"
        await bob.nothing(0.5)


async def test_an_anonymous_socket_subscribes_to_nothing_private(client: Any) -> None:
    conv = await conversation(client)
    async with connect(client, "/graphql") as ws:
        await ws.init()
        error = await ws.next(await ws.subscribe(MESSAGE_ADDED, {"id": conv}))
        assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        error = await ws.next(await ws.subscribe(SUGGESTIONS))
        assert error["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_upgrade_header_authenticates_the_socket(client: Any) -> None:
    conv = await conversation(client)
    async with connect(client, "/graphql", headers=auth(ALICE)) as ws:
        await ws.init()
        op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
        await _subscribed(client)
        await post(client, conv, "by header")
        assert (await ws.data(op))["data"]["messageAdded"]["content"] == "by header"


async def test_a_bad_upgrade_header_is_a_401_before_any_socket(client: Any) -> None:
    import aiohttp

    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(
            "/graphql", protocols=["graphql-transport-ws"], headers={"Authorization": "Bearer x"}
        )
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"Authorization": "Bearer not-a-token"}, "Forbidden: "),
        ({"Authorization": "Basic abc"}, "Forbidden: "),
        ({"Authorization": 42}, "Forbidden: Authorization must be a string"),
    ],
)
async def test_a_bad_token_in_connection_init_closes_4403(
    client: Any, payload: dict[str, Any], reason: str
) -> None:
    async with connect(client, "/graphql") as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        closed = await ws.closed()
        assert ws.ws.close_code == 4403
        assert closed.reason.startswith(reason), closed.reason


@pytest.mark.parametrize("where", ["connection_init", "upgrade"])
async def test_an_expired_token_closes_the_socket(client: Any, where: str) -> None:
    conv = await conversation(client)
    short = token(hours=1.5 / 3600)  # expires in 1.5 s
    headers = {"Authorization": f"Bearer {short}"} if where == "upgrade" else None
    async with connect(client, "/graphql", headers=headers) as ws:
        await ws.init(bearer(short) if where == "connection_init" else None)
        await ws.subscribe(MESSAGE_ADDED, {"id": conv})
        closed = await ws.closed()
        assert ws.ws.close_code == 4403
        assert closed.reason == "Forbidden: token expired"
    await _until_no_watchers(client)


@pytest.mark.parametrize("where", ["connection_init", "upgrade"])
async def test_a_sockets_token_is_decoded_once(
    client: Any, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its `exp` (the expiry timer's) comes with the identity the check verified."""
    import jwt

    decoded: list[str] = []
    real = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    mine = token()
    headers = {"Authorization": f"Bearer {mine}"} if where == "upgrade" else None
    async with connect(client, "/graphql", headers=headers) as ws:
        await ws.init(bearer(mine) if where == "connection_init" else None)
    assert decoded == [mine]


async def test_each_subscription_field_emits_its_changes(client: Any) -> None:
    trip_id = await trip(client)
    store = client.app[STORE]
    from tests.support import suggestion

    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        itinerary = await ws.subscribe(ITINERARY, {"id": trip_id})
        alerts = await ws.subscribe(ALERTS, {"id": trip_id})
        suggestions = await ws.subscribe(SUGGESTIONS)
        await _subscribed(client, 3)
        await http(client, ADD_ITEM, {"input": {"tripId": trip_id, "title": "Tram 28"}})
        got = (await ws.data(itinerary))["data"]["itineraryChanged"]
        assert got["id"] == trip_id and got["items"]["nodes"] == [{"title": "Tram 28"}]
        alert = {"type": "threshold", "message": "80 % spent", "threshold": 0.8}
        await store.set(f"budget:alerts:{trip_id}", [alert])
        served = {**alert, "type": "THRESHOLD"}  # an enum value
        assert (await ws.data(alerts))["data"]["budgetAlertRaised"] == served
        second = {"type": "threshold", "message": "all spent", "threshold": 1.0}
        await store.set(f"budget:alerts:{trip_id}", [alert, second])
        assert (await ws.data(alerts))["data"]["budgetAlertRaised"] == {
            **second,
            "type": "THRESHOLD",
        }
        made = await suggestion(store)
        got = (await ws.data(suggestions))["data"]["suggestionChanged"]
        assert got == {"id": made, "status": "ACTIVE", "content": "Try the tram"}
        await http(client, DISMISS, {"input": {"id": made}})
        got = (await ws.data(suggestions))["data"]["suggestionChanged"]
        assert got["status"] == "DISMISSED"


async def test_a_collaborator_removed_receives_nothing_more(client: Any) -> None:
    trip_id = await trip(client, ALICE)
    store = client.app[STORE]
    entry = f"collaborator:{trip_id}:{BOB}"
    await store.set(entry, {"tripId": trip_id, "userId": BOB, "role": "viewer"})
    async with connect(client, "/graphql") as bob, connect(client, "/graphql") as alice:
        await bob.init(bearer(token(BOB)))
        await alice.init(bearer(token(ALICE)))
        shared = await bob.subscribe(ITINERARY, {"id": trip_id})
        own = await alice.subscribe(ITINERARY, {"id": trip_id})
        await _subscribed(client, 2)
        await http(client, ADD_ITEM, {"input": {"tripId": trip_id, "title": "one"}})
        assert (await bob.data(shared))["data"]["itineraryChanged"]["id"] == trip_id
        assert (await alice.data(own))["data"]["itineraryChanged"]["id"] == trip_id
        await store.delete(entry)  # Bob may no longer read the trip
        await http(client, ADD_ITEM, {"input": {"tripId": trip_id, "title": "two"}})
        assert (await alice.data(own))["data"]["itineraryChanged"]["id"] == trip_id
        await bob.nothing(0.5)


PLACES = (
    "subscription I($id: ID!) { itineraryChanged(tripId: $id) "
    "{ id title items(first: 10) { nodes { title location { name } } } } }"
)
PLACES_NOW = (
    "query T($id: ID!) { trip(id: $id) "
    "{ id title items(first: 10) { nodes { title location { name } } } } }"
)


def rootless(payload: dict[str, Any]) -> dict[str, Any]:
    """A result with its one root field's value as `data` (the trip, by either root)."""
    data = payload["data"]
    return {**payload, "data": None if data is None else next(iter(data.values()))}


async def event_and_http(client: Any, change: dict[str, Any]) -> tuple[Any, Any]:
    """The payload of the event `change` (rows written) sends to a subscriber of trip t0's
    places, and the HTTP answer to the same selection made just after (both rootless)."""
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        op = await ws.subscribe(PLACES, {"id": "t0"})
        await _subscribed(client)
        await client.app[STORE].set_many(change)
        event = await ws.data(op)
    resp = await client.post(
        "/graphql", json={"query": PLACES_NOW, "variables": {"id": "t0"}}, headers=auth()
    )
    assert resp.status == 200
    return rootless(event), rootless(await resp.json())


async def test_an_event_that_reads_too_much_answers_as_http_does(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """The read limit stops the event's execution: no data, one QUERY_TOO_LARGE error."""
    client = await app_client(aiohttp_client, tmp_path, max_records=6)
    rows = await board_data(client.app[STORE], trips=1, items=3, user=ALICE)
    renamed = {"item:t0-i0": {**rows["item:t0-i0"], "title": "Renamed"}}
    event, answer = await event_and_http(client, renamed)
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["QUERY_TOO_LARGE"]
    assert event == answer


async def test_an_event_reports_an_invalid_record_as_http_does(client: Any) -> None:
    rows = await board_data(client.app[STORE], trips=1, items=3, user=ALICE)
    broken = {
        "item:t0-i0": {**rows["item:t0-i0"], "title": "Renamed"},  # the event
        "event:p0": {"id": "p0", "city": "Lisbon"},  # its place, without its name
    }
    event, answer = await event_and_http(client, broken)
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["INVALID_RECORD"]
    assert event == answer


async def test_queries_and_mutations_go_over_http(client: Any) -> None:
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        error = await ws.next(await ws.subscribe("{ viewer { id } }"))
        assert error["type"] == "error", error


async def test_limits_apply_to_each_subscribe(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await app_client(aiohttp_client, tmp_path, max_depth=4, max_nodes=10)
    trip_id = await trip(client)
    deep = (
        "subscription I($id: ID!) { itineraryChanged(tripId: $id) "
        "{ items(first: 1) { nodes { trip { items(first: 1) { nodes { id } } } } } } }"
    )
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        for document, limit in [(deep, "depth"), (ITINERARY, "nodes")]:
            error = await ws.next(await ws.subscribe(document, {"id": trip_id}))
            assert error["type"] == "error", error
            extensions = error["payload"][0]["extensions"]
            assert extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
            assert extensions["limit"] == limit


async def test_the_rate_limit_applies_to_each_subscribe(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await app_client(aiohttp_client, tmp_path, rate_limit=3, max_nodes=3)
    trip_id = await trip(client)
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        codes = []
        for _ in range(4):
            message = await ws.next(await ws.subscribe(ALERTS, {"id": trip_id}))
            if message["type"] == "error":
                codes.append(message["payload"][0]["extensions"]["code"])
        assert "RATE_LIMITED" in codes


async def allowlist(aiohttp_client: Any, tmp_path: Path, documents: list[str]) -> Any:
    registry = tmp_path / "registry.json"
    ops = [
        Operation(document_hash(d), f"Op{n}", "subscription", d) for n, d in enumerate(documents)
    ]
    registry.write_bytes(manifest(ops))
    return await app_client(
        aiohttp_client,
        tmp_path,
        persisted_queries="allowlist",
        persisted_queries_file=str(registry),
    )


async def test_the_allow_list_refuses_an_unregistered_subscription(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await allowlist(aiohttp_client, tmp_path, [MESSAGE_ADDED])
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        other = "subscription { suggestionChanged { id } }"
        error = await ws.next(await ws.subscribe(other))
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        by_hash = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(other)}}
        error = await ws.next(await ws.subscribe(None, extensions=by_hash))
        assert error["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
        registered = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(MESSAGE_ADDED)}}
        op = await ws.subscribe(None, {"id": "nope"}, extensions=registered)
        error = await ws.next(op)  # it ran: the conversation does not exist
        assert error["payload"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_same_origin_page_may_connect(client: Any) -> None:
    host = f"http://{client.host}:{client.port}"
    async with connect(client, "/graphql", headers={"Origin": host}) as ws:
        await ws.init(bearer(token()))


async def test_frames_are_text_json(client: Any) -> None:
    async with connect(client, "/graphql") as ws:
        await ws.send({"type": "connection_init"})
        frame = await ws.ws.receive(timeout=10)
        assert frame.type.name == "TEXT" and json.loads(frame.data) == {"type": "connection_ack"}
        await ws.send({"type": "ping"})
        assert await ws.ws.receive_json(timeout=10) == {"type": "pong"}


async def test_frames_are_not_compressed_even_when_the_client_offers_it(client: Any) -> None:
    """A browser always offers permessage-deflate; accepting it would hold zlib state of about
    300 KiB per socket for its whole life."""
    ws = await client.ws_connect("/graphql", protocols=["graphql-transport-ws"], compress=15)
    try:
        assert ws.compress == 0
        gql = GqlWs(ws)
        await gql.init(bearer(token()))
    finally:
        await ws.close()


async def test_the_gauge_counts_active_subscriptions(client: Any) -> None:
    conv = await conversation(client)

    async def gauge() -> float:
        return float(client.app[METRICS].subscriptions._value.get())

    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        op = await ws.subscribe(MESSAGE_ADDED, {"id": conv})
        await _subscribed(client)
        assert await gauge() == 1
        text = await (await client.get("/metrics")).text()
        assert "kvgraph_active_subscriptions 1.0" in text
        await ws.complete(op)
        await _until_no_watchers(client)
    for _ in range(200):
        if await gauge() == 0:
            break
        await asyncio.sleep(0.025)
    assert await gauge() == 0


async def test_subscribers_of_one_event_share_its_store_reads(client: Any) -> None:
    """One event costs the same round trips to the store for 1 subscriber as for 30 (each
    still checks its access and validates on its own): `EventReads`."""
    conv = await conversation(client)
    stats = client.app[STORE].stats

    async def trips(count: int) -> tuple[int, int]:
        """(round trips, keys read) of posting a message that `count` subscribers get."""
        sockets = [
            await client.ws_connect("/graphql", protocols=["graphql-transport-ws"])
            for _ in range(count)
        ]
        clients = [GqlWs(ws) for ws in sockets]
        await asyncio.gather(*(c.init(bearer(token())) for c in clients))
        ops = await asyncio.gather(*(c.subscribe(MESSAGE_ADDED, {"id": conv}) for c in clients))
        await _subscribed(client, count)
        before = (stats.round_trips, stats.keys_read)
        posted = await post(client, conv, f"to {count}")
        got = await asyncio.gather(*(c.data(op) for c, op in zip(clients, ops, strict=True)))
        assert {g["data"]["messageAdded"]["id"] for g in got} == {posted}
        spent = (stats.round_trips - before[0], stats.keys_read - before[1])
        await _no_event_reads_kept()  # the subscriptions wait for the next event
        await asyncio.gather(*(ws.close() for ws in sockets))
        await _until_no_watchers(client)
        return spent

    one, many = await trips(1), await trips(30)
    print(f"post + event: 1 subscriber {one}, 30 subscribers {many} (round trips, keys)")
    assert many == one


async def _no_event_reads_kept() -> None:
    """Wait until no event's shared reads are kept (the subscriptions let go of them)."""
    import gc

    for _ in range(400):
        gc.collect()
        if not [o for o in gc.get_objects() if isinstance(o, EventReads)]:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("an event's shared reads are still kept")


@pytest.mark.slow
async def test_a_broadcast_reaches_every_subscriber_and_nothing_is_kept(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """The suite's light version of `tests/web/fanout_bench.py` (1,000 subscribers there):
    every socket gets the message; once they leave, a second round holds no more memory.
    (No access log: pytest keeps every log record of a test.)"""
    import gc
    import tracemalloc

    client = await app_client(aiohttp_client, tmp_path, access_log=False)
    conv = await conversation(client)
    feed: ChangeFeed = client.app[STORE].changes

    async def round_(count: int) -> None:
        sockets = []
        for _ in range(count):
            ws = await client.ws_connect("/graphql", protocols=["graphql-transport-ws"])
            sockets.append(ws)
        clients = [GqlWs(ws) for ws in sockets]
        await asyncio.gather(*(c.init(bearer(token())) for c in clients))
        ops = await asyncio.gather(*(c.subscribe(MESSAGE_ADDED, {"id": conv}) for c in clients))
        await _subscribed(client, count)
        posted = await post(client, conv, "to all")
        got = await asyncio.gather(*(c.data(op) for c, op in zip(clients, ops, strict=True)))
        assert {g["data"]["messageAdded"]["id"] for g in got} == {posted}
        await asyncio.gather(*(ws.close() for ws in sockets))
        await _until_no_watchers(client)

    await round_(30)  # warm-up: caches filled
    held = []
    tracemalloc.start(30)
    try:
        for _ in range(3):
            await round_(30)
            await asyncio.sleep(0.5)  # the server's socket handlers finish
            gc.collect()
            held.append(server_side(tracemalloc.take_snapshot()))
    finally:
        tracemalloc.stop()
    assert feed.active == 0 and len(feed) == 0
    # Round after round the server holds the same (what the first kept: bounded caches).
    assert held[2] - held[1] < 32 * 1024, held


def server_side(snapshot: Any) -> int:
    """Bytes held that the client side did not allocate (the test client keeps every
    socket it opened until it closes), leaving out the table of the loop's weak set of async
    generators: it is resized by 16 KiB up or down in whichever round the collector happens
    to leave more or fewer of them alive when it fills, and holds no object alive."""
    import tracemalloc

    client = [
        tracemalloc.Filter(False, pattern, all_frames=True)
        for pattern in ("*/aiohttp/client*.py", "*/aiohttp/test_utils.py", "*/tests/web/*.py")
    ]
    client.append(tracemalloc.Filter(False, "*/_weakrefset.py"))
    return sum(stat.size for stat in snapshot.filter_traces(client).statistics("filename"))


async def test_memory_is_released_once_after_a_burst_of_sockets_closed(client: Any) -> None:
    """The sockets are counted open and shut; their closing halves the peak, so the process
    collects and trims once (not once per socket); no socket handler is kept."""
    import gc

    release: Release = client.app[RELEASE]
    release.floor, release.delay = 10, 0.05
    conv = await conversation(client)
    sockets = [
        await client.ws_connect("/graphql", protocols=["graphql-transport-ws"]) for _ in range(12)
    ]
    clients = [GqlWs(ws) for ws in sockets]
    await asyncio.gather(*(c.init(bearer(token())) for c in clients))
    await asyncio.gather(*(c.subscribe(MESSAGE_ADDED, {"id": conv}) for c in clients))
    await _subscribed(client, 12)
    assert (release.open, release.peak, release.releases) == (12, 12, 0)
    assert release.allocation.malloc is release.allocation.possible  # a burst: malloc
    await asyncio.gather(*(ws.close() for ws in sockets))
    await _until_no_watchers(client)
    for _ in range(400):
        if release.releases:
            break
        await asyncio.sleep(0.025)
    assert (release.open, release.peak, release.releases) == (0, 0, 1)
    assert not release.allocation.malloc  # and pymalloc again
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, TransportWS)]


async def test_a_socket_leaves_no_verified_token_behind(client: Any) -> None:
    """A socket's token is checked once (upgrade header or connection_init): the verified
    tokens kept for HTTP requests do not grow by one per socket."""
    verified = client.app[AUTH].verified
    await conversation(client)  # an HTTP request's token is kept
    kept = len(verified)
    assert kept >= 1
    tokens = [token(hours=1 + n / 100) for n in range(8)]  # 8 distinct texts
    for n, text in enumerate(tokens):
        if n % 2:
            async with connect(client, "/graphql") as ws:
                await ws.init(bearer(text))
        else:
            headers = {"Authorization": f"Bearer {text}"}
            async with connect(client, "/graphql", headers=headers) as ws:
                await ws.init()
    assert len(verified) == kept


async def test_a_socket_holds_at_most_100_subscriptions(client: Any) -> None:
    conv = await conversation(client)
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        for _ in range(100):
            await ws.subscribe(MESSAGE_ADDED, {"id": conv})
        error = await ws.next(await ws.subscribe(MESSAGE_ADDED, {"id": conv}))
        assert error["type"] == "error"
        assert error["payload"][0]["extensions"] == {
            "code": "BAD_REQUEST",
            "limit": "subscriptions",
            "max": 100,
        }


@pytest.mark.parametrize(
    "frame",
    ["[1]", '{"a": ' + "[" * 200 + "]" * 200 + "}", '{"n": 1' + "0" * 1_500 + "}", "not json"],
)
async def test_a_frame_that_is_no_message_closes_4400(client: Any, frame: str) -> None:
    """What the request JSON bounds refuse over HTTP (400) closes the socket with the
    protocol's 4400 here, as a frame that is not JSON does."""
    async with connect(client, "/graphql") as ws:
        await ws.init(bearer(token()))
        await ws.ws.send_str(frame)
        await ws.closed()
        assert ws.ws.close_code == 4400
