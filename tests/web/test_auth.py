"""Tokens, as an attacker would send them: HS256 with the secret, ES256/RS256 from a JWKS served by
a local aiohttp server, the `anon` key; algorithms come from config, never from the token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from gql.web import auth as a
from gql.web.app import create_app
from gql.web.appkeys import STORE
from gql.web.auth import Authenticator, AuthError, JwksCache, mint_token
from gql.web.settings import Settings
from tests.support import board_data

SECRET = "unit-secret-0123456789-0123456789-abcdef"
Client = TestClient  # type: ignore[type-arg]
MakeServer = Callable[..., Awaitable[TestServer]]
MakeClient = Callable[..., Awaitable[Any]]

EC_KEY = ec.generate_private_key(ec.SECP256R1())
EC_OTHER = ec.generate_private_key(ec.SECP256R1())  # not in the JWKS
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    codec = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    jwk: dict[str, Any] = codec.to_jwk(private.public_key(), as_dict=True)
    return jwk | {"kid": kid, "alg": alg, "use": "sig"}


def claims(**over: Any) -> dict[str, Any]:
    base = {"sub": "u1", "aud": "authenticated", "role": "authenticated"}
    return {**base, "exp": int(time.time()) + 3600, **over}


def signed(key: Any, alg: str, kid: str | None = None, **over: Any) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode({k: v for k, v in claims(**over).items() if v is not None}, key, alg, headers)


def hmac_token(secret: bytes, kid: str | None = None) -> str:
    """HS256 over the claims with any bytes as key (PyJWT refuses PEM keys; an attacker won't)."""
    header = {"alg": "HS256", "typ": "JWT"} | ({"kid": kid} if kid else {})
    parts = [base64url_encode(json.dumps(p).encode()) for p in (header, claims())]
    signing_input = b".".join(parts)
    signature = base64url_encode(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


def raw_header(value: str) -> str:
    """A token whose header carries `value` (JSON text) beside `alg`, signed with SECRET."""
    header = base64url_encode(('{"alg":"HS256","x":' + value + "}").encode())
    signing_input = header + b"." + base64url_encode(json.dumps(claims()).encode())
    signature = base64url_encode(hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode()


class Jwks:
    """A JWKS endpoint on 127.0.0.1 that counts its fetches."""

    def __init__(self, server: TestServer, state: dict[str, Any]) -> None:
        self.server, self.state = server, state
        self.url = str(server.make_url("/jwks.json"))

    @property
    def fetches(self) -> int:
        return int(self.state["fetches"])


@pytest.fixture
async def jwks(aiohttp_server: MakeServer) -> Jwks:
    state: dict[str, Any] = {
        "fetches": 0,
        "status": 200,
        "keys": [public_jwk(EC_KEY, "ec1", "ES256"), public_jwk(RSA_KEY, "rsa1", "RS256")],
    }

    async def handler(request: web.Request) -> web.Response:
        state["fetches"] += 1
        return web.json_response({"keys": state["keys"]}, status=state["status"])

    app = web.Application()
    app.router.add_get("/jwks.json", handler)
    return Jwks(await aiohttp_server(app, host="127.0.0.1"), state)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def session() -> Any:
    async with aiohttp.ClientSession() as s:
        yield s


def checker(jwks: Jwks, session: aiohttp.ClientSession, clock: Clock) -> Authenticator:
    cache = JwksCache(jwks.url, session, ttl=600, min_refetch=10, clock=clock)
    return Authenticator(
        secret=SECRET, audience="authenticated", algorithms=["HS256", "ES256", "RS256"], jwks=cache
    )


# --- accepted -------------------------------------------------------------------------------


async def test_hs256_es256_rs256_are_accepted_and_the_keys_cached(
    jwks: Jwks, session: aiohttp.ClientSession
) -> None:
    auth = checker(jwks, session, Clock())
    assert (await auth.decode(mint_token(SECRET, "u-hs"))) == a.Viewer("u-hs", "authenticated")
    assert jwks.fetches == 0  # HS256 needs no JWKS
    es = await auth.decode(signed(EC_KEY, "ES256", "ec1", sub="u-es"))
    rs = await auth.decode(signed(RSA_KEY, "RS256", "rsa1", sub="u-rs", role="service_role"))
    assert es == a.Viewer("u-es", "authenticated") and rs == a.Viewer("u-rs", "service_role")
    for _ in range(5):
        await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    assert jwks.fetches == 1


async def test_anon_key_is_anonymous(jwks: Jwks, session: aiohttp.ClientSession) -> None:
    auth = checker(jwks, session, Clock())
    anon = signed(SECRET, "HS256", role="anon", sub=None, aud=None, iss="supabase")
    assert await auth.decode(anon) is None
    assert await auth.decode(signed(EC_KEY, "ES256", "ec1", role="anon", sub=None)) is None
    with pytest.raises(AuthError, match="expired"):  # still a verified token
        await auth.decode(signed(SECRET, "HS256", role="anon", sub=None, exp=1))
    with pytest.raises(AuthError, match="signature"):
        await auth.decode(signed("x" * 40, "HS256", role="anon", sub=None))


# --- the JWKS cache -------------------------------------------------------------------------


async def test_unknown_kid_refetches_once_rate_limited(
    jwks: Jwks, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    auth = checker(jwks, session, clock)
    await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    assert jwks.fetches == 1
    for kid in ("nope-1", "nope-2", "nope-3"):
        with pytest.raises(AuthError, match="signing key is not known"):
            await auth.decode(signed(EC_OTHER, "ES256", kid))
    assert jwks.fetches == 1  # the last fetch is under 10 s old: no refetch at all
    clock.now += 11
    with pytest.raises(AuthError, match="signing key is not known"):
        await auth.decode(signed(EC_OTHER, "ES256", "nope-4"))
    with pytest.raises(AuthError, match="signing key is not known"):
        await auth.decode(signed(EC_OTHER, "ES256", "nope-5"))
    assert jwks.fetches == 2  # one refetch, then rate-limited again


async def test_rotated_key_is_found_by_one_refetch(
    jwks: Jwks, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    auth = checker(jwks, session, clock)
    await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    jwks.state["keys"].append(public_jwk(EC_OTHER, "ec2", "ES256"))
    clock.now += 11
    assert (await auth.decode(signed(EC_OTHER, "ES256", "ec2", sub="rotated"))).user_id == "rotated"  # type: ignore[union-attr]
    await auth.decode(signed(EC_OTHER, "ES256", "ec2"))
    assert jwks.fetches == 2


async def test_keys_expire_after_the_ttl(jwks: Jwks, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    auth = checker(jwks, session, clock)
    await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    clock.now += 599
    await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    assert jwks.fetches == 1
    jwks.state["keys"] = [public_jwk(RSA_KEY, "rsa1", "RS256")]  # ec1 withdrawn
    clock.now += 2
    with pytest.raises(AuthError, match="signing key is not known"):
        await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    assert jwks.fetches == 2


async def test_concurrent_cold_requests_share_one_fetch(
    jwks: Jwks, session: aiohttp.ClientSession
) -> None:
    auth = checker(jwks, session, Clock())
    token = signed(RSA_KEY, "RS256", "rsa1")
    viewers = await asyncio.gather(*(auth.decode(token) for _ in range(20)))
    assert {v.user_id for v in viewers if v} == {"u1"} and jwks.fetches == 1


async def test_endpoint_failure_keeps_the_old_keys(
    jwks: Jwks, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    auth = checker(jwks, session, clock)
    jwks.state["status"] = 500
    with pytest.raises(AuthError, match="signing keys are unavailable"):
        await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    with pytest.raises(AuthError, match="signing keys are unavailable"):
        await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    assert jwks.fetches == 1  # failures are rate-limited too
    assert any("cannot fetch the JWKS" in r.message for r in caplog.records)
    jwks.state["status"] = 200
    clock.now += 11
    await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    jwks.state["status"] = 503
    clock.now += 700  # stale, and the endpoint is down: the keys we had still verify
    assert (await auth.decode(signed(EC_KEY, "ES256", "ec1"))) is not None
    assert jwks.fetches == 3


async def test_garbage_documents_yield_no_keys(jwks: Jwks, session: aiohttp.ClientSession) -> None:
    jwks.state["keys"] = [
        {"kty": "oct", "kid": "sym", "k": base64url_encode(b"z" * 40).decode()},
        {"kty": "EC", "kid": "broken", "crv": "P-256", "x": "AA", "y": "AA"},
        public_jwk(EC_KEY, "enc1", "ES256") | {"use": "enc"},
        "not a key",
        public_jwk(EC_KEY, "", "ES256"),
    ]
    auth = checker(jwks, session, Clock())
    with pytest.raises(AuthError, match="signature"):  # a symmetric JWK is never a key
        await auth.decode(hmac_token(b"z" * 40, kid="sym"))
    for kid in ("sym", "broken", "enc1"):
        with pytest.raises(AuthError, match="signing key is not known"):
            await auth.decode(signed(EC_KEY, "ES256", kid))
    with pytest.raises(ValueError, match="JWKS"):
        a.parse_jwks({"keys": "nope"})


# --- the JWKS body, however it arrives -------------------------------------------------------

JWKS_BODY = json.dumps({"keys": [public_jwk(EC_KEY, "ec1", "ES256")]}).encode()


async def pieces(response: web.StreamResponse, body: bytes, parts: int = 4) -> None:
    """Write `body` in `parts` TCP pieces with pauses, so the client sees them one by one."""
    size = -(-len(body) // parts)
    for start in range(0, len(body), size):
        await response.write(body[start : start + size])  # returns once the piece is sent
        await asyncio.sleep(0.05)


@pytest.fixture
async def slow_jwks(aiohttp_server: MakeServer) -> dict[str, Any]:
    """JWKS endpoints that send their body in pieces, or more than the cap, on 127.0.0.1."""
    sent: dict[str, Any] = {"bytes": 0, "release": asyncio.Event()}

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await pieces(response, JWKS_BODY)
        await response.write_eof()
        return response

    async def with_length(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(JWKS_BODY)
        await response.prepare(request)
        await pieces(response, JWKS_BODY)
        await response.write_eof()
        return response

    async def declared_too_large(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = a.JWKS_MAX_BYTES + 1
        await response.prepare(request)
        await sent["release"].wait()  # the body never comes: only the header can refuse it
        return response

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b" " * 65_536  # whitespace: valid JSON padding, so only the cap can stop it
        try:
            while sent["bytes"] < 64 * a.JWKS_MAX_BYTES:
                await response.write(chunk)
                sent["bytes"] += len(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up
        return response

    app = web.Application()
    for name, handler in [
        ("chunked", chunked),
        ("length", with_length),
        ("declared", declared_too_large),
        ("endless", endless),
    ]:
        app.router.add_get(f"/{name}", handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    sent["url"] = str(server.make_url("/"))
    yield sent
    sent["release"].set()


@pytest.mark.parametrize("path", ["chunked", "length"])
async def test_a_jwks_sent_in_pieces_is_read_whole(
    slow_jwks: dict[str, Any], session: aiohttp.ClientSession, path: str
) -> None:
    cache = JwksCache(slow_jwks["url"] + path, session)
    auth = Authenticator(secret=None, audience="authenticated", algorithms=["ES256"], jwks=cache)
    assert (await auth.decode(signed(EC_KEY, "ES256", "ec1"))) == a.Viewer("u1", "authenticated")


async def test_a_declared_length_over_the_cap_is_refused_without_reading(
    slow_jwks: dict[str, Any], session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    auth = Authenticator(
        secret=None,
        audience="authenticated",
        algorithms=["ES256"],
        jwks=JwksCache(slow_jwks["url"] + "declared", session),
    )
    with pytest.raises(a.KeysUnavailable):
        await auth.decode(signed(EC_KEY, "ES256", "ec1"))
    # Refused from the header: not a read timeout waiting for the body that never comes.
    assert any(f"too large ({a.JWKS_MAX_BYTES + 1} bytes" in r.message for r in caplog.records)


async def test_a_chunked_jwks_past_the_cap_is_refused_at_the_cap(
    slow_jwks: dict[str, Any], session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    cache = JwksCache(slow_jwks["url"] + "endless", session)
    tracemalloc.start()
    try:
        with pytest.raises(a.KeysUnavailable):
            await cache.key("ec1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert any("too large (over" in r.message for r in caplog.records)
    assert peak < 4 * a.JWKS_MAX_BYTES, peak  # the body is dropped at the cap, never held whole
    assert slow_jwks["bytes"] < 16 * a.JWKS_MAX_BYTES  # the client hung up; the server stopped


async def test_a_content_length_that_lies_reads_only_what_it_declares(
    session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """A raw server declares 20 bytes and sends 2 MB: the client reads 20 and refuses them."""

    async def lying(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
        try:
            writer.write(head + JWKS_BODY[:20] + b" " * (2 * a.JWKS_MAX_BYTES))
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    server = await asyncio.start_server(lying, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        cache = JwksCache(f"http://127.0.0.1:{port}/jwks.json", session)
        with pytest.raises(a.KeysUnavailable):
            await cache.key("ec1")
    finally:
        server.close()
        await server.wait_closed()
    assert any("cannot fetch the JWKS" in r.message for r in caplog.records)


# --- refused, over HTTP ---------------------------------------------------------------------


@pytest.fixture
async def client(aiohttp_client: MakeClient, jwks: Jwks, tmp_path: Path) -> Client:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db", jwt_secret=SECRET, jwks_url=jwks.url
    )
    return await aiohttp_client(create_app(settings))


EC_PEM = EC_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
RSA_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "expired": (lambda: mint_token(SECRET, "u1", hours=-1), a.EXPIRED),
    "expired ES256": (lambda: signed(EC_KEY, "ES256", "ec1", exp=1000), a.EXPIRED),
    "wrong aud": (lambda: mint_token(SECRET, "u1", audience="other"), a.BAD_AUDIENCE),
    "no aud": (lambda: signed(SECRET, "HS256", aud=None), a.BAD_AUDIENCE),
    "wrong signature": (lambda: mint_token("y" * 40, "u1"), a.BAD_SIGNATURE),
    "alg none": (lambda: jwt.encode(claims(), None, algorithm="none"), a.BAD_ALGORITHM),
    "alg HS512 (not configured)": (lambda: signed("k" * 64, "HS512"), a.BAD_ALGORITHM),
    "malformed": (lambda: "not.a.jwt", a.MALFORMED),
    "malformed header": (lambda: "eyJhbGciOi.eyJzdWIiOiJ1In0.c2ln", a.MALFORMED),
    "one segment": (lambda: "abc", a.MALFORMED),
    "header nested 2,000 deep": (lambda: raw_header("[" * 2000 + "]" * 2000), a.MALFORMED),
    "header with a 5,000-digit number": (lambda: raw_header("1" * 5000), a.MALFORMED),
    "missing sub": (lambda: signed(SECRET, "HS256", sub=None), a.BAD_SUB),
    "sub with a colon": (lambda: mint_token(SECRET, "trip:evil"), a.BAD_SUB),
    "missing exp": (lambda: signed(SECRET, "HS256", exp=None), a.MISSING_CLAIM),
    "not yet valid": (lambda: signed(SECRET, "HS256", nbf=int(time.time()) + 3600), a.NOT_YET),
    "HS256 with the EC public key": (lambda: hmac_token(EC_PEM, kid="ec1"), a.BAD_SIGNATURE),
    "HS256 with the RSA public key": (lambda: hmac_token(RSA_PEM, kid="rsa1"), a.BAD_SIGNATURE),
    "HS256 with the JWK": (
        lambda: hmac_token(json.dumps(public_jwk(EC_KEY, "ec1", "ES256")).encode()),
        a.BAD_SIGNATURE,
    ),
    "ES256 by an unknown key, known kid": (
        lambda: signed(EC_OTHER, "ES256", "ec1"),
        a.BAD_SIGNATURE,
    ),
    "ES256 by an unknown key": (lambda: signed(EC_OTHER, "ES256", "ec9"), a.UNKNOWN_KEY),
    "ES256 without kid": (lambda: signed(EC_KEY, "ES256"), a.UNKNOWN_KEY),
    "RS256 unknown kid": (lambda: signed(RSA_KEY, "RS256", "rsa9"), a.UNKNOWN_KEY),
    "ES256 header on the RSA key": (lambda: signed(EC_KEY, "ES256", "rsa1"), a.BAD_ALGORITHM),
    "RS512 (not configured)": (lambda: signed(RSA_KEY, "RS512", "rsa1"), a.BAD_ALGORITHM),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
async def test_bad_tokens_get_401_with_a_short_fixed_message(client: Client, kind: str) -> None:
    make, message = BAD_TOKENS[kind]
    resp = await client.post(
        "/graphql",
        json={"query": "{ locations { totalCount } }"},
        headers={"Authorization": f"Bearer {make()}"},
    )
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = await resp.json()
    assert body == {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    assert len(message) < 40


async def test_bad_scheme_and_keyless_server(aiohttp_client: MakeClient, tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", insecure_no_auth=True)
    client = await aiohttp_client(create_app(settings))
    for header, message in (
        ("Basic dTpw", a.BAD_SCHEME),
        ("Bearer ", a.BAD_SCHEME),
        (f"Bearer {mint_token(SECRET, 'u1')}", a.NO_KEYS),
    ):
        resp = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": header}
        )
        assert resp.status == 401 and (await resp.json())["errors"][0]["message"] == message
    ok = await client.post("/graphql", json={"query": "{ viewer { id } }"})
    assert (await ok.json()) == {"data": {"viewer": None}}


async def test_jwks_only_server_refuses_hs256(
    aiohttp_client: MakeClient, jwks: Jwks, tmp_path: Path
) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path}/kv.db", jwks_url=jwks.url)
    client = await aiohttp_client(create_app(settings))
    hs = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {mint_token(SECRET, 'u1')}"},
    )
    assert hs.status == 401 and (await hs.json())["errors"][0]["message"] == a.BAD_ALGORITHM
    es = await client.post(
        "/graphql",
        json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {signed(EC_KEY, 'ES256', 'ec1', sub='u-es')}"},
    )
    assert (await es.json()) == {"data": {"viewer": {"id": "u-es"}}}


ANON_QUERY = """{ viewer { id } locations { totalCount } trip(id: "t0") { id }
  owned: node(nodeId: "VHJpcDp0MA") { nodeId } }"""


async def test_anon_token_reads_the_catalog_only(client: Client) -> None:
    await board_data(client.app[STORE], trips=1, items=2, user="u1")
    anon = signed(SECRET, "HS256", role="anon", sub=None, aud=None, iss="supabase")
    for headers in ({"Authorization": f"Bearer {anon}"}, {}):
        resp = await client.post("/graphql", json={"query": ANON_QUERY}, headers=headers)
        body = await resp.json()
        assert resp.status == 200 and "errors" not in body, body
        assert body["data"] == {
            "viewer": None,
            "locations": {"totalCount": 6},
            "trip": None,
            "owned": None,
        }
        write = await client.post(
            "/graphql",
            json={"query": 'mutation { createTrip(input: {title: "x"}) { trip { id } } }'},
            headers=headers,
        )
        assert (await write.json())["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    owner = await client.post(
        "/graphql",
        json={"query": "{ viewer { trips { totalCount } } }"},
        headers={"Authorization": f"Bearer {mint_token(SECRET, 'u1')}"},
    )
    assert (await owner.json())["data"]["viewer"]["trips"]["totalCount"] == 1


async def test_jwks_that_never_answered_is_503_not_401(client: Client, jwks: Jwks) -> None:
    jwks.state["status"] = 500
    headers = {"Authorization": f"Bearer {signed(EC_KEY, 'ES256', 'ec1')}"}
    resp = await client.post("/graphql", json={"query": "{ viewer { id } }"}, headers=headers)
    assert resp.status == 503 and resp.headers["Retry-After"] == "5"
    body = await resp.json()
    assert body["errors"][0]["extensions"]["code"] == "AUTH_UNAVAILABLE"
    assert "data" not in body


# --- verified tokens, kept until their exp ---------------------------------------------------


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every full signature check (`verified_claims`) by its token."""
    checked: list[str] = []
    real = a.verified_claims

    def spy(token: str, *args: Any) -> dict[str, Any]:
        checked.append(token)
        return real(token, *args)

    monkeypatch.setattr(a, "verified_claims", spy)
    return checked


async def test_a_verified_token_is_checked_once_and_refused_tokens_every_time(
    jwks: Jwks, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = counting(monkeypatch)
    auth = checker(jwks, session, Clock())
    hs, es = mint_token(SECRET, "u-hs"), signed(EC_KEY, "ES256", "ec1", sub="u-es")
    anon = signed(SECRET, "HS256", role="anon", sub=None, aud=None)
    for _ in range(3):
        assert await auth.viewer(f"Bearer {hs}") == a.Viewer("u-hs", "authenticated")
        assert await auth.viewer(f"Bearer  {es} ") == a.Viewer("u-es", "authenticated")
        assert await auth.viewer(f"Bearer {anon}") is None
    assert checked == [hs, es, anon]
    forged = signed("x" * 40, "HS256")
    for _ in range(2):
        with pytest.raises(AuthError, match="signature"):
            await auth.viewer(f"Bearer {forged}")
    assert checked[3:] == [forged, forged]  # a refusal is never kept


async def test_a_kept_token_is_refused_once_its_exp_passes(
    jwks: Jwks, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = counting(monkeypatch)
    auth = checker(jwks, session, Clock())
    exp = int(time.time()) + 1
    token = signed(SECRET, "HS256", exp=exp)
    for _ in range(2):
        assert await auth.viewer(f"Bearer {token}") == a.Viewer("u1", "authenticated")
    await asyncio.sleep(exp - time.time() + 0.05)  # PyJWT refuses a token at its exp itself
    for _ in range(2):
        with pytest.raises(AuthError, match="expired"):
            await auth.viewer(f"Bearer {token}")
    assert checked.count(token) == 3  # verified once, then each refusal checked in full


async def test_a_kept_jwks_token_is_refused_once_its_key_is_withdrawn(
    jwks: Jwks, session: aiohttp.ClientSession
) -> None:
    clock = Clock()
    auth = checker(jwks, session, clock)
    token = signed(EC_KEY, "ES256", "ec1")
    assert await auth.viewer(f"Bearer {token}") is not None
    jwks.state["keys"] = [public_jwk(RSA_KEY, "rsa1", "RS256")]  # ec1 withdrawn
    clock.now += 601  # the keys are stale: the next request fetches them again
    with pytest.raises(AuthError, match="signing key is not known"):
        await auth.viewer(f"Bearer {token}")
    jwks.state["keys"] = [public_jwk(EC_OTHER, "ec1", "ES256")]  # ec1 now names another key
    clock.now += 601
    with pytest.raises(AuthError, match="signature"):
        await auth.viewer(f"Bearer {token}")


async def test_verified_tokens_are_bounded_least_recently_used_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = counting(monkeypatch)
    auth = Authenticator(
        secret=SECRET,
        audience="authenticated",
        algorithms=["HS256"],
        verified=a.VerifiedTokens(size=2),
    )
    one, two, three = (mint_token(SECRET, user) for user in ("u-1", "u-2", "u-3"))
    for token in (one, two, one, three, one, two):
        await auth.viewer(f"Bearer {token}")
    assert checked == [one, two, three, two]  # `two` was the least recently used at `three`
