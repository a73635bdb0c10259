"""Opaque global ids (`nodeId`) and connection cursors."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import bad_input


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str, what: str) -> str:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise bad_input(f"malformed {what}: {token[:60]!r}") from None


def node_id(type_name: str, id_: str) -> str:
    """The global id of a record: base64url of `Type:id`."""
    return _encode(f"{type_name}:{id_}")


def parse_node_id(token: str) -> tuple[str, str]:
    """Split a global id into (type name, id); BAD_USER_INPUT when malformed."""
    type_name, sep, id_ = _decode(token, "nodeId").partition(":")
    if not sep or not type_name or not id_:
        raise bad_input(f"malformed nodeId: {token[:60]!r}")
    return type_name, id_


def cursor(offset: int, id_: str) -> str:
    """A cursor naming an id (stable under inserts) and its offset (fallback if it's gone)."""
    return _encode(f"c1:{offset}:{id_}")


def parse_cursor(token: str) -> tuple[int, str]:
    """Read (offset, id) from a cursor; BAD_USER_INPUT when malformed."""
    version, _, rest = _decode(token, "cursor").partition(":")
    offset, sep, id_ = rest.partition(":")
    if version != "c1" or not sep or not offset.isdigit():
        raise bad_input(f"malformed cursor: {token[:60]!r}")
    return int(offset), id_
