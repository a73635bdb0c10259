"""The GraphQL enums, derived from the record models' value sets: nothing to edit here.

Each enum-like value set is a Literal in `gql/kv/models.py` with its `ValueSet` beside it
(`VALUE_SETS`: the enum's name, what it and its values mean). Its GraphQL enum has a member per
value (`outside_trip` is `OUTSIDE_TRIP`), in the Literal's order, then `OTHER` for a stored
value kvgraph does not know. `LocationKind` is the catalog's (`gql/kv/catalog.py`), without
`OTHER`. A schema module names an enum by importing it from here (`from gql.schema.enums
import JobStatus`: the module's `__getattr__` finds it by its GraphQL name); a field derived
from a model (`from_model`, inputs) finds it by its Literal (`enum_of`).
"""

from __future__ import annotations

import re
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING, Any, get_args

import strawberry

from gql.kv import models as m
from gql.kv.catalog import CATALOG

if TYPE_CHECKING:
    LocationKind = Enum
else:  # the catalog's kinds (`gql/kv/catalog.py`): `RENTAL = "rental"`, ...
    LocationKind = strawberry.enum(
        Enum("LocationKind", {kind.name.upper(): kind.name for kind in CATALOG}),
        description="The kinds of place in the catalog.",
    )

_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")  # what a value becomes, upper-cased
OTHER_DESCRIPTION = "A stored value kvgraph does not know: read it from the `...Raw` field."


@cache
def _derived(literal: Any) -> type[Enum]:
    """The GraphQL enum of a value set of `models.VALUE_SETS` (made once)."""
    info = m.VALUE_SETS[literal]
    members = {
        value.upper(): strawberry.enum_value(value, description=info.values.get(value))
        for value in get_args(literal)
    }
    if m.OTHER.upper() in members:
        raise ValueError(f"{info.name}: `{m.OTHER}` names unknown values, it cannot be known")
    if bad := [name for name in members if not _NAME.fullmatch(name)]:
        raise ValueError(f"{info.name}: values {bad} make no GraphQL enum value names")
    members[m.OTHER.upper()] = strawberry.enum_value(m.OTHER, description=OTHER_DESCRIPTION)
    enum = Enum(info.name, members, module=__name__)  # type: ignore[misc]
    return strawberry.enum(enum, description=info.description)


def enum_of(annotation: Any) -> type[Enum] | None:
    """The GraphQL enum showing a model's value set (a Literal), or None if it is none."""
    if annotation is m.LocationType:
        return LocationKind
    try:
        known = annotation in m.VALUE_SETS
    except TypeError:  # unhashable annotations are no value set
        return None
    return _derived(annotation) if known else None


def __getattr__(name: str) -> Any:
    """A derived enum by its GraphQL name: `from gql.schema.enums import JobStatus`."""
    for literal, info in m.VALUE_SETS.items():
        if info.name == name:
            return _derived(literal)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
