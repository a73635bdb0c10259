"""Error codes (`extensions.code`) of the GraphQL layer, and which errors are masked.

Every error a client sees carries one of these codes; the web layer derives the HTTP status
from them (`STORE_UNAVAILABLE` is a 503), so the code is decided here, once, from where the
error came from (its original exception or the phase that produced it), never from its text.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gql.kv import StoreError
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
STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
AUTH_UNAVAILABLE = "AUTH_UNAVAILABLE"  # the JWKS endpoint never answered: tokens cannot be checked
RATE_LIMITED = "RATE_LIMITED"
TIMEOUT = "TIMEOUT"
# The request itself is malformed (not JSON, wrong method, bad parameters): HTTP 4xx.
BAD_REQUEST = "BAD_REQUEST"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"

INTERNAL_MESSAGE = "Internal server error."
STORE_MESSAGE = "The data store is unavailable; try again later."

__all__ = [
    "AUTH_UNAVAILABLE",
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "FORBIDDEN",
    "INTERNAL_SERVER_ERROR",
    "INVALID_RECORD",
    "NOT_FOUND",
    "PARSE_FAILED",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_IN_LIST",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "RATE_LIMITED",
    "STORE_UNAVAILABLE",
    "TIMEOUT",
    "UNAUTHENTICATED",
    "VALIDATION_FAILED",
    "code_of",
    "coded",
    "masked",
    "should_mask",
]


def coded(message: str, code: str, **extra: Any) -> GraphQLError:
    """A GraphQLError carrying `extensions.code` (and any extra extensions)."""
    return GraphQLError(message, extensions={"code": code, **extra})


def before_execution(result: Any) -> bool:
    """Whether a result failed before execution: no data, and errors none of which has a path
    (no resolver ran). Such an answer is a request error (HTTP 400, a stream's refusal)."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def code_of(error: GraphQLError) -> str | None:
    """The error's `extensions.code`, if it has one."""
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; kvgraph's own errors, validation and syntax errors pass."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | ClientError)


def masked(error: GraphQLError) -> GraphQLError:
    """What the client sees of an unexpected exception: a store outage or an internal error."""
    outage = isinstance(error.original_error, StoreError)
    message, code = (STORE_MESSAGE, STORE_UNAVAILABLE) if outage else (INTERNAL_MESSAGE, None)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code or INTERNAL_SERVER_ERROR},
    )
