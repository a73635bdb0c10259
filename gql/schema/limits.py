"""Query limits, checked before execution: tokens, depth, aliases, a node budget, and what
validation itself may cost.

One 213-byte query (`Trip.items -> ItineraryItem.trip -> Trip.items`, four deep, `first: 60`)
asks for millions of objects; without limits it took the server past 3 GB. So every operation
is measured before anything runs:

- tokens: graphql-core's parser stops lexing past the limit (`max_tokens`, as Strawberry's
  `MaxTokensLimiter` sets it);
- depth and aliases: validation rules, built once per schema and registered once, so the
  validation cache keeps hitting (a limiter built per request is a new rule class each time,
  and the cache, keyed on the rules, misses: strawberry#4635). Strawberry's
  `QueryDepthLimiter` and `MaxAliasesLimiter` walk a fragment again at every spread, so 20
  fragments spreading the next one twice take seconds to validate; these rules measure each
  fragment once;
- nodes: how many objects the response can hold, from `first`/`last` (their runtime values,
  so `first: $n` counts) and list nesting. It needs the variables, so an extension checks it
  just before execution; the same count is what the rate limiter (`RateGate.admit`) is charged.

Validation runs on the event loop before any of that can refuse, so its own cost is bounded
too (`BoundedValidation`): graphql-core's field-merging rule compares fields sharing a response
name pairwise (2,000 `id`s, or 150 fragments spread on one selection, took 0.3-0.7 s), so it
gets a budget of comparisons; a literal reports its first error only (each error prints the
whole literal: an input object with 650 unknown fields took 1.2 s). What remains is linear in
the document's tokens. A document refused before it runs still costs its client its tokens
times `Limits.token_cost` (`RateGate.charge`), so invalid documents cannot be sent for free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Protocol

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    Source,
    ValidationRule,
    ValuesOfCorrectTypeRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from graphql.language import BREAK, SKIP, Lexer, TokenKind, ValueNode, VisitorAction
from graphql.utilities import validate_input_literal
from graphql.validation import ValidationContext, validate
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from gql.schema.errors import VALIDATION_FAILED, before_execution
from resolvers.paging import DEFAULT_PAGE

SHOWN_MAX = 10**15  # counts above this are reported as "more than"
# graphql-core's units of field-merging work (a comparison of two fields costs 2; its default,
# 500,000, took 0.3 s): 60 fragments of three shared fields (`id __typename title`) spread on
# one selection use 19,770, 140 fields of one response name 19,460; an app's query a few.
MERGE_BUDGET = 20_000
VALIDATION_CACHE = 128  # documents whose validation is remembered
# Set on Strawberry's ExecutionContext when the document was validated for this request
# (not served from the cache): that work is charged to the rate limit.
VALIDATED_NOW = "_kvgraph_validated_now"
PAGE_ARGUMENTS = frozenset(("first", "last"))  # a connection's page size
CACHED_CHARS = 64_000  # longer documents are validated each time (the cache holds their text)


class RateGate(Protocol):
    """The rate limiter as the schema sees it (the web layer's `RateLimiter`)."""

    def admit(self, context: Any, cost: int) -> GraphQLError | None:
        """None if an operation costing `cost` may run; else its refusal."""

    def charge(self, context: Any, cost: int) -> None:
        """Charge a document refused before it ran (it may leave the client in debt)."""

    def limits(self, context: Any) -> bool:
        """Whether the operation's client is charged at all."""


@dataclass(frozen=True)
class Limits:
    """The most a single operation may ask for."""

    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2_000
    max_nodes: int = 50_000

    @property
    def token_cost(self) -> int:
        """Nodes charged per lexical token of a document that is validated or refused: one
        at the token limit costs what the largest query allowed does (25 by default)."""
        return max(1, self.max_nodes // self.max_tokens)


def extensions(
    limits: Limits,
    rate: RateGate | None = None,
    *,
    suggestions: bool = True,
    rules: Sequence[type[ASTValidationRule]] = (),
) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing `limits` (rules built here, once, for every request).

    `suggestions=False` leaves every "Did you mean ...?" out of validation errors; `rules` run
    before the limits' own, added by the same extension (one per request, not one per rule).
    """
    rules = (*rules, depth_rule(limits.max_depth), alias_rule(limits.max_aliases))
    return [
        partial(
            BoundedValidation,
            hide_suggestions=not suggestions,
            max_tokens=limits.max_tokens,
            rules=rules,
        ),
        partial(NodeBudget, limits, rate),
    ]


def refusal(message: str, limit: str, maximum: int, node: Any = None) -> GraphQLError:
    """A refused operation: `GRAPHQL_VALIDATION_FAILED`, naming the limit and its value."""
    extensions = {"code": VALIDATION_FAILED, "limit": limit, "max": maximum}
    return GraphQLError(message, node, extensions=extensions)


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


class BoundedMerging(OverlappingFieldsCanBeMergedRule):
    """graphql-core's field-merging rule with a budget of `MERGE_BUDGET` units of work.

    The rule compares every pair of fields (and fragments) that share a response name, so its
    cost grows with the square of the repeats; past the budget the document is refused.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MERGE_BUDGET

    def enter_selection_set(self, *args: Any) -> None:
        try:
            super().enter_selection_set(*args)
        except ValidationAbortedError:
            if self.rule_context.remaining_complexity_budget >= 0:
                raise  # the error limit, not the budget
            message = (
                "The document repeats fields or fragments too often to check that they merge "
                f"(more than {MERGE_BUDGET:,} units of work); remove duplicates."
            )
            raise ValidationAbortedError(
                message,
                extensions={"code": VALIDATION_FAILED, "limit": "merging", "max": MERGE_BUDGET},
            ) from None


class _FirstError(Exception):
    """Stops checking a literal after its first error."""


class FirstValueError(ValuesOfCorrectTypeRule):
    """graphql-core's literal check, reporting the first error of each literal only.

    Each error prints the literal it is found in, so an object of n unknown fields cost n
    prints of n fields; the first error says what is wrong.
    """

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        if input_type:

            def on_error(error: GraphQLError, _path: Any) -> None:
                self.report_error(error)
                raise _FirstError

            with contextlib.suppress(_FirstError):
                validate_input_literal(
                    node, input_type, on_error, None, None, self.context.hide_suggestions
                )
        return SKIP


_BOUNDED: dict[type[ASTValidationRule], type[ASTValidationRule]] = {
    OverlappingFieldsCanBeMergedRule: BoundedMerging,
    ValuesOfCorrectTypeRule: FirstValueError,
}
# Strawberry's own rules, which its default validation adds to every rule set.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


@lru_cache(maxsize=16)
def bounded_rules(
    rules: tuple[type[ASTValidationRule], ...],
) -> tuple[type[ASTValidationRule], ...]:
    """`rules` with the costly graphql-core rules swapped for their bounded versions."""
    return tuple(_BOUNDED.get(rule, rule) for rule in rules) + _STRAWBERRY_RULES


def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class _Text:
    """A document as a cache key by the text it was parsed from (graphql-core's frozen-dataclass
    nodes would hash the whole tree on every lookup); equal texts validate alike."""

    __slots__ = ("document", "text")

    def __init__(self, text: str, document: DocumentNode) -> None:
        self.text, self.document = text, document

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Text) and other.text == self.text


@lru_cache(maxsize=VALIDATION_CACHE)
def _cached_validate(
    schema: GraphQLSchema,
    text: _Text,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return _validate(schema, text.document, rules, hide_suggestions)


class BoundedValidation(SchemaExtension):
    """Validate with the bounded rules (in place of Strawberry's), cached per document.

    `hide_suggestions` leaves "Did you mean ...?" out of every validation error (names of
    fields, arguments, types, enum values and input fields the client did not know);
    `max_tokens` stops the parser past that many tokens, and `rules` are validated besides
    the specified ones (what Strawberry's `MaxTokensLimiter` and `AddValidationRules` set,
    here without two more extensions and hooks each request).
    """

    cache = _cached_validate

    def __init__(
        self,
        *,
        hide_suggestions: bool = False,
        max_tokens: int | None = None,
        rules: tuple[type[ASTValidationRule], ...] = (),
    ) -> None:
        super().__init__()
        self.hide_suggestions, self.max_tokens, self.rules = hide_suggestions, max_tokens, rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        if self.max_tokens is not None:
            context.parse_options["max_tokens"] = self.max_tokens
        if self.rules:
            context.validation_rules = (*context.validation_rules, *self.rules)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            rules = bounded_rules(tuple(context.validation_rules))
            schema = context.schema._schema
            text = document.loc.source.body if document.loc is not None else None
            if text is None or len(text) > CACHED_CHARS:
                validated_now = True
                errors = _validate(schema, document, rules, self.hide_suggestions)
            else:
                hits = _cached_validate.cache_info().hits
                key = _Text(text, document)
                errors = _cached_validate(schema, key, rules, self.hide_suggestions)
                validated_now = _cached_validate.cache_info().hits == hits
            context.pre_execution_errors = errors
            setattr(context, VALIDATED_NOW, validated_now)
        yield


def document_tokens(
    query: str | None,
    document: DocumentNode | None,
    max_tokens: int,
    errors: list[GraphQLError] | None = None,
) -> int:
    """The lexical tokens a request's document cost to parse (comments count, at most the
    limit): counted by the parser, or lexed again up to where a syntax error stopped it."""
    if document is not None:
        return min(document.token_count, max_tokens)
    stop = min(
        (p for e in errors or () if isinstance(e, GraphQLSyntaxError) for p in e.positions or ()),
        default=None,
    )
    lexer, count = Lexer(Source(query or "")), 0
    try:
        while count < max_tokens:
            token = lexer.advance()
            if token.kind is TokenKind.EOF or (stop is not None and token.start >= stop):
                break
            count += 1
    except GraphQLSyntaxError:
        pass  # a lexical error: where parsing stopped too
    return count


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
        self.read_variables = False  # whether a page size came from a variable

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
        if not PAGE_ARGUMENTS.isdisjoint(definition.args):
            inner = self._page(definition, node)
        below = self.selections(node.selection_set, type_, inner) if node.selection_set else 0
        return width * (1 + below)

    def _page(self, definition: Any, node: FieldNode) -> int:
        """The page a connection asks for: `first`/`last` (their values), else the default."""
        self.read_variables = self.read_variables or any(
            isinstance(arg.value, VariableNode)
            for arg in node.arguments or ()
            if arg.name.value in PAGE_ARGUMENTS
        )
        try:
            args = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return DEFAULT_PAGE  # a bad value: execution refuses it before any read
        sizes = [
            value
            for value in map(args.get, PAGE_ARGUMENTS)
            if isinstance(value, int) and not isinstance(value, bool)
        ]
        return max([0, *sizes]) if sizes else DEFAULT_PAGE


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: dict[str, Any] | None = None,
) -> tuple[OperationDefinitionNode, int] | None:
    """The operation that would run and its node count; None if it cannot run as sent.

    A count no variable takes part in (no `first`/`last` given by one) is the same for every
    request sending that text: it is kept (`_FIXED_COUNTS`, by the text and the operation's
    name), and only the variables are checked again.
    """
    key = _fixed_key(schema, document, operation_name)
    fixed = _FIXED_COUNTS.get(key) if key is not None else None
    operation = fixed[0] if fixed is not None else get_operation_ast(document, operation_name)
    if operation is None:
        return None
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return None  # bad variables: execution refuses them before any read
    if fixed is not None:
        return fixed
    count = NodeCount(schema, document, coerced)
    measured = operation, count.operation(operation)
    if key is not None and not count.read_variables:
        if len(_FIXED_COUNTS) >= VALIDATION_CACHE:
            _FIXED_COUNTS.clear()
        _FIXED_COUNTS[key] = measured
    return measured


def kept_count(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None = None
) -> tuple[OperationDefinitionNode, int] | None:
    """The operation and node count `measure` kept for this text (one no variable takes part
    in), without checking any variables; None when none is kept."""
    key = _fixed_key(schema, document, operation_name)
    return _FIXED_COUNTS.get(key) if key is not None else None


def _fixed_key(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[GraphQLSchema, str, str | None] | None:
    text = document.loc.source.body if document.loc is not None else None
    return (schema, text, operation_name) if text and len(text) <= CACHED_CHARS else None


# (schema, document text, operation name) -> (operation, node count), for counts that no
# variable takes part in.
_FIXED_COUNTS: dict[tuple[GraphQLSchema, str, str | None], tuple[OperationDefinitionNode, int]] = {}


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
    """Refuse an operation that could return more than `max_nodes` objects, before it runs;
    charge the rate limiter (`rate`) for what each document cost.

    An admitted operation is offered to `rate.admit` at its node count, or, when its document
    was validated for this request (not from the cache), at its tokens times
    `Limits.token_cost` if that is more. A document refused before it ran (it did not parse
    or validate, broke a limit, had bad variables) is charged its tokens times the token cost
    (`rate.charge`), whatever the client has left; a query or mutation admitted at a kept
    count (its variables unchecked) and then refused by execution is charged the rest of
    that cost.
    Once an admitted operation has run, the records it read beyond what it was admitted for
    (a `totalCount`, a page filled past unreadable ids) are charged too: a query pays for
    what it reads. A client the rate limit leaves alone (`rate.limits`) is charged nothing.
    """

    def __init__(self, limits: Limits, rate: RateGate | None = None) -> None:
        super().__init__()
        self.limits, self.rate = limits, rate
        self.asked = False  # whether the rate limiter was asked to admit the operation
        self.admitted = 0  # what the admitted operation was charged before it ran

    def on_operation(self) -> Iterator[None]:
        if self.rate is not None and not self.rate.limits(self.execution_context.context):
            self.rate = None  # a client the rate limit leaves alone: nothing to charge
        try:
            yield
        finally:
            if self.rate is not None and not self.asked:
                cost = self.limits.token_cost * self._tokens()
                self.rate.charge(self.execution_context.context, cost)

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = self._refusal()
        if error is not None and context.operation_type is OperationType.SUBSCRIPTION:
            raise error  # a stream ignores a result set here: the refusal ends it instead
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield
        if self.rate is None or not self.admitted:
            return
        if isinstance(context.result, ExecutionResult) and before_execution(context.result):
            # Admitted, then refused before it ran (its variables): what a refused document costs.
            cost = self.limits.token_cost * self._tokens()
            if cost > self.admitted:
                self.rate.charge(context.context, cost - self.admitted)
            return
        read = getattr(context.context, "records_read", 0)
        if read > self.admitted:
            self.rate.charge(context.context, read - self.admitted)

    def _tokens(self) -> int:
        context = self.execution_context
        document, errors = context.graphql_document, context.pre_execution_errors
        return max(document_tokens(context.query, document, self.limits.max_tokens, errors), 1)

    def _refusal(self) -> GraphQLError | None:
        context = self.execution_context
        document, name = context.graphql_document, context.operation_name
        if document is None:
            return None
        schema = context.schema._schema
        kept = kept_count(schema, document, name)
        # A kept count is within the budget or not whatever the variables: whether they are
        # good is execution's to say (it checks them anyway; checking them here too was a few
        # per cent of a small query's CPU), and `on_execute` charges a refusal the rest of its
        # cost. A stream's refusal is not its result, so a charged subscription's are checked.
        within = kept is not None and kept[1] <= self.limits.max_nodes
        if within and self.rate is None:
            return None
        if kept is not None and within and context.operation_type is not OperationType.SUBSCRIPTION:
            measured = kept
        else:
            found = measure(schema, document, name, context.variables)
            if found is None:
                return None
            measured = found
        operation, nodes = measured
        maximum = self.limits.max_nodes
        if nodes > maximum:
            message = (
                f"The query could return {_shown(nodes)} objects; the limit is "
                f"{maximum:,}. Ask for smaller pages (first/last) or nest fewer lists."
            )
            return refusal(message, "nodes", maximum, operation)
        if self.rate is None:
            return None
        self.asked = True
        cost = nodes
        if getattr(context, VALIDATED_NOW, True):
            cost = max(nodes, self.limits.token_cost * self._tokens())
        refused = self.rate.admit(context.context, cost)
        self.admitted = 0 if refused else max(cost, 1)
        return refused
