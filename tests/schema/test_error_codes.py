"""Honest error codes: bad variables, bad literals and bad documents are the client's fault.

Each case runs on both executors over the real schema and a store holding one trip with one
item; every error must be `BAD_USER_INPUT` or `GRAPHQL_VALIDATION_FAILED` (never
`INTERNAL_SERVER_ERROR`), and nothing may be written.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from gql.kv import Store
from gql.schema.build import build_schema
from resolvers.context import Context
from tests.support import U, board_data

CLIENT_CODES = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
BIG = 2**31
INF = float("inf")  # what JSON's 1e400 decodes to
NAN = math.nan

TRIP_INPUT = "mutation M($i: CreateTripInput!) { createTrip(input: $i) { trip { id } } }"
UPDATE_TRIP = "mutation M($i: UpdateTripInput!) { updateTrip(input: $i) { trip { id } } }"
ADD_ITEM = "mutation M($i: AddItineraryItemInput!) { addItineraryItem(input: $i) { item { id } } }"
UPDATE_ITEM = (
    "mutation M($i: UpdateItineraryItemInput!) { updateItineraryItem(input: $i) { item { id } } }"
)
MOVE_ITEM = (
    "mutation M($i: MoveItineraryItemInput!) { moveItineraryItem(input: $i) { item { id } } }"
)
POST = "mutation M($i: PostMessageInput!) { postMessage(input: $i) { message { id } } }"
START = "mutation M($i: StartConversationInput!) { startConversation(input: $i) { conversation { id } } }"
SAVE = "mutation M($i: SavePlaceInput!) { savePlace(input: $i) { place { id } } }"
DISMISS = (
    "mutation M($i: DismissSuggestionInput!) { dismissSuggestion(input: $i) { suggestion { id } } }"
)
LOCATIONS = "query Q($f: Int) { locations(first: $f) { totalCount } }"
KIND = "query Q($k: LocationKind) { locations(kind: $k) { totalCount } }"
TRIP = "query Q($id: ID!) { trip(id: $id) { id } }"
TRIPS = "query Q($f: Int, $a: String) { viewer { trips(first: $f, after: $a) { totalCount } } }"
STATUS = "query Q($s: SuggestionStatus) { viewer { suggestions(status: $s) { totalCount } } }"
ITEMS = 'query Q($l: Int) { trip(id: "t0") { items(last: $l) { totalCount } } }'
ITEM = {"tripId": "t0", "title": "x"}

CASES: list[tuple[str, str, dict[str, Any] | None]] = [
    # createTrip: required fields, wrong types, bad dates
    ("trip: missing title", TRIP_INPUT, {"i": {}}),
    ("trip: null title", TRIP_INPUT, {"i": {"title": None}}),
    ("trip: numeric title", TRIP_INPUT, {"i": {"title": 5}}),
    ("trip: list title", TRIP_INPUT, {"i": {"title": ["a"]}}),
    ("trip: object title", TRIP_INPUT, {"i": {"title": {"a": 1}}}),
    ("trip: infinite title", TRIP_INPUT, {"i": {"title": INF}}),
    ("trip: unknown field", TRIP_INPUT, {"i": {"title": "x", "bogus": 1}}),
    ("trip: date word", TRIP_INPUT, {"i": {"title": "x", "startDate": "nope"}}),
    ("trip: date Feb 30", TRIP_INPUT, {"i": {"title": "x", "startDate": "2024-02-30"}}),
    ("trip: month 13", TRIP_INPUT, {"i": {"title": "x", "endDate": "2024-13-01"}}),
    ("trip: date number", TRIP_INPUT, {"i": {"title": "x", "startDate": 20240101}}),
    ("trip: empty date", TRIP_INPUT, {"i": {"title": "x", "startDate": ""}}),
    ("trip: date bool", TRIP_INPUT, {"i": {"title": "x", "endDate": True}}),
    ("trip: date NaN", TRIP_INPUT, {"i": {"title": "x", "endDate": NAN}}),
    ("trip: date object", TRIP_INPUT, {"i": {"title": "x", "endDate": {"y": 2024}}}),
    ("trip: float id", TRIP_INPUT, {"i": {"title": "x", "id": 1.5}}),
    ("trip: bool id", TRIP_INPUT, {"i": {"title": "x", "id": True}}),
    ("trip: null input", TRIP_INPUT, {"i": None}),
    ("trip: missing input", TRIP_INPUT, {}),
    ("trip: string input", TRIP_INPUT, {"i": "title"}),
    ("trip: list input", TRIP_INPUT, {"i": [{"title": "x"}]}),
    ("updateTrip: missing id", UPDATE_TRIP, {"i": {"title": "y"}}),
    ("updateTrip: bad date", UPDATE_TRIP, {"i": {"id": "t0", "startDate": "01/02/2024"}}),
    # addItineraryItem: date-times, enums, numbers
    ("item: time word", ADD_ITEM, {"i": {**ITEM, "startTime": "nope"}}),
    ("item: hour 25", ADD_ITEM, {"i": {**ITEM, "startTime": "2024-01-01T25:00:00"}}),
    ("item: offset 25h", ADD_ITEM, {"i": {**ITEM, "endTime": "2024-01-01T10:00:00+25:00"}}),
    ("item: time number", ADD_ITEM, {"i": {**ITEM, "startTime": 1700000000}}),
    ("item: time list", ADD_ITEM, {"i": {**ITEM, "startTime": ["2024-01-01"]}}),
    ("item: unknown kind", ADD_ITEM, {"i": {**ITEM, "kind": "SPACESHIP"}}),
    ("item: lowercase kind", ADD_ITEM, {"i": {**ITEM, "kind": "activity"}}),
    ("item: numeric kind", ADD_ITEM, {"i": {**ITEM, "kind": 1}}),
    ("item: unknown place kind", ADD_ITEM, {"i": {**ITEM, "locationType": "PLANET"}}),
    ("item: cost word", ADD_ITEM, {"i": {**ITEM, "cost": "cheap"}}),
    ("item: cost NaN", ADD_ITEM, {"i": {**ITEM, "cost": NAN}}),
    ("item: cost 1e400", ADD_ITEM, {"i": {**ITEM, "cost": INF}}),
    ("item: cost -1e400", ADD_ITEM, {"i": {**ITEM, "cost": -INF}}),
    ("item: position 2^31", ADD_ITEM, {"i": {**ITEM, "position": BIG}}),
    ("item: position -2^31-1", ADD_ITEM, {"i": {**ITEM, "position": -BIG - 1}}),
    ("item: position 2^70", ADD_ITEM, {"i": {**ITEM, "position": 2**70}}),
    ("item: position 1.5", ADD_ITEM, {"i": {**ITEM, "position": 1.5}}),
    ("item: position text", ADD_ITEM, {"i": {**ITEM, "position": "1"}}),
    ("item: position NaN", ADD_ITEM, {"i": {**ITEM, "position": NAN}}),
    ("item: position 1e400", ADD_ITEM, {"i": {**ITEM, "position": INF}}),
    ("item: missing trip", ADD_ITEM, {"i": {"title": "x"}}),
    ("item: null trip", ADD_ITEM, {"i": {"tripId": None, "title": "x"}}),
    ("item: list trip", ADD_ITEM, {"i": {"tripId": ["t0"], "title": "x"}}),
    ("updateItem: bad time", UPDATE_ITEM, {"i": {"id": "t0-i0", "endTime": "yesterday"}}),
    ("updateItem: bad kind", UPDATE_ITEM, {"i": {"id": "t0-i0", "kind": "NAP"}}),
    ("move: missing position", MOVE_ITEM, {"i": {"id": "t0-i0"}}),
    ("move: null position", MOVE_ITEM, {"i": {"id": "t0-i0", "position": None}}),
    ("move: position 2^40", MOVE_ITEM, {"i": {"id": "t0-i0", "position": 2**40}}),
    ("post: numeric content", POST, {"i": {"conversationId": "c", "content": 5}}),
    ("post: missing conversation", POST, {"i": {"content": "hi"}}),
    ("start: object message", START, {"i": {"message": {"a": 1}}}),
    ("save: bad kind", SAVE, {"i": {"placeId": "p0", "kind": "CASTLE"}}),
    ("dismiss: null id", DISMISS, {"i": {"id": None}}),
    # query variables
    ("first 2^31", LOCATIONS, {"f": BIG}),
    ("first text", LOCATIONS, {"f": "10"}),
    ("first 1.5", LOCATIONS, {"f": 1.5}),
    ("first bool", LOCATIONS, {"f": True}),
    ("first NaN", LOCATIONS, {"f": NAN}),
    ("first 1e400", LOCATIONS, {"f": INF}),
    ("first -1", LOCATIONS, {"f": -1}),
    ("first 1000", LOCATIONS, {"f": 1000}),
    ("kind unknown", KIND, {"k": "NOPE"}),
    ("kind number", KIND, {"k": 0}),
    ("trip id null", TRIP, {"id": None}),
    ("trip id missing", TRIP, {}),
    ("trip id object", TRIP, {"id": {}}),
    ("trip id list", TRIP, {"id": []}),
    ("trip id float", TRIP, {"id": 1.5}),
    ("trips bad cursor", TRIPS, {"f": 1, "a": "not-a-cursor"}),
    ("trips first -5", TRIPS, {"f": -5}),
    ("suggestion status", STATUS, {"s": "BOGUS"}),
    ("items last 2^31", ITEMS, {"l": BIG}),
    ("node malformed", 'query { node(nodeId: "!!!") { nodeId } }', None),
    # variables declared wrongly, literals that do not fit
    ("undeclared type", "query Q($x: Nope) { viewer { id } }", {"x": 1}),
    ("variable type mismatch", "query Q($f: String) { locations(first: $f) { totalCount } }", None),
    ("literal 2^31", "{ locations(first: 2147483648) { totalCount } }", None),
    ("literal text first", '{ locations(first: "x") { totalCount } }', None),
    ("literal float first", "{ locations(first: 1.5) { totalCount } }", None),
    ("literal enum", "{ locations(kind: NOPE) { totalCount } }", None),
    ("literal null id", "{ trip(id: null) { id } }", None),
    ("literal empty input", "mutation { createTrip(input: {}) { trip { id } } }", None),
    (
        "literal bad date",
        'mutation { createTrip(input: {title: "x", startDate: "nope"}) { trip { id } } }',
        None,
    ),
    (
        "literal bad time",
        'mutation { addItineraryItem(input: {tripId: "t0", title: "x", startTime: "x"}) '
        "{ item { id } } }",
        None,
    ),
    (
        "literal cost 1e400",
        'mutation { addItineraryItem(input: {tripId: "t0", title: "x", cost: 1e400}) '
        "{ item { id } } }",
        None,
    ),
    (
        "literal cost 400 digits",
        'mutation { addItineraryItem(input: {tripId: "t0", title: "x", cost: 1%s}) '
        "{ item { id } } }" % ("0" * 400),
        None,
    ),
    ("literal first -1", "{ locations(first: -1) { totalCount } }", None),
    ("literal bad cursor", '{ locations(first: 1, after: "zzz") { totalCount } }', None),
    # documents that do not say which operation to run
    (
        "two operations, no name",
        'mutation M { createTrip(input: {title: "x"}) { trip { id } } } query Q { viewer { id } }',
        None,
    ),
    ("two queries, no name", "query A { viewer { id } } query B { viewer { id } }", None),
]


@pytest.fixture(scope="module", params=[True, False], ids=["level", "graphql-core"])
def any_schema(request: pytest.FixtureRequest) -> object:
    return build_schema(fast=request.param)


async def _snapshot(store: Store) -> list[tuple[str, Any]]:
    return [row async for row in store.iter_prefix("")]


@pytest.mark.parametrize(("name", "query", "variables"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_the_clients_fault(
    any_schema: Any, store: Store, name: str, query: str, variables: dict[str, Any] | None
) -> None:
    await board_data(store, trips=1, items=1)
    before = await _snapshot(store)
    context = Context(store=store, viewer_id=U)
    result = await any_schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors, f"{name}: no error, data={result.data}"
    codes = {(error.extensions or {}).get("code") for error in result.errors}
    assert codes <= CLIENT_CODES, f"{name}: {[(e.message, e.extensions) for e in result.errors]}"
    assert await _snapshot(store) == before, f"{name} wrote to the store"


def test_there_are_about_seventy_cases() -> None:
    assert len(CASES) >= 70


async def test_operation_name_picks_one_of_several(any_schema: Any, store: Store) -> None:
    document = "query A { viewer { id } } query B { locations { totalCount } }"
    context = Context(store=store, viewer_id=U)
    result = await any_schema.execute(document, context_value=context, operation_name="B")
    assert result.errors is None and result.data == {"locations": {"totalCount": 0}}


async def test_several_operations_run_nothing(any_schema: Any, store: Store) -> None:
    document = (
        'mutation M { createTrip(input: {title: "x"}) { trip { id } } } query Q { viewer { id } }'
    )
    result = await any_schema.execute(document, context_value=Context(store=store, viewer_id=U))
    assert result.data is None
    assert result.errors[0].message.startswith("Must provide operation name")
    assert await _snapshot(store) == []
