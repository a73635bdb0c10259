"""The Query root, the schema, and `export-schema`."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    lexicographic_sort_schema,
    print_schema,
)
from strawberry.extensions import AddValidationRules, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gql.schema.base import Info
from gql.schema.errors import should_mask
from gql.schema.executor import LevelExecutionContext
from gql.schema.extensions import GatewayErrors, KVStats, RecordReports
from gql.schema.mutations import Mutation
from gql.schema.types import (
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
    one,
)
from resolvers import batches as b

log = logging.getLogger("kvgraph")


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in user; null without a valid bearer token.",
        metadata={"batch": b.viewer},
    )
    async def viewer(self, info: Info) -> User | None:
        return await one(b.viewer, info, self)

    @strawberry.field(
        description="Any object by its global `nodeId`.", metadata={"batch": b.query_node}
    )
    async def node(self, info: Info, node_id: strawberry.ID) -> Node | None:
        return await one(b.query_node, info, self, nodeId=node_id)

    @strawberry.field(
        description="A trip the viewer owns or collaborates on.", metadata={"batch": b.query_trip}
    )
    async def trip(self, info: Info, id: strawberry.ID) -> Trip | None:
        return await one(b.query_trip, info, self, id=id)

    @strawberry.field(
        description="A conversation the viewer owns.", metadata={"batch": b.query_conversation}
    )
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        return await one(b.query_conversation, info, self, id=id)

    @strawberry.field(
        description="A place of any kind by its id (public catalog).",
        metadata={"batch": b.query_location},
    )
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return await one(b.query_location, info, self, id=id)

    @strawberry.field(
        description="The public catalog of places, filtered and paged.",
        metadata={"batch": b.query_locations},
    )
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
        args: dict[str, Any] = {"first": first, "after": after, "last": last, "before": before}
        args |= {"kind": kind, "city": city, "search": search}
        return await one(b.query_locations, info, self, **args)


class GatewaySchema(strawberry.Schema):
    """Logs only unexpected errors (once, with traceback); expected ones are the client's."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error: %s", error.message, exc_info=error.original_error)


NO_INTROSPECTION = partial(AddValidationRules, [NoSchemaIntrospectionCustomRule])


def build_schema(*, fast: bool = True, introspection: bool = True) -> strawberry.Schema:
    """Build the schema; `fast=False` leaves every operation to graphql-core's executor;
    `introspection=False` refuses `__schema`/`__type` in validation (`__typename` stays)."""
    rules = [] if introspection else [NO_INTROSPECTION]
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        types=[AIContext, Event, Restaurant, Rental],
        extensions=[ValidationCache, GatewayErrors, RecordReports, KVStats, *rules],
        config=StrawberryConfig(disable_field_suggestions=True),
        execution_context_class=LevelExecutionContext if fast else None,
    )


def sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema's SDL, types and fields sorted, as committed in `schema.graphql`."""
    graphql_schema = (schema or build_schema())._schema
    return print_schema(lexicographic_sort_schema(graphql_schema)) + "\n"


def export_schema(path: str | Path = "schema.graphql") -> None:
    """Write the sorted SDL to `path`."""
    Path(path).write_text(sdl(), encoding="utf-8")
