"""GraphQL types, inputs and payloads derived from the record models: one field list per entity.

A record model (`gql/kv/models.py`) says which fields an entity has, their types and which are
required. `from_model` gives a GraphQL type those fields (minus the ones it hides), so a type
declares only its relations and overrides; `create_input`/`update_input` give its inputs;
`mutation` gives a mutation field and its payload in one line. The nullability rules: a field
the model requires is non-null in types and create inputs; in update inputs every field but
`id` is optional (left out = unchanged).

A field the model marks secret (`Annotated[..., models.Secret]`, an API key's ciphertext) is
never derived into a type or an input, and a type that declares one by hand is refused when
the schema is built, so a secret cannot reach the schema by default or by accident.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import types
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

import strawberry
from pydantic import BaseModel
from pydantic.alias_generators import to_camel, to_snake
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import Info, UserError, relation
from gql.schema.enums import enum_of
from resolvers.common import Outcome
from resolvers.errors import bad_input

UNSET: Any = strawberry.UNSET
SERVER_OWNED = frozenset({"created_at", "updated_at"})  # kvgraph stamps these itself
CLIENT_ID = "Optional client-chosen id: repeating the call is harmless."
_SCALARS = {str, int, float, bool, dt.date, dt.datetime}


def graphql_type(annotation: Any, name: str, *, optional: bool = False) -> Any:
    """The GraphQL annotation of a model field's Python annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return graphql_type(typing.get_args(annotation)[0], name, optional=optional)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"{name}: unions other than `X | None` have no GraphQL type")
        return graphql_type(inner[0], name, optional=True)
    if optional:
        return graphql_type(annotation, name) | None
    if origin is list:
        return list[graphql_type(typing.get_args(annotation)[0], name)]  # type: ignore[misc]
    if (enum := enum_of(annotation)) is not None:
        return enum
    if annotation is str and (name == "id" or name.endswith("_id")):
        return strawberry.ID
    if annotation in _SCALARS:
        return annotation
    if annotation is Any or origin is dict or annotation is dict:
        return JSON
    raise TypeError(f"{name}: no GraphQL type for {annotation!r}")


def _defaults_to_none(info: Any) -> bool:
    """Whether a model field may be absent (null): it is optional and defaults to None."""
    return not info.is_required() and info.default is None


def _own_and_inherited(cls: type) -> set[str]:
    return {name for klass in cls.__mro__ for name in getattr(klass, "__annotations__", {})}


def from_model(model: type[BaseModel], *, hide: Iterable[str] = ()) -> Callable[[type], type]:
    """Give a GraphQL type the fields of a record model it does not declare or `hide`.

    An enum-like field (`Annotated[<Literal>, Open]` in the model) shows its value as the
    GraphQL enum, `OTHER` for a value kvgraph does not know, and the stored value as written
    beside it (`kind` and `kindRaw`; under a mapping, the app's value the mapping read), so no
    app value hides a record.
    """

    def add(cls: type) -> type:
        if "__strawberry_definition__" in vars(cls):  # its own, not an interface's
            raise TypeError(
                f"{cls.__name__}: @from_model must come below @strawberry.type (it adds the "
                "fields Strawberry then reads); above it, the type gets none of them"
            )
        declared, hidden = _own_and_inherited(cls), set(hide)
        _refuse_secrets(model, declared, cls.__name__)
        fields: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            if name in declared or name in hidden or name in m.secret_fields(model):
                continue
            shown = graphql_type(info.annotation, name, optional=_defaults_to_none(info))
            fields[name] = shown
            if any(meta is m.Open for meta in info.metadata) or _is_open(info.annotation):
                fields[f"{name}_raw"] = str | None if _is_nullable(shown) else str
                setattr(cls, name, relation(_enum_values(name, _known(info.annotation))))
                raw = relation(_raw_values(name, info.alias or name), description=RAW)
                setattr(cls, f"{name}_raw", raw)
        cls.__annotations__ = {**fields, **inspect.get_annotations(cls)}
        return cls

    return add


def _refuse_secrets(model: type[BaseModel], names: Iterable[str], where: str) -> None:
    """Refuse to expose a secret field of `model` under one of `names`."""
    exposed = m.secret_fields(model) & {to_snake(n) for n in names}
    if exposed:
        raise TypeError(f"{where}: {', '.join(sorted(exposed))} is secret and never exposed")


RAW = (
    "The value exactly as stored in the record, before any mapping file reads it: also a "
    "value kvgraph does not know (shown as OTHER) or an app's value the mapping reads as the "
    "one shown (`flight` beside TRANSPORT)."
)


def _is_open(annotation: Any) -> bool:
    """Whether a model annotation marks an enum-like field that reads any value."""
    if typing.get_origin(annotation) is typing.Annotated:
        return any(meta is m.Open for meta in annotation.__metadata__)
    return any(_is_open(inner) for inner in typing.get_args(annotation))


