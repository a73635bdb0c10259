"""API keys: set, replaced and deleted by their user, stored only encrypted, shown only masked.

The clear key must never leave the server: every response, error, log line (text and JSON
access log) and `check` report in these tests is searched for it. Without an encryption key
the feature refuses and writes nothing; stored keys kvgraph cannot decrypt are reported by
`check` and kept.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gql.kv import Store
from gql.kv import keys as k
from gql.kv.check import Kind, scan
from gql.kv.secrets import SecretBox, Undecryptable
from gql.schema.build import build_schema
from gql.web import logs
from gql.web.auth import mint_token
from gql.web.settings import DEV_API_KEY_SECRET, Settings, config_errors
from resolvers.ids import node_id
from tests.support import (
    ALICE,
    BACKENDS,
    BOB,
    SECRET,
    UE,
    Gateway,
    done,
    dump,
    fields,
    mutation,
    over,
    refused,
)

BOX = SecretBox("an-api-key-encryption-secret-of-40-bytes!")
CLEAR = "sk-live-CLEARTEXT-4f9a2b7c1d8e3f60a5b4"  # the user's key: never seen outside
OTHER = "sk-ant-SECONDKEY-77aa88bb99cc00dd11ee"
KEY_F = "nodeId provider hint masked createdAt updatedAt"
SET = mutation("setApiKey", f"apiKey {{ {KEY_F} }}")
DELETE = mutation("deleteApiKey", "apiKey { provider hint }")
VIEWER = f"{{ viewer {{ apiKey {{ {KEY_F} }} }} }}"
NODE = "query($n: ID!) { node(nodeId: $n) { __typename ... on ApiKey { provider hint masked } } }"


@pytest.fixture
def keyed(schema: object, store: Store) -> Gateway:
    """A gateway whose requests can encrypt API keys."""
    return Gateway(schema, store, secret_box=BOX)


def clean(*found: Any) -> None:
    """Insist that none of these (responses, logs, reports) holds a clear key or a part of
    one longer than its hint."""
    text = json.dumps(found, default=str)
    for clear in (CLEAR, OTHER):
        assert clear not in text
        assert clear[:-4] not in text  # nothing but the last four characters ever shows


def wire(result: Any) -> dict[str, Any]:
    """A result as a client receives it (data and formatted errors)."""
    return {"data": result.data, "errors": [e.formatted for e in result.errors or ()]}


async def as_text(store: Store) -> str:
    return json.dumps(await dump(store))


# ---------------------------------------------------------------- set, read, replace, delete
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_key_is_stored_encrypted_and_shown_masked(keyed: Gateway, store: Store) -> None:
    shown = await done(keyed, SET, {"provider": " openai ", "secret": f"  {CLEAR} "})
    assert (shown["provider"], shown["hint"], shown["masked"]) == ("openai", "a5b4", "••••a5b4")
    stored = await store.get(k.APIKEY.key(ALICE))
    assert set(stored) == {"userId", "provider", "hint", "ciphertext", "createdAt", "updatedAt"}
    assert stored["hint"] == "a5b4" and stored["ciphertext"].startswith(f"v1.{BOX.key_id}.")
    assert BOX.open(stored["ciphertext"], k.APIKEY.key(ALICE)) == CLEAR
    assert CLEAR not in await as_text(store)
    mine = await keyed.ok(VIEWER, viewer=ALICE)
    assert mine["viewer"]["apiKey"] == shown
    found = await keyed.ok(NODE, {"n": node_id("ApiKey", ALICE)}, viewer=ALICE)
    assert found["node"] == {
        "__typename": "ApiKey",
        "provider": "openai",
        "hint": "a5b4",
        "masked": "••••a5b4",
    }
    clean(shown, mine, found)


async def test_a_key_sealed_for_one_user_does_not_open_for_another(
    keyed: Gateway, store: Store
) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    sealed = (await store.get(k.APIKEY.key(ALICE)))["ciphertext"]
    with pytest.raises(Undecryptable, match="copied from another record"):
        BOX.open(sealed, k.APIKEY.key(BOB))
    with pytest.raises(Undecryptable, match="another key"):
        SecretBox("another-secret-entirely-0123456789-xyz").open(sealed, k.APIKEY.key(ALICE))


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_setting_again_replaces_the_key(keyed: Gateway, store: Store) -> None:
    first = await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    stored = await store.get(k.APIKEY.key(ALICE))
    second = await done(keyed, SET, {"provider": "anthropic", "secret": OTHER})
    assert (second["provider"], second["hint"]) == ("anthropic", "11ee")
    assert second["createdAt"] == first["createdAt"]
    again = await store.get(k.APIKEY.key(ALICE))
    assert again["createdAt"] == stored["createdAt"]
    assert BOX.open(again["ciphertext"], k.APIKEY.key(ALICE)) == OTHER
    clean(first, second)


@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_the_user_deletes_their_key(keyed: Gateway, store: Store) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    errors = await refused(keyed, store, DELETE, {"provider": "anthropic"})
    assert fields(errors) == [("provider", "NOT_FOUND")]
    deleted = await done(keyed, DELETE, {"provider": "openai"})
    assert deleted == {"provider": "openai", "hint": "a5b4"}
    assert await store.get(k.APIKEY.key(ALICE)) is None
    assert (await keyed.ok(VIEWER, viewer=ALICE))["viewer"]["apiKey"] is None
    errors = await refused(keyed, store, DELETE, {})
    assert fields(errors) == [("provider", "NOT_FOUND")]


async def test_deleting_needs_no_encryption_key(gw: Gateway, keyed: Gateway, store: Store) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    assert await done(gw, DELETE, {}) == {"provider": "openai", "hint": "a5b4"}


# ---------------------------------------------------------------- who
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_a_stranger_finds_no_key(keyed: Gateway, store: Store) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    for viewer, role in ((BOB, None), (None, None), (BOB, "service_role")):
        found = await keyed.ok(NODE, {"n": node_id("ApiKey", ALICE)}, viewer=viewer, role=role)
        assert found == {"node": None}
    assert (await keyed.ok(VIEWER, viewer=BOB))["viewer"]["apiKey"] is None
    # Bob's own calls touch Bob's record only.
    errors = await refused(keyed, store, DELETE, {}, viewer=BOB)
    assert fields(errors) == [("provider", "NOT_FOUND")]


async def test_anonymous_callers_are_unauthenticated(keyed: Gateway, store: Store) -> None:
    before = await dump(store)
    for query, input_ in ((SET, {"provider": "openai", "secret": CLEAR}), (DELETE, {})):
        result = await keyed.run(query, {"input": input_})
        assert result.errors[0].extensions["code"] == "UNAUTHENTICATED"  # type: ignore[attr-defined]
        clean(wire(result))
    assert await dump(store) == before


# ---------------------------------------------------------------- refusals
async def test_without_an_encryption_key_nothing_is_stored(gw: Gateway, store: Store) -> None:
    errors = await refused(gw, store, SET, {"provider": "openai", "secret": CLEAR})
    assert fields(errors) == [("secret", "NOT_CONFIGURED")]
    assert "KVGRAPH_API_KEY_SECRET" in errors[0]["message"]
    assert await dump(store) == {}
    clean(errors)


@pytest.mark.parametrize(
    ("input_", "expected"),
    [
        ({"provider": "openai", "secret": "short-123"}, [("secret", "BAD_USER_INPUT")]),
        ({"provider": "openai", "secret": CLEAR + " x"}, [("secret", "BAD_USER_INPUT")]),
        ({"provider": "openai", "secret": CLEAR + "\x07"}, [("secret", "BAD_USER_INPUT")]),
        ({"provider": "openai", "secret": CLEAR * 200}, [("secret", "BAD_USER_INPUT")]),
        ({"provider": "  ", "secret": CLEAR}, [("provider", "BAD_USER_INPUT")]),
        ({"provider": "x" * 51, "secret": CLEAR}, [("provider", "BAD_USER_INPUT")]),
    ],
)
async def test_bad_inputs_are_user_errors_that_never_quote_the_key(
    keyed: Gateway, store: Store, input_: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": OTHER}, viewer=BOB)
    errors = await refused(keyed, store, SET, input_)
    assert fields(errors) == expected
    clean(errors)


BAD_VARIABLES = [
    {"provider": "openai", "secret": CLEAR, "bogus": 1},
    {"secret": CLEAR},
    {"provider": 5, "secret": CLEAR},
    {"provider": "openai", "secret": [CLEAR]},
    {"provider": "openai", "secret": {"key": CLEAR}},
    {"provider": "openai", "sekret": CLEAR},
]
BAD_DOCUMENTS = [
    f'mutation {{ setApiKey(input: {{provider: "o", secret: "{CLEAR}", bogus: 1}}) {{ {KEY_F} }} }}',
    f'mutation {{ setApiKey(input: {{secret: "{CLEAR}"}}) {{ apiKey {{ hint }} }} }}',
    f'mutation {{ setApiKey(input: {{provider: "o", secret: ["{CLEAR}"]}}) {{ apiKey {{ hint }} }} }}',
    f'mutation {{ setApiKey(input: {{provider: "o", secret: {CLEAR.replace("-", "_")}}}) {{ apiKey {{ hint }} }} }}',
    f'mutation {{ k: setApiKey(input: {{provider: "o", sekret: "{CLEAR}"}}) {{ apiKey {{ hint }} }} }}',
]


@pytest.mark.parametrize("introspection", [True, False])
async def test_errors_of_malformed_inputs_never_quote_the_key(
    store: Store, introspection: bool
) -> None:
    gw = Gateway(build_schema(introspection=introspection), store, secret_box=BOX)
    for variables in BAD_VARIABLES:
        result = await gw.run(SET, {"input": variables}, viewer=ALICE)
        assert result.errors, variables  # type: ignore[attr-defined]
        clean(wire(result))
    for document in BAD_DOCUMENTS:
        result = await gw.run(document, viewer=ALICE)
        assert result.errors, document  # type: ignore[attr-defined]
        assert CLEAR.replace("-", "_") not in json.dumps(wire(result))
        clean(wire(result))
    assert await dump(store) == {}


async def test_a_key_written_into_the_document_is_refused(keyed: Gateway, store: Store) -> None:
    literal = f'mutation {{ setApiKey(input: {{provider: "o", secret: "{CLEAR}"}}) {{ {UE} }} }}'
    result = await keyed.run(literal, viewer=ALICE)
    (error,) = result.errors  # type: ignore[attr-defined]
    assert error.extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "as a variable" in error.message
    clean(wire(result))
    assert await dump(store) == {}
    own_variable = 'mutation($s: String!) { setApiKey(input: {provider: "o", secret: $s}) { %s } }'
    out = await keyed.ok(own_variable % UE, {"s": CLEAR}, viewer=ALICE)
    assert out["setApiKey"]["userErrors"] == []
    assert (
        BOX.open((await store.get(k.APIKEY.key(ALICE)))["ciphertext"], k.APIKEY.key(ALICE)) == CLEAR
    )


async def test_other_operations_still_quote_their_inputs(gw: Gateway) -> None:
    query = "mutation M($input: CreateTripInput!) { createTrip(input: $input) { trip { id } } }"
    result = await gw.run(query, {"input": {"title": "Lisbon", "bogus": 1}}, viewer=ALICE)
    assert "Lisbon" in result.errors[0].message  # type: ignore[attr-defined]


# ---------------------------------------------------------------- app records
async def test_an_app_record_shows_only_the_last_four_characters(
    keyed: Gateway, store: Store
) -> None:
    await store.set(
        k.APIKEY.key(ALICE), {"userId": ALICE, "provider": "openai", "hint": CLEAR, "key": CLEAR}
    )
    query = "{ viewer { apiKey { hint masked provider } } }"
    shown = await keyed.ok(query, viewer=ALICE)
    assert shown["viewer"]["apiKey"] == {"hint": "a5b4", "masked": "••••a5b4", "provider": "openai"}
    clean(shown)
    result = await keyed.run("{ viewer { apiKey { data } } }", viewer=ALICE)
    assert result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"  # type: ignore[attr-defined]
    clean(wire(result))
    await done(keyed, SET, {"provider": "openai", "secret": OTHER})  # replaced: ours kept beside
    assert (
        BOX.open((await store.get(k.APIKEY.key(ALICE)))["ciphertext"], k.APIKEY.key(ALICE)) == OTHER
    )


# ---------------------------------------------------------------- concurrency
@pytest.mark.parametrize("store_url", BACKENDS, indirect=True)
async def test_concurrent_sets_leave_one_consistent_record(keyed: Gateway, store: Store) -> None:
    secrets = [f"sk-concurrent-0123456789abcdef-{n:04d}" for n in range(12)]
    shown = await asyncio.gather(
        *(done(keyed, SET, {"provider": "p", "secret": s}) for s in secrets)
    )
    assert [key["hint"] for key in shown] == [s[-4:] for s in secrets]  # each its own
    stored = await store.get(k.APIKEY.key(ALICE))
    clear = BOX.open(stored["ciphertext"], k.APIKEY.key(ALICE))
    assert clear in secrets and stored["hint"] == clear[-4:]
    assert list(await dump(store)) == [k.APIKEY.key(ALICE)]


# ---------------------------------------------------------------- logs
async def test_no_log_line_holds_the_key(
    keyed: Gateway, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kvgraph")
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    for variables in BAD_VARIABLES:
        await keyed.run(SET, {"input": variables}, viewer=ALICE)
    await store.set(k.APIKEY.key(BOB), {"userId": BOB, "hint": 5, "ciphertext": {"x": CLEAR}})
    result = await keyed.run(VIEWER, viewer=BOB)  # an invalid record: reported, logged
    clean(wire(result))
    ours = [r for r in caplog.records if r.name.startswith("kvgraph")]
    assert any("apikey:" in r.getMessage() for r in ours)  # the invalid record was logged
    clean([(r.getMessage(), r.exc_text) for r in ours])


@pytest.fixture
def json_log(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every kvgraph log line at DEBUG and above, as JSON lines."""
    stream = io.StringIO()
    out = logs.handler("json", stream)
    logger = logging.getLogger("kvgraph")
    logger.addHandler(out)
    caplog.set_level(logging.DEBUG, logger="kvgraph")
    try:
        yield stream
    finally:
        logger.removeHandler(out)


