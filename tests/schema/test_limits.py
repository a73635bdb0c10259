"""Query limits at the schema: each just under passes, just over is refused before any read."""

from __future__ import annotations

import tracemalloc
from contextlib import aclosing
from typing import Any

import pytest
import strawberry
from graphql import GraphQLError, parse
from strawberry.extensions import QueryDepthLimiter, ValidationCache
from strawberry.extensions.validation_cache import DEFAULT_MAXSIZE, _get_validate_cache
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult

from gql.kv import Store
from gql.schema.build import Query, build_schema
from gql.schema.limits import BoundedValidation, Limits, node_count
from resolvers.context import Context
from tests.support import BOARD, Gateway, U, board_data

TRIP = "t0"
# The issue's 213-byte relation cycle: Trip.items -> ItineraryItem.trip -> Trip.items, 4 deep.
CYCLE = (
    '{trip(id:"3f6c1a52-7d4e-4b8a-9c21-5e0f8d7b6a43"){items(first:60){nodes{trip{items(first:60)'
    "{nodes{trip{items(first:60){nodes{trip{items(first:60){nodes{id nodeId title startTime"
    " endTime createdAt kind}}}}}}}}}}}}}"
)


def nested(cycles: int, leaf: str = "id") -> str:
    """`trip(id:) { items { nodes { trip { items ... { leaf } } } } }`: 3 fields per cycle."""
    body = leaf
    for n in range(cycles):
        body = f"items(first: 2) {{ nodes {{ {body} }} }}"
        body = f'trip(id: "{TRIP}") {{ {body} }}' if n == cycles - 1 else f"trip {{ {body} }}"
    return "{ " + body + " }"


def code(result: Any) -> str:
    assert result.errors, result.data
    return str(result.errors[0].extensions["code"])


async def refused_without_reads(gw: Gateway, store: Store, query: str, **kw: Any) -> Any:
    """Run `query`, insist it is refused, and that the store saw no read meanwhile."""
    before = store.stats.round_trips
    result = await gw.run(query, viewer=U, **kw)
    assert result.errors and result.data is None, result.data
    assert store.stats.round_trips == before
    return result.errors[0]


@pytest.fixture
async def board(store: Store) -> Store:
    await board_data(store, trips=3, items=4)
    return store


def test_the_cycle_is_the_issues_213_bytes() -> None:
    assert len(CYCLE.encode()) == 213


def test_nested_builds_the_depth_it_says() -> None:
    assert nested(3).count("{") == 10 and nested(4).count("{") == 13


async def test_the_trip_board_passes_default_limits(gw: Gateway, board: Store) -> None:
    data = await gw.ok(BOARD, viewer=U)
    assert len(data["viewer"]["trips"]["nodes"]) == 3


def test_trip_board_node_count(schema: Any) -> None:
    # viewer 1 + trips 1 + 100 trips + 100 item connections + 10,000 items + 10,000 places
    assert node_count(schema._schema, parse(BOARD)) == 20_202


@pytest.mark.parametrize(
    ("query", "variables", "nodes"),
    [
        ("{ viewer { id } }", None, 1),
        ("{ viewer { trips { totalCount } } }", None, 2),  # the connection itself
        ("{ viewer { trips { nodes { id } } } }", None, 22),  # default page 20
        ("{ viewer { trips(last: 7) { edges { node { id } } } } }", None, 16),
        ("{ viewer { trips(first: 3) { pageInfo { hasNextPage } nodes { id } } } }", None, 6),
        ("query($n: Int) { viewer { trips(first: $n) { nodes { id } } } }", {"n": 50}, 52),
        ("query($n: Int = 5) { viewer { trips(first: $n) { nodes { id } } } }", None, 7),
        ("query($n: Int) { viewer { trips(first: $n) { nodes { id } } } }", {"n": None}, 22),
        (
            "{ viewer { ...T } } fragment T on User { trips(first: 4) { ...N } }"
            " fragment N on TripConnection { nodes { id } }",
            None,
            6,
        ),
        ('{ node(nodeId: "x") { ... on Trip { items(first: 9) { nodes { id } } } } }', None, 11),
        ("{ __schema { types { fields { type { ofType { name } } } } } }", None, 0),
        ("query($n: Int) { viewer { trips(first: $n) { nodes { id } } } }", {"n": "x"}, None),
        ("query A { viewer { id } } query B { viewer { id } }", None, None),
    ],
)
def test_node_count(schema: Any, query: str, variables: dict | None, nodes: int | None) -> None:
    assert node_count(schema._schema, parse(query), None, variables) == nodes


