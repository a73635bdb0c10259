"""Query limits, checked before execution: tokens, depth, aliases and a node budget.

One 213-byte query (`Trip.items -> ItineraryItem.trip -> Trip.items`, four deep, `first: 60`)
asks for millions of objects; without limits it took the server past 3 GB. So every operation
is measured before anything runs:

- tokens: graphql-core's parser stops lexing past the limit (Strawberry's `MaxTokensLimiter`);
- depth and aliases: validation rules, built once per schema and registered once, so
  Strawberry's `ValidationCache` keeps hitting (a limiter built per request is a new rule
  class each time, and the cache, keyed on the rules, misses: strawberry#4635). Strawberry's
  `QueryDepthLimiter` and `MaxAliasesLimiter` walk a fragment again at every spread, so 20
  fragments spreading the next one twice take seconds to validate; these rules measure each
  fragment once;
- nodes: how many objects the response can hold, from `first`/`last` (their runtime values,
  so `first: $n` counts) and list nesting. It needs the variables, so an extension checks it
  just before execution; the same count is what the rate limiter (`admit`) is charged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.language import BREAK
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension

from gql.schema.errors import VALIDATION_FAILED
from resolvers.paging import DEFAULT_PAGE

SHOWN_MAX = 10**15  # counts above this are reported as "more than"

# Asked with the request's context and the operation's node count before it runs: an error
# refuses the operation (the rate limiter), None lets it run.
Admit = Callable[[Any, int], GraphQLError | None]


@dataclass(frozen=True)
class Limits:
    """The most a single operation may ask for."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_nodes: int = 50_000


def extensions(limits: Limits, admit: Admit | None = None) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing `limits` (rules built here, once, for every request)."""
    rules: list[type[ASTValidationRule]] = [
        depth_rule(limits.max_depth),
        alias_rule(limits.max_aliases),
    ]
    return [
        partial(MaxTokensLimiter, limits.max_tokens),
        partial(AddValidationRules, rules),
        partial(NodeBudget, limits.max_nodes, admit),
    ]


def refusal(
    message: str, limit: str, maximum: int, operation: OperationDefinitionNode
) -> GraphQLError:
    """A refused operation: `GRAPHQL_VALIDATION_FAILED`, naming the limit and its value."""
    extensions = {"code": VALIDATION_FAILED, "limit": limit, "max": maximum}
    return GraphQLError(message, operation, extensions=extensions)


def _shown(count: int) -> str:
    return f"{count:,}" if count <= SHOWN_MAX else f"more than {SHOWN_MAX:,}"


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield definition


def _name(operation: OperationDefinitionNode) -> str:
    return f"Operation '{operation.name.value}'" if operation.name else "The operation"


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


class _Walk:
    """Depth and alias counts of one document; each selection set (fragment) measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = _fragments(document)
        self._depths: dict[int, int] = {}
        self._aliases: dict[int, int] = {}

    def depth(self, node: SelectionSetNode) -> int:
        """Fields nested on the longest path; introspection (`__schema`) counts as one."""
        found = self._depths.get(id(node))
        if found is not None:
            return found
        self._depths[id(node)] = 0  # a fragment cycle (refused by validation) adds nothing
        best = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = selection.selection_set
                introspection = selection.name.value.startswith("__")
                below = 0 if inner is None or introspection else self.depth(inner)
                best = max(best, 1 + below)
            elif inner := self._inner(selection):
                best = max(best, self.depth(inner))
        self._depths[id(node)] = best
        return best

    def aliases(self, node: SelectionSetNode) -> int:
        """Aliased fields, a fragment counted at every spread."""
        found = self._aliases.get(id(node))
        if found is not None:
            return found
        self._aliases[id(node)] = 0
        count = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode) and selection.alias:
                count += 1
            if inner := self._inner(selection):
                count += self.aliases(inner)
        self._aliases[id(node)] = count
        return count

    def _inner(self, selection: Any) -> SelectionSetNode | None:
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            return fragment.selection_set if fragment else None
        return selection.selection_set


def _operation_rule(
    limit: str, maximum: int, measure: Callable[[_Walk, SelectionSetNode], int], said: str
) -> type[ASTValidationRule]:
    """A validation rule refusing each operation whose `measure` exceeds `maximum`.

    `said` words the measure, e.g. "is nested {} fields deep" (the count goes in the braces).
    """

    class OperationRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> object:
            walk = _Walk(node)
            for operation in _operations(node):
                found = measure(walk, operation.selection_set)
                if found > maximum:
                    message = (
                        f"{_name(operation)} {said.format(_shown(found))}; the limit is {maximum}."
                    )
                    self.report_error(refusal(message, limit, maximum, operation))
            return BREAK

    return OperationRule


