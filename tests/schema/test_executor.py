"""The level executor answers exactly as graphql-core does, and hands back what it can't do."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import Store
from gql.schema import executor
from gql.schema.build import build_schema
from gql.schema.executor import BY_CLASS, LevelExecutionContext
from resolvers.context import Context
from resolvers.ids import node_id
from tests.support import BOARD, U, board_data

FAST = build_schema()
CORE = build_schema(fast=False)

TRIP_NODE = node_id("Trip", "t0")
QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    (BOARD, None),
    ("{ viewer { id nodeId email displayName preferences { currency data } } }", None),
    (
        """query($n: Int, $skip: Boolean!) {
          me: viewer { t: trips(first: $n) { totalCount pageInfo { hasNextPage endCursor }
            edges { cursor node { __typename nodeId ...TripBits items(last: 2) {
              nodes { title @skip(if: $skip) cost { amount currency } trip { id }
                location { __typename ... on Node { nodeId } ... on Event { startsAt } } } } } } } }
        }
        fragment TripBits on Trip { id title startDate owner { id } }""",
        {"n": 2, "skip": False},
    ),
    (
        "query($n: ID!) { node(nodeId: $n) { __typename ... on Trip { title items { totalCount } } } }",
        {"n": TRIP_NODE},
    ),
    ("{ locations(kind: RESTAURANT, first: 1) { nodes { name } pageInfo { hasNextPage } } }", None),
    (
        '{ locations(city: "Porto", search: "place") { totalCount nodes { __typename name } } }',
        None,
    ),
    ('{ location(id: "p2") { ... on Rental { name bedrooms } } }', None),
    ('{ trip(id: "missing") { id } a: trip(id: "t1") { title } }', None),
    (
        "{ viewer { suggestions(status: ACTIVE) { totalCount } savedPlaces { nodes { name } } } }",
        None,
    ),
    (
        "{ viewer { conversations { nodes { id messages { nodes { role } } context { data } } } } }",
        None,
    ),
]


def _errors(result: Any) -> list[tuple[str, Any]]:
    return [(e.message, e.extensions) for e in result.errors or []]


async def both(store: Store, query: str, variables: dict[str, Any] | None) -> tuple[Any, Any, str]:
    """Run on both executors; return (fast result, core result, which executor answered)."""
    ctx = Context(store=store, viewer_id=U)
    fast = await FAST.execute(query, variable_values=variables, context_value=ctx)
    core = await CORE.execute(
        query, variable_values=variables, context_value=Context(store=store, viewer_id=U)
    )
    return fast, core, ctx.executor


@pytest.mark.parametrize(("query", "variables"), QUERIES)
async def test_same_answers_as_graphql_core(
    store: Store, query: str, variables: dict[str, Any] | None
) -> None:
    await board_data(store, trips=3, items=4)
    await store.set("trips:index:" + U, ["t0", "ghost", "t1", "t2"])
    await store.set("item:t1-i3", {"id": "t1-i3", "tripId": "t1", "startTime": "bad"})
    await store.set(f"saved:{U}", ["p1", "rental:p2"])
    fast, core, executor = await both(store, query, variables)
    assert executor == "level"
    assert fast.data == core.data
    assert _errors(fast) == _errors(core)


async def test_level_executor_batches_by_depth(store: Store) -> None:
    await board_data(store, trips=6, items=5)
    ctx = Context(store=store, viewer_id=U)
    result = await FAST.execute(BOARD, context_value=ctx)
    assert result.errors is None
    assert ctx.executor == "level"
    assert ctx.loaders.batches <= 5


@pytest.mark.parametrize(
    "query",
    [
        '{ viewer { trips(after: "nonsense") { totalCount } } }',
        "query($n: ID!) { node(nodeId: $n) { nodeId } }",
    ],
)
async def test_field_errors_are_answered_once(store: Store, query: str) -> None:
    """A field error is the level executor's own: no second execution by graphql-core."""
    await board_data(store, trips=1, items=1)
    fast, core, executor = await both(store, query, {"n": "%%%"} if "$n" in query else None)
    assert executor == "level"
    assert fast.data == core.data
    assert _errors(fast) == _errors(core)
    assert _errors(fast)[0][1]["code"] == "BAD_USER_INPUT"


async def test_mutations_use_graphql_core(store: Store) -> None:
    ctx = Context(store=store, viewer_id=U)
    result = await FAST.execute(
        'mutation { createTrip(input: {title: "x"}) { trip { title } } }', context_value=ctx
    )
    assert result.data == {"createTrip": {"trip": {"title": "x"}}}
    assert ctx.executor == "graphql-core"