def test_a_kept_count_follows_the_variables(schema: Any) -> None:
    """A count is kept by its text only when no variable takes part in it: the same text
    counts the same again, bad variables are still told apart, and a page size given by a
    variable is counted at each request's value."""
    graphql_schema = schema._schema
    fixed = "query($id: ID!) { trip(id: $id) { items(first: 3) { nodes { id } } } }"
    for _ in range(2):
        assert node_count(graphql_schema, parse(fixed), None, {"id": "t"}) == 5
        assert node_count(graphql_schema, parse(fixed), None, {"id": None}) is None
        assert node_count(graphql_schema, parse(fixed), None, {}) is None
        assert node_count(graphql_schema, parse(fixed), "Other", {"id": "t"}) is None
    paged = "query($n: Int) { viewer { trips(first: $n) { nodes { id } } } }"
    counts = [node_count(graphql_schema, parse(paged), None, {"n": n}) for n in (1, 50, 1)]
    assert counts == [3, 52, 3]


async def test_depth_just_under_passes_just_over_is_refused(
    gw: Gateway, board: Store, schema: Any
) -> None:
    assert (await gw.ok(nested(3), viewer=U))["trip"]["items"]["nodes"]
    error = await refused_without_reads(gw, board, nested(3, "trip { id }"))
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "depth", "max": 10}
    assert error.message == "The operation is nested 11 fields deep; the limit is 10."
    await gw.ok(nested(3), viewer=U)  # the next request runs


async def test_the_depth_limit_is_configurable(board: Store) -> None:
    gw = Gateway(build_schema(limits=Limits(max_depth=3)), board)
    await gw.ok("{ viewer { trips { totalCount } } }", viewer=U)
    error = await refused_without_reads(
        gw, board, "query Deep { viewer { trips { nodes { id } } } }"
    )
    assert error.message == "Operation 'Deep' is nested 4 fields deep; the limit is 3."


async def test_aliases_just_under_passes_just_over_is_refused(gw: Gateway, board: Store) -> None:
    fifteen = "{ " + " ".join(f"a{i}: viewer {{ id }}" for i in range(15)) + " }"
    assert len(await gw.ok(fifteen, viewer=U)) == 15
    error = await refused_without_reads(gw, board, fifteen.replace("}", "} a15: viewer { id }", 1))
    assert error.extensions == {"code": "GRAPHQL_VALIDATION_FAILED", "limit": "aliases", "max": 15}
    assert error.message == "The operation uses 16 aliases; the limit is 15."
    await gw.ok(fifteen, viewer=U)


async def test_aliases_in_fragments_count_at_every_spread(gw: Gateway, board: Store) -> None:
    # Each fragment spreads the next twice: 2^60 aliases. Walking every spread would never
    # end (Strawberry's MaxAliasesLimiter does); measured once per fragment it is instant.
    fragments = " ".join(f"fragment F{i} on User {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    query = "{ viewer { ...F0 } } " + fragments + " fragment F60 on User { a: id }"
    error = await refused_without_reads(gw, board, query)
    assert error.extensions["limit"] == "aliases"
    assert "more than 1,000,000,000,000,000 aliases" in error.message


async def test_depth_through_fragments(gw: Gateway, board: Store) -> None:
    query = (
        f'{{ trip(id: "{TRIP}") {{ ...A }} }} fragment A on Trip {{ items {{ nodes {{ ...B }} }} }}'
        " fragment B on ItineraryItem { trip { ...A2 } } fragment A2 on Trip { items { nodes {"
        " trip { items { nodes { trip { owner { id } } } } } } } }"
    )
    error = await refused_without_reads(gw, board, query)
    assert "nested 12 fields deep" in error.message


async def test_tokens_just_under_passes_just_over_is_refused(gw: Gateway, board: Store) -> None:
    # graphql-core counts comments as tokens too (a flood of comments is refused as well)
    base = parse("{ viewer { id } }").token_count
    under = "{ viewer { id } }\n" + "# filler\n" * (2_000 - base)
    assert parse(under).token_count == 2_000
    await gw.ok(under, viewer=U)
    error = await refused_without_reads(gw, board, under.replace("id", "id __typename", 1))
    assert error.extensions == {"code": "GRAPHQL_PARSE_FAILED"}
    assert "Document contains more than 2000 tokens" in error.message
    await gw.ok(under, viewer=U)


async def test_nodes_just_under_passes_just_over_is_refused(board: Store) -> None:
    gw = Gateway(build_schema(limits=Limits(max_nodes=20_202)), board)
    await gw.ok(BOARD, viewer=U)
    bigger = BOARD.replace("totalCount", "totalCount pageInfo { hasNextPage }")
    error = await refused_without_reads(gw, board, bigger)
    assert error.extensions == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "limit": "nodes",
        "max": 20_202,
    }
    assert error.message.startswith("The query could return 20,203 objects; the limit is 20,202.")
    await gw.ok(BOARD, viewer=U)