def _known(annotation: Any) -> frozenset[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return frozenset(typing.get_args(annotation))
    return frozenset(v for inner in typing.get_args(annotation) for v in _known(inner))


def _is_nullable(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _enum_values(name: str, known: frozenset[str]) -> Callable[..., Awaitable[list[Any]]]:
    async def values(ctx: Any, records: Sequence[Any]) -> list[Any]:
        found = (getattr(r, name) for r in records)
        return [v if v is None or v in known else m.OTHER for v in found]

    values.__name__ = name
    return values


def _raw_values(name: str, stored_as: str) -> Callable[..., Awaitable[list[Any]]]:
    """The stored value of field `name` (camelCase `stored_as`), before any mapping."""

    async def raw(ctx: Any, records: Sequence[m.Record]) -> list[Any]:
        return [r.stored_values.get(stored_as, getattr(r, name)) for r in records]

    raw.__name__ = f"{name}_raw"
    return raw


def _input(name: str, fields: Mapping[str, tuple[Any, Any]]) -> Any:
    """A Strawberry input class from {field: (annotation, default or strawberry.field)}."""
    namespace: dict[str, Any] = {"__annotations__": {n: a for n, (a, _) in fields.items()}}
    namespace |= {n: d for n, (_, d) in fields.items() if d is not dataclasses.MISSING}
    return strawberry.input(type(name, (), namespace))


def create_input(
    model: type[BaseModel],
    name: str,
    *,
    hide: Iterable[str] = (),
    extra: Mapping[str, tuple[Any, Any]] | None = None,
) -> Any:
    """The create input of an entity, from its model.

    Fields the server owns (timestamps) and `hide` are left out; the model's required fields
    are required, `id` is optional (a client-chosen id makes a retried create harmless).
    `extra` adds fields: {name: (annotation, default or strawberry.field(...))}.
    """
    hidden = set(hide) | SERVER_OWNED | m.secret_fields(model)
    _refuse_secrets(model, extra or {}, name)
    fields: dict[str, tuple[Any, Any]] = {}
    for field_name, info in model.model_fields.items():
        if field_name in hidden:
            continue
        base = graphql_type(info.annotation, field_name)
        if field_name == "id":
            fields[field_name] = (
                base | None,
                strawberry.field(default=UNSET, description=CLIENT_ID),
            )
        elif info.is_required():
            fields[field_name] = (base, dataclasses.MISSING)
        else:
            fields[field_name] = (_nullable(base), UNSET)
    return _input(name, fields | dict(extra or {}))


def update_input(
    model: type[BaseModel], name: str, *, hide: Iterable[str] = (), keep: Iterable[str] = ()
) -> Any:
    """The update input of an entity, from its model: `id` required, every other field
    optional (left out = unchanged). Fields the server owns, `hide` and the ids naming the
    record's parent or owner (`...Id`, unless in `keep`) cannot be changed and are left out.
    """
    hidden = set(hide) | SERVER_OWNED | {"id"} | m.secret_fields(model)
    fields: dict[str, tuple[Any, Any]] = {"id": (strawberry.ID, dataclasses.MISSING)}
    for field_name, info in model.model_fields.items():
        if field_name in hidden or (field_name.endswith("_id") and field_name not in set(keep)):
            continue
        fields[field_name] = (_nullable(graphql_type(info.annotation, field_name)), UNSET)
    return _input(name, fields)


def _nullable(annotation: Any) -> Any:
    return (
        annotation
        if typing.get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation | None)
    )


def id_input(name: str, **more: tuple[Any, Any]) -> Any:
    """An input holding just an `id: ID!` (and `more` fields)."""
    return _input(name, {"id": (strawberry.ID, dataclasses.MISSING), **more})


def provided(data: object, where: str = "") -> dict[str, Any]:
    """The input's fields that were given, camelCase, at every depth: a nested input (or a
    list of them) is given as its own given fields, so a field left out is absent and an
    explicit null is None inside it too; enums as their values, JSON as it came.

    `OTHER` only shows a stored value kvgraph does not know; it cannot be written (refused
    naming where it is: `entries[1].level`).
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(data):  # type: ignore[arg-type]
        value = getattr(data, f.name)
        if value is not UNSET:
            name = to_camel(f.name)
            out[name] = _given(value, where + name)
    return out


def _given(value: Any, where: str) -> Any:
    """One given input value as the domain takes it (see `provided`)."""
    if isinstance(value, Enum):
        if value.name == "OTHER":
            raise bad_input(f"{where}: OTHER stands for values kvgraph does not know")
        return value.value
    if isinstance(value, list):
        return [_given(item, f"{where}[{n}]") for n, item in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a nested input
        return provided(value, where + ".")
    return value


def _payload(name: str, field: str, node: Any, node_description: str | None) -> Any:
    namespace: dict[str, Any] = {
        "__annotations__": {field: node | None, "user_errors": list[UserError]},
    }
    if node_description:
        namespace[field] = strawberry.field(description=node_description)
    return strawberry.type(type(name, (), namespace))


def mutation(
    fn: Callable[[Any, dict[str, Any]], Awaitable[Outcome]],
    input_type: Any,
    field: str,
    node: Any,
    description: str,
    *,
    node_description: str | None = None,
) -> Any:
    """A mutation field taking `input: <input_type>!` and returning `<Name>Payload`
    `{ <field>: <node>, userErrors }`; `fn(ctx, data)` is the domain's write (data: the
    input's given fields, camelCase)."""
    input_name = input_type.__strawberry_definition__.name
    payload = _payload(input_name.removesuffix("Input") + "Payload", field, node, node_description)

    async def resolve(info: Info, input: Any) -> Any:
        out = await fn(info.context, provided(input))
        problems = [UserError.of(problem) for problem in out.problems]
        return payload(**{field: out.record, "user_errors": problems})

    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info),
            inspect.Parameter(
                "input", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=input_type
            ),
        ],
        return_annotation=payload,
    )
    resolve.__name__ = fn.__name__
    return strawberry.mutation(resolver=resolve, description=description)
