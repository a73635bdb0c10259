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
        ('[trip.fields]\n"owner.id" = "userId"', "an app name is one top-level field name"),
        ('[trip.fields]\ntitle = "destination"', "'title' is itself a trip field"),
        ('[trip.fields]\nownerId = "userId"\nuid = "userId"', "two app names for 'userId'"),
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
    assert mapping.summary() == f"mapping {path}: 3 field name(s), 4 enum value(s)"
    assert Settings().mapping() is IDENTITY
    path.write_text('[trip.fields]\nownerId = "owner"\n', encoding="utf-8")
    with pytest.raises(pydantic.ValidationError, match="trip has no field 'owner'"):
        Settings(mapping_file=path)


# ---------------------------------------------------------------- applying it
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
    assert stored["role"] == "model" and "timestamp" not in stored
    assert mapping.incoming(m.Trip, {"id": "t"}) == {"id": "t"}  # nothing to rename


def test_writing_uses_the_app_names_and_one_to_one_values() -> None:
    mapping = parse_mapping(APP)
    out = mapping.outgoing(m.Trip, {"userId": "u", "title": "T", "destination": "Porto"})
    assert out == {"ownerId": "u", "name": "T", "destination": "Porto"}
    assert mapping.outgoing(m.Message, {"role": "assistant"}) == {"role": "model"}
    # Two app values mean `active`: kvgraph writes its own; `dismissed` has one: the app's.
    assert mapping.outgoing(m.Suggestion, {"status": "active"}) == {"status": "active"}
    assert mapping.outgoing(m.Suggestion, {"status": "dismissed"}) == {"status": "rejected"}


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
async def test_mapped_enum_values_drive_the_filtered_index(store: Store) -> None:
    repo = Repository(store, parse_mapping(APP))
    pending = {"id": "s1", "userId": "u", "content": "x", "status": "pending"}
    await store.set_many(
        {"suggestion:s1": pending, "suggestions:index:u": ["s1"], "suggestions:active:u": ["s1"]}
    )
    await repo.update(e.SUGGESTION, ["s1"], {"status": "dismissed"})
    assert (await store.get("suggestion:s1"))["status"] == "rejected"
    assert await store.get("suggestions:active:u") == []
    await repo.create(e.SUGGESTION, {"id": "s2", "userId": "u", "content": "y", "status": "active"})
    assert (await store.get("suggestion:s2"))["status"] == "active"  # two app spellings
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
