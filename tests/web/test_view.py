"""The view's own reading of a plain JSON POST gives what Strawberry's `parse_http_body` gives
(the operation, or the same refusal), and every other request is left to Strawberry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from cross_web import HTTPException
from cross_web.request._aiohttp import AiohttpHTTPRequestAdapter
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.http.async_base_view import AsyncBaseHTTPView

from gql.schema.build import build_schema
from gql.web.view import GatewayView, plain_json_post, request_data

VIEW = GatewayView(schema=build_schema())
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
parts = scalars | st.lists(scalars, max_size=2) | st.dictionaries(st.text(max_size=3), scalars)
bodies = st.fixed_dictionaries(
    {},
    optional={
        "query": parts | st.just("{ viewer { id } }"),
        "variables": parts,
        "extensions": parts,
        "operationName": parts,
        "other": parts,
    },
)


def request(content_type: str | None = "application/json", accept: str | None = None) -> Any:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    if accept is not None:
        headers["Accept"] = accept
    return make_mocked_request("POST", "/graphql", headers=headers)


async def strawberrys(req: Any, body: bytes) -> object:
    """What Strawberry's own `parse_http_body` makes of the request (or its refusal)."""
    adapter = AiohttpHTTPRequestAdapter(req, body=body)
    try:
        return await AsyncBaseHTTPView.parse_http_body(VIEW, adapter)
    except HTTPException as exc:
        return exc.status_code, exc.reason


def ours(body: bytes) -> object:
    try:
        return request_data(VIEW.parse_json(body))
    except HTTPException as exc:
        return exc.status_code, exc.reason


@settings(max_examples=300, deadline=None)
@given(bodies)
async def test_a_json_body_is_read_as_strawberry_reads_it(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    assert ours(raw) == await strawberrys(request(), raw)


@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        ("application/json", None),
        ("application/json; charset=utf-8", "application/graphql-response+json"),
        (" application/json ;charset=UTF-8", "application/json, */*;q=0.5"),
    ],
)
async def test_plain_json_posts(content_type: str, accept: str | None) -> None:
    req = request(content_type, accept)
    assert plain_json_post(req)
    raw = b'{"query": "{ viewer { id } }", "variables": {"a": 1}}'
    assert ours(raw) == await strawberrys(req, raw)


@pytest.mark.parametrize(
    ("content_type", "accept"),
    [
        (None, None),
        ("text/plain", None),
        ("application/graphql", None),
        ("application/json-seq", None),
        ("Application/JSON", None),
        ("application/x-www-form-urlencoded", None),
        ("multipart/form-data; boundary=x", None),
        ("application/json", "text/event-stream"),
        ("application/json", "Multipart/Mixed;subscriptionSpec=1.0, application/json"),
    ],
)
def test_other_requests_are_left_to_strawberry(content_type: str | None, accept: str) -> None:
    assert not plain_json_post(request(content_type, accept))


def test_only_posts_are_plain() -> None:
    headers = {"Content-Type": "application/json"}
    assert not plain_json_post(make_mocked_request("GET", "/graphql?query=x", headers=headers))
