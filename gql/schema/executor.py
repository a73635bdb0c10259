"""A level-at-a-time executor for queries.

graphql-core completes a response field by field: for the trip board (2,000 items) that is
~20,000 resolver calls and thousands of awaitables, and it dominates the request. This
executor walks the same validated operation one level at a time instead: for each field of a
level it reads plain attributes of all parent objects in one loop, or calls the field's batch
resolver (`metadata={"batch": ...}` on the Strawberry field, see `resolvers/batches.py`) once
with every parent. Lists are flattened before their items are completed, so the items of all
50 trips form one level.

It is generic over the schema: leaves use the GraphQL type's own output coercion, abstract
types their `resolve_type`, objects their `is_type_of`. Anything it does not handle — a field
without a batch resolver, a null for a non-null field, an error, @defer/@stream, mutations —
makes it give the operation back to graphql-core, which executes it from scratch (reads are
side-effect free; the loaders' cache carries over; the context forgets what the first attempt
reported), so results and errors are always graphql-core's own. An `Abort` (the request read
past its limits) stops the operation in both executors: its response is that one error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution import executor as graphql_executor
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.errors import Abort

DEFINITION = "strawberry-definition"
log = logging.getLogger("kvgraph.executor")
_TEXT = (GraphQLString, GraphQLID)


def _mark(context: Any, executor: str) -> None:
    """Note on the context which executor answered (for tests and debug stats)."""
    if hasattr(context, "executor"):
        context.executor = executor


def _restart(context: Any) -> None:
    """Tell the context the operation runs again from the start (it forgets its reports)."""
    if hasattr(context, "restart"):
        context.restart()


async def gather_settled(*awaitables: Any) -> list[Any]:
    """Await every awaitable, then raise the first error by position, if any.

    graphql-core cancels a field's siblings when it fails (`gather_with_cancel`): how far they
    got, and so which invalid records they reported, depended on timing. Letting them finish
    makes a response a function of the query and the data alone, for both executors.
    """
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


# graphql-core looks this name up in its module for every object and list it completes.
graphql_executor.gather_with_cancel = gather_settled


class Unsupported(Exception):
    """The level executor leaves this operation to graphql-core."""


class _Plan:
    """How to fetch one field for a whole level: an attribute name or a batch resolver."""

    __slots__ = ("attr", "batch")

    def __init__(self, field: GraphQLField) -> None:
        definition = (field.extensions or {}).get(DEFINITION)
        if definition is None:
            raise Unsupported("field without a Strawberry definition")
        self.batch = definition.metadata.get("batch")
        self.attr = definition.python_name if definition.is_basic_field else None
        if self.batch is None and self.attr is None:
            raise Unsupported(f"no batch resolver for {definition.python_name}")


class LevelExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution context with a level-at-a-time fast path for queries."""

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[Any],
    ) -> Any:
        if serially or new_defer_usages or self.operation.operation.value != "query":
            return super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )
        return self._fast_or_fallback(root_type, root_value, grouped_field_set)

    async def _fast_or_fallback(
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: GroupedFieldSet
    ) -> Any:
        self._plans: dict[tuple[str, str], _Plan] = {}
        try:
            data = (await self._objects(root_type, [root_value], grouped_field_set))[0]
        except Exception as exc:
            if isinstance(exc, Abort):
                _mark(self.context_value, "level")
                return None  # the operation stops: its error is the response (extensions)
            log.debug("level executor gave the operation back: %r", exc)
            _mark(self.context_value, "graphql-core")
            _restart(self.context_value)
        else:
            _mark(self.context_value, "level")
            return data
        result = super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, False, ()
        )
        return await result if self.is_awaitable(result) else result

    def _plan(self, parent: GraphQLObjectType, name: str) -> _Plan:
        key = (parent.name, name)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(parent.fields[name])
        return plan

    async def _objects(
        self, type_: GraphQLObjectType, sources: list[Any], fields: GroupedFieldSet
    ) -> list[dict[str, Any]]:
        """Complete one level: every field of `fields` for every source."""
        names = list(fields)
        # When one field gives up, its siblings stop too. Not a TaskGroup: on Python 3.11 one
        # whose child fails while it waits leaves a cancellation request on the request's
        # task, and the execution timeout then ends as CancelledError (a dropped connection),
        # not as its 504.
        columns = await gather_with_cancel(
            *(self._column(type_, sources, fields[name], name) for name in names)
        )
        if not names:
            return [{} for _ in sources]
        # Columns all have one value per source (checked where they are built).
        return [dict(zip(names, row)) for row in zip(*columns)]  # noqa: B905

    async def _column(
        self, type_: GraphQLObjectType, sources: list[Any], details: FieldDetailsList, key: str
    ) -> list[Any]:
        """One field (response key `key`) for every source of a level, completed."""
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return [type_.name] * len(sources)
        field = type_.fields[name]
        plan = self._plan(type_, name)
        if plan.attr is not None:
            attr = plan.attr
            values = [getattr(source, attr) for source in sources]
        else:
            args = get_argument_values(field, node, self.variable_values) if field.args else {}
            values = await plan.batch(self.context_value, sources, args)
        return await self._complete(field.type, values, details)

    async def _complete(
        self, type_: GraphQLOutputType, values: list[Any], details: FieldDetailsList
    ) -> list[Any]:
        """Complete the values of one field across a level."""
        if isinstance(type_, GraphQLNonNull):
            done = await self._complete(type_.of_type, values, details)
            if any(v is None for v in done):
                raise Unsupported("null for a non-null field")
            return done
        present = [i for i, v in enumerate(values) if v is not None]
        if not present:
            return values
        if len(present) < len(values):
            done = await self._complete(type_, [values[i] for i in present], details)
            out: list[Any] = [None] * len(values)
            for i, v in zip(present, done, strict=True):
                out[i] = v
            return out
        if isinstance(type_, GraphQLList):
            return await self._lists(type_, values, details)
        if is_leaf_type(type_):
            if type_ in _TEXT and all(type(v) is str for v in values):
                return values  # String/ID coercion of a str is the str itself
            coerce = type_.coerce_output_value
            return [coerce(v) for v in values]
        if is_abstract_type(type_):
            return await self._abstract(type_, values, details)
        return await self._typed_objects(type_, values, details)  # type: ignore[arg-type]

    async def _lists(
        self, type_: GraphQLList[Any], values: list[Any], details: FieldDetailsList
    ) -> list[Any]:
        """Flatten every list of the level, complete the items together, split again."""
        lists = [list(v) for v in values]
        flat = [item for items in lists for item in items]
        done = await self._complete(type_.of_type, flat, details)
        out, at = [], 0
        for items in lists:
            out.append(done[at : at + len(items)])
            at += len(items)
        return out

    async def _abstract(
        self, type_: GraphQLAbstractType, values: list[Any], details: FieldDetailsList
    ) -> list[Any]:
        """Group the values by concrete type and complete each group as one level."""
        if type_.resolve_type is None:
            raise Unsupported("abstract type without resolve_type")
        groups: dict[str, list[int]] = {}
        for i, value in enumerate(values):
            name = type_.resolve_type(value, None, type_)  # type: ignore[arg-type]
            groups.setdefault(name, []).append(i)  # type: ignore[arg-type]
        out: list[Any] = [None] * len(values)
        for name, indices in groups.items():
            concrete = self.schema.get_type(name)
            if not isinstance(concrete, GraphQLObjectType):
                raise Unsupported(f"{name} is not an object type")
            done = await self._typed_objects(concrete, [values[i] for i in indices], details)
            for i, v in zip(indices, done, strict=True):
                out[i] = v
        return out

    async def _typed_objects(
        self, type_: GraphQLObjectType, values: list[Any], details: FieldDetailsList
    ) -> list[Any]:
        if type_.is_type_of is not None:
            # kvgraph's is_type_of depends on the value's class only: check each class once.
            samples = {type(v): v for v in values}.values()
            if not all(type_.is_type_of(v, None) for v in samples):  # type: ignore[arg-type]
                raise Unsupported(f"value is not a {type_.name}")
        collected = self.collect_subfields(type_, details)
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return await self._objects(type_, values, collected.grouped_field_set)


__all__ = ["GraphQLError", "GraphQLLeafType", "LevelExecutionContext"]
