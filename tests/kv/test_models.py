"""Record validation: tolerant of unknown fields, immutable, reused for identical text."""

from __future__ import annotations

import datetime as dt

import pydantic
import pytest
from pydantic.alias_generators import to_camel

from gql.kv import models as m


def test_identical_text_is_validated_once() -> None:
    text = '{"id": "t1", "userId": "u", "title": "T", "extra": 1}'
    first = m.validate_raw(m.Trip, "trip:t1", text)
    assert m.validate_raw(m.Trip, "trip:t1", text) is first
    changed = m.validate_raw(m.Trip, "trip:t1", text.replace('"T"', '"T2"'))
    assert isinstance(changed, m.Trip)
    assert changed.title == "T2"


def test_equal_text_read_again_is_not_validated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fetch gives a new string each time: equal text under the same key is a hit; other
    text, another identity or another key is validated; the oldest entries go first."""
    calls: list[str] = []
    parse = m._parse

    def counted(*args: object) -> object:
        calls.append(str(args[1]))
        return parse(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(m, "_parse", counted)
    monkeypatch.setattr(m, "_PARSED", {})
    text = '{"id": "t1", "userId": "u", "title": "T"}'
    first = m.validate_raw(m.Trip, "trip:t1", text)
    again = m.validate_raw(m.Trip, "trip:t1", (text + " ")[:-1])  # equal, another object
    assert again is first and len(calls) == 1
    m.validate_raw(m.Trip, "trip:t1", text, identity=(("id", "t1"),))  # another identity
    m.validate_raw(m.Trip, "trip:t2", text)  # another key
    m.validate_raw(m.Trip, "trip:t2", text)
    assert len(calls) == 3
    monkeypatch.setattr(m, "PARSED_CACHE", 2)
    m.validate_raw(m.Trip, "trip:t3", text.replace("t1", "t3"))  # full: trip:t1 goes
    m.validate_raw(m.Trip, "trip:t1", text)
    assert len(calls) == 5


def test_records_are_immutable() -> None:
    record = m.validate_raw(m.Trip, "trip:t1", '{"id": "t1", "userId": "u", "title": "T"}')
    with pytest.raises(pydantic.ValidationError):
        record.title = "changed"  # type: ignore[misc, union-attr]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"id": "t"}', "userId"),
    ],
)
def test_invalid_text_is_reported_with_its_key(text: str, reason: str) -> None:
    invalid = m.validate_raw(m.Trip, "trip:t", text)
    assert isinstance(invalid, m.InvalidRecord)
    assert invalid.key == "trip:t"
    assert reason in invalid.message


def read(model: type[m.Record], value: dict[str, object]) -> m.Record:
    """Validate a record that must read (not invalid)."""
    record = m.validate(model, "key", value)
    assert isinstance(record, model), record
    return record


# ---------------------------------------------------------------- enum-like fields
@pytest.mark.parametrize(
    ("model", "value", "field", "known"),
    [
        (m.Item, {"id": "i", "tripId": "t", "title": "x", "kind": "flight"}, "kind", m.ITEM_KINDS),
        (
            m.Item,
            {"id": "i", "tripId": "t", "title": "x", "locationType": "hotel"},
            "location_type",
            m.LOCATION_TYPES,
        ),
        (
            m.Message,
            {"id": "m", "conversationId": "c", "role": "model", "content": "hi"},
            "role",
            m.MESSAGE_ROLES,
        ),
        (
            m.Suggestion,
            {"id": "s", "userId": "u", "content": "c", "status": "pending"},
            "status",
            m.SUGGESTION_STATUSES,
        ),
        (
            m.Collaborator,
            {"tripId": "t", "userId": "u", "role": "owner"},
            "role",
            m.COLLABORATOR_ROLES,
        ),
    ],
)
def test_unknown_enum_values_keep_the_record_and_the_value(
    model: type[m.Record], value: dict[str, object], field: str, known: tuple[str, ...]
) -> None:
    record = read(model, value)
    raw = getattr(record, field)
    assert raw == value[to_camel(field)]
    assert raw not in known  # what the GraphQL layer shows as OTHER with the raw value
    assert record.to_json()[to_camel(field)] == raw
    assert record.dropped_fields == {}


def test_enum_fields_are_declared_once() -> None:
    assert m.enum_fields(m.Item) == {"kind": m.ITEM_KINDS, "locationType": m.LOCATION_TYPES}
    assert m.enum_fields(m.Message) == {"role": ("user", "assistant", "system", "tool")}
    assert m.enum_fields(m.Trip) == {}  # trip status is free text


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("given", "expected"),
    [(2, 2), (2.0, 2), ("3", 3), ("2.0", 2), (850.7, 851), (2.5, 3), ("2.4", 2)],
)
def test_whole_numbers_read_from_fractions_and_text(given: object, expected: int) -> None:
    rental = read(m.PLACES["rental"], {"id": "r", "name": "Loft", "bedrooms": given})
    assert rental.bedrooms == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("given", "expected"),
    [("$$", 2), ("€€€", 3), (" $ ", 1), ("PRICE_LEVEL_MODERATE", 2), (4, 4), ("1", 1), (1.0, 1)],
)
def test_price_level_counts_signs(given: object, expected: int) -> None:
    place = read(m.PLACES["restaurant"], {"id": "r", "name": "X", "priceLevel": given})
    assert place.price_level == expected  # type: ignore[attr-defined]


def test_duration_keeps_its_fraction_and_numbers_read_from_text() -> None:
    run = read(m.AIRun, {"id": "a", "userId": "u", "durationMs": 850.7, "inputTokens": "250"})
    assert (run.duration_ms, run.input_tokens) == (850.7, 250)  # type: ignore[attr-defined]
    item = read(m.Item, {"id": 42, "tripId": 7, "title": 2024, "cost": "189.90"})
    assert (item.id, item.trip_id, item.title, item.cost) == ("42", "7", "2024", 189.9)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-06-05", dt.date(2025, 6, 5)),
        ("2025-06-05T22:00:00.000Z", dt.date(2025, 6, 5)),  # the date as written, not shifted
        ("2025-06-06T00:30:00+02:00", dt.date(2025, 6, 6)),  # in its own offset
        ("2025-06-05 15:00", dt.date(2025, 6, 5)),
        (1732550400000, dt.date(2024, 11, 25)),  # epoch ms: the UTC date
    ],
)
def test_dates_read_from_date_times(given: object, expected: dt.date) -> None:
    trip = read(m.Trip, {"id": "t", "userId": "u", "title": "T", "endDate": given})
    assert trip.end_date == expected  # type: ignore[attr-defined]


# ---------------------------------------------------------------- other names
@pytest.mark.parametrize(
    ("model", "value", "field", "expected"),
    [
        (m.PLACES["event"], {"id": "e", "title": "Fado night"}, "name", "Fado night"),
        (m.Profile, {"id": "u", "name": "Ana"}, "display_name", "Ana"),
        # Supabase's profiles starter names it `full_name` (beside `avatar_url`).
        (m.Profile, {"id": "u", "full_name": "Ana Lima"}, "display_name", "Ana Lima"),
        (
            m.Message,
            {"id": "m", "conversationId": "c", "content": "x", "createdAt": "2025-05-20T18:00Z"},
            "timestamp",
            dt.datetime(2025, 5, 20, 18, tzinfo=dt.UTC),
        ),
        (m.Suggestion, {"id": "s", "userId": "u", "message": "Go early"}, "content", "Go early"),
        (
            m.BudgetAlert,
            {"threshold": 0.8, "createdAt": "2025-05-20T18:00:00Z"},
            "at",
            dt.datetime(2025, 5, 20, 18, tzinfo=dt.UTC),
        ),
        (
            m.ContextSnapshot,
            {"entities": {}, "timestamp": 1747764000000},
            "recorded_at",
            dt.datetime(2025, 5, 20, 18, tzinfo=dt.UTC),
        ),
    ],
)
def test_common_other_names_are_read(
    model: type[m.Record], value: dict[str, object], field: str, expected: object
) -> None:
    record = read(model, value)
    assert getattr(record, field) == expected
    assert record.to_json().keys() >= value.keys()  # the app's own names stay in the record


def test_snake_case_names_are_read() -> None:
    trip = read(m.Trip, {"id": "t", "user_id": "u", "title": "T", "start_date": "2025-06-01"})
    assert (trip.user_id, trip.start_date) == ("u", dt.date(2025, 6, 1))  # type: ignore[attr-defined]


def test_kvgraph_name_wins_over_a_synonym() -> None:
    profile = read(m.Profile, {"id": "u", "displayName": "Ana C.", "name": "Ana"})
    assert profile.display_name == "Ana C."  # type: ignore[attr-defined]


def test_embedded_coordinates_are_read() -> None:
    item = read(
        m.Item, {"id": "i", "tripId": "t", "title": "x", "location": {"lat": 38.7, "lng": -9.1}}
    )
    assert item.coordinates == (38.7, -9.1)  # type: ignore[attr-defined]
    assert item.to_json()["location"] == {"lat": 38.7, "lng": -9.1}
    place = read(
        m.PLACES["rental"], {"id": "r", "name": "Loft", "coordinates": {"latitude": 1, "lon": 2}}
    )
    assert place.coordinates == (1.0, 2.0)  # type: ignore[attr-defined]
    alfama = read(m.Item, {"id": "i", "tripId": "t", "title": "x", "location": "Alfama"})
    assert alfama.coordinates is None  # type: ignore[attr-defined]
    equator = read(m.Item, {"id": "i", "tripId": "t", "title": "x", "lat": 0, "lng": "0.5"})
    assert equator.coordinates == (0.0, 0.5)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- unreadable values
def test_an_unreadable_optional_field_is_left_empty_and_named() -> None:
    place = read(
        m.Place,
        {"id": "p", "name": "X", "rating": {"stars": 4}, "tags": [1, {"a": 1}], "city": "Porto"},
    )
    assert (place.rating, place.tags, place.city) == (None, None, "Porto")  # type: ignore[attr-defined]
    assert set(place.dropped_fields) == {"rating", "tags"}
    assert "valid number" in place.dropped_fields["rating"]


def test_an_unreadable_synonym_is_not_read_again() -> None:
    msg = read(m.Message, {"id": "m", "conversationId": "c", "content": "x", "createdAt": "soon"})
    assert msg.timestamp is None  # type: ignore[attr-defined]
    assert list(msg.dropped_fields) == ["timestamp"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"id": "t", "userId": "u", "title": {"en": "T"}}, "title"),
        ({"id": "t", "userId": ["u"], "title": "T"}, "userId"),
        ({"userId": "u", "title": "T"}, "id"),
    ],
)
def test_an_unreadable_required_field_makes_the_record_invalid(
    value: dict[str, object], reason: str
) -> None:
    invalid = m.validate(m.Trip, "trip:t", value)
    assert isinstance(invalid, m.InvalidRecord)
    assert invalid.message.startswith(reason)


def test_validated_once_per_text_and_mapping() -> None:
    from gql.kv.mapping import parse_mapping

    mapping = parse_mapping('[trip.fields]\nownerId = "userId"\n')
    text = '{"id": "t1", "ownerId": "u", "title": "T"}'
    assert isinstance(m.validate_raw(m.Trip, "trip:t1", text), m.InvalidRecord)
    mapped = m.validate_raw(m.Trip, "trip:t1", text, mapping)
    assert mapped.user_id == "u"  # type: ignore[union-attr]
    assert m.validate_raw(m.Trip, "trip:t1", text, mapping) is mapped


# ---------------------------------------------------------------- values kvgraph cannot read
DEEP = "[" * 5_000 + "]" * 5_000


@pytest.mark.parametrize("name", ["notes", "coverColor"])  # a declared field, an unknown one
def test_a_field_nested_too_deep_is_unreadable_and_the_record_reads(name: str) -> None:
    raw = f'{{"id":"i","tripId":"t","title":"Lunch","{name}":{DEEP},"cost":12.5}}'
    record = m.validate_raw(m.Item, "item:i", raw)
    assert isinstance(record, m.Item), record
    assert (record.title, record.cost, record.notes) == ("Lunch", 12.5, None)
    assert record.dropped_fields == {name: "nested too deep to read (1,000+ levels)"}
    assert name not in record.to_json()  # never shown (not even in `data`)


def test_a_required_field_that_cannot_be_read_makes_the_record_invalid() -> None:
    invalid = m.validate_raw(m.Trip, "trip:t", '{"id":"t","userId":"u","title":' + DEEP + "}")
    assert isinstance(invalid, m.InvalidRecord)
    assert invalid.message == "title: nested too deep to read (1,000+ levels)"
    # and a synonym does not stand in for it (`name` is a trip title's synonym)
    raw = '{"id":"t","userId":"u","title":"x\\ud800","name":"Porto"}'
    invalid = m.validate_raw(m.Trip, "trip:t", raw)
    assert isinstance(invalid, m.InvalidRecord)
    assert invalid.message == (
        "title: contains a lone surrogate (U+D800), which is not valid Unicode"
    )


def test_a_lone_surrogate_in_an_optional_field_leaves_it_empty() -> None:
    raw = '{"id":"i","tripId":"t","title":"Lunch","notes":"x\\udfff","tags":["\\ud800"]}'
    record = m.validate_raw(m.Item, "item:i", raw)
    assert isinstance(record, m.Item), record
    assert record.notes is None and record.model_extra == {}
    assert set(record.dropped_fields) == {"notes", "tags"}
    assert "lone surrogate (U+DFFF)" in record.dropped_fields["notes"]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("this is not json", "not valid JSON (Expecting value)"),
        ('{"\\ud800":1,"id":"t"}', "a field name contains a lone surrogate (U+D800)"),
        ('"\\ud800"', "a string that contains a lone surrogate (U+D800)"),
    ],
)
def test_a_value_that_cannot_be_decoded_is_an_invalid_record(raw: str, reason: str) -> None:
    invalid = m.validate_raw(m.Trip, "trip:t", raw)
    assert isinstance(invalid, m.InvalidRecord) and invalid.key == "trip:t"
    assert invalid.message.startswith(reason)


def test_numbers_no_double_holds_read_as_doubles() -> None:
    raw = '{"id":"i","tripId":"t","title":"x","cost":123456789012345678901234567890}'
    record = m.validate_raw(m.Item, "item:i", raw)
    assert isinstance(record, m.Item) and record.cost == 1.2345678901234568e29
