"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Middleware

from gql.kv.base import blocking, table_problems
from gql.schema.build import build_schema
from gql.web import graphiql
from gql.web.appkeys import SETTINGS, STORE
from gql.web.ratelimit import RateLimiter, rate_limit_status
from gql.web.settings import Settings
from gql.web.timeout import task_scopes, timeout_middleware
from gql.web.view import GatewayView

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORS_HEADERS = "Authorization, Content-Type"


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the store for the app's lifetime."""
    settings = app[SETTINGS]
    store = settings.make_store()
    await store.open()
    app[STORE] = store
    yield
    await store.close()


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the table exists, has the right shape, and this role can read and write it."""
    found = await table_problems(request.app[STORE])
    problems = blocking(found, allow_rls=request.app[SETTINGS].allow_rls)
    if problems:
        body = {"status": "unavailable", "problems": [asdict(p) for p in problems]}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ok"})


def cors_middleware(origins: list[str]) -> Middleware:
    """Answer preflights and add CORS headers for the configured browser origins."""
    allow_any = "*" in origins

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (allow_any or origin in origins)
        if (
            request.method == "OPTIONS"
            and allowed
            and "Access-Control-Request-Method" in request.headers
        ):
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response = await handler(request)
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = origin  # type: ignore[assignment]
            response.headers["Vary"] = "Origin"
        return response

    return cors


def create_app(settings: Settings) -> web.Application:
    """Build the gateway: /graphql (+ GraphiQL), /healthz, /readyz; the store opens on start."""
    app = web.Application()
    if settings.cors_origins:
        app.middlewares.append(cors_middleware(settings.cors_origins))
    app.middlewares.append(rate_limit_status)
    app.middlewares.append(timeout_middleware(settings.execution_timeout))
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(task_scopes)
    schema = build_schema(limits=settings.limits(), admit=RateLimiter.of(settings).admit)
    view = GatewayView(schema=schema, graphql_ide="graphiql" if settings.graphiql else None)
    app.router.add_route("*", "/graphql", view)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    folder = Path(settings.graphiql_assets) if settings.graphiql_assets else None
    graphiql.add_routes(app, folder)
    return app
