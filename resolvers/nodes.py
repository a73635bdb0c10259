"""The node registry: record class <-> GraphQL type name <-> fetch function.

The GraphQL layer registers each object type that is a `Node` once (`gql/schema/base.py:
node`); `__typename`, `nodeId`, `node(nodeId:)` and the level executor all read this one
table. A fetch applies the same access rules as the type's root field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from resolvers.context import Context
from resolvers.errors import bad_input
from resolvers.ids import node_id, parse_node_id

Fetch = Callable[[Context, str], Awaitable[Any]]


@dataclass(frozen=True)
class NodeKind:
    """One kind of node: its GraphQL type, the class of its records, how to fetch one."""

    type_name: str
    model: type
    fetch: Fetch
    id_of: Callable[[Any], str]


_BY_NAME: dict[str, NodeKind] = {}
_BY_MODEL: dict[type, NodeKind] = {}


def record_id(record: Any) -> str:
    """A record's own id (most nodes)."""
    return str(record.id)


def register(kind: NodeKind) -> None:
    """Add a node kind (once per type name and per record class)."""
    if _BY_NAME.get(kind.type_name, kind) != kind or _BY_MODEL.get(kind.model, kind) != kind:
        raise ValueError(f"node kind {kind.type_name} registered twice")
    _BY_NAME[kind.type_name] = _BY_MODEL[kind.model] = kind


def kind_of(obj: Any) -> NodeKind:
    """The node kind of a record (by its class)."""
    return _BY_MODEL[type(obj)]


def type_name_of(model: type) -> str:
    """The GraphQL type name of a record class."""
    return _BY_MODEL[model].type_name


def node_id_of(obj: Any) -> str:
    """The global id of a record."""
    kind = kind_of(obj)
    return node_id(kind.type_name, kind.id_of(obj))


@dataclass(slots=True)
class NodeArgs:
    node_id: str


async def node(ctx: Context, args: NodeArgs) -> Any:
    """The object a `nodeId` names, or None when it is missing or not the viewer's."""
    type_name, id_ = parse_node_id(args.node_id)
    kind = _BY_NAME.get(type_name)
    if kind is None:
        raise bad_input(f"unknown node type {type_name!r}")
    return await kind.fetch(ctx, id_)
