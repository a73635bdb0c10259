"""Schema extensions: error codes and masking, invalid-record reports, debug KV stats."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FloatValueNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    IntValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    ValidationRule,
    VariableNode,
    get_named_type,
    parse,
)
from strawberry.extensions import SchemaExtension

from gql.schema.api_keys import SECRET_INPUT_FIELDS
from gql.schema.errors import (
    BAD_USER_INPUT,
    INTERNAL_SERVER_ERROR,
    INVALID_RECORD,
    PARSE_FAILED,
    VALIDATION_FAILED,
    code_of,
    coded,
    masked,
    should_mask,
)
from resolvers.errors import Abort, ClientError

log = logging.getLogger("kvgraph")
MULTIPLE_OPERATIONS = "Must provide operation name if query contains multiple operations."


def _set_code(error: GraphQLError, code: str) -> None:
    """Give `error` the code `code` unless it already has one."""
    if code_of(error) is None:
        error.extensions = {**(error.extensions or {}), "code": code}


def _several_operations(document: DocumentNode | None) -> bool:
    """Whether a parsed document holds more than one operation."""
    if document is None:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return len(operations) > 1


class GatewayErrors(SchemaExtension):
    """Code every error by the phase that produced it; mask unexpected exceptions.

    Parse errors are `GRAPHQL_PARSE_FAILED`, validation errors `GRAPHQL_VALIDATION_FAILED`;
    errors graphql-core returns before running any resolver (variable coercion, choosing the
    operation) are the client's input, `BAD_USER_INPUT`; a domain `ClientError` keeps its
    code; a store outage is `STORE_UNAVAILABLE`; anything else is masked as
    `INTERNAL_SERVER_ERROR` (and logged once by the schema).

    A stream (a subscription) runs its operation and execution hooks once, around all its
    results: each result it sends (a refusal, an event) is finished the same way by
    `on_stream_result`, before it is sent, whatever the transport.
    """

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError):
                _set_code(error, PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Strawberry picks the first operation when no name is given; graphql-core would
        # refuse. The request's own name is only kept privately (covered by a test).
        given = getattr(context, "_provided_operation_name", None)
        if given is None and _several_operations(context.graphql_document):
            error = coded(MULTIPLE_OPERATIONS, BAD_USER_INPUT)
            context.pre_execution_errors = [*(context.pre_execution_errors or ()), error]
        yield
        for error in context.pre_execution_errors or ():
            _set_code(error, VALIDATION_FAILED)

    def on_execute(self) -> Iterator[None]:
        yield
        _code_unrun(self.execution_context.result)

    def on_operation(self) -> Iterator[None]:
        yield
        result: Any = self.execution_context.result
        self._finish(getattr(result, "initial_result", result))  # incremental: its first part

    def on_stream_result(self, result: Any) -> Iterator[None]:
        _code_unrun(result)
        self._finish(result)
        yield

    def _finish(self, result: Any) -> None:
        """Every error of `result` as the client sees it (masked, coded, no secret quoted)."""
        if errors := getattr(result, "errors", None):
            result.errors = [_final(error) for error in errors]
            context = self.execution_context
            if takes_secret(context.query, context.schema._schema):
                for error in result.errors:
                    error.message = without_input_values(error.message)


def _code_unrun(result: Any) -> None:
    """Code the errors of a result that no resolver produced: the client's input (a domain
    `ClientError` raised by a subscription's source keeps its own code)."""
    for error in getattr(result, "errors", None) or ():
        if error.path is None and not should_mask(error):
            _set_code(error, _own_code(error, BAD_USER_INPUT))


def takes_secret(document: str | None, schema: GraphQLSchema) -> bool:
    """Whether a document may carry a secret in its inputs (it names a type or field that
    takes one, see `secret_names`)."""
    if document is None:
        return False
    return any(name in document for name in secret_names(schema, frozenset(SECRET_INPUT_FIELDS)))


@lru_cache(maxsize=8)
def secret_names(schema: GraphQLSchema, secret_inputs: frozenset[str]) -> frozenset[str]:
    """What a document names when it may carry a secret: the input types with a secret field
    (`secret_inputs`, from `SECRET_INPUT_FIELDS`), the input types holding one of those at any
    depth, and every field with an argument of one of them (a variable's type names the
    input, a literal input its field)."""
    types = schema.type_map.values()
    inputs = [t for t in types if isinstance(t, GraphQLInputObjectType)]
    holders = {t.name for t in inputs if t.name in secret_inputs}
    grown = True
    while grown:
        more = {t.name for t in inputs if _takes(t.fields.values(), holders)} - holders
        holders |= more
        grown = bool(more)
    fields = {
        name
        for t in types
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
        for name, field in t.fields.items()
        if _takes(field.args.values(), holders)
    }
    return frozenset(holders | fields)


def _takes(values: Iterable[GraphQLArgument | GraphQLInputField], names: set[str]) -> bool:
    """Whether any of these arguments or input fields is of a type named in `names`."""
    return any(get_named_type(value.type).name in names for value in values)


_VARIABLE_PREFIX = re.compile(r"^(Variable '\$\w+' has invalid value(?: at [^:]*)?: )?(.*)$", re.S)
_ECHOED = re.compile(r"\b(found|Found|value): .*", re.S)
HIDDEN = "(not shown: this operation takes a secret)"


def without_input_values(message: str) -> str:
    """A validation or coercion message without the input value it quotes (graphql-core's
    "..., found: {...}", "... cannot represent a non string value: [...]"), so that no error
    of an operation taking a secret repeats it."""
    match = _VARIABLE_PREFIX.match(message)
    prefix, rest = (match.group(1) or "", match.group(2)) if match else ("", message)
    return prefix + _ECHOED.sub(lambda m: f"{m.group(1)}: {HIDDEN}", rest)