async def test_over_http_no_response_or_json_log_line_holds_the_key(
    aiohttp_client: Any, tmp_path: Path, json_log: io.StringIO
) -> None:
    from gql.web.app import create_app
    from gql.web.appkeys import ACCESS_LOG

    config = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        jwt_secret=SECRET,
        api_key_secret="an-api-key-encryption-secret-of-40-bytes!",
    )
    client = await aiohttp_client(create_app(config))
    auth = {"Authorization": f"Bearer {mint_token(SECRET, ALICE)}"}
    bodies = []
    for variables in [{"provider": "openai", "secret": CLEAR}, *BAD_VARIABLES]:
        resp = await over(client, "POST", SET, variables={"input": variables}, headers=auth)
        bodies.append(await resp.text())
    for document in BAD_DOCUMENTS:
        bodies.append(await (await over(client, "POST", document, headers=auth)).text())
    resp = await over(client, "GET", VIEWER, headers=auth)
    bodies.append(await resp.text())
    assert '"hint":"a5b4"' in bodies[-1]
    client.app[ACCESS_LOG].flush()  # the access lines waiting for their batch
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert any(line["logger"] == "kvgraph.access" for line in lines)
    clean(bodies, lines)
    for body in bodies:
        assert CLEAR.replace("-", "_") not in body