async def test_nodes_count_variables_at_their_runtime_value(board: Store) -> None:
    # 2 + n + n * (1 + n): n = 100 is 10,202 nodes
    gw = Gateway(build_schema(limits=Limits(max_nodes=10_202)), board)
    query = "query($n: Int) { viewer { trips(first: $n) { nodes { items(first: $n) { nodes { id } } } } } }"
    await gw.ok(query, {"n": 100}, viewer=U)
    error = await refused_without_reads(gw, board, query, variables={"n": 101})
    assert error.extensions["limit"] == "nodes"
    await gw.ok(query, {"n": 100}, viewer=U)


async def test_a_kept_count_leaves_bad_variables_to_execution(board: Store) -> None:
    """The budget takes a kept count within it as it is and leaves the variables to
    execution: every answer is the one of a budget that checks them itself."""
    gw = Gateway(build_schema(limits=Limits(max_nodes=5)), board)
    within = "query($id: ID!) { trip(id: $id) { items(first: 3) { nodes { id } } } }"  # 5
    over = "query($id: ID!) { trip(id: $id) { items(first: 4) { nodes { id } } } }"  # 6
    for _ in range(2):  # counted, then kept
        for query in (within, over):
            result: Any = await gw.run(query, {"id": None}, viewer=U)
            [error] = result.errors
            assert result.data is None and error.extensions["code"] == "BAD_USER_INPUT"
            assert error.message.startswith("Variable '$id' has invalid value: Expected value")
        assert (await gw.run(within, {"id": "t0"}, viewer=U)).errors is None  # type: ignore[attr-defined]
        [error] = (await gw.run(over, {"id": "t0"}, viewer=U)).errors  # type: ignore[attr-defined]
        assert error.extensions["limit"] == "nodes"


async def test_a_connection_without_first_counts_its_default_page(board: Store) -> None:
    gw = Gateway(build_schema(limits=Limits(max_nodes=441)), board)
    query = "{ viewer { trips { nodes { items { nodes { id } } } } } }"  # 2 + 20 * 22 = 442
    error = await refused_without_reads(gw, board, query)
    assert "could return 442 objects" in error.message


async def test_mutations_are_measured_before_they_write(board: Store) -> None:
    gw = Gateway(build_schema(limits=Limits(max_nodes=3)), board)
    mutation = 'mutation { createTrip(input: {title: "x"}) { trip { items { nodes { id } } } } }'
    await refused_without_reads(gw, board, mutation)
    assert await board.get(f"trips:index:{U}") == ["t0", "t1", "t2"]