def _final(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it: unexpected exceptions masked, every error coded."""
    if should_mask(error):
        return masked(error)
    _set_code(error, _own_code(error, INTERNAL_SERVER_ERROR))
    return error


def _own_code(error: GraphQLError, default: str) -> str:
    """The code of a domain `ClientError`'s error; `default` for any other."""
    original = error.original_error
    return original.code if isinstance(original, ClientError) else default


PARSE_CACHE = 128  # documents kept parsed, by their text and parse options
PARSE_CACHED_CHARS = 64_000  # longer documents are parsed each time


@lru_cache(maxsize=PARSE_CACHE)
def _parsed(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


class ParsedOnce(SchemaExtension):
    """Parse a document once and reuse it for the same text (and parse options).

    graphql-core's ASTs are never changed by validation or execution, so one document object
    serves every request that sends the same text, and the validation cache then finds it at
    once (an equal document parsed afresh would be compared node by node). A persisted
    query's hit is the same text each time: it skips parsing and validation. A document that
    does not parse is left to Strawberry's own parse, which reports the error as usual.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query and len(query) <= PARSE_CACHED_CHARS:
            options = tuple(sorted((context.parse_options or {}).items()))
            try:  # noqa: SIM105 (`suppress` is three calls more on every request)
                context.graphql_document = _parsed(query, options)
            except (GraphQLError, TypeError, RecursionError):
                pass  # parsed again by Strawberry, which reports the error
        yield


class _FiniteNumbersRule(ValidationRule):
    """Refuse a number literal beyond a double's range (graphql-core reads `1e400` as inf)."""

    def enter_float_value(self, node: FloatValueNode, *_: Any) -> None:
        self._check(node)

    def enter_int_value(self, node: IntValueNode, *_: Any) -> None:
        self._check(node)

    def _check(self, node: FloatValueNode | IntValueNode) -> None:
        if math.isinf(float(node.value)):
            shown = node.value if len(node.value) <= 20 else node.value[:20] + "..."
            self.report_error(GraphQLError(f"Number {shown} is too large to represent.", node))


class _SecretsAsVariablesRule(ValidationRule):
    """Refuse a secret written into the document itself (`setApiKey(input: {secret: "..."})`):
    documents are cached (persisted queries) and may be logged by proxies, variables are not."""

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = get_named_type(self.context.get_parent_input_type())
        secret = SECRET_INPUT_FIELDS.get(parent.name if parent else "", frozenset())
        if node.name.value in secret and not isinstance(node.value, VariableNode):
            self.report_error(
                GraphQLError(
                    f"pass `{node.name.value}` as a variable (`$input` or its own): a secret "
                    "must not be written into the document",
                    node,
                )
            )


# Validation rules of kvgraph's own: number literals no GraphQL scalar can hold (`Float` would
# get inf), secrets written into a document rather than passed as variables.
DOCUMENT_RULES: tuple[type[ValidationRule], ...] = (_FiniteNumbersRule, _SecretsAsVariablesRule)


def _document_order(error: GraphQLError) -> tuple[Any, ...]:
    """Where an error's field is in the document, then its path (lists: by index)."""
    where = [(loc.line, loc.column) for loc in error.locations or ()]
    path = [
        (isinstance(p, int), str(p).zfill(12) if isinstance(p, int) else p)
        for p in error.path or ()
    ]
    return (where, path)


class RecordReports(SchemaExtension):
    """Add one `INVALID_RECORD` error per bad record a request met (its data still returns),
    in key order (the same whichever executor ran the operation, in whatever order).

    An operation stopped by an `Abort` (it read past its limits) answers that one error and
    no data instead, whichever executor ran it and however many fields met it. Each result
    of a stream (a subscription's event) is reported so before it is sent, with what its
    own execution met (the records reported go with the first result that met them).
    """

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None:
            self._report(result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._report(result)
        context = self.execution_context.context
        for reported in (getattr(context, "problems", None), getattr(context, "dropped", None)):
            if reported:
                reported.clear()  # a source may send several results from one reading
        yield

    def _report(self, result: Any) -> None:
        """The result stopped by an abort, or with its field errors in document order and one
        report per bad record."""
        context = self.execution_context.context
        aborted: Abort | None = getattr(context, "aborted", None)
        if aborted is not None:
            result.data = None
            result.errors = [coded(aborted.message, aborted.code, **aborted.extensions)]
            return
        if result.errors and len(result.errors) > 1:
            # Field errors in document order: graphql-core lists them as fields finish.
            result.errors = sorted(result.errors, key=_document_order)
        problems = getattr(context, "problems", None) or {}
        dropped = getattr(context, "dropped", None) or {}
        if not (problems or dropped):
            return
        reports = [
            coded(f"invalid record {key}: {problems[key]}", INVALID_RECORD, key=key)
            for key in sorted(problems)
        ]
        reports += [
            coded(
                f"record {key}: {', '.join(fields)} could not be read and show as null",
                INVALID_RECORD,
                key=key,
                fields=sorted(fields),
            )
            for key, fields in sorted(dropped.items())
        ]
        result.errors = [*(result.errors or []), *reports]


class KVStats(SchemaExtension):
    """With debug stats on, report `extensions.kv = {batches, keys}` for the request."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not getattr(context, "debug_stats", False):
            return {}
        loaders = context.loaders
        return {"kv": {"batches": loaders.batches, "keys": loaders.keys}}
