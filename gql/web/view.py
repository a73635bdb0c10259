"""The aiohttp GraphQL view: auth, a fresh Context, GraphQL over HTTP, persisted queries.

It follows the GraphQL-over-HTTP spec: the response media type is negotiated from `Accept`
(`application/graphql-response+json` or `application/json`, the default); under the former a
request that fails before execution (parse, validation, variables) is a 400 without `data`,
under the latter it stays a 200 as clients of `application/json` expect. Every refusal,
also of a malformed HTTP request, has a GraphQL-shaped body with `extensions.code`; a store
outage is a 503 under both.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

import orjson
from aiohttp import hdrs, web
from cross_web import HTTPException
from strawberry.aiohttp.views import GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult

from gql.schema.errors import (
    AUTH_UNAVAILABLE,
    BAD_REQUEST,
    BAD_USER_INPUT,
    FORBIDDEN,
    INTERNAL_SERVER_ERROR,
    RATE_LIMITED,
    STORE_UNAVAILABLE,
    UNAUTHENTICATED,
    before_execution,
    code_of,
)
from gql.web import graphiql
from gql.web.appkeys import AUTH, LIMITER, SETTINGS
from gql.web.auth import AuthError, KeysUnavailable
from gql.web.body import BodyError, decode
from gql.web.context import IDENTITY, operation_context, request_viewer
from gql.web.media import GRAPHQL_RESPONSE, JSON, asks_upgrade, negotiate
from gql.web.observe import BODY_LIMIT, note, note_errors, outcome_of
from gql.web.origins import allows
from gql.web.persisted import PersistedQueries, PersistedQueryError
from gql.web.ratelimit import RETRY_AFTER, RateLimitedError
from gql.web.subscriptions import TextFrames, TransportWS, websocket_response
from gql.web.timeout import within
from resolvers.context import Context

RETRY_KEYS = 5  # seconds a client waits when the JWKS has not answered yet
MEDIA = web.RequestKey("media_type", str)
SUB_RESPONSE = web.RequestKey("sub_response", web.Response)
NO_CACHE = {"Cache-Control": "private, no-cache, must-revalidate"}


def _encode(data: object) -> bytes:
    """JSON bytes; text orjson refuses (lone surrogates echoed back) gets U+FFFD instead."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, ensure_ascii=False).encode("utf-8", "replace")


def typed(response: web.StreamResponse, media_type: str) -> None:
    """Give the response `media_type` in UTF-8 (one header written, not parsed and made
    again by the `content_type` and `charset` setters)."""
    response.headers[hdrs.CONTENT_TYPE] = f"{media_type}; charset=utf-8"


