"""One pipeline for every transport: each rule holds over GET and POST alike, and nothing else
reaches the schema (other WebSocket subprotocols, content types and methods are refused).

Each rule is tested per transport (`TRANSPORTS`): auth, the persisted-query lookup (APQ and the
allow-list), the four limits, the rate limit and the bounds on request JSON. The execution
timeout per transport is in `test_limits.py` (it needs a locked Postgres table).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.persisted import Operation, document_hash, manifest
from tests.support import SECRET, TRANSPORTS, app_client, dump, over

Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
VIEWER = "query Viewer { viewer { id } }"
CREATE = 'mutation { createTrip(input: {title: "x"}) { trip { id } } }'


def bearer(user: str = "u1") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user)}"}


def apq(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_hash(document)}}


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await app_client(aiohttp_client, tmp_path)


async def allowlist_client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    """A server in allow-list mode whose registry holds VIEWER only."""
    path = tmp_path / "persisted-queries.json"
    path.write_bytes(manifest([Operation(document_hash(VIEWER), "Viewer", "query", VIEWER)]))
    return await app_client(
        aiohttp_client, tmp_path, persisted_queries="allowlist", persisted_queries_file=str(path)
    )


@pytest.fixture
async def allowlist(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await allowlist_client(aiohttp_client, tmp_path)


async def refusal(resp: Any, status: int) -> dict[str, Any]:
    """The one error of a refused request, whose body is GraphQL-shaped."""
    assert resp.status == status, await resp.text()
    body = await resp.json(content_type=None)
    assert set(body) <= {"data", "errors"} and body.get("data") is None, body
    [error] = body["errors"]
    return error  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------- auth


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_auth(client: Client, transport: str) -> None:
    ok = await over(client, transport, VIEWER, headers=bearer())
    assert (await ok.json()) == {"data": {"viewer": {"id": "u1"}}}
    anonymous = await over(client, transport, VIEWER)
    assert (await anonymous.json()) == {"data": {"viewer": None}}
    bad = await over(client, transport, VIEWER, headers=bearer() | {"Authorization": "Bearer x.y"})
    error = await refusal(bad, 401)
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert bad.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_mutation_needs_a_token_and_post(client: Client) -> None:
    store = client.app[STORE]
    before = await dump(store)
    anonymous = await (await over(client, "POST", CREATE)).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    by_get = await refusal(await over(client, "GET", CREATE, headers=bearer()), 405)
    assert by_get["extensions"] == {"code": "BAD_REQUEST"}
    assert await dump(store) == before


# ------------------------------------------------------------------------ persisted queries


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_apq(client: Client, transport: str) -> None:
    missing = await refusal(await over(client, transport, extensions=apq(VIEWER)), 200)
    assert missing["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    for query in (VIEWER, None):  # the text registers it; then the hash alone runs it
        resp = await over(client, transport, query, extensions=apq(VIEWER), headers=bearer())
        assert (await resp.json()) == {"data": {"viewer": {"id": "u1"}}}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_allowlist(allowlist: Client, transport: str) -> None:
    for query, extensions in ((VIEWER, None), (None, apq(VIEWER)), (VIEWER, apq(VIEWER))):
        resp = await over(allowlist, transport, query, extensions=extensions, headers=bearer())
        assert (await resp.json()) == {"data": {"viewer": {"id": "u1"}}}
    other = "{ viewer { id displayName } }"
    for query, extensions in ((other, None), (None, apq(other)), (other, apq(other))):
        resp = await over(allowlist, transport, query, extensions=extensions, headers=bearer())
        error = await refusal(resp, 403)
        assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}


async def test_allowlist_refuses_unregistered_mutations(allowlist: Client) -> None:
    store = allowlist.app[STORE]
    before = await dump(store)
    error = await refusal(await over(allowlist, "POST", CREATE, headers=bearer()), 403)
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_IN_LIST"}
    assert await dump(store) == before


# ------------------------------------------------------------------------------------ limits

DEEP = "{ viewer { trips { nodes { items { nodes { trip { items { nodes { trip { items { nodes { trip { id } } } } } } } } } } } } }"
LIMITS = {
    "tokens": ("{ viewer { " + "id " * 2_000 + "} }", {"code": "GRAPHQL_PARSE_FAILED"}),
    "depth": (
        DEEP,
        {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "depth", "max": 10},
    ),
    "aliases": (
        "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(16)) + " }",
        {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "aliases", "max": 15},
    ),
    "nodes": (
        "{ viewer { trips(first: 100) { nodes { items(first: 100) { nodes { trip { items"
        "(first: 100) { nodes { id } } } } } } } } }",
        {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "nodes", "max": 50_000},
    ),
    "merging": (
        "{ viewer { " + "id " * 1_990 + "} }",
        {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "merging", "max": 20_000},
    ),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("limit", list(LIMITS))
async def test_limits(client: Client, transport: str, limit: str) -> None:
    query, extensions = LIMITS[limit]
    store = client.app[STORE]
    reads = store.stats.round_trips
    error = await refusal(await over(client, transport, query, headers=bearer()), 200)
    assert error["extensions"] == extensions
    assert store.stats.round_trips == reads


# -------------------------------------------------------------------------------- rate limit


@pytest.fixture
async def limited(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await app_client(
        aiohttp_client, tmp_path, max_nodes=100, rate_limit=100, rate_window=3600.0
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_rate_limit(limited: Client, transport: str) -> None:
    sixty = "{ viewer { trips(first: 60) { nodes { id } } } }"  # 62 nodes
    assert (await over(limited, transport, sixty, headers=bearer())).status == 200
    resp = await over(limited, transport, sixty, headers=bearer())
    error = await refusal(resp, 429)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "this query costs 62 nodes" in error["message"]
    assert int(resp.headers["Retry-After"]) == error["extensions"]["retryAfter"]
    # A refused document is charged too: 38 tokens left, 40 spent, now in debt.
    invalid = "{ viewer { " + "nope " * 36 + "} }"
    assert (await over(limited, transport, invalid, headers=bearer())).status == 200
    spent = await refusal(await over(limited, transport, VIEWER, headers=bearer()), 429)
    assert "is spent" in spent["message"]


# ------------------------------------------------------------------- request JSON, bounded


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("where", ["variables", "extensions"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 150 + "]" * 150, "nested more than 100 levels deep"),
        ("1" * 5_000, "A number in the request JSON has more than 1,000 characters."),
        ("-0." + "1" * 2_000 + "e5", "A number in the request JSON has more than 1,000"),
    ],
)
async def test_request_json_is_bounded(
    client: Client, transport: str, where: str, text: str, message: str
) -> None:
    if transport == "GET":
        url = client.make_url("/graphql").with_query(query=VIEWER, **{where: '{"a":' + text + "}"})
        resp = await client.session.get(url)
    else:
        body = '{"query": "{ __typename }", "' + where + '": {"a": ' + text + "}}"
        resp = await client.post(
            "/graphql", data=body, headers={"Content-Type": "application/json"}
        )
    error = await refusal(resp, 400)
    assert error["extensions"] == {"code": "BAD_REQUEST"} and message in error["message"]


@pytest.mark.parametrize("depth", [101, 2_000, 100_000])
async def test_a_deep_body_is_400_however_deep(client: Client, depth: int) -> None:
    body = '{"query": "{ __typename }", "variables": {"a": ' + "[" * depth + "]" * depth + "}}"
    resp = await client.post("/graphql", data=body, headers={"Content-Type": "application/json"})
    error = await refusal(resp, 400)
    assert error == {
        "message": "The request JSON is nested more than 100 levels deep.",
        "extensions": {"code": "BAD_REQUEST"},
    }


async def test_json_within_the_bounds_runs(client: Client) -> None:
    # The body is an object holding `variables`: with 98 lists inside, 100 levels.
    variables = {"deep": nested(98), "n": int("9" * 1_000), "x": float("1." + "5" * 997)}
    resp = await over(client, "POST", VIEWER, variables=variables, headers=bearer())
    assert (await resp.json()) == {"data": {"viewer": {"id": "u1"}}}


# ------------------------------------------------------------- nothing else reaches the schema


@pytest.fixture(params=["default", "allowlist"])
async def any_mode(
    request: pytest.FixtureRequest, aiohttp_client: MakeClient, tmp_path: Path
) -> Client:
    if request.param == "default":
        return await app_client(aiohttp_client, tmp_path)
    return await allowlist_client(aiohttp_client, tmp_path)


@pytest.mark.parametrize("protocol", ["graphql-ws", None])
async def test_websocket_protocols_but_graphql_transport_ws_are_closed(
    any_mode: Client, protocol: str | None
) -> None:
    """The legacy subprotocol (and none at all) is closed with 4406 before any message is
    read; graphql-transport-ws is in `test_subscriptions.py`."""
    protocols = [protocol] if protocol else []
    store = any_mode.app[STORE]
    before = await dump(store)
    ws = await any_mode.ws_connect("/graphql", protocols=protocols, headers=bearer())
    assert ws.protocol is None
    await ws.send_str(json.dumps({"type": "connection_init"}))
    frame = await ws.receive(timeout=10)
    assert frame.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4406
    assert await dump(store) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/graphql",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/graphql-response+json",
        None,
    ],
)
async def test_other_bodies_are_refused(client: Client, content_type: str | None) -> None:
    store = client.app[STORE]
    before = await dump(store)
    body = json.dumps({"query": CREATE}) if content_type != "application/graphql" else CREATE
    headers = bearer() | ({"Content-Type": content_type} if content_type else {})
    error = await refusal(await client.post("/graphql", data=body, headers=headers), 400)
    assert error == {"message": "Unsupported content type", "extensions": {"code": "BAD_REQUEST"}}
    assert await dump(store) == before


async def test_multipart_is_refused(client: Client) -> None:
    store = client.app[STORE]
    before = await dump(store)
    form = FormData()
    form.add_field("operations", json.dumps({"query": CREATE}))
    form.add_field("map", "{}")
    form.add_field("0", b"file", filename="a.txt")
    resp = await client.post("/graphql", data=form, headers=bearer())
    error = await refusal(resp, 400)
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert await dump(store) == before


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json-x"])
async def test_json_types_take_the_same_path(client: Client, content_type: str) -> None:
    """Strawberry accepts any type containing `application/json`: the same decoding runs."""
    deep = '{"query": "{ __typename }", "variables": {"a": ' + "[" * 150 + "]" * 150 + "}}"
    resp = await client.post("/graphql", data=deep, headers={"Content-Type": content_type})
    assert "nested more than 100" in (await refusal(resp, 400))["message"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(client: Client, method: str) -> None:
    resp = await client.request(method, "/graphql", json={"query": VIEWER})
    error = await refusal(resp, 405)
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert resp.headers["Allow"] == "GET, POST"
