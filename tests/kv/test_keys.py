"""The key registry: builders and a parser that keeps overlapping prefixes apart."""

from __future__ import annotations

import pytest

from gql.kv import keys as k


@pytest.mark.parametrize(
    ("key", "name", "params"),
    [
        ("conversation:c1", "conversation", {"id": "c1"}),
        ("conversation:index:u1", "conversations_index", {"userId": "u1"}),
        ("budget:t1", "budget", {"tripId": "t1"}),
        ("budget:alerts:t1", "budget_alerts", {"tripId": "t1"}),
        ("context:c1", "context", {"conversationId": "c1"}),
        ("context:history:c1", "context_history", {"conversationId": "c1"}),
        ("trips:index:u1", "trips_index", {"userId": "u1"}),
        ("trip:7f3c", "trip", {"id": "7f3c"}),
        ("items:index:t1", "items_index", {"tripId": "t1"}),
        ("suggestions:active:u1", "suggestions_active", {"userId": "u1"}),
        ("suggestions:index:u1", "suggestions_index", {"userId": "u1"}),
        ("events:index", "events_index", {}),
        ("saved:u1", "saved", {"userId": "u1"}),
        ("collaborator:t1:u2", "collaborator", {"tripId": "t1", "userId": "u2"}),
        ("messages:index:c1", "messages_index", {"conversationId": "c1"}),
        ("ai_run:r1", "ai_run", {"id": "r1"}),
        ("websource:abc123", "websource", {"hash": "abc123"}),
    ],
)
def test_parse_tells_patterns_apart(key: str, name: str, params: dict[str, str]) -> None:
    parsed = k.parse(key)
    assert parsed is not None
    assert (parsed.pattern.name, parsed.params) == (name, params)


def test_roles() -> None:
    assert k.parse("trip:1").role is k.Role.ENTITY  # type: ignore[union-attr]
    assert k.parse("trips:index:u").role is k.Role.INDEX  # type: ignore[union-attr]
    assert k.parse("budget:alerts:t").role is k.Role.LIST  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "key", ["unknown:1", "trip:", "trip:a:b", "", "trips:index:", "events:index:x"]
)
def test_unknown_keys_parse_to_none(key: str) -> None:
    assert k.parse(key) is None


def test_builders_round_trip_through_the_parser() -> None:
    for pattern in k.PATTERNS:
        args = [f"v{i}" for i in range(len(pattern.params))]
        parsed = k.parse(pattern.key(*args))
        assert parsed is not None
        assert parsed.pattern is pattern
        assert list(parsed.params.values()) == args


@pytest.mark.parametrize("bad", ["", "a:b", "x" * 201])
def test_builders_refuse_ids_that_would_break_parsing(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid id"):
        k.TRIP.key(bad)


def test_builders_check_arity() -> None:
    with pytest.raises(TypeError):
        k.COLLABORATOR.key("t1")


def test_every_seed_pattern_is_registered() -> None:
    seed = {
        "conversation:{id}",
        "conversation:index:{userId}",
        "message:{id}",
        "messages:index:{conversationId}",
        "ai_run:{id}",
        "ai_runs:index:{userId}",
        "context:{conversationId}",
        "context:history:{conversationId}",
        "trip:{id}",
        "trips:index:{userId}",
        "item:{id}",
        "items:index:{tripId}",
        "event:{id}",
        "events:index",
        "restaurant:{id}",
        "restaurants:index",
        "rental:{id}",
        "rentals:index",
        "profile:{userId}",
        "preferences:{userId}",
        "saved:{userId}",
        "suggestion:{id}",
        "suggestions:index:{userId}",
        "suggestions:active:{userId}",
        "conflict:{id}",
        "conflicts:index:{tripId}",
        "budget:{tripId}",
        "budget:alerts:{tripId}",
        "workflow:{id}",
        "workflows:index:{userId}",
        "collection:{id}",
        "collections:index:{userId}",
        "job:{id}",
        "jobs:index",
        "collaborator:{tripId}:{userId}",
        "automation:{id}",
        "log:{jobId}",
        "websource:{hash}",
        "apikey:{userId}",
    }
    assert seed <= {p.template for p in k.PATTERNS}


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("", "must not be empty"),
        ("a:b", "must not contain ':'"),
        ("x" * 201, "at most 200 characters (this one has 201)"),
        ("tab\there", "must not contain U+0009"),
        ("del\x7f", "must not contain U+007F"),
        ("c1\x85", "must not contain U+0085"),
        ("half\ud83d", "must not contain U+D83D"),
    ],
)
def test_the_id_rule_refuses(bad: str, why: str) -> None:
    assert not k.is_id(bad)
    assert why in (k.id_problem(bad) or "")
    with pytest.raises(ValueError, match="invalid id for trip:"):
        k.TRIP.key(bad)


@pytest.mark.parametrize(
    "good", ["a", "x" * 200, "7f3c-ü", "viagem à praia 🙂", "ChIJN1t_tDeuEmsR"]
)
def test_the_id_rule_accepts(good: str) -> None:
    assert k.is_id(good) and k.id_problem(good) is None


def test_the_ascii_shortcut_agrees_with_the_rule() -> None:
    for code in range(128):
        char = chr(code)
        assert k.is_id(char) == (k._ID.fullmatch(char) is not None), repr(char)
        assert k.is_id(f"a{char}b") == (k._ID.fullmatch(f"a{char}b") is not None), repr(char)
