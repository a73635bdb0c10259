"""A level-at-a-time executor for queries.

graphql-core completes a response field by field: for the trip board (2,000 items) that is
~20,000 resolver calls and thousands of awaitables, and it dominates the request. This
executor walks the same validated operation one level at a time instead: for each field of a
level it reads plain attributes of all parent objects in one loop, or calls the field's batch
resolver (`metadata={"batch": ...}` on the Strawberry field, see `resolvers/batches.py`) once
with every parent. Lists are flattened before their items are completed, so the items of all
50 trips form one level.

An object many parents share (the place of 2,000 items, one of 200) is completed once and its
value shared; the leading plain leaf fields of an immutable object (a record, shared by every
request that reads the same stored text) are kept completed with it, so a request reading
records met before copies their rows instead of completing each field again.

It is generic over the schema: leaves use the GraphQL type's own output coercion, abstract
types their `resolve_type`, objects their `is_type_of`. Field errors are its own too: a batch
resolver that fails is called again once per parent (graphql-core calls a resolver per
parent), and each failing parent's error, a leaf that cannot be coerced, or a null in a
non-null field travels up to the nearest nullable position with the spec's null propagation,
exactly as graphql-core would report it, so a query that meets an error still runs once.
What it does not handle — a field without a batch resolver, an error raised while completing
a value synchronously that must travel past its field (graphql-core then skips the object's
later fields), @defer/@stream, mutations — makes it give the operation back to graphql-core,
which executes it from scratch (reads are side-effect free; the loaders' cache carries over;
the context forgets what the first attempt reported), so results and errors are always
graphql-core's own. An `Abort` (the request read past its limits) stops the operation in
both executors: its response is that one error.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import attrgetter, is_, itemgetter
from typing import Any, TypeVar

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
    GraphQLResolveInfoHelpers,
    GraphQLString,
    OperationType,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
)
from graphql.error import located_error
from graphql.execution import executor as graphql_executor
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from resolvers.eager import gather_eagerly
from resolvers.errors import Abort

DEFINITION = "strawberry-definition"
log = logging.getLogger("kvgraph.executor")
_TEXT = (GraphQLString, GraphQLID)
_STR = {str}


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


class _Raised:
    """A value whose completion raised `error` (graphql-core would be propagating it).

    `sync`: raised by synchronous completion (a leaf, a null where none may be). graphql-core
    stops completing an object's later fields when one of them raises synchronously, so such
    an error may only end at a nullable position right where it arose; one that must travel
    further makes the level executor hand the operation back.
    """

    __slots__ = ("error", "sync")

    def __init__(self, error: GraphQLError, sync: bool) -> None:
        self.error, self.sync = error, sync


PathOf = Callable[[int], Path | None]
"""The response path of the value at each position of a level (built only for errors)."""


def _root_path(_at: int) -> Path | None:
    return None


def _located(raw: Exception, details: FieldDetailsList, path: Path | None) -> GraphQLError:
    """graphql-core's error for `raw` raised at `path` by the field of `details`."""
    return located_error(raw, [d.node for d in details], path.as_list() if path else None)


def _has_null(values: list[Any]) -> bool:
    """Whether a value is None, by identity (`None in values` calls each model's `__eq__`)."""
    return any(map(is_, values, repeat(None)))


def _present(values: list[Any]) -> list[int]:
    """Positions holding a value to complete (neither null nor raised)."""
    return [i for i, v in enumerate(values) if v is not None and type(v) is not _Raised]


def _fill(rows: list[dict[str, Any]], names: list[str], columns: list[list[Any]]) -> None:
    """Set each row's value of each named column (column by column: twice as fast as a
    dict(zip(names, row)) per row)."""
    for name, column in zip(names, columns, strict=True):
        for row, value in zip(rows, column, strict=True):
            row[name] = value


