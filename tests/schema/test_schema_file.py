"""`schema.graphql` is the exported SDL: regenerate it with `python -m gql export-schema`."""

from __future__ import annotations

from pathlib import Path

from gql.commands.cli import main
from gql.schema.build import sdl

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert committed == sdl(), "schema.graphql is stale: run `python -m gql export-schema`"


def test_export_schema_writes_sorted_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text == sdl()
    types = [line.split()[1] for line in text.splitlines() if line.startswith("type ")]
    assert types == sorted(types)


def test_schema_has_the_contracted_shapes() -> None:
    text = sdl()
    for needle in [
        "interface Node {",
        "interface Location implements Node {",
        "type Event implements Location & Node {",
        "createTrip(input: CreateTripInput!): CreateTripPayload!",
        "node(nodeId: ID!): Node",
        "locations(after: String = null, before: String = null, city: String = null, first: Int = null, kind: LocationKind = null, last: Int = null, search: String = null): LocationConnection!",
        "type UserError {",
        "totalCount: Int!",
    ]:
        assert needle in text, needle
