"""A document is parsed once per text: later requests reuse it (and hit the validation cache)."""

from __future__ import annotations

from gql.kv import Store
from gql.schema.build import build_schema
from gql.schema.extensions import _parsed
from resolvers.context import Context
from tests.support import U, board_data

SCHEMA = build_schema()


async def test_same_text_is_parsed_once(store: Store) -> None:
    await board_data(store, trips=1, items=1)
    query = "query Once { viewer { id trips { totalCount } } }"
    first = await SCHEMA.execute(query, context_value=Context(store=store, viewer_id=U))
    hits = _parsed.cache_info().hits
    again = await SCHEMA.execute(query, context_value=Context(store=store, viewer_id=U))
    assert _parsed.cache_info().hits == hits + 1
    assert again.data == first.data
    assert again.errors is None


async def test_a_syntax_error_is_reported_each_time(store: Store) -> None:
    for _ in range(2):
        result = await SCHEMA.execute("{ viewer { id ", context_value=Context(store=store))
        assert result.errors
        assert result.errors[0].extensions["code"] == "GRAPHQL_PARSE_FAILED"