@functools.cache
def _immutable(class_: type) -> bool:
    """Whether objects of `class_` never change: a frozen pydantic model or dataclass (their
    plain leaf fields may be completed once per object, `_ROWS`)."""
    config = getattr(class_, "model_config", None)
    if isinstance(config, dict) and config.get("frozen"):
        return True
    params = getattr(class_, "__dataclass_params__", None)
    return bool(params is not None and params.frozen)


PLANS_CACHE = 4_096  # fields and selections whose plans are kept (each schema has its own)
_PLANS: dict[int, tuple[GraphQLField, _Plan]] = {}  # id(field) -> the field, its plan
_LEADS: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}  # see `_lead`
ROWS_CACHE = 65_536  # objects kept with their completed leading leaf fields, in all


class _KeptRows:
    """The completed leading leaf fields of immutable objects, by selection (a type and those
    fields) and by id(object), each row with its object; at most ROWS_CACHE rows in all (when
    full, all are dropped: they are made again as they are met)."""

    __slots__ = ("by_selection", "size")

    def __init__(self) -> None:
        self.by_selection: dict[tuple[Any, ...], dict[int, tuple[Any, dict[str, Any]]]] = {}
        self.size = 0

    def of(self, selection: tuple[Any, ...]) -> dict[int, tuple[Any, dict[str, Any]]]:
        return self.by_selection.get(selection) or {}

    def add(self, selection: tuple[Any, ...], rows: dict[int, tuple[Any, dict[str, Any]]]) -> None:
        if self.size + len(rows) > ROWS_CACHE:
            self.by_selection.clear()
            self.size = 0
        self.by_selection.setdefault(selection, {}).update(rows)
        self.size += len(rows)


_ROWS = _KeptRows()
_ROW: Callable[[Any], dict[str, Any]] = itemgetter(1)


FORMATTED_CACHE = 65_536  # date-times kept formatted, per scalar type
_FORMATTED: dict[str, dict[int, tuple[Any, Any]]] = {}


