"""The one reader of index values: ids from what apps store, everything else kept in place."""

from __future__ import annotations

from typing import Any

import pytest

from gql.kv import indexes as ix


@pytest.mark.parametrize(
    ("value", "ids"),
    [
        (None, []),
        (["a", "b", "a"], ["a", "b", "a"]),
        (["t1", 1732723200000], ["t1", "1732723200000"]),
        ([1.5, -2], ["1.5", "-2"]),
        ([{"placeId": "r1", "savedAt": 1}], ["r1"]),
        ([{"id": "t1", "tripId": "x"}], ["t1"]),  # `id` wins over `...Id` fields
        ([{"id": 7}], ["7"]),
        ('["item_mad_1", "item_mad_2"]', ["item_mad_1", "item_mad_2"]),
        ("[]", []),
        ([""], [""]),  # a string is an id; whether it can name a record is keys.is_id's call
    ],
)
def test_ids_are_read_from_what_apps_store(value: Any, ids: list[str]) -> None:
    found = ix.read(value)
    assert found.ids == ids
    assert found.problem() is None and found.clean


@pytest.mark.parametrize(
    "element",
    [None, True, False, [1], {}, {"x": 1}, {"aId": "1", "bId": "2"}, {"id": None}, {"id": {}}],
)
def test_elements_that_name_no_id_are_not_understood(element: Any) -> None:
    found = ix.read(["a", element])
    assert found.ids == ["a"]
    assert found.unknown == [(1, element)]
    assert not found.clean
    assert found.problem() is not None and found.problem().startswith("element(s) 1 (")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"a": 1}, "an object, not an array of ids"),
        (42, "a number, not an array of ids"),
        (True, "a boolean, not an array of ids"),
        ("t1,t2", "a string that is not a JSON array of ids"),
        ('"[1]"', "a JSON string holding a string, not an array of ids"),
        ('{"a": 1}', "a JSON string holding an object, not an array of ids"),
    ],
)
def test_values_that_are_not_lists_are_unreadable(value: Any, why: str) -> None:
    found = ix.read(value)
    assert (found.unreadable, found.ids, found.problem()) == (why, [], why)


def test_raw_text_that_is_not_json_is_unreadable() -> None:
    assert (ix.read_raw(b"[1,").unreadable or "").startswith("not valid JSON")
    assert ix.read_raw(None).ids == []
    assert ix.read_raw(b'["a",3]').ids == ["a", "3"]


def test_problem_names_at_most_three_positions() -> None:
    found = ix.read([None, "a", None, None, None, None])
    assert found.problem() == (
        "element(s) 0 (null), 2 (null), 3 (null) and 2 more are not ids; kept as they are"
    )


ODD: list[Any] = [None, "a", {"placeId": "b", "at": 1}, 3, [9]]


@pytest.mark.parametrize(
    ("position", "stored"),
    [
        (None, [None, "a", {"placeId": "b", "at": 1}, 3, [9], "n"]),
        (0, [None, "n", "a", {"placeId": "b", "at": 1}, 3, [9]]),
        (2, [None, "a", {"placeId": "b", "at": 1}, "n", 3, [9]]),
        (3, [None, "a", {"placeId": "b", "at": 1}, 3, [9], "n"]),
        (99, [None, "a", {"placeId": "b", "at": 1}, 3, [9], "n"]),
        (-5, [None, "n", "a", {"placeId": "b", "at": 1}, 3, [9]]),
    ],
)
def test_a_new_id_goes_among_the_ids_as_a_plain_string(position: int | None, stored: Any) -> None:
    assert ix.read(ODD).with_id("n", position).stored() == stored


def test_moving_an_id_keeps_its_stored_form_and_drops_its_duplicates() -> None:
    value = ix.read([*ODD, "b"])
    assert value.with_id("b", 0).stored() == [None, {"placeId": "b", "at": 1}, "a", 3, [9]]
    assert value.with_id("3", 0).stored() == [None, 3, "a", {"placeId": "b", "at": 1}, [9], "b"]


def test_removing_an_id_removes_every_element_naming_it() -> None:
    value = ix.read([*ODD, "b"])
    assert value.without("b").stored() == [None, "a", 3, [9]]
    assert value.without("nothing").stored() == [*ODD, "b"]


def test_a_double_encoded_value_is_written_back_encoded() -> None:
    value = ix.read('["a", 2]')
    assert value.encoded
    assert value.with_id("c", 1).stored() == '["a","c",2]'
    assert value.without("a").stored() == "[2]"
