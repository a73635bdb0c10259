"""Full HTTP tests through aiohttp: auth, JSON encoding, health, CORS, the IDE page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import mint_token
from gql.web.settings import Settings

SECRET = "test-secret-0123456789-0123456789-abcdef"
ORIGIN = "http://localhost:5173"
Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        jwt_secret=SECRET,
        debug_stats=True,
        cors_origins=[ORIGIN],
    )
    return await aiohttp_client(create_app(settings))


def bearer(user: str = "u1", **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user, **kw)}"}


async def post(client: Client, query: str, headers: dict[str, str] | None = None) -> Any:
    return await client.post("/graphql", json={"query": query}, headers=headers or {})


async def test_anonymous_viewer_is_null(client: Client) -> None:
    resp = await post(client, "{ viewer { id } }")
    assert resp.status == 200
    body = await resp.json()
    assert body["data"] == {"viewer": None}
    assert body["extensions"]["kv"] == {"batches": 0, "keys": 0}


async def test_token_makes_the_viewer(client: Client) -> None:
    resp = await post(client, "{ viewer { id } }", bearer("u1"))
    assert (await resp.json())["data"] == {"viewer": {"id": "u1"}}


async def test_create_then_read_over_http(client: Client) -> None:
    mutation = 'mutation { createTrip(input: {title: "Kyoto"}) { trip { id title } userErrors { field } } }'
    created = await (await post(client, mutation, bearer())).json()
    trip = created["data"]["createTrip"]["trip"]
    assert trip["title"] == "Kyoto" and created["data"]["createTrip"]["userErrors"] == []
    listed = await (await post(client, "{ viewer { trips { nodes { id } } } }", bearer())).json()
    assert listed["data"]["viewer"]["trips"]["nodes"] == [{"id": trip["id"]}]


async def test_anonymous_mutation_is_unauthenticated(client: Client) -> None:
    resp = await post(client, 'mutation { createTrip(input: {title: "x"}) { trip { id } } }')
    body = await resp.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_error_codes_over_http(client: Client) -> None:
    parse = await (await post(client, "{ viewer {")).json()
    assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    invalid = await (await post(client, "{ nope }")).json()
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in invalid["errors"][0]["message"]


async def test_unexpected_errors_are_masked(
    client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(keys: object) -> None:
        raise RuntimeError("disk /var/lib/secret.db: sqlite exploded")

    monkeypatch.setattr(client.app[STORE], "get_many_raw", broken)
    resp = await post(client, "{ viewer { trips { nodes { id } } } }", bearer())
    body = await resp.json()
    assert resp.status == 200
    error = body["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "Traceback" not in str(body) and "sqlite" not in str(body).lower()
    assert any("unexpected error" in r.message for r in caplog.records)


async def test_health_and_ready(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json()) == {"status": "ok"}


async def test_ready_fails_when_the_store_is_gone(client: Client) -> None:
    store = client.app[STORE]
    await store.close()
    assert (await client.get("/readyz")).status == 503


def preflight(client: Client, asked: str, origin: str = ORIGIN) -> Any:
    return client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked,
        },
    )


CLIENT_HEADERS = (
    "authorization, content-type, apollographql-client-name, apollographql-client-version, "
    "sentry-trace, baggage, traceparent, x-apollo-operation-name, apollo-require-preflight, "
    "apikey, x-client-info"
)


async def test_cors_preflight_allows_the_common_client_headers(client: Client) -> None:
    pre = await preflight(client, CLIENT_HEADERS)
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {h.strip().lower() for h in pre.headers["Access-Control-Allow-Headers"].split(",")}
    assert {h.strip() for h in CLIENT_HEADERS.split(",")} <= allowed
    resp = await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": ORIGIN}
    )
    assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": "http://evil"}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    refused = await preflight(client, "authorization", origin="http://evil")
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_cors_exposes_www_authenticate(client: Client) -> None:
    resp = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Origin": ORIGIN, "Authorization": "Bearer nope"},
    )
    assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "WWW-Authenticate" in resp.headers["Access-Control-Expose-Headers"]
    missing = await client.get("/nowhere", headers={"Origin": ORIGIN})
    assert missing.status == 404 and missing.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_cors_headers_are_configurable(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        insecure_no_auth=True,
        cors_origins=["*"],
        cors_headers="Authorization, X-Custom",  # type: ignore[arg-type]
    )
    client = await aiohttp_client(create_app(settings))
    pre = await preflight(client, "x-custom", origin="http://anywhere")
    assert pre.headers["Access-Control-Allow-Headers"] == "Authorization, X-Custom"
    echo = Settings(
        store_url=settings.store_url, insecure_no_auth=True, cors_origins=["*"], cors_headers=["*"]
    )
    client = await aiohttp_client(create_app(echo))
    pre = await preflight(client, "x-anything, authorization", origin="http://anywhere")
    assert pre.headers["Access-Control-Allow-Headers"] == "x-anything, authorization"


@pytest.mark.parametrize("value", ["Authorization, Bad Header", '["x\\r\\ny"]', "a;b"])
def test_cors_header_names_are_validated(value: str) -> None:
    with pytest.raises(ValidationError, match="not header names"):
        Settings(cors_headers=value)  # type: ignore[arg-type]


INTROSPECTION = [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Trip") { name } }',
    "query { viewer { id } ... on Query { __schema { types { name } } } }",
]


@pytest.mark.parametrize("query", INTROSPECTION)
async def test_introspection_is_off_in_production(client: Client, query: str) -> None:
    body = await (await post(client, query)).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in body["errors"][0]["message"]
    typename = await (await post(client, "{ __typename }")).json()
    assert typename == {
        "data": {"__typename": "Query"},
        "extensions": {"kv": {"batches": 0, "keys": 0}},
    }


@pytest.mark.parametrize("mode", [{"introspection": True}, {"dev": True}])
async def test_introspection_with_the_setting_or_dev(
    aiohttp_client: MakeClient, tmp_path: Path, mode: dict[str, bool]
) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", **mode)
    client = await aiohttp_client(create_app(settings))
    for query in INTROSPECTION:
        body = await (await post(client, query)).json()
        assert "errors" not in body, body


async def test_graphiql_page_is_served(client: Client) -> None:
    resp = await client.get("/graphql", headers={"Accept": "text/html"})
    assert resp.status == 200
    assert "graphiql" in (await resp.text()).lower()


async def test_get_query(client: Client) -> None:
    resp = await client.get("/graphql", params={"query": "{ viewer { id } }"}, headers=bearer())
    assert (await resp.json())["data"] == {"viewer": {"id": "u1"}}