def _formatted(scalar: str, coerce: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """Date-times and dates in their output form, each object formatted once.

    Records are shared by every request that reads the same stored text, so the same
    datetime objects come back request after request: their text is kept by identity (with
    the object, so its id cannot be reused while kept).
    """
    memo = _FORMATTED.get(scalar)
    if memo is None or len(memo) > FORMATTED_CACHE:
        memo = _FORMATTED[scalar] = {}
    out = []
    for value in values:
        if not isinstance(value, dt.date):  # only immutable dates and times are kept
            out.append(coerce(value))
            continue
        hit = memo.get(id(value))
        if hit is None or hit[0] is not value:
            hit = memo[id(value)] = (value, coerce(value))
        out.append(hit[1])
    return out


def _no_more_work(*_args: Any) -> Any:
    raise RuntimeError("the operation has finished: no more asynchronous work")


_FINISHED = GraphQLResolveInfoHelpers(gather=_no_more_work, track=_no_more_work)
BY_CLASS = "kvgraph_by_class"
F = TypeVar("F", bound=Callable[..., Any])


def by_class(resolve_type: F) -> F:
    """Mark a `resolve_type` that answers by the value's class alone: the level executor asks
    it once per class of a level instead of once per value."""
    setattr(resolve_type, BY_CLASS, True)
    return resolve_type


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
        if serially or new_defer_usages or self.operation.operation is not OperationType.QUERY:
            return super().execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )
        return self._fast_or_fallback(root_type, root_value, grouped_field_set)

    async def _fast_or_fallback(
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: GroupedFieldSet
    ) -> Any:
        errors = self.collected_errors
        self._errors: list[tuple[GraphQLError, Path | None]] = []
        self._raised = 0
        try:
            if not self.error_propagation:
                raise Unsupported("error propagation disabled")
            data = (await self._objects(root_type, [root_value], grouped_field_set, _root_path))[0]
        except Exception as exc:
            if isinstance(exc, Abort):
                _mark(self.context_value, "level")
                self._finished()
                return None  # the operation stops: its error is the response (extensions)
            log.debug("level executor gave the operation back: %r", exc)
            _mark(self.context_value, "graphql-core")
            _restart(self.context_value)
        else:
            _mark(self.context_value, "level")
            self._finished()
            for error, path in self._errors:
                errors.add(error, path)
            if type(data) is _Raised:
                raise data.error  # graphql-core answers it with `data: null`
            return data
        result = super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, False, ()
        )
        return await result if self.is_awaitable(result) else result

    def _raise(self, error: GraphQLError, sync: bool) -> _Raised:
        """A raised value (counted: while there are none, no level looks for them)."""
        self._raised += 1
        return _Raised(error, sync)

    def _checkpoint(self) -> tuple[int, int]:
        """How many values have raised and errors been reported so far (see `_undone`)."""
        return self._raised, len(self._errors)

    def _undone(self, checkpoint: tuple[int, int]) -> bool:
        """Whether a value raised since `checkpoint` (a shortcut that met an error); if so, the
        errors reported since are dropped: the caller completes those values again the plain
        way, which reports each at its own path."""
        raised, errors = checkpoint
        if self._raised == raised:
            return False
        del self._errors[errors:]
        return True

    def _finished(self) -> None:
        """The operation is done with no work left (the level path defers nothing): let go
        of graphql-core's helpers, bound to this context, so no reference cycle keeps the
        request's context and all it read alive until the next garbage collection."""
        self.async_helpers = _FINISHED

    def _plan(self, parent: GraphQLObjectType, name: str) -> _Plan:
        field = parent.fields[name]
        hit = _PLANS.get(id(field))  # (it holds the field: no other object has its id)
        if hit is None:
            if len(_PLANS) >= PLANS_CACHE:
                _PLANS.clear()
            hit = _PLANS[id(field)] = (field, _Plan(field))
        return hit[1]

    async def _objects(
        self,
        type_: GraphQLObjectType,
        sources: list[Any],
        fields: GroupedFieldSet,
        path_of: PathOf,
    ) -> list[Any]:
        """Complete one level: every field of `fields` for every source (an object whose
        field raised is that field's `_Raised`, the first in field order)."""
        names = list(fields)
        rows: list[Any] | None = None
        lead = 0
        if all(map(_immutable, set(map(type, sources)))):
            lead, kept_as = self._lead(type_, fields, names)
            if lead:
                rows = await self._kept_rows(type_, sources, fields, names[:lead], kept_as, path_of)
        if rows is None:
            rows = [{} for _ in sources]
        else:
            names = names[lead:]
        # When one field gives up, its siblings stop too. Not a TaskGroup: on Python 3.11 one
        # whose child fails while it waits leaves a cancellation request on the request's
        # task, and the execution timeout then ends as CancelledError (a dropped connection),
        # not as its 504.
        columns = await gather_eagerly(
            [self._column(type_, sources, fields[name], name, path_of) for name in names]
        )
        _fill(rows, names, columns)  # (one value per source in each, checked where built)
        if self._raised and any(type(v) is _Raised for column in columns for v in column):
            for n, row in enumerate(rows):
                raised = next((v for v in row.values() if type(v) is _Raised), None)
                if raised is not None:
                    rows[n] = raised
        return rows

    def _lead(
        self, type_: GraphQLObjectType, fields: GroupedFieldSet, names: list[str]
    ) -> tuple[int, tuple[Any, ...]]:
        """How many of a level's first fields are plain attributes (or `__typename`) of a leaf
        type, and the key their completed values are kept under (`_ROWS`)."""
        key = (id(type_), *names, *[fields[name][0].node.name.value for name in names])
        found = _LEADS.get(key)  # (it holds the type: no other object has its id)
        if found is None:
            lead: list[tuple[str, str]] = []
            for name in names:
                field_name = fields[name][0].node.name.value
                if field_name != "__typename":
                    leaf = get_nullable_type(type_.fields[field_name].type)
                    if self._plan(type_, field_name).attr is None or not is_leaf_type(leaf):
                        break
                lead.append((name, field_name))
            if len(_LEADS) >= PLANS_CACHE:
                _LEADS.clear()
            found = _LEADS[key] = (len(lead), (type_, *lead))
        return found

    async def _kept_rows(
        self,
        type_: GraphQLObjectType,
        sources: list[Any],
        fields: GroupedFieldSet,
        names: list[str],
        kept_as: tuple[Any, ...],
        path_of: PathOf,
    ) -> list[dict[str, Any]] | None:
        """Rows holding the leading plain leaf fields `names` of immutable sources, completed
        once per object and copied from then on (a record shared by every request that reads
        its stored text is completed once for them all). None: a value raised (the level is
        completed as usual, and reports it once)."""
        # By id: each kept row holds its object, so no other object can have that id meanwhile.
        hits = list(map(_ROWS.of(kept_as).get, map(id, sources)))
        if _has_null(hits):
            missing = [n for n, hit in enumerate(hits) if hit is None]
            fresh = [sources[n] for n in missing]

            def missing_path(at: int) -> Path | None:
                return path_of(missing[at])

            checkpoint = self._checkpoint()
            columns = await gather_eagerly(
                [self._column(type_, fresh, fields[name], name, missing_path) for name in names]
            )
            if self._undone(checkpoint):
                return None
            made: list[dict[str, Any]] = [{} for _ in fresh]
            _fill(made, names, columns)
            pairs = list(zip(fresh, made, strict=True))
            for n, pair in zip(missing, pairs, strict=True):
                hits[n] = pair
            _ROWS.add(kept_as, {id(pair[0]): pair for pair in pairs})
        if len(names) == len(fields):  # nothing to add: the kept rows themselves (none
            return list(map(_ROW, hits))  # is changed once made)
        return list(map(dict.copy, map(_ROW, hits)))

    async def _column(
        self,
        type_: GraphQLObjectType,
        sources: list[Any],
        details: FieldDetailsList,
        key: str,
        path_of: PathOf,
    ) -> list[Any]:
        """One field (response key `key`) for every source of a level, completed."""
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            return [type_.name] * len(sources)
        field = type_.fields[name]
        plan = self._plan(type_, name)
        parent_name = type_.name

        def field_path(at: int) -> Path:
            return Path(path_of(at), key, parent_name)

        if plan.attr is not None:
            values = list(map(attrgetter(plan.attr), sources))
        else:
            values = await self._resolve(plan, field, node, sources, details, field_path)
        done = await self._complete(field.type, values, details, field_path, (type_, name))
        return self._field_boundary(field.type, done, field_path, sync=plan.attr is not None)

    async def _resolve(
        self,
        plan: _Plan,
        field: GraphQLField,
        node: Any,
        sources: list[Any],
        details: FieldDetailsList,
        field_path: Callable[[int], Path],
    ) -> list[Any]:
        """The batch resolver's values; if it fails, each parent's own (graphql-core calls
        the resolver once per parent): a parent whose call fails gets its error."""
        try:
            args = get_argument_values(field, node, self.variable_values) if field.args else {}
            return list(await plan.batch(self.context_value, sources, args))
        except Abort:
            raise
        except Exception:  # graphql-core's way: every parent on its own
            pass
        ctx = self.context_value

        async def one(source: Any) -> Any:
            args = get_argument_values(field, node, self.variable_values) if field.args else {}
            return (await plan.batch(ctx, [source], args))[0]

        found = await asyncio.gather(*(one(s) for s in sources), return_exceptions=True)
        for value in found:
            if isinstance(value, Abort) or (
                isinstance(value, BaseException) and not isinstance(value, Exception)
            ):
                raise value
        return [
            self._raise(_located(v, details, field_path(i)), sync=False)
            if isinstance(v, Exception)
            else v
            for i, v in enumerate(found)
        ]

    def _field_boundary(
        self, type_: GraphQLOutputType, done: list[Any], path_of: PathOf, *, sync: bool
    ) -> list[Any]:
        """Where a field's completion ends: a raised value of a nullable field is its error and
        null; of a non-null field it travels on to the parent object."""
        if not self._raised or not any(type(v) is _Raised for v in done):
            return done
        nullable = not isinstance(type_, GraphQLNonNull)
        out = list(done)
        for i, value in enumerate(done):
            if type(value) is not _Raised:
                continue
            if nullable:
                self._errors.append((value.error, path_of(i)))
                out[i] = None
            elif value.sync and sync:
                raise Unsupported("a synchronous field error propagates")
            else:
                value.sync = False  # it leaves the field's awaitable
        return out

    async def _complete(
        self,
        type_: GraphQLOutputType,
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
        where: tuple[GraphQLObjectType, str],
    ) -> list[Any]:
        """Complete the values of one field across a level."""
        if isinstance(type_, GraphQLNonNull):
            done = await self._complete(type_.of_type, values, details, path_of, where)
            if _has_null(done):
                parent, name = where
                message = f"Cannot return null for non-nullable field {parent}.{name}."
                done = [
                    self._raise(_located(TypeError(message), details, path_of(i)), sync=True)
                    if v is None
                    else v
                    for i, v in enumerate(done)
                ]
            return done
        if not _has_null(values) and not self._raised:
            present = None  # every value is there: the common case, without a list
        else:
            present = _present(values)
            if not present:
                return values
        if present is not None and len(present) < len(values):

            def sub_path(at: int, present: list[int] = present) -> Path | None:
                return path_of(present[at])

            done = await self._complete(
                type_, [values[i] for i in present], details, sub_path, where
            )
            out: list[Any] = list(values)
            for i, v in zip(present, done, strict=True):
                out[i] = v
            return out
        if isinstance(type_, GraphQLList):
            return await self._lists(type_, values, details, path_of, where)
        if is_leaf_type(type_):
            if type_ in _TEXT and (not values or set(map(type, values)) == _STR):
                return values  # String/ID coercion of a str is the str itself
            return self._leaves(type_, values, details, path_of)
        return await self._composites(type_, values, details, path_of)

    async def _composites(
        self,
        type_: GraphQLOutputType,
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
    ) -> list[Any]:
        """Objects completed once per distinct object: many parents sharing one (2,000 items
        at 200 places) share its completed value. Should anything in them raise, they are
        completed again one by one, so each occurrence reports its own error at its path."""
        ids = list(map(id, values))
        by_id = dict(zip(ids, values, strict=True))  # each distinct object once, first seen first
        if len(by_id) * 4 > len(values) * 3:  # too few repeats to pay for the bookkeeping
            return await self._each_composite(type_, values, details, path_of)
        distinct = list(by_id.values())
        slot = dict(zip(by_id, range(len(distinct)), strict=True))

        def first_path(at: int) -> Path | None:
            return path_of(ids.index(id(distinct[at])))

        checkpoint = self._checkpoint()
        done = await self._each_composite(type_, distinct, details, first_path)
        if not self._undone(checkpoint):
            completed: Callable[[int], Any] = done.__getitem__
            return list(map(completed, map(slot.__getitem__, ids)))
        return await self._each_composite(type_, values, details, path_of)  # each its errors

    async def _each_composite(
        self,
        type_: GraphQLOutputType,
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
    ) -> list[Any]:
        """Objects of an abstract type grouped by concrete type, or of one object type."""
        if is_abstract_type(type_):
            return await self._abstract(type_, values, details, path_of)
        return await self._typed_objects(type_, values, details, path_of)  # type: ignore[arg-type]

    def _leaves(
        self, type_: GraphQLLeafType, values: list[Any], details: FieldDetailsList, path_of: PathOf
    ) -> list[Any]:
        """Leaf values in their output form; one that cannot be is its field error."""
        coerce = type_.coerce_output_value
        try:
            if isinstance(values[0], dt.date):
                return _formatted(type_.name, coerce, values)
            return [coerce(v) for v in values]
        except Exception:  # each value's own error, as graphql-core reports it
            pass
        out: list[Any] = []
        for i, v in enumerate(values):
            try:
                out.append(coerce(v))
            except Exception as exc:
                out.append(self._raise(_located(exc, details, path_of(i)), sync=True))
        return out

    async def _lists(
        self,
        type_: GraphQLList[Any],
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
        where: tuple[GraphQLObjectType, str],
    ) -> list[Any]:
        """Flatten every list of the level, complete the items together, split again."""
        lists = [list(v) for v in values]
        starts: list[int] = []
        at = 0
        for items in lists:
            starts.append(at)
            at += len(items)

        def item_path(flat: int) -> Path:
            n = bisect.bisect_right(starts, flat) - 1
            return Path(path_of(n), flat - starts[n], None)

        flat = [item for items in lists for item in items]
        done = await self._complete(type_.of_type, flat, details, item_path, where)
        out: list[Any] = [
            done[start : start + len(items)] for start, items in zip(starts, lists, strict=True)
        ]
        if not self._raised or not any(type(v) is _Raised for v in done):
            return out
        nullable = not isinstance(type_.of_type, GraphQLNonNull)
        for n, items in enumerate(out):
            for i, value in enumerate(items):
                if type(value) is not _Raised:
                    continue
                if value.sync and not nullable:
                    raise Unsupported("a synchronous list item error propagates")
                if nullable:  # graphql-core reports it where it arose: the item is null
                    self._errors.append((value.error, item_path(starts[n] + i)))
                    items[i] = None
            if not nullable:
                raised = next((v for v in items if type(v) is _Raised), None)
                if raised is not None:
                    out[n] = raised  # the first raised item, by position, fails the list
        return out

    async def _abstract(
        self,
        type_: GraphQLAbstractType,
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
    ) -> list[Any]:
        """Group the values by concrete type and complete each group as one level."""
        if type_.resolve_type is None:
            raise Unsupported("abstract type without resolve_type")
        resolve = type_.resolve_type
        groups: dict[str, list[int]] = {}
        if getattr(resolve, BY_CLASS, False):  # asked once per class of the level
            classes = list(map(type, values))
            for class_ in dict.fromkeys(classes):
                sample = values[classes.index(class_)]
                name = resolve(sample, None, type_)  # type: ignore[arg-type]
                at = [i for i, c in enumerate(classes) if c is class_]
                # (two classes of one type: their positions merged in order)
                groups[name] = sorted(groups[name] + at) if name in groups else at  # type: ignore[index]
        else:
            for i, value in enumerate(values):
                name = resolve(value, None, type_)  # type: ignore[arg-type]
                groups.setdefault(name, []).append(i)  # type: ignore[arg-type]
        out: list[Any] = [None] * len(values)
        for name, indices in groups.items():
            concrete = self.schema.get_type(name)
            if not isinstance(concrete, GraphQLObjectType):
                raise Unsupported(f"{name} is not an object type")

            def group_path(at: int, indices: list[int] = indices) -> Path | None:
                return path_of(indices[at])

            done = await self._typed_objects(
                concrete, [values[i] for i in indices], details, group_path
            )
            for i, v in zip(indices, done, strict=True):
                out[i] = v
        return out

    async def _typed_objects(
        self,
        type_: GraphQLObjectType,
        values: list[Any],
        details: FieldDetailsList,
        path_of: PathOf,
    ) -> list[Any]:
        if type_.is_type_of is not None:
            # kvgraph's is_type_of depends on the value's class only: check each class once.
            samples = dict(zip(map(type, values), values, strict=True)).values()
            if not all(type_.is_type_of(v, None) for v in samples):  # type: ignore[arg-type]
                raise Unsupported(f"value is not a {type_.name}")
        collected = self.collect_subfields(type_, details)
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return await self._objects(type_, values, collected.grouped_field_set, path_of)


__all__ = ["GraphQLError", "GraphQLLeafType", "LevelExecutionContext"]
