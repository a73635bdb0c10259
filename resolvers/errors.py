"""Errors the domain raises on purpose: the client's fault, each with its `extensions.code`.

They are plain exceptions so that the domain does not depend on GraphQL; the GraphQL layer
shows their message and code and never masks them.
"""

from __future__ import annotations

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"


class ClientError(Exception):
    """A request the client must change: a malformed id, cursor or argument, no sign-in."""

    def __init__(self, message: str, code: str = BAD_USER_INPUT) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def bad_input(message: str) -> ClientError:
    """The client sent a malformed id, cursor or argument."""
    return ClientError(message, BAD_USER_INPUT)


def unauthenticated() -> ClientError:
    """The operation needs a signed-in viewer."""
    return ClientError("sign in first: send Authorization: Bearer <token>", UNAUTHENTICATED)


class Abort(ClientError):
    """The whole operation stops: its response carries this error and no data."""

    def __init__(self, message: str, code: str, **extensions: object) -> None:
        super().__init__(message, code)
        self.extensions = extensions  # shown beside the code
