"""`register-queries`: .graphql files -> Apollo's persisted-query manifest, which the server
loads in allow-list mode."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gql.commands.cli import main
from gql.web.app import create_app
from gql.web.auth import mint_token
from gql.web.persisted import load_manifest
from gql.web.settings import Settings
from tests.support import node_packages

SECRET = "test-secret-0123456789-0123456789-abcdef"
TRIPS = """# the trip list
query Trips($first: Int) {
  viewer { trips(first: $first) { nodes { ...TripCard } } }
}
fragment TripCard on Trip { id title items(first: 3) { nodes { ...ItemLine } } }
"""
ITEMS = """
fragment ItemLine on ItineraryItem { id title location { name ... on Restaurant { cuisine } } }
mutation AddItem($input: AddItineraryItemInput!) {
  addItineraryItem(input: $input) { item { ...ItemLine } userErrors { field message } }
}
"""


def frontend(tmp_path: Path) -> Path:
    """A frontend's documents: fragments shared across files, a nested folder."""
    src = tmp_path / "src"
    (src / "items").mkdir(parents=True)
    (src / "trips.graphql").write_text(TRIPS)
    (src / "items" / "items.gql").write_text(ITEMS)
    (src / "notes.txt").write_text("not a document")
    return src


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["register-queries", *args])
    out, err = capsys.readouterr()
    return code, out, err


def entries(path: Path) -> dict[str, dict[str, str]]:
    data = json.loads(path.read_text())
    assert data["format"] == "apollo-persisted-query-manifest" and data["version"] == 1
    return {op["name"]: op for op in data["operations"]}


def test_registers_every_operation_with_its_fragments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "pq.json"
    code, out, _ = run(capsys, str(frontend(tmp_path)), "--output", str(out_file))
    assert code == 0 and out.strip() == f"registered 2 operations -> {out_file}"
    ops = entries(out_file)
    assert list(ops) == ["AddItem", "Trips"]
    assert ops["AddItem"]["type"] == "mutation" and ops["Trips"]["type"] == "query"
    trips = ops["Trips"]["body"]
    # the operation first, then its fragments by name (Apollo's sortTopLevelDefinitions)
    assert (
        trips.index("query Trips")
        < trips.index("fragment ItemLine")
        < trips.index("fragment TripCard")
    )
    assert "fragment TripCard" not in ops["AddItem"]["body"] and "__typename" not in trips
    for op in ops.values():
        assert op["id"] == hashlib.sha256(op["body"].encode()).hexdigest()
    assert set(load_manifest(out_file)) == {op["id"] for op in ops.values()}


def test_add_typename_as_apollo_clients_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "q.graphql").write_text(
        "query Q { viewer { id __typename trips { nodes { id } } } "
        "location(id: 1) { name ... on Event { startsAt } } }"
    )
    out_file = tmp_path / "pq.json"
    code, _, _ = run(capsys, str(tmp_path), "--output", str(out_file), "--add-typename")
    body = entries(out_file)["Q"]["body"]
    assert code == 0
    assert body.startswith("query Q {\n  viewer {\n    id\n    __typename\n    trips {")
    # added to trips, nodes, location and the inline fragment; viewer keeps its own
    assert body.count("__typename") == 5
    assert "\n  __typename\n" not in body  # not on the operation's own level


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.graphql": "query A { viewer { id }"}, "a.graphql:1:24: Syntax Error"),
        ({"a.graphql": "{ viewer { id } }"}, "give every operation a name"),
        ({"a.graphql": "query A { nope }"}, "a.graphql: A: Cannot query field 'nope'"),
        ({"a.graphql": "query A { viewer { ...Missing } }"}, "unknown fragment Missing"),
        (
            {"a.graphql": "query A { viewer { id } }", "b.graphql": "query A { viewer { email } }"},
            "operation A is defined twice",
        ),
        (
            {
                "a.graphql": "fragment F on User { id } query A { viewer { ...F } }",
                "b.graphql": "fragment F on User { email }",
            },
            "fragment F is defined twice, differently",
        ),
        ({"a.graphql": "type T { id: ID }"}, "only operations and fragments"),
        ({"a.graphql": b"query A { viewer { id } } \xff"}, "cannot read"),
        ({}, "no .graphql or .gql files found"),
    ],
)
def test_bad_documents_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Any], message: str
) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    out_file = tmp_path / "pq.json"
    code, out, err = run(capsys, str(tmp_path), "--output", str(out_file))
    assert code == 2 and out == "" and message in err, err
    assert not out_file.exists()


def test_a_missing_path_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope"))
    assert code == 2 and "no such file or folder" in err


def test_bodies_print_as_graphql_js_prints_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "pq.json"
    run(capsys, str(frontend(tmp_path)), "--output", str(out_file), "--add-typename")
    bodies = [op["body"] for op in entries(out_file).values()]
    folder = node_packages()
    done = subprocess.run(
        ["node", str(folder / "print.mjs")],
        input=json.dumps(bodies),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == bodies


async def test_the_server_runs_only_what_was_registered(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    aiohttp_client: Callable[..., Awaitable[Any]],
) -> None:
    out_file = tmp_path / "pq.json"
    run(capsys, str(frontend(tmp_path)), "--output", str(out_file))
    trips = entries(out_file)["Trips"]
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/kv.db",
        jwt_secret=SECRET,
        persisted_queries="allowlist",
        persisted_queries_file=str(out_file),
    )
    client = await aiohttp_client(create_app(settings))
    headers = {"Authorization": f"Bearer {mint_token(SECRET, 'u1')}"}
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": trips["id"]}}
    body = {"extensions": persisted, "variables": {"first": 5}, "operationName": "Trips"}
    resp = await client.post("/graphql", json=body, headers=headers)
    assert await resp.json() == {"data": {"viewer": {"trips": {"nodes": []}}}}
    other = await client.post("/graphql", json={"query": "{ viewer { email } }"}, headers=headers)
    assert other.status == 403
    assert (await other.json())["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