def depth_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations nested deeper than `max_depth` fields."""
    return _operation_rule("depth", max_depth, _Walk.depth, "is nested {} fields deep")


def alias_rule(max_aliases: int) -> type[ASTValidationRule]:
    """A validation rule refusing operations with more than `max_aliases` aliases."""
    return _operation_rule("aliases", max_aliases, _Walk.aliases, "uses {} aliases")


class NodeCount:
    """How many objects an operation's response can hold (an upper bound).

    Every object counts: each list element, connection and single object (`location`,
    `trip`); leaves do not. A connection (a field with `first`/`last`) holds as many nodes
    (`nodes`, `edges`) as its `first`/`last` asks for, its default page (20) without them;
    any other list of objects counts as a default page. Fields under `@skip`/`@include`
    count as included; introspection (`__schema`, `__type`) does not count.
    """

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: VariableValues
    ) -> None:
        self.schema, self.variables = schema, variables
        self.fragments = _fragments(document)
        self.memo: dict[tuple[int, int | None], int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
        """The node count of one operation."""
        root = self.schema.get_root_type(operation.operation)
        return self.selections(operation.selection_set, root, None) if root else 0

    def selections(
        self, node: SelectionSetNode, parent: GraphQLNamedType | None, page: int | None
    ) -> int:
        """Objects per parent object under `node`; `page` sizes the lists of a connection."""
        key = (id(node), page)
        found = self.memo.get(key)
        if found is not None:
            return found
        self.memo[key] = 0  # a fragment cycle (refused by validation) adds nothing
        total = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                typed = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, typed, page)
            elif fragment := self.fragments.get(selection.name.value):  # type: ignore[attr-defined]
                typed = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(fragment.selection_set, typed, page)
        self.memo[key] = total
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> int:
        """Objects one field holds per parent object, itself and everything under it."""
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None or not is_composite_type(get_named_type(definition.type)):
            return 0
        width, type_ = 1, get_nullable_type(definition.type)
        while isinstance(type_, GraphQLList):
            width *= DEFAULT_PAGE if page is None else page
            type_ = get_nullable_type(type_.of_type)
        inner = None
        if "first" in definition.args or "last" in definition.args:
            inner = self._page(definition, node)
        below = self.selections(node.selection_set, type_, inner) if node.selection_set else 0
        return width * (1 + below)

    def _page(self, definition: Any, node: FieldNode) -> int:
        """The page a connection asks for: `first`/`last` (their values), else the default."""
        try:
            args = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return DEFAULT_PAGE  # a bad value: execution refuses it before any read
        sizes = [
            value
            for value in (args.get("first"), args.get("last"))
            if isinstance(value, int) and not isinstance(value, bool)
        ]
        return max([0, *sizes]) if sizes else DEFAULT_PAGE


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> tuple[OperationDefinitionNode, int] | None:
    """The operation that would run and its node count; None if it cannot run as sent."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None  # bad variables: execution refuses them before any read
    return operation, NodeCount(schema, document, coerced).operation(operation)


def node_count(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> int | None:
    """The node count of the operation that would run, or None if it cannot run as sent."""
    measured = measure(schema, document, operation_name, variables)
    return measured[1] if measured else None


class NodeBudget(SchemaExtension):
    """Refuse an operation that could return more than `max_nodes` objects, before it runs.

    An admitted count is then offered to `admit` (the rate limiter), which may refuse too.
    """

    def __init__(self, max_nodes: int, admit: Admit | None = None) -> None:
        super().__init__()
        self.max_nodes, self.admit = max_nodes, admit

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = self._refusal()
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield

    def _refusal(self) -> GraphQLError | None:
        context = self.execution_context
        document = context.graphql_document
        measured = document and measure(
            context.schema._schema, document, context.operation_name, context.variables
        )
        if not measured:
            return None
        operation, nodes = measured
        if nodes > self.max_nodes:
            message = (
                f"The query could return {_shown(nodes)} objects; the limit is "
                f"{self.max_nodes:,}. Ask for smaller pages (first/last) or nest fewer lists."
            )
            return refusal(message, "nodes", self.max_nodes, operation)
        return self.admit(context.context, nodes) if self.admit else None
