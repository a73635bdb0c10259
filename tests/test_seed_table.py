"""The table of the seed's 23 tables (docs/existing-tables.md, "The seed's tables") holds
against the code: every key pattern kvgraph knows is in it, every key pattern in it is one
kvgraph knows, and every GraphQL type and field it names is in `schema.graphql`, each type
served by one of its row's fields.

A table clients read to find their data must not name a field that is not there; the test
walks it the way a reader would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
)

from gql.kv import keys as k

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "existing-tables.md"
HEADING = "## The seed's tables"
# The seed's tables, in the order of its four tables (`06-schema-recommendations.md`).
SEED_TABLES = [
    *("conversations", "messages", "ai_runs", "ai_context", "user_preferences"),
    *("proactive_suggestions", "conflict_resolutions", "budget_tracking", "booking_workflows"),
    *("trips", "itinerary_items", "locations", "saved_places", "collections"),
    *("trip_collaborators", "embeddings", "web_sources", "automation_rules"),
    *("automation_jobs", "automation_logs", "profiles", "user_sessions", "api_keys"),
]
NOT_SERVED = {"embeddings", "user_sessions"}  # no key patterns; the row says what happens
# Names the table gives for branches not merged yet: allowed to be missing from the schema
# and the key registry. Once one is there, remove it from here.
AWAITING: set[str] = set()
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Row:
    """One row: the seed table, its key patterns, types and fields (as written)."""

    table: str
    patterns: tuple[str, ...]
    types: tuple[str, ...]
    fields: tuple[str, ...]
    text: str


def rows(text: str) -> list[Row]:
    """The rows of the first table under HEADING."""
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    found = []
    for line in lines[2:]:  # the header and its rule
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table, patterns, types, fields = cells
        found.append(
            Row(
                table,
                tuple(_CODE.findall(patterns)),
                tuple(_CODE.findall(types)),
                tuple(name for name in _CODE.findall(fields) if _is_field(name)),
                fields,
            )
        )
    return found


def _is_field(name: str) -> bool:
    """Whether a code span of the fields column names a field (`Type.field`, `root(args:)`)."""
    return re.fullmatch(r"([A-Z]\w*\.\w+|[a-z]\w*(\(.*\))?)", name) is not None


ROWS = rows(PAGE.read_text(encoding="utf-8"))
SCHEMA = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))


def field_type(schema: GraphQLSchema, name: str) -> GraphQLNamedType | None:
    """The named type a field returns (`User.trips`, `trip(id:)`), or None if no such field."""
    owner, _, field = name.partition(".") if "." in name else ("Query", "", name)
    field = field.split("(", 1)[0]
    parent = schema.type_map.get(owner)
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    found = parent.fields.get(field)
    return None if found is None else _named(found.type)


def _named(type_: object) -> GraphQLNamedType:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_  # type: ignore[return-value]


def served(schema: GraphQLSchema, returned: GraphQLNamedType) -> set[str]:
    """The types a field of this type serves: a connection's nodes, an interface's types."""
    if isinstance(returned, GraphQLObjectType) and returned.name.endswith("Connection"):
        returned = _named(returned.fields["nodes"].type)
    names = {returned.name}
    if isinstance(returned, GraphQLInterfaceType):
        names |= {t.name for t in schema.get_possible_types(returned)}
    if isinstance(returned, GraphQLUnionType):
        names |= {t.name for t in returned.types}
    return names


def test_every_table_of_the_seed_has_one_row() -> None:
    assert [row.table for row in ROWS] == SEED_TABLES


def test_every_key_pattern_kvgraph_knows_is_in_the_table() -> None:
    listed = {pattern for row in ROWS for pattern in row.patterns}
    known = {pattern.template for pattern in k.PATTERNS}
    assert known - listed == set(), "add these key patterns to the table"
    assert listed - known - AWAITING == set(), "the table names key patterns kvgraph lacks"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.table)
def test_each_row_names_types_and_fields_the_schema_has(row: Row) -> None:
    if row.table in NOT_SERVED:
        assert not (row.patterns or row.types), row
        assert row.text.startswith("Not "), "say what kvgraph does for it"
        return
    assert row.patterns and row.types and row.fields, row
    reached: set[str] = set()
    for name in row.fields:
        returned = field_type(SCHEMA, name)
        if returned is None:
            bare = name.split("(", 1)[0]
            assert bare in AWAITING, f"{row.table}: no field {name} in schema.graphql"
            continue
        reached |= served(SCHEMA, returned)
    for type_name in row.types:
        if type_name not in SCHEMA.type_map:
            assert type_name in AWAITING, f"{row.table}: no type {type_name} in schema.graphql"
            continue
        assert type_name in reached, f"{row.table}: none of {row.fields} serves {type_name}"


def test_names_awaiting_a_branch_are_not_there_yet() -> None:
    """Once a branch is merged its names are checked like the others: take them out."""
    patterns = {pattern.template for pattern in k.PATTERNS}

    def there(name: str) -> bool:
        if "{" in name or ":" in name:
            return name in patterns
        if _is_field(name):
            return field_type(SCHEMA, name) is not None
        return name in SCHEMA.type_map

    present = {name for name in AWAITING if there(name)}
    assert present == set(), "remove these from AWAITING in tests/test_seed_table.py"


def test_the_walk_finds_a_wrong_name() -> None:
    text = PAGE.read_text(encoding="utf-8").replace("`User.trips`", "`User.tripz`")
    (trips,) = [row for row in rows(text) if row.table == "trips"]
    assert field_type(SCHEMA, "User.tripz") is None and "User.tripz" in trips.fields
    with pytest.raises(AssertionError, match=r"no field User\.tripz"):
        test_each_row_names_types_and_fields_the_schema_has(trips)
