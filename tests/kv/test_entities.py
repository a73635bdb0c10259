"""Entity specs: place references (`kind:id` or a bare id tried as every kind)."""

from __future__ import annotations

import pytest

from gql.kv import entities as e


@pytest.mark.parametrize(
    ("ref", "pairs"),
    [
        ("p1", [("event", "p1"), ("restaurant", "p1"), ("rental", "p1")]),
        ("rental:p2", [("rental", "p2")]),
        ("hotel:h1", []),  # not a kind of place kvgraph knows
        ("event:", []),
        ("", []),
        ("event:a:b", []),  # an id cannot contain ':'
    ],
)
def test_place_refs(ref: str, pairs: list[tuple[str, str]]) -> None:
    assert e.place_refs(ref) == pairs


def test_every_index_names_the_entity_it_lists() -> None:
    assert e.INDEX_TARGET["trips_index"] is e.TRIP
    assert e.INDEX_TARGET["items_index"] is e.ITEM
    assert e.INDEX_TARGET["saved"] is None  # places of any kind
