"""The aiohttp GraphQL view: authenticates, builds a fresh Context, encodes with orjson."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView

from gql.schema.errors import UNAUTHENTICATED
from gql.web import graphiql
from gql.web.appkeys import AUTH, SETTINGS, STORE
from gql.web.auth import AuthError, Viewer
from resolvers.context import Context

VIEWER = web.RequestKey("viewer", Viewer)


def unauthorized(message: str) -> web.Response:
    """A 401 with a GraphQL-shaped error body."""
    body = {"errors": [{"message": message, "extensions": {"code": UNAUTHENTICATED}}]}
    return web.Response(
        status=401,
        body=orjson.dumps(body),
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


class GatewayView(GraphQLView[Context, None]):
    """Strawberry's aiohttp view with kvgraph's context, auth and encoding."""

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            viewer = await request.app[AUTH].viewer(request.headers.get("Authorization"))
        except AuthError as exc:
            return unauthorized(str(exc))
        if viewer is not None:
            request[VIEWER] = viewer
        return await super().__call__(request)

    async def get_context(self, request: web.Request, response: Any) -> Context:
        viewer = request.get(VIEWER)
        return Context(
            store=request.app[STORE],
            viewer_id=viewer.user_id if viewer else None,
            role=viewer.role if viewer else None,
            request=request,
            response=response,
            debug_stats=request.app[SETTINGS].debug_stats,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        sub_response.body = self.encode_json(response_data)
        sub_response.content_type = "application/json"
        return sub_response

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        folder = request.app[SETTINGS].graphiql_assets
        html = graphiql.ide_html(Path(folder) if folder else None)
        return web.Response(text=html, content_type="text/html")