def error_response(
    request: web.Request,
    message: str,
    code: str,
    status: int,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> web.Response:
    """A response with a GraphQL-shaped body: one error with its code, no `data`."""
    body = {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    note(request, code, BODY_LIMIT if status == 413 else extensions, message)
    response = web.Response(status=status, body=_encode(body), headers=headers)
    typed(response, request.get(MEDIA) or negotiate(request.headers.get("Accept")))
    return response


def _http_error(exc: HTTPException) -> tuple[int, str, dict[str, str]]:
    """(status, code, headers) of a request Strawberry refused before running it."""
    cause = exc.__cause__
    if isinstance(cause, InvalidOperationTypeError):
        return 405, BAD_REQUEST, {"Allow": "POST"}  # a mutation sent with GET
    if isinstance(cause, CannotGetOperationTypeError):
        return 400, BAD_USER_INPUT, {}  # operationName names no operation
    if isinstance(cause, MissingQueryError):
        return 400, BAD_REQUEST, {}
    return exc.status_code, BAD_REQUEST, {"Allow": "GET, POST"} if exc.status_code == 405 else {}


def status_for(result: ExecutionResult, media_type: str) -> int:
    """The HTTP status of a GraphQL result under the negotiated media type."""
    codes = {code_of(error) for error in result.errors or ()}
    if STORE_UNAVAILABLE in codes:
        return 503
    if media_type == GRAPHQL_RESPONSE and before_execution(result):
        return 500 if codes == {INTERNAL_SERVER_ERROR} else 400
    return 200


def unauthorized(request: web.Request, message: str) -> web.Response:
    """A 401 with a GraphQL-shaped error body."""
    challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return error_response(request, message, UNAUTHENTICATED, 401, challenge)


def plain_json_post(request: web.Request) -> bool:
    """Whether a request is a POST of JSON that asks for no stream (multipart or SSE): the
    common request, read by `request_data` without Strawberry's parse of its content type
    (through `email.message`, a few per cent of a small query's CPU)."""
    if request.method != "POST":
        return False
    headers = request.headers
    accept = headers.get("Accept", "").lower()
    return (
        headers.get("Content-Type", "").partition(";")[0].strip() == JSON
        and "multipart/mixed" not in accept
        and "text/event-stream" not in accept
    )


def request_data(body: object) -> GraphQLRequestData:
    """The operation a JSON body (an object: `decode_json`) asks for, its parts checked and
    refused as Strawberry's `parse_http_body` checks and refuses them."""
    assert isinstance(body, dict)
    query, variables, extensions = body.get("query"), body.get("variables"), body.get("extensions")
    if not isinstance(query, str | None):
        raise HTTPException(
            400, "The GraphQL operation's `query` must be a string or null, if provided."
        )
    if not isinstance(variables, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `variables` must be an object or null, if provided."
        )
    if not isinstance(extensions, dict | None):
        raise HTTPException(
            400, "The GraphQL operation's `extensions` must be an object or null, if provided."
        )
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=body.get("operationName"),
        extensions=extensions,
        protocol="http",
    )


class GatewayView(GraphQLView[Context, None]):
    """Strawberry's aiohttp view with kvgraph's context, auth, encoding and status codes."""

    _persisted: PersistedQueries | None = None
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportWS

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        request[MEDIA] = negotiate(request.headers.get("Accept"))
        if asks_upgrade(request.headers):  # subscriptions: `gql.web.subscriptions`
            return await self._answer(request, upgrade=True)  # each event is timed instead
        return await within(request.app[SETTINGS].execution_timeout, request, self._answer)

    async def _answer(self, request: web.Request, upgrade: bool = False) -> web.StreamResponse:
        """The response to a request: its token checked, its refusals GraphQL-shaped."""
        try:  # a socket's token is checked once: not kept (`Authenticator.identity`)
            header = request.headers.get("Authorization")
            identity = await request.app[AUTH].identity(header, remember=not upgrade)
        except KeysUnavailable as exc:  # not the client's fault: try again shortly
            headers = {"Retry-After": str(RETRY_KEYS)}
            return error_response(request, str(exc), AUTH_UNAVAILABLE, 503, headers)
        except AuthError as exc:
            return unauthorized(request, str(exc))
        if identity is not None:
            request[IDENTITY] = identity
        # `run`, not `super().__call__`: that one turns refusals into plain-text bodies.
        try:
            return await self.run(request=request)
        except RateLimitedError as exc:
            headers = {"Retry-After": str(exc.retry)}
            return error_response(
                request, exc.message, RATE_LIMITED, 429, headers, retryAfter=exc.retry
            )
        except PersistedQueryError as exc:
            return error_response(request, exc.message, exc.code, exc.status, NO_CACHE)
        except HTTPException as exc:
            status, code, headers = _http_error(exc)
            return error_response(request, exc.reason, code, status, headers)
        except web.HTTPClientError as exc:  # aiohttp's own, e.g. 413 for a body too large
            return error_response(request, exc.reason, BAD_REQUEST, exc.status)

    def is_websocket_request(self, request: web.Request) -> TypeGuard[web.Request]:
        # Strawberry's check builds a WebSocketResponse and parses a handshake, twice per
        # request: only a request asking to upgrade can be one.
        return asks_upgrade(request.headers) and super().is_websocket_request(request)

    def persisted(self, request: web.Request) -> PersistedQueries:
        """The app's persisted-query registry and APQ cache (made on first use)."""
        if self._persisted is None:
            settings = request.app[SETTINGS]
            self._persisted = PersistedQueries(
                settings.persisted_queries,
                settings.persisted_registry(),
                settings.apq_cache_chars,
            )
        return self._persisted

    async def get_sub_response(self, request: web.Request) -> web.Response:
        response = web.Response()
        request[SUB_RESPONSE] = response
        return response

    async def get_context(self, request: web.Request, response: Any) -> Context:
        context = operation_context(request, request_viewer(request), response)
        if outcome := outcome_of(request):
            outcome.loaders = context.loaders
        return context

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying only a persisted-query hash is an operation, not a visit.
        return super().should_render_graphql_ide(request) and (
            "extensions" not in request.query_params
        )

    async def create_websocket_response(
        self, request: web.Request, subprotocol: str | None
    ) -> web.WebSocketResponse:
        ws = websocket_response(subprotocol)
        await ws.prepare(request)
        return ws

    def is_websocket_origin_allowed(self, request: web.Request, origin: str) -> bool:
        return allows(request.app[SETTINGS].cors_origins, origin)  # as CORS decides

    async def reject_websocket(self, request: web.Request) -> web.Response:
        message = "This origin may not open a WebSocket here (KVGRAPH_CORS_ORIGINS)."
        return error_response(request, message, FORBIDDEN, 403)

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = decode(data)
        except BodyError as exc:
            raise HTTPException(400, str(exc)) from exc
        if not isinstance(value, dict):
            raise HTTPException(400, "Expected a JSON object (batched operations are refused).")
        return value

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        web_request = request.request
        viewer = request_viewer(web_request)
        # A client in debt is refused before its body is even read.
        web_request.app[LIMITER].check(viewer.user_id if viewer else None, web_request)
        if plain_json_post(web_request):
            data = request_data(self.parse_json(await request.get_body()))
        else:
            parsed = await super().parse_http_body(request)
            assert isinstance(parsed, GraphQLRequestData)  # decode_json refuses JSON arrays
            data = parsed
        data.query = self.persisted(web_request).resolve(data.query, data.extensions)
        return data

    async def process_result(
        self, request: web.Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response_data = process_result(result)
        note_errors(request, result.errors or ())
        media_type = request[MEDIA]
        if media_type == GRAPHQL_RESPONSE and before_execution(result):
            response_data.pop("data", None)
        sub_response = request[SUB_RESPONSE]
        retry = request.get(RETRY_AFTER)  # the rate limiter refused the operation
        if retry is None:
            sub_response.set_status(status_for(result, media_type))
        else:
            sub_response.set_status(429)
            sub_response.headers["Retry-After"] = str(retry)
        typed(sub_response, media_type)
        return response_data

    def encode_json(self, data: object) -> bytes:
        return _encode(data)

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        sub_response.body = self.encode_json(response_data)
        return sub_response

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        if outcome := outcome_of(request):
            outcome.page = True
        settings = request.app[SETTINGS]
        folder = graphiql.assets_dir(cdn=settings.graphiql_cdn, folder=settings.graphiql_assets)
        html = graphiql.ide_html(folder)
        return web.Response(text=html, content_type="text/html")
