"""Response media types: `Accept` negotiation as the GraphQL-over-HTTP spec describes it.

`application/graphql-response+json` lets a client tell request errors (4xx, no `data`) from
execution errors by the status alone; `application/json` is the legacy type every client
understands, so it is the answer to a missing `Accept`, to `*/*` and to anything unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _quality(params: list[str]) -> float:
    """The `q` parameter of a media range (1 when absent, 0 when malformed)."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def negotiate(accept: str | None) -> str:
    """The media type to answer with for an `Accept` header (ties go to the spec's type)."""
    graphql_q, json_q = 0.0, 0.0
    for media_range in (accept or "").split(","):
        kind, *params = media_range.split(";")
        kind = kind.strip().lower()
        if kind == GRAPHQL_RESPONSE:
            graphql_q = max(graphql_q, _quality(params))
        elif kind in {JSON, "application/*", "*/*"}:
            json_q = max(json_q, _quality(params))
    return GRAPHQL_RESPONSE if graphql_q > 0 and graphql_q >= json_q else JSON


def asks_upgrade(headers: Mapping[str, str]) -> bool:
    """Whether a request's headers ask to upgrade to a WebSocket."""
    return "websocket" in headers.get("Upgrade", "").lower()
