"""Record validation: tolerant of unknown fields, immutable, reused for identical text."""

from __future__ import annotations

import pydantic
import pytest

from gql.kv import models as m


def test_identical_text_is_validated_once() -> None:
    text = '{"id": "t1", "userId": "u", "title": "T", "extra": 1}'
    first = m.validate_raw(m.Trip, "trip:t1", text)
    assert m.validate_raw(m.Trip, "trip:t1", text) is first
    changed = m.validate_raw(m.Trip, "trip:t1", text.replace('"T"', '"T2"'))
    assert isinstance(changed, m.Trip)
    assert changed.title == "T2"


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


def test_times_without_offset_are_utc() -> None:
    item = m.validate_raw(
        m.Item,
        "item:i",
        '{"id": "i", "tripId": "t", "title": "x", "startTime": "2026-05-01T10:00:00"}',
    )
    assert isinstance(item, m.Item)
    assert item.start_time is not None
    assert item.start_time.utcoffset() is not None
