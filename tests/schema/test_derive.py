"""`provided`: what a mutation's domain function is given from its input, at every depth."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from strawberry.scalars import JSON

from gql.schema.derive import UNSET, provided
from gql.schema.enums import ItemKind
from resolvers.errors import ClientError


@strawberry.input
class Stop:
    place_name: str | None = UNSET
    note: str | None = UNSET
    kind: ItemKind | None = UNSET


@strawberry.input
class Route:
    first_stop: Stop
    stops: list[Stop]
    extra: JSON | None = UNSET


def test_nested_inputs_are_given_like_the_top_level() -> None:
    """Left out (unset) is absent, null is None, at every depth; names camelCase, enums values."""
    route = Route(
        first_stop=Stop(place_name="Alfama", note=None),
        stops=[Stop(kind=ItemKind.MEAL), Stop()],
        extra={"snake_key": [1, {"x": None}]},
    )
    assert provided(route) == {
        "firstStop": {"placeName": "Alfama", "note": None},
        "stops": [{"kind": "meal"}, {}],
        "extra": {"snake_key": [1, {"x": None}]},  # JSON stays as given
    }


@pytest.mark.parametrize(
    ("route", "where"),
    [
        (Route(first_stop=Stop(kind=ItemKind.OTHER), stops=[]), "firstStop.kind"),
        (Route(first_stop=Stop(), stops=[Stop(), Stop(kind=ItemKind.OTHER)]), "stops[1].kind"),
    ],
)
def test_other_is_refused_where_it_is_nested(route: Any, where: str) -> None:
    with pytest.raises(ClientError) as refused:
        provided(route)
    assert str(refused.value).startswith(f"{where}: OTHER")
