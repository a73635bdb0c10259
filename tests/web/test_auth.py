"""Tokens: what is accepted and what is refused (algorithms come from config, not the token)."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest

from gql.web.auth import AuthError, decode_token, mint_token, viewer_from_header

SECRET = "unit-secret-0123456789-0123456789-abcdef"


def test_minted_token_round_trips() -> None:
    viewer = decode_token(mint_token(SECRET, "user-1"), SECRET)
    assert (viewer.user_id, viewer.role) == ("user-1", "authenticated")


def test_none_algorithm_is_refused() -> None:
    token = jwt.encode(
        {"sub": "u", "aud": "authenticated", "exp": 9999999999}, None, algorithm="none"
    )
    with pytest.raises(AuthError):
        decode_token(token, SECRET)


def test_token_without_sub_or_exp_is_refused() -> None:
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for claims in ({"aud": "authenticated", "exp": exp}, {"sub": "u", "aud": "authenticated"}):
        with pytest.raises(AuthError):
            decode_token(jwt.encode(claims, SECRET, algorithm="HS256"), SECRET)


def test_sub_with_a_colon_is_refused() -> None:
    with pytest.raises(AuthError, match="sub"):
        decode_token(mint_token(SECRET, "trip:evil"), SECRET)


def test_header_parsing() -> None:
    assert viewer_from_header(None, SECRET, "authenticated") is None
    assert viewer_from_header("", SECRET, "authenticated") is None
    with pytest.raises(AuthError, match="Bearer"):
        viewer_from_header("Token abc", SECRET, "authenticated")
    with pytest.raises(AuthError, match="no JWT secret"):
        viewer_from_header("Bearer abc", None, "authenticated")
    token = mint_token(SECRET, "u9")
    assert viewer_from_header(f"bearer {token}", SECRET, "authenticated").user_id == "u9"  # type: ignore[union-attr]
