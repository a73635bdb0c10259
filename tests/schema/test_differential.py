"""Differential fuzz: every generated query gets one answer from both executors.

hypothesis-graphql writes queries over the whole schema with argument values that fit the
world of `tests/differential.py` (its ids, global ids, cursors, small counts), so most reach
records and most are answered by the level executor (the share is printed). Each runs as the
owner, a collaborator, a stranger and anonymously, through the level executor and through
graphql-core alone; the whole responses (data, errors, their order) must be equal, and no
response may show a viewer a canary or a report it may not see. Another process with another
`PYTHONHASHSEED` must answer the same.

Bounded for CI (derandomized: the same examples every run). A longer run:
`KVGRAPH_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/schema/test_differential.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis_graphql
import pytest
from graphql import ArgumentNode, StringValueNode, Visitor, parse, print_ast, visit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from gql.kv import Store, open_store
from gql.schema.build import sdl
from tests import differential as w
from tests.support import TEXT_BACKENDS

EXAMPLES = int(os.environ.get("KVGRAPH_FUZZ_EXAMPLES", "80"))
ROOT = Path(__file__).resolve().parents[2]

SCALARS = {
    "ID": st.sampled_from([*w.IDS, "", "a:b"]).map(nodes.String),
    "String": st.sampled_from(w.TEXTS).map(nodes.String),
    "Int": st.sampled_from([0, 1, 1, 2, 3, 10, 101, -1]).map(nodes.Int),
    "Date": st.sampled_from(["2026-05-01", "2026-02-30", ""]).map(nodes.String),
    "DateTime": st.sampled_from(["2026-05-01T09:00:00Z", "2026-05-01T20:00", "x"]).map(
        nodes.String
    ),
    "JSON": st.sampled_from(["{}", "null"]).map(nodes.String),
}
# Values for arguments by name, where the type alone says too little (mostly good ones).
BY_NAME = {
    "nodeId": st.sampled_from([*w.NODE_IDS, *w.NODE_IDS, *w.NODE_IDS, "trip-own", "x"]),
    "after": st.sampled_from([*w.CURSORS, *w.CURSORS, "YzE6eDp5", "junk"]),
    "before": st.sampled_from([*w.CURSORS, "junk"]),
}


@st.composite
def _queries(draw: st.DrawFn) -> str:
    """A generated query, its arguments named in BY_NAME given fitting values."""
    document = parse(draw(hypothesis_graphql.queries(SDL, custom_scalars=SCALARS)))

    class Fit(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
            values = BY_NAME.get(node.name.value)
            if values is None or not isinstance(node.value, StringValueNode):
                return None
            return ArgumentNode(name=node.name, value=StringValueNode(value=draw(values)))

    return print_ast(visit(document, Fit()))


SDL = sdl(w.SCHEMAS["level"])
QUERIES = _queries()
# Shapes that once answered differently: an error beside invalid records, a cursor naming no
# entry, a copied record, duplicates listed under a failing sibling.
KNOWN = [
    '{ trip(id: "trip-own") { items { nodes { id } } } locations(first: 1, last: 1) '
    "{ totalCount } }",
    '{ viewer { conversations(after: "YzE6eDp5") { nodes { id messages { nodes { id } } } } } }',
    "{ viewer { trips(first: 3) { nodes { id items(first: 2) { totalCount nodes { id kind "
    "startTime } } budget { spent } } } } }",
    f'{{ node(nodeId: "{w.NODE_IDS[1]}") {{ nodeId ... on Trip {{ items {{ nodes {{ notes }} }} }} }} '
    'locations(search: "ta") { nodes { name } } }',
    '{ viewer { conversations(last: 1) { totalCount } suggestions(after: "junk") '
    "{ totalCount } } }",
    '{ a: trip(id: "trip-b") { items { totalCount } } b: trip(id: "trip-own") '
    '{ items(first: 1, after: "junk") { totalCount } } c: trip(id: "copy") { id } }',
]


class World:
    """The world in a store, on a loop of its own (hypothesis is synchronous)."""

    def __init__(self, url: str, table: str, text_values: bool) -> None:
        self.loop = asyncio.new_event_loop()
        self.store: Store = open_store(url, table)
        self.loop.run_until_complete(self.store.open())
        self.loop.run_until_complete(w.fill(self.store, url, table, text_values=text_values))
        self.executors: Counter[str] = Counter()

    def check(self, document: str) -> None:
        """Both executors answer `document` alike for every viewer, and leak nothing."""
        for viewer in w.VIEWERS:
            level, used = self.run(document, viewer, "level")
            core, _ = self.run(document, viewer, "graphql-core")
            self.executors[used] += 1
            assert level == core, (document, viewer)
            assert not w.leaks(viewer, level), (document, viewer, w.leaks(viewer, level))

    def run(self, document: str, viewer: str | None, executor: str) -> tuple[Any, str]:
        return self.loop.run_until_complete(w.answer(self.store, document, viewer, executor))

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture
def world(store_url: tuple[str, str], request: pytest.FixtureRequest) -> Iterator[World]:
    url, table = store_url
    found = World(url, table, text_values=True)
    yield found
    found.close()
    total = sum(found.executors.values())
    share = found.executors["level"] / total
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    line = f"differential fuzz: {total} answers, {share:.0%} by the level executor"
    if reporter is not None:
        reporter.write_line(f"\n{request.node.name}: {line}")
    assert share > 0.5, line


@pytest.mark.parametrize("store_url", TEXT_BACKENDS, indirect=True)
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(document=QUERIES)
@example(document=KNOWN[0])
@example(document=KNOWN[1])
@example(document=KNOWN[2])
@example(document=KNOWN[3])
@example(document=KNOWN[4])
@example(document=KNOWN[5])
def test_both_executors_answer_alike(world: World, document: str) -> None:
    world.check(document)


def test_another_hash_seed_answers_alike(store_url: tuple[str, str], tmp_path: Path) -> None:
    """Processes with different `PYTHONHASHSEED`s answer the same documents byte for byte."""
    documents = list(KNOWN)

    @settings(max_examples=30, derandomize=True, database=None, deadline=None)
    @given(document=QUERIES)
    def collect(document: str) -> None:
        documents.append(document)

    collect()
    url, table = store_url
    world = World(url, table, text_values=True)
    world.close()
    path = tmp_path / "documents.json"
    path.write_text(json.dumps(documents), encoding="utf-8")
    outputs = {seed: _answers(seed, url, table, path) for seed in ("0", "1", "4242")}
    assert len(outputs["0"]) == len(documents) * len(w.VIEWERS) * 2
    assert outputs["1"] == outputs["0"]
    assert outputs["4242"] == outputs["0"]
    for level, core in zip(outputs["0"][::2], outputs["0"][1::2], strict=True):
        assert level == core


def _answers(seed: str, url: str, table: str, path: Path) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-m", "tests.differential", url, table, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()
