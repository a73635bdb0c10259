"""The schema: the Query and Mutation roots merged from each domain's module, and its SDL."""

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
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from gql.schema.ai_runs import AIRunMutations
from gql.schema.api_keys import ApiKeyMutations
from gql.schema.automation import AutomationMutations, JobQuery
from gql.schema.base import Node, root_field
from gql.schema.budgets import BudgetMutations
from gql.schema.codes import ErrorCode
from gql.schema.collaborators import CollaboratorMutations
from gql.schema.collections import CollectionMutations, CollectionQuery
from gql.schema.conflicts import ConflictMutations
from gql.schema.contexts import ContextMutations
from gql.schema.conversations import AIContext, ConversationMutations, ConversationQuery
from gql.schema.errors import should_mask
from gql.schema.executor import LevelExecutionContext
from gql.schema.extensions import (
    FiniteNumbers,
    GatewayErrors,
    KVStats,
    ParsedOnce,
    RecordReports,
    SecretsAsVariables,
)
from gql.schema.hooks import CachedHooksRunner
from gql.schema.items import ItemMutations
from gql.schema.limits import Limits, RateGate
from gql.schema.limits import extensions as limit_extensions
from gql.schema.locations import PLACE_TYPES, LocationMutations, LocationQuery
from gql.schema.scalars import OVERRIDES as SCALAR_OVERRIDES
from gql.schema.subscriptions import Subscription
from gql.schema.suggestions import SuggestionMutations
from gql.schema.trips import TripMutations, TripQuery
from gql.schema.users import UserMutations, UserQuery
from gql.schema.websources import WebSourceMutations, WebSourceQuery
from gql.schema.workflows import WorkflowMutations, WorkflowQuery
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


Query = merge_types(
    "Query",
    (
        NodeQuery,
        UserQuery,
        TripQuery,
        ConversationQuery,
        LocationQuery,
        CollectionQuery,
        WorkflowQuery,
        JobQuery,
        WebSourceQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        TripMutations,
        ItemMutations,
        ConversationMutations,
        SuggestionMutations,
        LocationMutations,
        CollaboratorMutations,
        CollectionMutations,
        UserMutations,
        ConflictMutations,
        WorkflowMutations,
        BudgetMutations,
        AutomationMutations,
        WebSourceMutations,
        AIRunMutations,
        ApiKeyMutations,
        ContextMutations,
    ),
)


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


NO_INTROSPECTION = partial(AddValidationRules, [NoSchemaIntrospectionCustomRule])


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
    rules = [] if introspection else [NO_INTROSPECTION]
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[AIContext, *PLACE_TYPES.values(), ErrorCode],
        extensions=[
            ParsedOnce,
            FiniteNumbers,
            SecretsAsVariables,
            *rules,
            *limit_extensions(limits or Limits(), rate, suggestions=introspection),
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
