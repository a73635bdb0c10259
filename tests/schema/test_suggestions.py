"""With introspection off (production), no error suggests a name: every "Did you mean" of
graphql-core (validation rules and value coercion) is left out; with it on they stay."""

from __future__ import annotations

from typing import Any

import pytest

from gql.schema.build import build_schema
from resolvers.context import Context

PRODUCTION, DEV = build_schema(introspection=False), build_schema(introspection=True)

# kind -> (document, variables): each would suggest a name the client did not know.
SUGGESTING: dict[str, tuple[str, dict[str, Any] | None]] = {
    "field": ("{ viewer { displayNam } }", None),
    "field of an interface, on its types": ('{ location(id: "x") { cuisine } }', None),
    "argument": ("{ viewer { trips(frist: 1) { totalCount } } }", None),
    "directive argument": ("{ viewer @include(iff: true) { id } }", None),
    "type of a variable": ("query($x: Strin) { viewer { id } }", None),
    "type of a fragment": ("{ viewer { ... on Usr { id } } }", None),
    "enum value, literal": ("{ locations(kind: RESTAURANTS) { totalCount } }", None),
    "input field, literal": (
        'mutation { createTrip(input: {title: "x", titl: "y"}) { trip { id } } }',
        None,
    ),
    "enum value, variable": (
        "query($k: LocationKind) { locations(kind: $k) { totalCount } }",
        {"k": "RESTAURANTS"},
    ),
    "input field, variable": (
        "mutation($i: CreateTripInput!) { createTrip(input: $i) { trip { id } } }",
        {"i": {"title": "x", "titl": "y"}},
    ),
    "enum value inside an input, variable": (
        "mutation($i: AddItineraryItemInput!) { addItineraryItem(input: $i) { item { id } } }",
        {"i": {"tripId": "t", "title": "x", "kind": "MEALS"}},
    ),
}
# Kinds graphql-core never suggests for; checked in production all the same.
SILENT: dict[str, tuple[str, dict[str, Any] | None]] = {
    "fragment name": ("{ viewer { ...Usr } } fragment User on User { id }", None),
    "directive name": ("{ viewer @inclde(if: true) { id } }", None),
}


async def messages(schema: Any, query: str, variables: dict[str, Any] | None) -> list[str]:
    context = Context(store=None, viewer_id="u1")  # type: ignore[arg-type]
    result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors, result.data
    return [error.message for error in result.errors]


@pytest.mark.parametrize("kind", list(SUGGESTING) + list(SILENT))
async def test_production_suggests_no_names(kind: str) -> None:
    query, variables = (SUGGESTING | SILENT)[kind]
    for message in await messages(PRODUCTION, query, variables):
        assert "did you mean" not in message.lower(), message


@pytest.mark.parametrize("kind", list(SUGGESTING))
async def test_with_introspection_on_they_are_kept(kind: str) -> None:
    query, variables = SUGGESTING[kind]
    assert any("Did you mean" in m for m in await messages(DEV, query, variables))
