"""Parsing and validating any document within the token limit costs about what a plain one of
that size costs: no shape makes graphql-core's rules quadratic.

Work is counted, not timed: the number of Python function calls (cProfile) made while the
production schema parses and validates a document, against a plain document of about the
same size. Before the bounds, the worst shapes cost 5-16 times the plain one (0.3-1.7 s).
"""

from __future__ import annotations

import cProfile
import itertools
import pstats
import time
from typing import Any

import pytest
from graphql import parse

from gql.schema.build import build_schema
from gql.schema.limits import MERGE_BUDGET, BoundedValidation
from resolvers.context import Context

SCHEMA = build_schema(introspection=False)
MAX_TOKENS = 2_000
TRIP_FIELDS = [
    "id",
    "title",
    "destination",
    "startDate",
    "endDate",
    "status",
    "createdAt",
    "updatedAt",
    "currency",
]
PLACES = ["Trip", "ItineraryItem", "Event", "Restaurant", "Rental", "Conversation"]


def variants() -> list[str]:
    """Distinct selections of trip fields that all merge (`trips { nodes { id title } }`, ...)."""
    subsets = (" ".join(c) for r in range(1, 4) for c in itertools.combinations(TRIP_FIELDS, r))
    return [f"trips {{ nodes {{ {subset} }} }}" for subset in subsets]


# A plain document: 399 small operations, each validated once, linear in its tokens.
PLAIN = " ".join(f"query Q{i} {{ __typename }}" for i in range(399))
SHAPES: dict[str, str] = {
    "one field 2,000 times": "{ viewer { " + "id " * 1_990 + "} }",
    "__typename 2,000 times": "{ " + "__typename " * 1_995 + "}",
    "one alias on two fields": "{ viewer { "
    + " ".join(("a: id", "a: displayName")[i % 2] for i in range(600))
    + " } }",
    "a nested field repeated": "{ viewer { " + "trips { nodes { id } } " * 190 + "} }",
    "distinct selections that merge": "{ viewer { " + " ".join(variants()) + " } }",
    "140 fragments on one selection": '{ trip(id: "x") { '
    + " ".join(f"...F{i}" for i in range(140))
    + " } } "
    + " ".join(f"fragment F{i} on Trip {{ id }}" for i in range(140)),
    "fragments spreading the next twice": '{ trip(id: "x") { ...F0 } } '
    + " ".join(f"fragment F{i} on Trip {{ id ...F{i + 1} ...F{i + 1} }}" for i in range(150))
    + " fragment F150 on Trip { id }",
    "fragments on several types": '{ node(nodeId: "x") { '
    + " ".join(f"...F{i}" for i in range(150))
    + " } } "
    + " ".join(f"fragment F{i} on {PLACES[i % 3]} {{ id }}" for i in range(150)),
    "inline fragments repeated": "{ viewer { " + "... on User { id } " * 330 + "} }",
    "type conditions on an interface": '{ node(nodeId: "x") { '
    + " ".join(f"... on {PLACES[i % 6]} {{ id }}" for i in range(270))
    + " } }",
    "an input object of 650 unknown fields": 'mutation { createTrip(input: {title: "x" '
    + " ".join(f"f{i}: 1" for i in range(650))
    + "}) { trip { id } } }",
    "a list of 1,980 values": "{ locations(search: ["
    + " ".join('"x"' for _ in range(1_980))
    + "]) { totalCount } }",
    "lists nested 190 deep": "{ "
    + " ".join(
        f'l{i}: locations(search: {"[" * 190}"x"{"]" * 190}) {{ totalCount }}' for i in range(5)
    )
    + " }",
    "490 variables": "query(" + " ".join(f"$v{i}: Int" for i in range(490)) + ") { __typename }",
    "an argument 660 times": "{ trip(" + 'id: "1" ' * 660 + ") { id } }",
    "unknown directives": "{ viewer " + "@foo " * 990 + "{ id } }",
    "unknown fields": "{ " + " ".join(f"f{i}" for i in range(1_990)) + " }",
}


def work(query: str, **kw: Any) -> tuple[int, Any]:
    """Python calls made while the schema parses and validates `query` (never from cache)."""
    BoundedValidation.cache.cache_clear()
    context = Context(store=None, viewer_id="u1")  # type: ignore[arg-type]
    profile = cProfile.Profile()
    result = profile.runcall(SCHEMA.execute_sync, query, context_value=context, **kw)
    return pstats.Stats(profile).total_calls, result  # type: ignore[attr-defined]


def milliseconds(query: str) -> float:
    """Best of three, without the profiler: for the benchmark print only."""
    best = float("inf")
    for _ in range(3):
        BoundedValidation.cache.cache_clear()
        context = Context(store=None, viewer_id="u1")  # type: ignore[arg-type]
        start = time.perf_counter()
        SCHEMA.execute_sync(query, context_value=context)
        best = min(best, time.perf_counter() - start)
    return best * 1_000


@pytest.fixture(scope="module")
def plain_work() -> int:
    calls, result = work(PLAIN)  # validated whole, then refused: no operation name
    assert [e.extensions["code"] for e in result.errors] == ["BAD_USER_INPUT"]
    return calls


@pytest.mark.parametrize("name", list(SHAPES))
def test_no_document_costs_much_more_than_a_plain_one(name: str, plain_work: int) -> None:
    query = SHAPES[name]
    tokens = parse(query).token_count
    assert 1_000 <= tokens <= MAX_TOKENS, tokens  # near the limit, within it
    calls, result = work(query)
    assert result.errors, "every shape is refused"
    shown = milliseconds(query)
    print(
        f"{name}: {tokens} tokens, {calls:,} calls ({calls / plain_work:.2f} x plain), {shown:.1f} ms"
    )
    assert calls <= 1.5 * plain_work, (calls, plain_work)


def test_repeats_past_the_budget_are_refused_with_the_limit() -> None:
    _, result = work(SHAPES["one field 2,000 times"])
    [error] = result.errors
    assert error.extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "limit": "merging",
        "max": MERGE_BUDGET,
    }
    assert "repeats fields or fragments too often" in error.message


def test_an_apps_documents_stay_within_the_budget() -> None:
    """60 colocated fragments on one selection, each with `id __typename title` (as Relay and
    Apollo apps write them, many fewer), validate as before."""
    fragments = " ".join(f"fragment F{i} on Trip {{ id __typename title }}" for i in range(60))
    spreads = " ".join(f"...F{i}" for i in range(60))
    # A second operation: validated whole, then refused for want of a name (nothing runs).
    query = f'query A {{ trip(id: "x") {{ id {spreads} }} }} query B {{ __typename }} {fragments}'
    _, result = work(query)
    assert [e.message for e in result.errors] == [
        "Must provide operation name if query contains multiple operations."
    ]


def test_a_literal_reports_its_first_error_only() -> None:
    _, result = work(SHAPES["an input object of 650 unknown fields"])
    [error] = result.errors
    assert error.message.startswith(
        "Expected value of type 'CreateTripInput' not to include unknown field 'f0'"
    )
