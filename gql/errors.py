"""Error codes (`extensions.code`) and the errors kvgraph raises on purpose."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
INVALID_RECORD = "INVALID_RECORD"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


def coded(message: str, code: str, **extra: Any) -> GraphQLError:
    """A GraphQLError carrying `extensions.code` (and any extra extensions)."""
    return GraphQLError(message, extensions={"code": code, **extra})


def bad_input(message: str) -> GraphQLError:
    """The client sent a malformed id, cursor or argument."""
    return coded(message, BAD_USER_INPUT)


def unauthenticated() -> GraphQLError:
    """The operation needs a signed-in viewer."""
    return coded("sign in first: send Authorization: Bearer <token>", UNAUTHENTICATED)


def should_mask(error: GraphQLError) -> bool:
    """Mask errors that are not kvgraph's own GraphQLErrors (validation and syntax pass)."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)
