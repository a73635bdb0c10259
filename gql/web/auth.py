"""Bearer tokens: Supabase-style JWTs (HS256 with `KVGRAPH_JWT_SECRET`), `sub` = user id."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jwt

from gql.kv.keys import is_id

ALGORITHMS = ["HS256"]  # from config, never from the token header


class AuthError(Exception):
    """The bearer token was present but not acceptable."""


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


def decode_token(token: str, secret: str, audience: str = "authenticated") -> Viewer:
    """Verify signature, `exp`, `aud` and `sub`; AuthError with a short reason otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            audience=audience,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidAudienceError:
        raise AuthError("token audience is not accepted") from None
    except jwt.PyJWTError as exc:
        raise AuthError(f"invalid token: {exc}") from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not is_id(sub):  # it becomes part of keys
        raise AuthError("token has no usable sub")
    return Viewer(sub, str(claims.get("role", "authenticated")))


def viewer_from_header(header: str | None, secret: str | None, audience: str) -> Viewer | None:
    """The viewer named by an `Authorization` header; None when there is none."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("use Authorization: Bearer <token>")
    if secret is None:
        raise AuthError("this server accepts no tokens (no JWT secret configured)")
    return decode_token(token.strip(), secret, audience)
