"""Persisted queries: Apollo's APQ protocol over GET and POST, the bounded cache, the
allow-list mode and the registry file it loads."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import ValidationError

from gql.web.auth import mint_token
from gql.web.persisted import (
    DocumentCache,
    Operation,
    PersistedQueries,
    PersistedQueryError,
    document_hash,
    load_manifest,
    manifest,
)
from gql.web.settings import Settings
from tests.support import SECRET, app_client

GR = "application/graphql-response+json"
Client = TestClient  # type: ignore[type-arg]
MakeClient = Callable[..., Awaitable[Any]]
TOKEN = {"Authorization": f"Bearer {mint_token(SECRET, 'u1')}"}
QUERY = "query Viewer { viewer { id } }"
CREATE = 'mutation Create { createTrip(input: {title: "x"}) { trip { id } } }'


def apq(document: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": document_hash(document)}}


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> Client:
    return await app_client(aiohttp_client, tmp_path)


async def post(client: Client, body: dict[str, Any], accept: str = "*/*") -> Any:
    resp = await client.post("/graphql", json=body, headers={**TOKEN, "Accept": accept})
    return resp, await resp.json(content_type=None)


async def get(client: Client, params: dict[str, Any]) -> Any:
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    resp = await client.get("/graphql", params=query, headers={**TOKEN, "Accept": "*/*"})
    return resp, await resp.json(content_type=None)


def error(body: dict[str, Any]) -> tuple[str, str]:
    [only] = body["errors"]
    return only["message"], only["extensions"]["code"]


def test_hash_is_apollos_sha256_hex() -> None:
    # as `echo -n '{ __typename }' | sha256sum` and Node's crypto compute it
    assert document_hash("{ __typename }") == (
        "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
    )


@pytest.mark.parametrize("accept", ["*/*", GR])
async def test_apq_over_post(client: Client, accept: str) -> None:
    missing, body = await post(client, {"extensions": apq(QUERY)}, accept)
    assert missing.status == 200  # Apollo clients retry with the text only on a 200
    assert error(body) == ("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
    assert "no-cache" in missing.headers["Cache-Control"]
    full, body = await post(client, {"query": QUERY, "extensions": apq(QUERY)}, accept)
    assert full.status == 200 and body == {"data": {"viewer": {"id": "u1"}}}
    again, body = await post(client, {"extensions": apq(QUERY)}, accept)
    assert again.status == 200 and body == {"data": {"viewer": {"id": "u1"}}}


async def test_apq_over_get_with_variables(client: Client) -> None:
    document = "query Places($first: Int) { locations(first: $first) { totalCount } }"
    params = {"extensions": apq(document), "variables": {"first": 5}}
    resp, body = await get(client, params)
    assert resp.status == 200 and error(body)[1] == "PERSISTED_QUERY_NOT_FOUND"
    resp, body = await get(client, {**params, "query": document})
    assert body == {"data": {"locations": {"totalCount": 0}}}
    resp, body = await get(client, params)
    assert resp.status == 200 and body == {"data": {"locations": {"totalCount": 0}}}


async def test_a_persisted_mutation_over_get_is_405(client: Client) -> None:
    await post(client, {"query": CREATE, "extensions": apq(CREATE)})  # registers and runs
    resp, body = await get(client, {"extensions": apq(CREATE)})
    assert resp.status == 405 and error(body)[1] == "BAD_REQUEST"


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (apq("{ __typename }"), "does not match"),
        (apq(QUERY, version=2), "version"),
        ({"persistedQuery": "abc"}, "version"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}, "64 lowercase hex"),
        ({"persistedQuery": {"version": 1, "sha256Hash": 5}}, "64 lowercase hex"),
        ({"persistedQuery": {"version": 1}}, "64 lowercase hex"),
    ],
)
async def test_bad_persisted_query_extensions_are_400(
    client: Client, extensions: dict[str, Any], message: str
) -> None:
    resp, body = await post(client, {"query": QUERY, "extensions": extensions})
    assert resp.status == 400 and error(body)[1] == "BAD_REQUEST"
    assert message in error(body)[0]


async def test_other_extensions_are_ignored(client: Client) -> None:
    resp, body = await post(client, {"query": QUERY, "extensions": {"tracing": True}})
    assert resp.status == 200 and body == {"data": {"viewer": {"id": "u1"}}}


async def test_apq_can_be_switched_off(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    client = await app_client(aiohttp_client, tmp_path, persisted_queries="off")
    resp, body = await post(client, {"query": QUERY, "extensions": apq(QUERY)})
    assert resp.status == 200
    assert error(body) == ("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
    _, body = await post(client, {"query": QUERY})
    assert body == {"data": {"viewer": {"id": "u1"}}}


def test_the_cache_is_lru_and_bounded_by_characters() -> None:
    cache = DocumentCache(max_chars=10)
    cache.put("a", "aaaa")
    cache.put("b", "bbbb")
    assert cache.get("a") == "aaaa"  # now b is the least recently used
    cache.put("c", "cccc")
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (None, "aaaa", "cccc")
    assert cache.chars == 8 and len(cache) == 2
    cache.put("huge", "x" * 11)
    assert cache.get("huge") is None and len(cache) == 2


def test_apq_cache_eviction_means_not_found_again() -> None:
    persisted = PersistedQueries("apq", {}, cache_chars=len(QUERY))
    assert persisted.resolve(QUERY, apq(QUERY)) == QUERY
    assert persisted.resolve(None, apq(QUERY)) == QUERY
    other = "{ __typename }"
    persisted.resolve(other, apq(other))
    with pytest.raises(PersistedQueryError) as refused:
        persisted.resolve(None, apq(QUERY))
    assert refused.value.code == "PERSISTED_QUERY_NOT_FOUND"


def registry(tmp_path: Path, *documents: str) -> Path:
    path = tmp_path / "persisted-queries.json"
    ops = [Operation(document_hash(d), f"Op{n}", "query", d) for n, d in enumerate(documents)]
    path.write_bytes(manifest(ops))
    return path


async def test_allowlist_runs_only_registered_documents(
    aiohttp_client: MakeClient, tmp_path: Path
) -> None:
    path = registry(tmp_path, QUERY)
    client = await app_client(
        aiohttp_client, tmp_path, persisted_queries="allowlist", persisted_queries_file=str(path)
    )
    ok = {"data": {"viewer": {"id": "u1"}}}
    assert (await post(client, {"extensions": apq(QUERY)}))[1] == ok
    assert (await get(client, {"extensions": apq(QUERY)}))[1] == ok
    assert (await post(client, {"query": QUERY}))[1] == ok
    assert (await post(client, {"query": QUERY, "extensions": apq(QUERY)}))[1] == ok
    other = "{ viewer { email } }"
    for body in (
        {"query": other},
        {"extensions": apq(other)},
        {"query": other, "extensions": apq(other)},
    ):
        resp, answer = await post(client, body)
        assert resp.status == 403 and error(answer)[1] == "PERSISTED_QUERY_NOT_IN_LIST", body
    resp, answer = await post(client, {"query": QUERY + " "})  # not the registered text
    assert resp.status == 403


def test_allowlist_needs_a_registry(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="KVGRAPH_PERSISTED_QUERIES_FILE"):
        Settings(persisted_queries="allowlist")
    with pytest.raises(ValidationError, match="cannot read"):
        Settings(persisted_queries="allowlist", persisted_queries_file=str(tmp_path / "nope"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{", "not JSON"),
        (b"[]", "format"),
        (
            b'{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}',
            "version 1",
        ),
        (
            b'{"format": "apollo-persisted-query-manifest", "version": 1, '
            b'"operations": [{"id": "abc", "body": "{ __typename }"}]}',
            "SHA-256",
        ),
        (
            b'{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [5]}',
            "SHA-256",
        ),
    ],
)
def test_a_bad_registry_is_refused_at_start(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_manifest(path)
    with pytest.raises(ValidationError, match=message):
        Settings(persisted_queries_file=str(path))


def test_a_registry_round_trips(tmp_path: Path) -> None:
    path = registry(tmp_path, QUERY, "{ __typename }")
    assert load_manifest(path) == {
        document_hash(QUERY): QUERY,
        document_hash("{ __typename }"): "{ __typename }",
    }
