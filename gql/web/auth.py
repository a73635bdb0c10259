"""Bearer tokens: Supabase-style JWTs, HS256 with the project's secret and/or ES256/RS256 with
the keys of its JWKS endpoint; `sub` = user id.

Which algorithms are accepted is configuration: the token's header only picks the key among
those configured, so an HS256 token "signed" with a public key or an ES256 token from a key
outside the JWKS never verifies. JWKS keys are fetched with aiohttp (never blocking the event
loop), kept for a TTL, and refetched at most once per interval when a token names an unknown
`kid`, so random kids cannot make the server hammer the endpoint. Refusals are short fixed
sentences: the library's wording (which echoes token contents) never reaches the client.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import orjson

from gql.kv.keys import is_id

HMAC = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}
)
ANON_ROLE = "anon"  # Supabase's anon key: a valid token that names nobody
JWKS_MIN_REFETCH = 10.0  # seconds between two fetches triggered by unknown kids
JWKS_TIMEOUT = 5.0
JWKS_MAX_BYTES = 1 << 20
VERIFIED_CACHE = 1024  # verified tokens kept by their text (least recently used dropped)

log = logging.getLogger("kvgraph.auth")

# Fixed messages of the 401 body.
BAD_SCHEME = "use Authorization: Bearer <token>"
NO_KEYS = "this server accepts no tokens"
MALFORMED = "malformed token"
EXPIRED = "token expired"
NOT_YET = "token not valid yet"
BAD_AUDIENCE = "token audience is not accepted"
BAD_ALGORITHM = "token algorithm is not accepted"
BAD_SIGNATURE = "token signature is invalid"
UNKNOWN_KEY = "token signing key is not known"
KEYS_UNAVAILABLE = "token signing keys are unavailable"
MISSING_CLAIM = "token lacks a required claim"
BAD_SUB = "token has no usable sub"
INVALID = "invalid token"
# PyJWT's refusals in words of our own (the first class that matches wins).
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, EXPIRED),
    (jwt.ImmatureSignatureError, NOT_YET),
    (jwt.InvalidSignatureError, BAD_SIGNATURE),
    (jwt.InvalidAlgorithmError, BAD_ALGORITHM),
    (jwt.MissingRequiredClaimError, MISSING_CLAIM),
    (jwt.DecodeError, MALFORMED),
)


class AuthError(Exception):
    """The bearer token was present but not acceptable (the message is safe to show)."""


class KeysUnavailable(AuthError):
    """The JWKS endpoint has never answered: no token signed by its keys can be checked yet."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: the token's `sub` and `role`."""

    user_id: str
    role: str


def mint_token(
    secret: str,
    user_id: str,
    *,
    hours: float = 24.0,
    audience: str = "authenticated",
    role: str = "authenticated",
) -> str:
    """Sign a token the way Supabase does (aud, role, sub, iat, exp)."""
    issued = dt.datetime.now(dt.UTC)
    claims = {
        "sub": user_id,
        "aud": audience,
        "role": role,
        "iat": issued,
        "exp": issued + dt.timedelta(hours=hours),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS document by `kid` (symmetric and odd keys skipped)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") == "oct" or entry.get("use") == "enc":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            continue
        if key.algorithm_name in ASYMMETRIC:
            keys[kid] = key
    return keys


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The whole body, however it is chunked; ValueError past `limit` bytes (never held).

    `StreamReader.read(n)` returns what has arrived so far, so one call may see only the first
    TCP piece: read until EOF. A declared `Content-Length` over the limit is refused before
    reading; a body that runs past it (chunked, or no length) is refused at the limit.
    """
    declared = response.content_length
    if declared is not None and declared > limit:
        raise ValueError(f"JWKS document too large ({declared} bytes; the limit is {limit})")
    body = bytearray()
    while chunk := await response.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise ValueError(f"JWKS document too large (over {limit} bytes)")
    return bytes(body)


class JwksCache:
    """A JWKS endpoint's keys, fetched asynchronously and kept `ttl` seconds."""

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        *,
        ttl: float = 600.0,
        min_refetch: float = JWKS_MIN_REFETCH,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.session = url, session
        self.ttl, self.min_refetch, self.clock = ttl, min_refetch, clock
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched = self._tried = -math.inf
        self._lock = asyncio.Lock()

    async def key(self, kid: Any) -> jwt.PyJWK:
        """The key named `kid`; AuthError if the endpoint does not (or cannot) list it."""
        await self._refresh_if(self._stale)
        key = self._lookup(kid)
        if key is None and isinstance(kid, str):
            await self._refresh_if(self._may_refetch)  # rotated keys: one look, rate-limited
            key = self._lookup(kid)
        if key is None:
            if self._keys is None:
                raise KeysUnavailable(KEYS_UNAVAILABLE)
            raise AuthError(UNKNOWN_KEY)
        return key

    def _lookup(self, kid: Any) -> jwt.PyJWK | None:
        return self._keys.get(kid) if self._keys is not None and isinstance(kid, str) else None

    def _may_refetch(self) -> bool:
        return self.clock() - self._tried >= self.min_refetch

    def _stale(self) -> bool:
        return self.clock() - self._fetched >= self.ttl and self._may_refetch()

    async def _refresh_if(self, due: Callable[[], bool]) -> None:
        """Fetch when `due()` still holds once the lock is ours (concurrent callers share one)."""
        if not (due() or self._lock.locked()):
            return
        async with self._lock:  # waits for a fetch under way, or makes one
            if due():
                await self._fetch()

    async def _fetch(self) -> None:
        """Replace the keys; on failure keep the old ones (logged) until the next attempt."""
        self._tried = self.clock()
        try:
            timeout = aiohttp.ClientTimeout(total=JWKS_TIMEOUT)
            async with self.session.get(self.url, timeout=timeout) as response:
                response.raise_for_status()
                body = await read_capped(response, JWKS_MAX_BYTES)
            keys = parse_jwks(orjson.loads(body))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("cannot fetch the JWKS from %s: %s", self.url, exc)
            return
        self._keys, self._fetched = keys, self._tried


@dataclass(frozen=True, slots=True)
class Verified:
    """A token that verified, the identity a request or socket carries: who it names (None:
    `anon`), its `exp` (a socket closes then), and the key (and `kid`) that verified it."""

    viewer: Viewer | None
    exp: float
    kid: Any
    key: object


class VerifiedTokens:
    """Tokens that verified, by their text, until their `exp` (a bounded LRU).

    A hit is only as good as the check it replays: it is refused once `exp` has passed (the
    token then goes through the full check, which says why) and, for a JWKS token, when its
    `kid` no longer names the very key that verified it (rotated or withdrawn keys). Refused
    tokens are never kept, nor are WebSockets' tokens (checked once per socket).
    """

    def __init__(self, size: int = VERIFIED_CACHE, clock: Callable[[], float] = time.time):
        self.size, self.clock = size, clock
        self._entries: OrderedDict[str, Verified] = OrderedDict()

    def get(self, token: str) -> Verified | None:
        """The entry of a token still within its `exp`; None (and forgotten) otherwise."""
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry.exp <= self.clock():  # PyJWT's own test: expired at `exp` itself
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry

    def put(self, token: str, entry: Verified) -> None:
        """Keep a verified token, dropping the least recently used past `size`."""
        self._entries[token] = entry
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, token: str) -> None:
        """Drop a token (its key changed)."""
        self._entries.pop(token, None)

    def __len__(self) -> int:
        return len(self._entries)