async def test_the_213_byte_cycle_is_refused_without_memory_growth(
    gw: Gateway, store: Store
) -> None:
    await board_data(store, trips=1, items=60)
    cycle = CYCLE.replace("3f6c1a52-7d4e-4b8a-9c21-5e0f8d7b6a43", TRIP)
    await gw.run(cycle, viewer=U)  # warm up caches (parser, validation)
    tracemalloc.start()
    try:
        error = await refused_without_reads(gw, store, cycle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert peak < 1_000_000, peak  # bytes; unlimited, this query took the server past 3 GB


async def test_the_validation_cache_still_hits(gw: Gateway, board: Store) -> None:
    cache = BoundedValidation.cache
    query = "{ viewer { trips(first: 3) { nodes { id } } } }  # cache probe"
    await gw.ok(query, viewer=U)
    before = cache.cache_info()
    await gw.ok(query, viewer=U)
    after = cache.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


async def test_a_limiter_built_per_request_misses_the_cache(board: Store) -> None:
    """The pitfall the rules avoid (strawberry#4635): the same check, but no cache hit."""
    per_request = strawberry.Schema(
        query=Query, extensions=[ValidationCache, lambda: QueryDepthLimiter(max_depth=10)]
    )
    cache = _get_validate_cache(DEFAULT_MAXSIZE)
    gw = Gateway(per_request, board)
    query = "{ viewer { id } }  # per-request probe"
    await gw.ok(query, viewer=U)
    before = cache.cache_info()
    await gw.ok(query, viewer=U)
    assert cache.cache_info().hits == before.hits


# --- what a document costs the rate limiter ---------------------------------------------


class Gate:
    """A rate gate that admits everything and records what it was asked and charged."""

    def __init__(self, refuse: bool = False) -> None:
        self.admitted: list[int] = []
        self.charged: list[int] = []
        self.refuse = refuse

    def admit(self, context: Any, cost: int) -> Any:
        self.admitted.append(cost)
        return GraphQLError("no", extensions={"code": "RATE_LIMITED"}) if self.refuse else None

    def charge(self, context: Any, cost: int) -> None:
        self.charged.append(cost)

    def limits(self, context: Any) -> bool:
        return True


@pytest.mark.parametrize(
    ("document", "variables", "tokens"),
    [
        ("{ viewer { trips(first: 1) { nodes { id } } }", None, 16),  # does not parse
        ("{ viewer { trips(first: 1) { nodes { nope } } } }", None, 17),  # does not validate
        ("{ viewer { trips(first: 600) { nodes { id } } } }", None, 17),  # over max_nodes
        ("query($n: Int!) { viewer { trips(first: $n) { nodes { id } } } }", {"n": "x"}, 26),
        ("{ viewer { " + "id " * 200 + "} }", None, 100),  # over max_tokens: the limit
    ],
)
async def test_a_refused_document_is_charged_its_tokens(
    board: Store, document: str, variables: dict | None, tokens: int
) -> None:
    gate = Gate()
    gw = Gateway(build_schema(limits=Limits(max_nodes=500, max_tokens=100), rate=gate), board)
    result = await gw.run(document, variables, viewer=U)
    assert result.data is None and result.errors
    assert gate.admitted == []
    assert gate.charged == [5 * tokens]  # the token cost is 500 // 100


async def test_an_admitted_document_costs_its_tokens_once_then_its_nodes(board: Store) -> None:
    gate = Gate()
    gw = Gateway(build_schema(limits=Limits(max_nodes=50_000, max_tokens=2_000), rate=gate), board)
    query = "{ viewer { id } }  # first seen by this test"  # 6 tokens, a comment, 1 node
    await gw.ok(query, viewer=U)
    await gw.ok(query, viewer=U)  # validated from the cache: its node count only
    assert gate.admitted == [25 * 7, 1] and gate.charged == []
    await gw.ok(BOARD, viewer=U)  # the node count is more than its tokens
    assert gate.admitted[-1] == 20_202


async def test_a_rate_limited_operation_is_not_charged_again(board: Store) -> None:
    gate = Gate(refuse=True)
    gw = Gateway(build_schema(rate=gate), board)
    result = await gw.run("{ viewer { id } }", viewer=U)
    assert result.errors[0].extensions["code"] == "RATE_LIMITED"
    assert len(gate.admitted) == 1 and gate.charged == []


async def test_a_kept_count_with_bad_variables_costs_what_a_refused_document_does(
    board: Store,
) -> None:
    """A kept count is admitted without checking the variables (execution checks them); when
    execution refuses them, the rest of a refused document's cost is charged after it."""
    gate = Gate()
    gw = Gateway(build_schema(limits=Limits(max_nodes=500, max_tokens=100), rate=gate), board)
    query = "query($id: ID!) { trip(id: $id) { items(first: 3) { nodes { id } } } }"  # 31 tokens
    await gw.ok(query, {"id": "t0"}, viewer=U)  # validated now: charged its tokens
    assert gate.admitted == [5 * 31] and gate.charged == []
    result = await gw.run(query, {"id": None}, viewer=U)  # kept: admitted at its nodes...
    assert result.data is None and result.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert gate.admitted == [5 * 31, 5] and gate.charged == [5 * 31 - 5]  # ...then the rest
    await gw.ok(query, {"id": "t0"}, viewer=U)  # good variables: its nodes, nothing after
    assert gate.admitted == [5 * 31, 5, 5] and gate.charged == [5 * 31 - 5]


async def test_a_kept_count_is_refused_for_the_rate_before_its_variables(board: Store) -> None:
    """(CHANGELOG) A client out of allowance sending bad variables for a kept count gets the
    429's error, not the variables' (those are execution's to check, after admission)."""
    gate = Gate()
    gw = Gateway(build_schema(rate=gate), board)
    query = "query($id: ID!) { trip(id: $id) { id } }"
    await gw.ok(query, {"id": "t0"}, viewer=U)  # counted and kept
    gate.refuse = True
    result = await gw.run(query, {"id": None}, viewer=U)
    assert [error.extensions["code"] for error in result.errors] == ["RATE_LIMITED"]


async def test_a_charged_subscription_with_bad_variables_costs_what_a_refused_document_does(
    board: Store,
) -> None:
    """A stream's refusal is not its result (the budget cannot see it after execution), so a
    charged subscription's variables are checked before it is admitted, even at a kept count."""
    gate = Gate()
    schema = build_schema(limits=Limits(max_nodes=500, max_tokens=100), rate=gate)
    query = "subscription($id: ID!) { itineraryChanged(tripId: $id) { id } }"
    assert node_count(schema._schema, parse(query), None, {"id": "t0"}) == 1  # now kept
    stream = await schema.subscribe(
        query, variable_values={"id": None}, context_value=Context(store=board, viewer_id=U)
    )
    assert not isinstance(stream, ExecutionResult)
    async with aclosing(stream):
        result = await anext(stream)
    assert [error.extensions["code"] for error in result.errors] == ["BAD_USER_INPUT"]
    [charged] = gate.charged
    assert gate.admitted == [] and charged % 5 == 0 and charged > 5  # its tokens, not admitted


async def test_a_client_the_rate_limit_leaves_alone_is_not_asked_about(board: Store) -> None:
    gate = Gate()
    gate.limits = lambda context: False  # type: ignore[method-assign]
    gw = Gateway(build_schema(rate=gate), board)
    query = "query($id: ID!) { trip(id: $id) { id } }"
    for variables in ({"id": "t0"}, {"id": "t0"}, {"id": None}):
        await gw.run(query, variables, viewer=U)
    assert gate.admitted == []


async def test_an_unknown_operation_name_is_charged_too(board: Store) -> None:
    gate = Gate()
    schema = build_schema(limits=Limits(max_nodes=500, max_tokens=100), rate=gate)
    context = Context(store=board, viewer_id=U)
    with pytest.raises(CannotGetOperationTypeError):
        await schema.execute("query A { viewer { id } }", context_value=context, operation_name="B")
    assert gate.admitted == [] and gate.charged == [5 * 8]


async def test_records_read_past_the_admitted_cost_are_charged_after(board: Store) -> None:
    """A query pays for what it reads: `totalCount` of a 2,000-item list is charged its
    records, though it returns one number."""
    await board_data(board, trips=50, items=40)
    gate = Gate()
    gw = Gateway(build_schema(limits=Limits(max_nodes=50_000, max_tokens=2_000), rate=gate), board)
    query = "{ viewer { trips(first: 50) { nodes { items(first: 0) { totalCount } } } } }"
    await gw.ok(query, viewer=U)
    await gw.ok(query, viewer=U)  # from the validation cache: admitted at its nodes
    admitted = gate.admitted[-1]
    assert admitted == 1 + 1 + 50 * 2  # viewer, the connection, 50 trips with their items
    assert gate.charged[-1] == 50 + 2_000 - admitted  # the trips and every item counted