@pytest.mark.parametrize(
    "query",
    [
        # a bad argument at level 3 for every trip: the null travels up to a nullable parent
        "{ viewer { id trips { nodes { id items(first: 1000) { totalCount } } } } }",
        # an invalid record and a failing sibling at the same level
        '{ viewer { trips { nodes { id items { nodes { id startTime } } a: items(after: "x") '
        "{ totalCount } } } } }",
    ],
)
async def test_errors_at_depth_cost_one_execution(store: Store, query: str) -> None:
    await board_data(store, trips=3, items=2)
    await store.set("item:t1-i1", {"id": "t1-i1", "tripId": "t1", "startTime": "bad"})
    fast, core, executor = await both(store, query, None)
    assert executor == "level"
    assert fast.data == core.data
    assert _errors(fast) == _errors(core)
    assert _errors(fast)
    ctx = Context(store=store, viewer_id=U)
    await FAST.execute(query, context_value=ctx)
    assert ctx.loaders.batches <= 4  # one execution: a batch per level, none read twice


def test_the_abstract_types_keep_their_by_class_mark() -> None:
    """The level executor asks `resolve_type` once per class only where it is marked so:
    the mark must survive Strawberry's building of the schema."""
    schema = FAST._schema
    for name in ("Node", "Location"):
        resolve = schema.get_type(name).resolve_type  # type: ignore[union-attr]
        assert getattr(resolve, BY_CLASS, False), name


def _paths(result: Any) -> list[tuple[str, Any]]:
    return sorted((e.message, e.path) for e in result.errors or [])


async def test_an_object_shared_by_many_parents_is_completed_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 trips x 12 items at 6 places: the places' level completes 6 objects, not 48."""
    await board_data(store, trips=4, items=12)
    levels: list[tuple[str, int]] = []
    objects = LevelExecutionContext._objects

    async def spy(self: Any, type_: Any, sources: list[Any], *args: Any) -> list[Any]:
        levels.append((type_.name, len(sources)))
        return await objects(self, type_, sources, *args)

    monkeypatch.setattr(LevelExecutionContext, "_objects", spy)
    fast, core, executor = await both(store, BOARD, None)
    assert executor == "level"
    assert fast.data == core.data
    places = [n for name, n in levels if name in {"Event", "Restaurant", "Rental"}]
    assert sum(places) == 6
    nodes = [i for t in fast.data["viewer"]["trips"]["nodes"] for i in t["items"]["nodes"]]
    assert len(nodes) == 48 and all(i["location"]["name"] for i in nodes)


async def test_an_error_in_a_shared_object_is_reported_at_every_path(store: Store) -> None:
    """The items of a trip share their trip object: its field error is every item's own."""
    await board_data(store, trips=2, items=3)
    query = (
        "{ viewer { trips { nodes { items { nodes { id trip { id "
        'items(after: "nonsense") { totalCount } } } } } } } }'
    )
    fast, core, executor = await both(store, query, None)
    assert executor == "level"
    assert fast.data == core.data
    assert _paths(fast) == _paths(core)
    assert len(fast.errors) == 6


async def test_leaf_fields_of_a_record_are_completed_once_and_follow_its_text(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record read again with the same stored text brings its completed leading leaf
    fields along; a new text is a new record, completed afresh; aliases keep their keys."""
    await board_data(store, trips=1, items=3)
    query = '{ trip(id: "t0") { items { nodes { t: title id startTime trip { id } } } } }'
    columns: list[str] = []
    column = LevelExecutionContext._column

    async def spy(
        self: Any, type_: Any, sources: list[Any], details: Any, key: str, *a: Any
    ) -> Any:
        if type_.name == "ItineraryItem":
            columns.append(key)
        return await column(self, type_, sources, details, key, *a)

    monkeypatch.setattr(LevelExecutionContext, "_column", spy)
    first, core, _ = await both(store, query, None)
    assert first.data == core.data
    assert columns[:4] == ["t", "id", "startTime", "trip"]
    columns.clear()
    again, _, _ = await both(store, query, None)
    assert again.data == first.data
    assert columns == ["trip"]  # the leaf fields came kept
    await store.set(
        "item:t0-i1",
        {"id": "t0-i1", "tripId": "t0", "title": "New", "startTime": "2026-02-01T09:00:00Z"},
    )
    columns.clear()
    changed, core, _ = await both(store, query, None)
    assert changed.data == core.data
    assert changed.data["trip"]["items"]["nodes"][1]["t"] == "New"
    assert columns[:3] == ["t", "id", "startTime"]  # for the one new record only


async def test_kept_rows_stay_within_their_bound(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor, "ROWS_CACHE", 5)
    monkeypatch.setattr(executor, "_ROWS", executor._KeptRows())
    await board_data(store, trips=2, items=6)
    for _ in range(2):
        fast, core, _ = await both(store, BOARD, None)
        assert fast.data == core.data
        assert 0 < executor._ROWS.size <= 5
        assert sum(map(len, executor._ROWS.by_selection.values())) == executor._ROWS.size
