"""Fields generated from the domain's batch functions, and the types every module shares.

A relation is written once, in its domain module, as a batch function: every parent of a
query level in, one result per parent out (`resolvers/`). `relation()` and `connection()` turn
it into a Strawberry field twice over: a per-object resolver for graphql-core (called with one
parent) and `metadata["batch"]` for the level executor (called with all parents of a level).
Field arguments reach the domain as one typed object (a dataclass of the domain), built once
per call.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from graphql import GraphQLAbstractType, GraphQLResolveInfo
from pydantic.alias_generators import to_camel
from strawberry.types.arguments import StrawberryArgumentAnnotation

from gql.schema.codes import ErrorCode
from gql.schema.executor import by_class
from resolvers import nodes
from resolvers.common import IdArgs, Problem
from resolvers.context import Context
from resolvers.paging import Page, PageArgs

Info = strawberry.Info[Context, None]
T = TypeVar("T")
_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_ROOT = inspect.Parameter("root", _POSITIONAL)
_INFO = inspect.Parameter("info", _POSITIONAL, annotation=Info)


def plain(value: Any) -> Any:
    """An enum argument as its value (the domain works with plain values)."""
    return value.value if isinstance(value, Enum) else value


class ArgSpec:
    """How a field's GraphQL arguments become the domain's argument object (a dataclass)."""

    def __init__(self, cls: type, types: Mapping[str, Any]) -> None:
        hints = typing.get_type_hints(cls)
        self.cls = cls
        self.fields = [f.name for f in dataclasses.fields(cls)]
        self.by_graphql = {_graphql_name(name, types.get(name)): name for name in self.fields}
        self.parameters = [
            inspect.Parameter(
                f.name,
                _KEYWORD,
                annotation=types.get(f.name, hints[f.name]),
                default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
            )
            for f in dataclasses.fields(cls)
        ]

    def from_python(self, values: Mapping[str, Any]) -> Any:
        """Build the object from Strawberry's resolver keyword arguments."""
        return self.cls(**{name: plain(value) for name, value in values.items()})

    def from_graphql(self, values: Mapping[str, Any]) -> Any:
        """Build the object from graphql-core's coerced argument values (GraphQL names)."""
        return self.cls(**{self.by_graphql[name]: plain(v) for name, v in values.items()})


