"""The aiohttp application factory: routes, the store and the token checker for the app's
lifetime, CORS for browser clients, request ids, access lines and metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from gql.kv.base import blocking, table_problems
from gql.schema.build import build_schema
from gql.web import graphiql
from gql.web.appkeys import ACCESS_LOG, AUTH, LIMITER, METRICS, RELEASE, SETTINGS, STORE
from gql.web.auth import Authenticator, JwksCache
from gql.web.context import SHARED, Shared
from gql.web.metrics import Metrics, OperationLabels, metrics_handler, operation_names
from gql.web.observe import AccessLog, OperationName, observe_middleware
from gql.web.origins import allows
from gql.web.ratelimit import RateLimiter
from gql.web.release import Release
from gql.web.settings import Settings
from gql.web.subscriptions import websocket_view_options
from gql.web.timeout import task_scopes
from gql.web.view import GatewayView

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EXPOSED_HEADERS = "WWW-Authenticate, Retry-After"  # readable by browser clients
READY_TIMEOUT = "timeout"  # the /readyz problem of a store that did not answer in time


async def _access_ctx(app: web.Application) -> AsyncIterator[None]:
    """Write the access lines still waiting when the app stops."""
    yield
    app[ACCESS_LOG].flush()


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the store for the app's lifetime."""
    settings = app[SETTINGS]
    store = settings.make_store()
    await store.open()
    app[STORE] = store
    app[SHARED] = Shared.of(settings, store)
    await store.start_changes()  # subscriptions hear other processes' writes
    yield
    await store.close()


async def _auth_ctx(app: web.Application) -> AsyncIterator[None]:
    """The token checker, with an HTTP session for the JWKS when one is configured."""
    settings = app[SETTINGS]
    async with contextlib.AsyncExitStack() as stack:
        jwks = None
        if settings.jwks_url:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            jwks = JwksCache(settings.jwks_url, session, ttl=settings.jwks_ttl)
        app[AUTH] = Authenticator(
            secret=settings.secret(),
            audience=settings.jwt_audience,
            algorithms=settings.jwt_algorithms,
            jwks=jwks,
        )
        yield


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the table exists, has the right shape, and this role can read and write it.

    Answered within `KVGRAPH_READY_TIMEOUT` whatever the store does (a lock held on the
    table, an exhausted pool, a locked SQLite file): past it, 503 with a `timeout` problem.
    """
    settings = request.app[SETTINGS]
    try:
        async with asyncio.timeout(settings.ready_timeout):
            found = await table_problems(request.app[STORE])
    except TimeoutError:
        message = f"the store did not answer within {settings.ready_timeout:g} s"
        return unready([{"code": READY_TIMEOUT, "message": message}])
    problems = blocking(found, allow_rls=settings.allow_rls)
    if problems:
        return unready([asdict(p) for p in problems])
    return web.json_response({"status": "ok"})


def unready(problems: list[dict[str, Any]]) -> web.Response:
    """The 503 of /readyz, listing what is wrong."""
    return web.json_response({"status": "unavailable", "problems": problems}, status=503)


def cors_middleware(origins: list[str], headers: list[str]) -> Middleware:
    """Answer preflights and add CORS headers for the configured browser origins (the rule
    of `gql.web.origins`, as for the WebSocket handshake).

    `headers` are the request headers browsers may send; `*` allows whatever a preflight asks
    for (a literal `*` would not cover `Authorization`).
    """
    echo_headers = "*" in headers
    allowed_headers = ", ".join(headers)

    def decorate(response: web.StreamResponse, origin: str) -> None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None or not allows(origins, origin):
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            asked = request.headers.get("Access-Control-Request-Headers", "")
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                asked if echo_headers else allowed_headers
            )
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:  # 404, 405, 413...: readable by the page too
                decorate(exc, origin)
                raise
        decorate(response, origin)
        return response

    return cors


async def _count_subscriptions(metrics: Metrics, app: web.Application) -> None:
    """The active-subscriptions gauge follows the subscriptions watching the store."""
    app[STORE].changes.observers.append(metrics.subscriptions.inc)


def metrics_of(settings: Settings) -> Metrics | None:
    """The app's metrics, if these settings turn them on."""
    if not settings.metrics:
        return None
    registered = operation_names(settings.persisted_registry().values())
    return Metrics(OperationLabels(registered, settings.metrics_max_operations))


def create_app(settings: Settings) -> web.Application:
    """Build the gateway: /graphql (+ GraphiQL), /healthz, /readyz, /metrics if asked for;
    the store opens on start."""
    app = web.Application()
    metrics = metrics_of(settings)
    lines = None
    if settings.access_log:
        app[ACCESS_LOG] = lines = AccessLog()
        app.cleanup_ctx.append(_access_ctx)  # first: its lines are written last
    app.middlewares.append(observe_middleware(metrics, lines))
    if settings.cors_origins:
        app.middlewares.append(cors_middleware(settings.cors_origins, settings.cors_headers))
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_auth_ctx)
    app.cleanup_ctx.append(task_scopes)
    app[LIMITER] = limiter = RateLimiter.of(settings)
    app[RELEASE] = Release(prune=[limiter.prune])  # memory back after a burst of sockets
    schema = build_schema(
        limits=settings.limits(), rate=limiter, introspection=settings.introspection_on()
    )
    schema.extensions = (*schema.extensions, OperationName)  # the web layer's own
    view = GatewayView(
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        multipart_uploads_enabled=False,
        **websocket_view_options(),  # graphql-transport-ws; origins: `GatewayView`
    )
    app.router.add_route("*", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        app[METRICS] = metrics
        app.on_startup.append(partial(_count_subscriptions, metrics))
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        app.router.add_get("/metrics", metrics_handler(metrics, token))
    folder = graphiql.assets_dir(cdn=settings.graphiql_cdn, folder=settings.graphiql_assets)
    if settings.graphiql:
        graphiql.add_routes(app, folder)
    return app
