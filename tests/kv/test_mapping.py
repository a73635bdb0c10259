"""Mapping files: checked once with clear errors; applied on every read and write."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from gql.kv import Store
from gql.kv import entities as e
from gql.kv import models as m
from gql.kv.check import scan
from gql.kv.mapping import IDENTITY, MappingError, load_mapping, parse_mapping
from gql.kv.repo import Repository
from gql.web.settings import Settings
from resolvers.loaders import Loaders
from tests.support import BACKENDS

APP = """
[trip.fields]
ownerId = "userId"
name = "title"

[message.fields]
createdAt = "timestamp"

[message.values.role]
model = "assistant"

[suggestion.values.status]
pending = "active"
new = "active"
rejected = "dismissed"
"""
on_both_stores = pytest.mark.parametrize("store_url", BACKENDS, indirect=True)


# ---------------------------------------------------------------- checking a file
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tripp.fields]\nownerId = "userId"', "[tripp]: no such entity (did you mean trip?)"),
        ('[trip.fields]\nownerId = "owner"', "trip has no field 'owner'"),
        ('[trip.fields]\nownerId = "user_id"', "(did you mean userId?)"),
        ("[trip.fields]\nownerId = 3", 'expected a kvgraph field name in quotes, e.g. "userId"'),
        ("[message.values.role]\nmodel = 3", 'expected a kvgraph value in quotes, e.g. "user"'),
        (
            '[message.values.role]\nmodel = { means = "assistant", write = "yes" }',
            "model: write is true or false",
        ),
        (
            '[message.values.role]\nmodel = { mean = "assistant" }',
            "model: unknown key(s) mean (use means, write)",
        ),
        (
            "[trip.fields]\nownerId = { write = false }",
            'ownerId: means names the kvgraph field name in quotes, e.g. "userId"',
        ),
        (
            '[trip.fields]\nownerId = { means = "owner", write = false }',
            "trip has no field 'owner'",
        ),
        (
            '[message.values.role]\nmodel = { means = "assistent", write = true }',
            "use one of user, assistant, system, tool",
        ),
        (
            '[message.values.role]\nmodel = { means = "assistant", write = true }\n'
            'ai = { means = "assistant", write = true }',
            "two app values for 'assistant' are written (model, ai); kvgraph writes one "
            "spelling: mark the others write = false",
        ),
        ('[trip.fields]\n"owner.id" = "userId"', "an app name is one top-level field name"),
        ('[trip.fields]\ntitle = "destination"', "'title' is itself a trip field"),
        (
            '[trip.fields]\nownerId = "userId"\nuid = "userId"',
            "two app names for 'userId' are written (ownerId, uid)",
        ),
        (
            '[trip.fields]\nownerId = { means = "userId" }\nuid = "userId"',
            "two app names for 'userId' are written (ownerId, uid)",  # names: written unless
        ),
        ('[trip.names]\nownerId = "userId"', "use [trip.fields] or [trip.values.<field>]"),
        ("trip = 1", "trip: expected a table such as [trip.fields]"),
        ('[trip]\nfields = "x"', "[trip.fields]: expected a table of app name = kvgraph name"),
        (
            '[trip.values.status]\nplanned = "active"',
            "not an enum-like field of trip (those are: none)",
        ),
        ('[message.values.role]\nmodel = "assistent"', "use one of user, assistant, system, tool"),
        ('[message.values.role]\nuser = "assistant"', "'user' is already a value kvgraph knows"),
        ('[message.values]\nrole = "x"', "[message.values.role]: expected a table of app value"),
        ("[message.values.role", "not valid TOML"),
    ],
)
def test_bad_mapping_files_are_refused_with_the_entry_named(text: str, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        parse_mapping(text, "kvgraph.toml")
    assert "kvgraph.toml" in str(caught.value)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    text = '[tripp.fields]\na = "b"\n[message.values.role]\nmodel = "bot"\n'
    with pytest.raises(MappingError) as caught:
        parse_mapping(text)
    assert "tripp" in str(caught.value) and "'bot'" in str(caught.value)


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read it"):
        load_mapping(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(MappingError, match="not UTF-8"):
        load_mapping(binary)


def test_settings_load_the_file_once_at_start(tmp_path: Path) -> None:
    path = tmp_path / "kvgraph.toml"
    path.write_text(APP, encoding="utf-8")
    mapping = Settings(mapping_file=path).mapping()
    assert mapping.summary() == (
        f"mapping {path}: 3 field name(s) (0 read-only), 4 enum value(s) (0 written)"
    )
    assert Settings().mapping() is IDENTITY
    path.write_text('[trip.fields]\nownerId = "owner"\n', encoding="utf-8")
    with pytest.raises(pydantic.ValidationError, match="trip has no field 'owner'"):
        Settings(mapping_file=path)


# ---------------------------------------------------------------- applying it
WRITES = """
[trip.fields]
ownerId = { means = "userId", write = false }

[item.values.kind]
flight = "transport"
bus = { means = "transport" }
Meal = { means = "meal", write = true }

[item.values.locationType]
hotel = "rental"