# ---------------------------------------------------------------- check
async def test_check_reports_keys_it_cannot_decrypt_and_keeps_them(
    keyed: Gateway, store: Store
) -> None:
    await done(keyed, SET, {"provider": "openai", "secret": CLEAR})
    await done(keyed, SET, {"provider": "openai", "secret": OTHER}, viewer=BOB)
    good = await store.get(k.APIKEY.key(ALICE))
    moved = {**good, "userId": "carol"}  # Alice's ciphertext copied into Carol's record
    other = SecretBox("a-rotated-away-secret-0123456789-abcdef")
    rows = {
        k.APIKEY.key("carol"): moved,
        k.APIKEY.key("dave"): {"userId": "dave", "ciphertext": other.seal(CLEAR, "apikey:dave")},
        k.APIKEY.key("erin"): {"userId": "erin", "ciphertext": "not-sealed"},
        k.APIKEY.key("fay"): {"userId": "fay", "key": CLEAR},  # an app's clear-text key
    }
    await store.set_many(rows)
    before = await dump(store)
    report = await scan(store, secret_box=BOX)
    found = {p.key: p.detail for p in report.of(Kind.INVALID)}
    assert set(found) == {"apikey:carol", "apikey:dave", "apikey:erin", "apikey:fay"}
    assert "copied from another record" in found["apikey:carol"]
    assert "another key" in found["apikey:dave"]
    assert "format" in found["apikey:erin"]
    assert "no encrypted key" in found["apikey:fay"]
    unconfigured = await scan(store)
    assert {p.key for p in unconfigured.of(Kind.NOTE)} >= {
        "apikey:a11ce000-0000-4000-8000-000000000001"
    }
    clean(report.as_json(), unconfigured.as_json())
    assert await dump(store) == before  # kept as stored


# ---------------------------------------------------------------- settings
def test_the_encryption_key_is_validated_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("too-short-secret", DEV_API_KEY_SECRET):
        monkeypatch.setenv("KVGRAPH_API_KEY_SECRET", bad)
        with pytest.raises(ValidationError) as caught:
            Settings()
        (line,) = config_errors(caught.value)
        assert line.startswith("KVGRAPH_API_KEY_SECRET: ") and bad not in line
    monkeypatch.setenv("KVGRAPH_API_KEY_SECRET", "x" * 32)
    settings = Settings()
    assert settings.secret_box() is not None and settings.api_key_notes() == []
    assert "x" * 32 not in repr(settings) + repr(settings.secret_box())
    monkeypatch.delenv("KVGRAPH_API_KEY_SECRET")
    off = Settings()
    assert off.secret_box() is None
    (note,) = off.api_key_notes()
    assert "KVGRAPH_API_KEY_SECRET" in note
    dev = Settings(dev=True)
    assert dev.secret_box() is not None and "dev" in dev.api_key_notes()[0]
