"""Cached web pages (`websource:{hash}`): the hash is the hex SHA-256 of the normalized URL;
the service role upserts, reads and deletes them by URL or hash; a user finds none."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from gql.kv import Store
from resolvers.context import SERVICE_ROLE
from resolvers.ids import node_id
from resolvers.websources import normalize_url, url_hash
from tests.support import ALICE, BACKENDS, Gateway, done, dump, fields, mutation, refused

PAGE_F = "hash url title content fetchedAt"
UPSERT = mutation("upsertWebSource", f"webSource {{ {PAGE_F} }}")
DELETE = mutation("deleteWebSource", "webSource { hash url }")
BY_URL = "query($u: String) { webSource(url: $u) { hash url title content } }"
BY_HASH = "query($h: String) { webSource(hash: $h) { hash url title } }"
URL = "https://example.com/lisbon/fado?day=13"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://example.com", "https://example.com/"),
        ("  HTTPS://Example.COM:443/a/B?x=1&a=2#frag  ", "https://example.com/a/B?x=1&a=2"),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com:8080/", "http://example.com:8080/"),
        ("https://example.com:80/", "https://example.com:80/"),
        ("https://example.com/?", "https://example.com/"),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
    ],
)
def test_urls_are_normalized(given: str, normal: str) -> None:
    assert normalize_url(given) == normal
    assert url_hash(given) == sha(normal)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("ftp://example.com/f", "only http and https"),
        ("example.com/page", "only http and https"),
        ("https:///path", "needs a host"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://example.com/a b", "spaces"),
        ("https://example.com:99999/", "not a URL"),
        ("https://example.com/" + "x" * 2100, "at most 2,048"),
    ],
)
def test_urls_that_are_not_cached(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        normalize_url(bad)


async def upsert(gw: Gateway, input_: dict[str, Any]) -> Any:
    return await done(gw, UPSERT, input_, viewer="agent", role=SERVICE_ROLE)


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_page_is_upserted_read_and_deleted(gw: Gateway, store: Store) -> None:
    page = await upsert(gw, {"url": URL, "title": "Fado", "content": "<p>tonight</p>"})
    key = sha(URL)
    assert page["hash"] == key and page["url"] == URL and page["fetchedAt"]
    assert await store.get(f"websource:{key}") == {
        "url": URL,
        "title": "Fado",
        "content": "<p>tonight</p>",
        "hash": key,
        "fetchedAt": (await store.get(f"websource:{key}"))["fetchedAt"],
    }
    # Another spelling of the same page updates the same record; what it leaves out is kept.
    again = await upsert(
        gw,
        {
            "url": "HTTPS://EXAMPLE.com:443/lisbon/fado?day=13#map",
            "content": "new",
            "fetchedAt": "2026-06-01T12:00:00+01:00",
        },
    )
    assert again["title"] == "Fado" and again["content"] == "new"
    assert again["fetchedAt"] == "2026-06-01T12:00:00+01:00"
    assert [k async for k, _ in store.iter_prefix("websource:")] == [f"websource:{key}"]

    service = {"viewer": "agent", "role": SERVICE_ROLE}
    by_url = await gw.ok(BY_URL, {"u": "https://example.com/lisbon/fado?day=13#x"}, **service)
    assert by_url["webSource"]["content"] == "new"
    by_hash = await gw.ok(BY_HASH, {"h": key}, **service)
    assert by_hash["webSource"]["url"] == URL
    node = await gw.ok(
        "query($n: ID!) { node(nodeId: $n) { ... on WebSource { title } } }",
        {"n": node_id("WebSource", key)},
        **service,
    )
    assert node == {"node": {"title": "Fado"}}
    assert await gw.ok(BY_URL, {"u": "https://example.com/other"}, **service) == {"webSource": None}

    deleted = await done(gw, DELETE, {"url": URL}, viewer="agent", role=SERVICE_ROLE)
    assert deleted == {"hash": key, "url": URL}
    assert await dump(store) == {}


async def test_a_page_an_app_cached_under_its_own_hash_is_read_by_hash(
    gateway: Gateway, store: Store
) -> None:
    await store.set("websource:md5-abc", {"url": "https://x.test/", "text": "cached"})
    service = {"viewer": "agent", "role": SERVICE_ROLE}
    data = await gateway.ok('query { webSource(hash: "md5-abc") { hash url content } }', **service)
    assert data["webSource"] == {"hash": "md5-abc", "url": "https://x.test/", "content": "cached"}
    deleted = await done(gateway, DELETE, {"hash": "md5-abc"}, viewer="agent", role=SERVICE_ROLE)
    assert deleted["hash"] == "md5-abc"


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_user_reads_no_page_and_writes_none(gw: Gateway, store: Store) -> None:
    page = await upsert(gw, {"url": URL, "title": "Fado"})
    for viewer in (ALICE, None):
        assert await gw.ok(BY_URL, {"u": URL}, viewer=viewer) == {"webSource": None}
        assert await gw.ok(BY_HASH, {"h": page["hash"]}, viewer=viewer) == {"webSource": None}
        for query, input_ in ((UPSERT, {"url": URL, "title": "mine"}), (DELETE, {"url": URL})):
            before = await dump(store)
            result: Any = await gw.run(query, {"input": input_}, viewer=viewer)
            assert [err.extensions["code"] for err in result.errors] == ["FORBIDDEN"]
            assert await dump(store) == before


@pytest.mark.parametrize(
    ("query", "input_", "expected"),
    [
        (UPSERT, {"url": "ftp://example.com/"}, [("url", "BAD_USER_INPUT")]),
        (UPSERT, {"url": "nothing"}, [("url", "BAD_USER_INPUT")]),
        (UPSERT, {"url": URL, "title": "x" * 201}, [("title", "BAD_USER_INPUT")]),
        (UPSERT, {"url": URL, "content": "x" * 500_001}, [("content", "BAD_USER_INPUT")]),
        (UPSERT, {"url": URL, "content": "nul \x00"}, [("content", "BAD_USER_INPUT")]),
        (DELETE, {"url": "https://example.com/gone"}, [("url", "NOT_FOUND")]),
        (DELETE, {"hash": "0" * 64}, [("hash", "NOT_FOUND")]),
        (DELETE, {}, [(None, "BAD_USER_INPUT")]),
        (DELETE, {"url": URL, "hash": "0" * 64}, [(None, "BAD_USER_INPUT")]),
        (DELETE, {"url": "mailto:a@b.c"}, [("url", "BAD_USER_INPUT")]),
        (DELETE, {"hash": "a:b"}, [("hash", "BAD_USER_INPUT")]),
    ],
    ids=lambda v: str(v)[:50],
)
async def test_refused_page_writes_change_nothing(
    gw: Gateway,
    store: Store,
    query: str,
    input_: dict[str, Any],
    expected: list[tuple[str | None, str]],
) -> None:
    await upsert(gw, {"url": URL, "title": "Fado"})
    errors = await refused(gw, store, query, input_, viewer="agent", role=SERVICE_ROLE)
    assert fields(errors) == expected


@pytest.mark.parametrize(
    "variables", [{}, {"u": URL, "h": "abc"}, {"u": "ftp://x"}], ids=["none", "both", "ftp"]
)
async def test_a_lookup_naming_no_page_is_bad_input(gw: Gateway, variables: dict[str, str]) -> None:
    query = "query($u: String, $h: String) { webSource(url: $u, hash: $h) { hash } }"
    result: Any = await gw.run(query, variables, viewer="agent", role=SERVICE_ROLE)
    assert [err.extensions["code"] for err in result.errors] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_upserts_of_one_page_leave_one_whole_record(
    gw: Gateway, store: Store
) -> None:
    spellings = [URL, URL + "#a", "https://EXAMPLE.com/lisbon/fado?day=13"]
    await asyncio.gather(
        *(
            upsert(gw, {"url": spellings[n % 3], "title": f"t{n}", "content": f"c{n}"})
            for n in range(12)
        )
    )
    rows = {k: v async for k, v in store.iter_prefix("websource:")}
    assert list(rows) == [f"websource:{sha(URL)}"]
    (stored,) = rows.values()
    assert stored["title"][1:] == stored["content"][1:]  # one upsert's title and content
