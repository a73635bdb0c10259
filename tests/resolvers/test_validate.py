"""Input checks shared by the mutations (`resolvers/validate.py`)."""

from __future__ import annotations

import math

import pytest

from resolvers import validate as v
from resolvers.common import Problem

LIMITS = {"title": (10, True), "notes": (20, False)}


def test_text_fields_trim_in_place() -> None:
    data = {"title": "  Lisbon  ", "notes": " tapas "}
    assert v.text_fields(data, LIMITS) == []
    assert data == {"title": "Lisbon", "notes": "tapas"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "title is required"),
        ({"title": None}, "title is required"),
        ({"title": "   "}, "title must not be empty"),
        ({"title": "x" * 11}, "title must be at most 10 characters"),
        ({"title": "ok", "notes": "y" * 21}, "notes must be at most 20 characters"),
    ],
)
def test_text_fields_refuse(data: dict, message: str) -> None:
    problems = v.text_fields(data, LIMITS)
    assert [p.message for p in problems] == [message]


def test_partial_update_leaves_missing_fields_alone_but_refuses_null_required() -> None:
    assert v.text_fields({"notes": "n"}, LIMITS, partial=True) == []
    assert [p.field for p in v.text_fields({"title": None}, LIMITS, partial=True)] == ["title"]


@pytest.mark.parametrize(("given", "stored"), [(" eur ", "EUR"), ("usd", "USD")])
def test_currency_is_normalized(given: str, stored: str) -> None:
    data = {"currency": given}
    assert v.currency(data) == [] and data["currency"] == stored


@pytest.mark.parametrize("given", ["EURO", "E1R", "€"])
def test_currency_refuses_non_codes(given: str) -> None:
    assert [p.field for p in v.currency({"currency": given})] == ["currency"]


def test_ordered() -> None:
    assert v.ordered(1, 2, "start", "end") == []
    assert v.ordered(None, 2, "start", "end") == []
    assert v.ordered(2, 1, "start", "end") == [Problem("end", "end must not be before start")]


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_amount_refuses(value: float) -> None:
    assert [p.field for p in v.amount({"cost": value}, "cost")] == ["cost"]


def test_amount_and_position_accept() -> None:
    assert v.amount({"cost": 0.0}, "cost") == [] and v.amount({}, "cost") == []
    assert v.position(0) == [] and v.position(None) == []
    assert [p.field for p in v.position(-1)] == ["position"]
