"""The schema: the Query and Mutation roots merged from each domain's module, and its SDL."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from pathlib import Path
from typing import Any

import strawberry
from graphql import (
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    lexicographic_sort_schema,
    print_schema,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gql.schema.base import ROOTS, TYPES, Node, root_field
from gql.schema.codes import ErrorCode
from gql.schema.errors import should_mask
from gql.schema.executor import LevelExecutionContext
from gql.schema.extensions import (
    DOCUMENT_RULES,
    GatewayErrors,
    KVStats,
    ParsedOnce,
    RecordReports,
)
from gql.schema.hooks import CachedHooksRunner
from gql.schema.limits import Limits, RateGate
from gql.schema.limits import extensions as limit_extensions
from gql.schema.scalars import OVERRIDES as SCALAR_OVERRIDES
from gql.schema.subscriptions import Subscription
from resolvers import nodes

log = logging.getLogger("kvgraph")


@strawberry.type
class NodeQuery:
    node: Node | None = root_field(
        nodes.node,
        args=nodes.NodeArgs,
        types={"node_id": strawberry.ID},
        description="Any object by its global `nodeId`.",
    )


def _roots(name: str) -> tuple[type, ...]:
    """The classes registered for a root by every module of `gql/schema/` (imported here:
    each registers its own), by module name, then in each module's order."""
    package = __name__.rpartition(".")[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
    return tuple(sorted(ROOTS[name], key=lambda cls: cls.__module__))


Query = merge_types("Query", (NodeQuery, *_roots("Query")))
Mutation = merge_types("Mutation", _roots("Mutation"))


class GatewaySchema(strawberry.Schema):
    """Logs only unexpected errors (once, with traceback); expected ones are the client's.

    With `hide_suggestions`, execution leaves "Did you mean ...?" out of its errors too (enum
    values and input fields of variables); validation's are left out by `BoundedValidation`.
    """

    hide_suggestions = False

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "hide_suggestions": self.hide_suggestions}

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                log.error("unexpected error: %s", error.message, exc_info=error.original_error)


def build_schema(
    *,
    fast: bool = True,
    limits: Limits | None = None,
    rate: RateGate | None = None,
    introspection: bool = True,
) -> strawberry.Schema:
    """Build the schema; `fast=False` leaves every operation to graphql-core's executor.

    `limits` (default: `Limits()`) are checked before execution; `rate` (the rate limiter)
    is asked last, and charged for documents refused before they run; `introspection=False`
    (production) refuses `__schema`/`__type` in validation (`__typename` stays) and leaves
    "Did you mean ...?" out of every error, which would name what introspection hides.
    """
    rules = [*DOCUMENT_RULES, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*TYPES, ErrorCode],
        extensions=[
            ParsedOnce,
            *limit_extensions(limits or Limits(), rate, suggestions=introspection, rules=rules),
            GatewayErrors,
            RecordReports,
            KVStats,
        ],
        config=StrawberryConfig(disable_field_suggestions=not introspection),
        execution_context_class=LevelExecutionContext if fast else None,
        scalar_overrides=SCALAR_OVERRIDES,
    )
    schema.hide_suggestions = not introspection
    return schema


def sdl(schema: strawberry.Schema | None = None) -> str:
    """The schema's SDL, types and fields sorted, as committed in `schema.graphql`."""
    graphql_schema = (schema or build_schema())._schema
    return print_schema(lexicographic_sort_schema(graphql_schema)) + "\n"


def export_schema(path: str | Path = "schema.graphql") -> None:
    """Write the sorted SDL to `path`."""
    Path(path).write_text(sdl(), encoding="utf-8")
