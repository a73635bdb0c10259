"""A new catalog kind is one entry in `gql/kv/catalog.py`: keys, model, spec, read rule, enum,
GraphQL type, demo data and `check` all follow from it (tried in a fresh interpreter that adds
a kind before anything else is imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import asyncio, json, sys
from typing import Any
from gql.kv import catalog
museum = catalog.CatalogKind(
    "museum", "A place with collections to see.", fields={"opening_hours": Any},
    samples=(dict(city="Lisbon", name="Tile Museum", tags=("art",), openingHours="10-18"),),
)
catalog.CATALOG = (*catalog.CATALOG, museum)

from gql.commands.demo import seed_demo
from gql.kv import check, open_store
from gql.kv import entities as e, keys as k
from gql.schema.build import build_schema, sdl
from resolvers import access
from resolvers.context import Context

QUERY = '''{ locations(kind: MUSEUM) { totalCount nodes { __typename name
  ... on Museum { openingHours } } } }'''

async def main(path):
    store = open_store(f"sqlite:///{path}", "kv")
    await store.open()
    try:
        summary = await seed_demo(store)
        result = await build_schema().execute(QUERY, context_value=Context(store=store))
        report = await check.scan(store)
    finally:
        await store.close()
    text = sdl()
    print(json.dumps({
        "key": k.parse("museum:m1").pattern.name,
        "index": k.parse("museums:index").pattern.name,
        "spec": e.SPECS["museum"].model.__name__,
        "rule": access.RULES["museum"].by_key,
        "type": "type Museum implements Location & Node" in text,
        "enum": "  MUSEUM\\n" in text,
        "places": dict(summary.places),
        "errors": [str(err) for err in result.errors or ()],
        "data": result.data,
        "problems": [str(p) for p in report.problems],
    }))

asyncio.run(main(sys.argv[1]))
"""


def test_a_new_catalog_kind_is_one_table_entry(tmp_path: Path) -> None:
    script = tmp_path / "museum.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "kv.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == {
        "key": "museum",
        "index": "museums_index",
        "spec": "Museum",
        "rule": True,
        "type": True,
        "enum": True,
        "places": {"event": 8, "restaurant": 8, "rental": 8, "museum": 1},
        "errors": [],
        "data": {
            "locations": {
                "totalCount": 1,
                "nodes": [{"__typename": "Museum", "name": "Tile Museum", "openingHours": "10-18"}],
            }
        },
        "problems": [],
    }
