"""The Query root, the schema, and `export-schema`."""

from __future__ import annotations

import logging
from pathlib import Path

import strawberry
from graphql import GraphQLError, lexicographic_sort_schema, print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gql import ids
from gql.context import Info
from gql.errors import bad_input, should_mask
from gql.extensions import GatewayErrors, KVStats, RecordReports
from gql.mutations import Mutation
from gql.types import (
    AIContext,
    Connection,
    Conversation,
    Event,
    Location,
    LocationKind,
    Node,
    Rental,
    Restaurant,
    Trip,
    User,
    src,
)
from resolvers import conversations, items, locations, suggestions, trips, users
from resolvers.common import PageArgs
from resolvers.users import UserRef

log = logging.getLogger("kvgraph")


async def _node(info: Info, type_name: str, id_: str) -> object | None:
    ctx = info.context
    if type_name == "User":
        return UserRef(id_) if id_ == ctx.viewer_id else None
    if type_name in {"Event", "Restaurant", "Rental"}:
        return await locations.place(ctx, type_name.lower(), id_)
    if type_name == "AIContext":
        conv = await conversations.conversation(ctx, id_)
        return await conversations.context(ctx, conv) if conv else None
    fetch = {
        "Trip": trips.trip,
        "ItineraryItem": items.item,
        "Conversation": conversations.conversation,
        "Message": conversations.message,
        "Suggestion": suggestions.suggestion,
    }.get(type_name)
    if fetch is None:
        raise bad_input(f"unknown node type {type_name!r}")
    return await fetch(ctx, id_)


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user; null without a valid bearer token.")
    def viewer(self, info: Info) -> User | None:
        return src(users.viewer(info.context))

    @strawberry.field(description="Any object by its global `nodeId`.")
    async def node(self, info: Info, node_id: strawberry.ID) -> Node | None:
        type_name, id_ = ids.parse_node_id(node_id)
        return src(await _node(info, type_name, id_))

    @strawberry.field(description="A trip the viewer owns or collaborates on.")
    async def trip(self, info: Info, id: strawberry.ID) -> Trip | None:
        return src(await trips.trip(info.context, id))

    @strawberry.field(description="A conversation the viewer owns.")
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        return src(await conversations.conversation(info.context, id))

    @strawberry.field(description="A place of any kind by its id (public catalog).")
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return src(await locations.find_place(info.context, id) if ":" not in id else None)

    @strawberry.field(description="The public catalog of places, filtered and paged.")
    async def locations(
        self,
        info: Info,
        kind: LocationKind | None = None,
        city: str | None = None,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Location]:
        args = PageArgs(first, after, last, before)
        wanted = kind.value if kind else None
        return src(await locations.catalog(info.context, wanted, city, search, args))


class GatewaySchema(strawberry.Schema):
    """Logs only unexpected errors (once, with traceback); expected ones are the client's."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error: %s", error.message, exc_info=error.original_error)


def build_schema() -> strawberry.Schema:
    """Build the schema with kvgraph's extensions."""
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[AIContext, Event, Restaurant, Rental],
        extensions=[GatewayErrors, RecordReports, KVStats],
        config=StrawberryConfig(disable_field_suggestions=True),
    )


def sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema's SDL, types and fields sorted, as committed in `schema.graphql`."""
    graphql_schema = (schema or build_schema())._schema
    return print_schema(lexicographic_sort_schema(graphql_schema)) + "\n"


def export_schema(path: str | Path = "schema.graphql") -> None:
    """Write the sorted SDL to `path`."""
    Path(path).write_text(sdl(), encoding="utf-8")
