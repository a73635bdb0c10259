"""`Date` and `DateTime` say their wire forms in the schema, and the forms they name are the
ones served and accepted."""

from __future__ import annotations

import datetime as dt

from gql.schema.build import build_schema, sdl
from gql.schema.scalars import DATETIME_DESCRIPTION, LOCAL_DATE_SPEC

UTC, PLUS2 = dt.UTC, dt.timezone(dt.timedelta(hours=2))


def test_descriptions_and_specified_by_in_the_sdl() -> None:
    text = sdl()
    assert f'scalar Date @specifiedBy(url: "{LOCAL_DATE_SPEC}")' in text
    assert "local wall-clock time" in text and "scalar DateTime\n" in text
    assert "(isoformat)" not in text


def test_datetime_serializes_as_described() -> None:
    scalar = build_schema()._schema.get_type("DateTime")
    serialize = scalar.serialize  # type: ignore[union-attr]
    cases = {
        dt.datetime(2025, 3, 14, 20, tzinfo=PLUS2): "2025-03-14T20:00:00+02:00",
        dt.datetime(2025, 3, 14, 20, tzinfo=UTC): "2025-03-14T20:00:00+00:00",
        dt.datetime(2025, 3, 14, 20): "2025-03-14T20:00:00",
        dt.datetime(2025, 3, 14, 20, 0, 0, 123000, tzinfo=UTC): "2025-03-14T20:00:00.123000+00:00",
    }
    for value, wire in cases.items():
        assert serialize(value) == wire
    # the description's examples are these forms
    for example in ("2025-03-14T20:00:00+02:00", "2025-03-14T20:00:00", "20:00:00.123000+00:00"):
        assert f"`{example}`" in DATETIME_DESCRIPTION


def test_datetime_parses_as_described() -> None:
    scalar = build_schema()._schema.get_type("DateTime")
    parse = scalar.parse_value  # type: ignore[union-attr]
    assert parse("2025-03-14T20:00:00+02:00") == dt.datetime(2025, 3, 14, 20, tzinfo=PLUS2)
    assert parse("2025-03-14T20:00:00Z") == dt.datetime(2025, 3, 14, 20, tzinfo=UTC)
    assert parse("2025-03-14T20:00:00").tzinfo is None  # kept local
    assert parse("2025-03-14") == dt.datetime(2025, 3, 14)  # a bare date: local midnight
    date = build_schema()._schema.get_type("Date")
    assert date.serialize(dt.date(2025, 6, 5)) == "2025-06-05"  # type: ignore[union-attr]