class Authenticator:
    """Turns an `Authorization` header into a Viewer (or None: anonymous) or an AuthError."""

    def __init__(
        self,
        *,
        secret: str | None,
        audience: str,
        algorithms: Collection[str],
        jwks: JwksCache | None = None,
        verified: VerifiedTokens | None = None,
    ) -> None:
        self.secret, self.audience, self.jwks = secret, audience, jwks
        self.hmac = [name for name in algorithms if name in HMAC] if secret else []
        self.asymmetric = [name for name in algorithms if name in ASYMMETRIC] if jwks else []
        self.verified = verified if verified is not None else VerifiedTokens()

    async def viewer(self, header: str | None, *, remember: bool = True) -> Viewer | None:
        """The viewer named by an `Authorization` header; None when there is none (or `anon`)."""
        identity = await self.identity(header, remember=remember)
        return identity.viewer if identity is not None else None

    async def identity(self, header: str | None, *, remember: bool = True) -> Verified | None:
        """What an `Authorization` header's token verified as (its viewer and its `exp`, from
        the one check); None when there is none.

        `remember=False` for a token checked once (a WebSocket's, at its upgrade or
        `connection_init`): it is not kept, so a thousand sockets leave no entries behind.
        """
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(BAD_SCHEME)
        if not (self.hmac or self.asymmetric):
            raise AuthError(NO_KEYS)
        token = token.strip()
        hit = self.verified.get(token)
        if hit is not None:
            if not isinstance(hit.key, jwt.PyJWK) or await self._same_key(hit):
                return hit
            self.verified.forget(token)
        return await self.verify(token, remember=remember)

    async def _same_key(self, hit: Verified) -> bool:
        """Whether the JWKS still names the key that verified a cached token."""
        assert self.jwks is not None
        try:
            return await self.jwks.key(hit.kid) is hit.key
        except AuthError:
            return False  # the full check says why

    async def decode(self, token: str) -> Viewer | None:
        """The viewer of a token, verified with the configured key; None for `anon`."""
        return (await self.verify(token)).viewer

    async def verify(self, token: str, *, remember: bool = True) -> Verified:
        """Verify the token with the configured key for its algorithm (AuthError if it fails)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError(MALFORMED) from None
        alg = header.get("alg")
        key: jwt.PyJWK | str
        if alg in self.hmac and self.secret:
            key, algorithms = self.secret, self.hmac
        elif alg in self.asymmetric and self.jwks is not None:
            key = await self.jwks.key(header.get("kid"))
            algorithms = [name for name in self.asymmetric if name == key.algorithm_name]
        else:
            raise AuthError(BAD_ALGORITHM)
        claims = verified_claims(token, key, algorithms)
        kid = header.get("kid") if isinstance(key, jwt.PyJWK) else None
        verified = Verified(viewer_of(claims, self.audience), float(int(claims["exp"])), kid, key)
        if remember:
            self.verified.put(token, verified)
        return verified


def verified_claims(token: str, key: jwt.PyJWK | str, algorithms: list[str]) -> dict[str, Any]:
    """The claims of a token whose signature, `exp` (required), `nbf` and `iat` hold."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            options={"require": ["exp"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        # The first matching class words it; PyJWT's own text never reaches the client.
        reason = next((why for kind, why in _REASONS if isinstance(exc, kind)), INVALID)
        raise AuthError(reason) from None
    return claims


def viewer_of(claims: dict[str, Any], audience: str) -> Viewer | None:
    """The viewer of verified claims: None for the `anon` role, else `aud` and `sub` must hold."""
    role = claims.get("role")
    if role == ANON_ROLE:
        return None
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if audience not in audiences:
        raise AuthError(BAD_AUDIENCE)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not is_id(sub):  # it becomes part of keys
        raise AuthError(BAD_SUB)
    return Viewer(sub, role if isinstance(role, str) and role else "authenticated")