def _graphql_name(name: str, annotation: Any) -> str:
    """An argument's GraphQL name: the one `strawberry.argument(name=...)` gives in its
    annotation (`from`, a Python keyword), else its camelCase name."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, StrawberryArgumentAnnotation) and meta.name:
            return meta.name
    return to_camel(name)


Batch = Callable[..., Awaitable[list[Any]]]


def relation(
    fn: Batch, *, args: type | None = None, types: Mapping[str, Any] | None = None, **options: Any
) -> Any:
    """A field served by the batch function `fn(ctx, parents[, args])`.

    `args` is the domain's dataclass of the field's arguments; `types` overrides the GraphQL
    type of some of them (an enum, `ID`). The field's GraphQL type is its class annotation.
    """
    if args is None:

        async def batch(ctx: Context, sources: Sequence[Any], raw: Mapping[str, Any]) -> Any:
            return await fn(ctx, sources)

        async def resolve(root: Any, info: Info, **values: Any) -> Any:
            return (await fn(info.context, [root]))[0]

    else:
        spec = ArgSpec(args, types or {})

        async def batch(ctx: Context, sources: Sequence[Any], raw: Mapping[str, Any]) -> Any:
            return await fn(ctx, sources, spec.from_graphql(raw))

        async def resolve(root: Any, info: Info, **values: Any) -> Any:
            return (await fn(info.context, [root], spec.from_python(values)))[0]

    parameters = [_ROOT, _INFO, *(spec.parameters if args is not None else ())]
    resolve.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    resolve.__name__ = fn.__name__
    return strawberry.field(resolver=resolve, metadata={"batch": batch}, **options)


def connection(fn: Batch, *, args: type = PageArgs, **options: Any) -> Any:
    """A Relay connection field (`first/after/last/before` and any filters of `args`)."""
    return relation(fn, args=args, **options)


def root_field(
    fn: Callable[..., Awaitable[Any]],
    *,
    args: type | None = None,
    types: Mapping[str, Any] | None = None,
    **options: Any,
) -> Any:
    """A root field served by `fn(ctx[, args])` (the Query root has one parent)."""

    async def one(ctx: Context, roots: Sequence[Any], *rest: Any) -> list[Any]:
        return [await fn(ctx, *rest) for _ in roots]

    one.__name__ = fn.__name__
    return relation(one, args=args, types=types, **options)


def lazy(type_name: str, module: str) -> Any:
    """The GraphQL type `type_name` of `module`, resolved when the schema is built.

    For a relation back to a module that imports this one (an item's trip, a trip's owner):
    pass it as `graphql_type=`, so the modules import each other in one direction only.
    """
    return Annotated[type_name, strawberry.lazy(module)]


def by_id(fn: Callable[..., Awaitable[Any]], **options: Any) -> Any:
    """A root field reading one record by `id: ID!` (`fn(ctx, IdArgs)`)."""
    return root_field(fn, args=IdArgs, types={"id": strawberry.ID}, **options)


def node(model: type, fetch: nodes.Fetch, id_of: Callable[[Any], str] | None = None) -> Any:
    """Mark a GraphQL object type as served by `model`, fetched by `fetch(ctx, id)`.

    One registry (`resolvers/nodes.py`) then knows the record class, the type name and the
    fetch function: `__typename`, `nodeId`, `node(nodeId:)` and the level executor use it.
    """

    def mark(cls: type) -> type:
        nodes.register(nodes.NodeKind(cls.__name__, model, fetch, id_of or nodes.record_id))
        TYPES.append(cls)
        cls.is_type_of = classmethod(lambda _cls, obj, _info: isinstance(obj, model))  # type: ignore[attr-defined]
        return cls

    return mark


# The root classes each domain module contributes (`@root_query`, `@root_mutations`) and every
# node type (`@node`, also those no root field reaches): `build.py` takes them from here, so a
# new domain module needs no edit there.
ROOTS: dict[str, list[type]] = {"Query": [], "Mutation": []}
TYPES: list[type] = []


def root_query(cls: type) -> type:
    """Register a `@strawberry.type` class whose fields join the Query root."""
    ROOTS["Query"].append(cls)
    return cls


def root_mutations(cls: type) -> type:
    """Register a `@strawberry.type` class whose fields join the Mutation root."""
    ROOTS["Mutation"].append(cls)
    return cls


def _type_name(obj: Any, _info: GraphQLResolveInfo, _type: GraphQLAbstractType) -> str:
    return nodes.kind_of(obj).type_name


async def _node_ids(ctx: Context, roots: Sequence[Any]) -> list[str]:
    return [nodes.node_id_of(root) for root in roots]


@strawberry.interface(description="An object with a global id, fetchable with `node(nodeId:)`.")
class Node:
    node_id: strawberry.ID = relation(
        _node_ids, description="Opaque global id (base64 of `Type:id`)."
    )

    @classmethod
    @by_class  # `nodes.kind_of`: the record's class
    def resolve_type(
        cls, obj: Any, info: GraphQLResolveInfo, abstract_type: GraphQLAbstractType
    ) -> str:
        return _type_name(obj, info, abstract_type)


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


async def _total_counts(ctx: Context, pages: Sequence[Page]) -> list[int]:
    return await Page.counts(pages)


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int = relation(
        _total_counts,
        description="How many readable records the whole list holds: duplicates count once, "
        "missing and invalid records not at all.",
    )


@strawberry.type(description="One problem with a mutation's input; nothing was written.")
class UserError:
    field: str | None
    message: str
    error_code: ErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="Why: switch on it, with a default branch (codes are added, each named in "
        "CHANGELOG.md)."
    )
    code: str = strawberry.field(
        description="Why, as the name of an `ErrorCode` value: the same value as `errorCode`.",
        deprecation_reason="Use `errorCode`: the same value, typed as the `ErrorCode` enum.",
    )

    @classmethod
    def of(cls, problem: Problem) -> UserError:
        """The payload entry of a domain problem: `errorCode` is its code as an `ErrorCode`."""
        try:
            typed = ErrorCode[problem.code]
        except KeyError:
            raise ValueError(
                f"userError code {problem.code!r} is not an ErrorCode: add it to "
                "gql/schema/codes.py ENTRIES"
            ) from None
        return cls(
            field=problem.field, message=problem.message, error_code=typed, code=problem.code
        )


def record_data_field(**options: Any) -> Any:
    """`data: JSON!`, the whole stored record but its secret fields."""
    return relation(_record_data, description="The whole stored record.", **options)


async def _record_data(ctx: Context, roots: Sequence[Any]) -> list[Any]:
    return [root.public_json() for root in roots]