[message.values.role]
model = { means = "assistant", write = true }
ai = { means = "assistant", write = false }
"""


def test_reading_renames_fields_and_values_without_touching_the_input() -> None:
    mapping = parse_mapping(APP)
    stored = {
        "id": "m",
        "conversationId": "c",
        "role": "model",
        "content": "x",
        "createdAt": "2025-01-01T10:00Z",
    }
    msg = m.validate(m.Message, "message:m", stored, mapping)
    assert isinstance(msg, m.Message)
    assert (msg.role, msg.timestamp is not None) == ("assistant", True)
    assert msg.stored_values == {"role": "model"}  # what `roleRaw` shows
    assert stored["role"] == "model" and "timestamp" not in stored
    assert mapping.incoming(m.Trip, {"id": "t"}) == ({"id": "t"}, {})  # nothing to rename
    plain = m.validate(m.Message, "message:p", {**stored, "role": "user"}, mapping)
    assert isinstance(plain, m.Message) and plain.stored_values == {}


def test_stored_values_are_kept_once_per_stored_text() -> None:
    mapping = parse_mapping(WRITES)
    raw = b'{"id": "i", "tripId": "t", "title": "x", "kind": "flight", "cost": {"n": 1}}'
    first = m.validate_raw(m.Item, "item:i", raw, mapping)
    assert isinstance(first, m.Item) and first.kind == "transport"
    assert (dict(first.stored_values), list(first.dropped_fields)) == ({"kind": "flight"}, ["cost"])
    assert m.validate_raw(m.Item, "item:i", raw, mapping) is first  # decoded and read once
    assert m.validate_raw(m.Item, "item:i", raw).stored_values == {}  # type: ignore[union-attr]


def test_values_are_read_only_unless_marked_written() -> None:
    mapping = parse_mapping(WRITES)
    # Several app words mean transport, each one kind of it: kvgraph writes its own word.
    assert mapping.outgoing(m.Item, {"kind": "transport"}) == {"kind": "transport"}
    assert mapping.outgoing(m.Item, {"locationType": "rental"}) == {"locationType": "rental"}
    # An exact synonym marked written is written, also beside read-only spellings.
    assert mapping.outgoing(m.Item, {"kind": "meal"}) == {"kind": "Meal"}
    assert mapping.outgoing(m.Message, {"role": "assistant"}) == {"role": "model"}
    # An existing file's one-to-one value is read only now (the safe meaning).
    assert parse_mapping(APP).outgoing(m.Suggestion, {"status": "dismissed"}) == {
        "status": "dismissed"
    }
    assert parse_mapping(APP).outgoing(m.Trip, {"userId": "u"}) == {"ownerId": "u"}  # names: yes


def test_a_read_only_name_never_hides_kvgraphs_own() -> None:
    mapping = parse_mapping(WRITES)

    def owner(value: dict[str, object]) -> object:
        record = m.validate(m.Trip, "trip:t", {"id": "t", "title": "T", **value}, mapping)
        return record.user_id if isinstance(record, m.Trip) else record

    assert owner({"ownerId": "u2"}) == "u2"  # read where kvgraph's name is absent
    assert owner({"userId": None, "ownerId": "u2"}) == "u2"  # ... or null
    assert owner({"userId": "u1", "ownerId": "u2"}) == "u1"  # kvgraph's own name wins
    assert owner({"user_id": "u1", "ownerId": "u2"}) == "u1"  # so does its snake_case name
    assert owner({"ownerId": None, "uid": "x"}) == m.InvalidRecord(
        "trip:t", "userId: Field required"
    )
    # A written name wins over kvgraph's (the app writes it; kvgraph's may be left over).
    written = parse_mapping(APP)
    both = {"id": "t", "title": "T", "userId": "u1", "ownerId": "u2"}
    assert m.validate(m.Trip, "trip:t", both, written).user_id == "u2"  # type: ignore[union-attr]


def test_a_read_only_name_is_written_only_where_a_record_uses_it() -> None:
    mapping = parse_mapping(WRITES)
    assert mapping.outgoing(m.Trip, {"userId": "u"}) == {"userId": "u"}  # a new record
    assert mapping.outgoing(m.Trip, {"userId": "u"}, {"ownerId": "x"}) == {"ownerId": "u"}
    assert mapping.outgoing(m.Trip, {"userId": "u"}, {"userId": "x"}) == {"userId": "u"}


def test_an_update_writes_into_the_names_the_record_uses() -> None:
    stored = {"id": "u", "name": "Ana", "avatar_url": "a.png"}
    out = IDENTITY.outgoing(
        m.Profile, {"displayName": "Ana C.", "avatarUrl": "b.png", "email": "e"}, stored
    )
    assert out == {"name": "Ana C.", "avatar_url": "b.png", "email": "e"}


@on_both_stores
async def test_repository_writes_records_that_look_like_the_apps(store: Store) -> None:
    mapping = parse_mapping(APP)
    repo = Repository(store, mapping)
    trip = await repo.create(e.TRIP, {"id": "t1", "userId": "u1", "title": "Lisbon"})
    assert isinstance(trip, m.Trip) and trip.user_id == "u1"
    stored = await store.get("trip:t1")
    assert {k: stored[k] for k in ("ownerId", "name")} == {"ownerId": "u1", "name": "Lisbon"}
    assert "userId" not in stored and "title" not in stored
    assert await store.get("trips:index:u1") == ["t1"]
    await repo.update(e.TRIP, ["t1"], {"title": "Lisboa"})
    stored = await store.get("trip:t1")
    assert stored["name"] == "Lisboa" and "title" not in stored
    await store.set(
        "message:m0", {"id": "m0", "conversationId": "c", "role": "model", "content": "hi"}
    )
    updated = await repo.update(e.MESSAGE, ["m0"], {"content": "hello"})
    assert updated.role == "assistant"  # type: ignore[attr-defined]
    assert (await store.get("message:m0"))["role"] == "model"


@on_both_stores
async def test_writes_never_produce_a_read_only_value(store: Store) -> None:
    repo = Repository(store, parse_mapping(WRITES))
    await store.set_many({"trip:t": {"id": "t", "userId": "u", "title": "T"}})
    flight = {
        "id": "f",
        "tripId": "t",
        "title": "TP 1351",
        "kind": "flight",
        "locationType": "hotel",
    }
    await store.set("item:f", flight)
    # A new transport item (a train) is stored as transport, never as the app's `flight`.
    train = await repo.create(
        e.ITEM, {"id": "r", "tripId": "t", "title": "IC", "kind": "transport"}
    )
    assert (await store.get("item:r"))["kind"] == "transport"
    assert train.stored_values == {}
    # Updated without the field: the stored value stays, read as before.
    kept = await repo.update(e.ITEM, ["f"], {"title": "TP 1353"})
    assert {k: (await store.get("item:f"))[k] for k in ("kind", "locationType")} == {
        "kind": "flight",
        "locationType": "hotel",
    }
    assert (kept.kind, kept.stored_values) == (
        "transport",
        {"kind": "flight", "locationType": "hotel"},
    )  # type: ignore[attr-defined]
    # Updated with it: kvgraph's own value (the item may be a train now).
    await repo.update(e.ITEM, ["f"], {"kind": "transport", "locationType": "rental"})
    assert {k: (await store.get("item:f"))[k] for k in ("kind", "locationType")} == {
        "kind": "transport",
        "locationType": "rental",
    }
    # A value marked written is written, on create and update.
    await repo.create(e.ITEM, {"id": "d", "tripId": "t", "title": "Dinner", "kind": "meal"})
    assert (await store.get("item:d"))["kind"] == "Meal"
    await repo.update(e.ITEM, ["f"], {"kind": "meal"})
    assert (await store.get("item:f"))["kind"] == "Meal"


@on_both_stores
async def test_mapped_enum_values_drive_the_filtered_index(store: Store) -> None:
    mapping = parse_mapping(
        '[suggestion.values.status]\npending = "active"\nnew = "active"\n'
        'rejected = { means = "dismissed", write = true }\n'
    )
    repo = Repository(store, mapping)
    pending = {"id": "s1", "userId": "u", "content": "x", "status": "pending"}
    await store.set_many(
        {"suggestion:s1": pending, "suggestions:index:u": ["s1"], "suggestions:active:u": ["s1"]}
    )
    await repo.update(e.SUGGESTION, ["s1"], {"status": "dismissed"})
    assert (await store.get("suggestion:s1"))["status"] == "rejected"
    assert await store.get("suggestions:active:u") == []
    await repo.create(e.SUGGESTION, {"id": "s2", "userId": "u", "content": "y", "status": "active"})
    assert (await store.get("suggestion:s2"))["status"] == "active"  # read-only spellings
    assert await store.get("suggestions:active:u") == ["s2"]


@on_both_stores
async def test_loaders_and_check_read_through_the_mapping(store: Store) -> None:
    mapping = parse_mapping(APP)
    await store.set_many(
        {"trip:t1": {"id": "t1", "ownerId": "u1", "name": "Lisbon"}, "trips:index:u1": ["t1"]}
    )
    plain, mapped = Loaders(store), Loaders(store, mapping)
    assert isinstance(await plain.entity(e.TRIP, "t1"), m.InvalidRecord)
    trip = await mapped.entity(e.TRIP, "t1")
    assert isinstance(trip, m.Trip) and (trip.user_id, trip.title) == ("u1", "Lisbon")
    assert not (await scan(store)).clean
    assert (await scan(store, mapping=mapping)).clean


def test_the_docs_example_file_loads_and_means_what_it_says() -> None:
    page = (Path(__file__).parents[2] / "docs" / "existing-tables.md").read_text(encoding="utf-8")
    section = page.split("## Mapping your field names", 1)[1]
    mapping = parse_mapping(section.split("```toml\n", 1)[1].split("```", 1)[0], "docs")
    assert mapping.outgoing(m.Message, {"role": "assistant"}) == {"role": "model"}
    assert mapping.outgoing(m.Item, {"kind": "transport"}) == {"kind": "transport"}
    assert mapping.outgoing(m.Trip, {"userId": "u"}) == {"ownerId": "u"}
