"""Error codes (`extensions.code`) of the GraphQL layer, and which errors are masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from resolvers.errors import (
    BAD_USER_INPUT,
    FORBIDDEN,
    NOT_FOUND,
    UNAUTHENTICATED,
    ClientError,
)

INVALID_RECORD = "INVALID_RECORD"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

__all__ = [
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "INTERNAL_SERVER_ERROR",
    "INVALID_RECORD",
    "NOT_FOUND",
    "PARSE_FAILED",
    "UNAUTHENTICATED",
    "VALIDATION_FAILED",
    "coded",
    "should_mask",
]


def coded(message: str, code: str, **extra: Any) -> GraphQLError:
    """A GraphQLError carrying `extensions.code` (and any extra extensions)."""
    return GraphQLError(message, extensions={"code": code, **extra})


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; kvgraph's own errors, validation and syntax errors pass."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | ClientError)
