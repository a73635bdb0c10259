"""Browser origins: the one rule deciding which pages on other origins may use /graphql, for
CORS over HTTP (`gql.web.app.cors_middleware`) and for the WebSocket handshake (the view's
`is_websocket_origin_allowed`, Strawberry's documented hook) alike.

An origin is compared in the form browsers send it in `Origin` (RFC 6454's serialization):
scheme and host in lowercase, no default port, no path. `KVGRAPH_CORS_ORIGINS` is kept in that
form once, at validation (`https://App.example.com:443/` is `https://app.example.com`), and a
value that is no origin (a path, a query, no host) stops start-up. An incoming `Origin` is put
in that form before it is looked up, so a header written otherwise decides as its browser
form would.

`null` is the opaque origin of sandboxed iframes, `file://` pages and some redirects; listed,
it is matched exactly as browsers send it (`null`, lowercase). Every such page shares it,
whatever site framed it: list it for a local prototype or an embedded preview, knowing that
any site can reach it. `*` allows every origin, `null` included. Pages on the server's own
origin need no entry (same-origin requests carry no CORS check, and Strawberry lets a
same-origin socket through), nor do clients that send no `Origin` (not browsers).
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

ANY = "*"
OPAQUE = "null"  # the origin a browser sends for a sandboxed iframe or a file:// page
DEFAULT_PORTS = {"http": 80, "https": 443}
SHAPE = (
    "write scheme://host[:port] without a path, e.g. https://app.example.com; "
    "null for sandboxed iframes and file:// pages; * for any"
)


def origin_key(value: str) -> str | None:
    """`value` as a browser serializes an origin (`null` as is); None if it is no origin."""
    if value == OPAQUE:
        return OPAQUE
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if not (parts.scheme and parts.hostname) or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    scheme = parts.scheme.lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def allowed_origins(values: list[str]) -> list[str]:
    """The configured origins in browser form; ValueError naming those that are no origin."""
    keys = [value if value == ANY else origin_key(value) for value in values]
    bad = [value for value, key in zip(values, keys, strict=True) if key is None]
    if bad:
        raise ValueError(f"not an origin: {', '.join(map(repr, bad))} ({SHAPE})")
    return list(dict.fromkeys(key for key in keys if key is not None))


def allows(origins: Collection[str], origin: str) -> bool:
    """Whether a page on `origin` may use /graphql, given the configured `origins`."""
    return ANY in origins or origin_key(origin) in origins
