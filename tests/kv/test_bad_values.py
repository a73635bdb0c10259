"""Stored values kvgraph cannot read completely, as other apps write them: text that is not
JSON (a Postgres `text` value column, SQLite), a lone surrogate escape (`"\\ud800"`), a member
nested 5,000 deep, numbers a double does not hold. `check`, `check --shapes` and `repair`
report each with its key and go on; nothing rewrites them; every read-modify-write keeps the
digits and bytes it does not change."""

from __future__ import annotations

import asyncio

import pytest

from gql.commands import cli
from gql.kv import Store
from gql.kv import entities as e
from gql.kv.check import Kind, scan
from gql.kv.jsontext import canonical_text
from gql.kv.repo import Repository, UnreadableRecord
from gql.kv.shapes import scan_shapes
from tests.support import EVERY_BACKEND, holds_any_text, read_raw, write_raw

pytestmark = pytest.mark.parametrize("store_url", EVERY_BACKEND, indirect=True)

U = "u1"
DEEP = "[" * 5_000 + "]" * 5_000
BIG = "123456789012345678901234567890"
PI = "3.14159265358979323846"
# What any store holds (a jsonb column too): JSON nested deep, numbers beyond a double.
JSON_ROWS = {
    "trip:deep": '{"id":"deep","userId":"u1","title":"Deep","coverNotes":' + DEEP + "}",
    "trip:big": f'{{"id":"big","userId":"u1","title":"Big","budget":{BIG},"rate":{PI}}}',
    "items:index:deep": '["i1","i1",' + DEEP + "]",  # a duplicate beside an element kept as is
    "item:i1": '{"id":"i1","tripId":"deep","title":"Lunch"}',
    "conversation:c1": '{"id":"c1","userId":"u1"}',
    "context:history:c1": '[{"role":"user"},' + DEEP + "]",  # a list kvgraph keeps, not reads
}
# What only a text column (and SQLite) holds.
TEXT_ROWS = {
    "trip:bad": "this is not json",
    "trip:sur": '{"id":"sur","userId":"u1","title":"x\\ud800"}',
    "trips:index:u2": "not json either",
}
INDEX = '["bad","sur","deep","big","gone"]'


async def seed(store: Store, store_url: tuple[str, str]) -> dict[str, str]:
    """Write the bad values the store can hold, behind kvgraph's back; return them."""
    rows = dict(JSON_ROWS)
    if await holds_any_text(store_url):
        rows |= TEXT_ROWS
    await write_raw(store_url, {**rows, f"trips:index:{U}": INDEX})
    return rows


async def test_check_reports_each_value_with_its_key_and_goes_on(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await seed(store, store_url)
    report = await scan(store)
    invalid = {p.key: p.detail for p in report.of(Kind.INVALID)}
    assert invalid["trip:deep"] == (
        "coverNotes nested too deep to read (1,000+ levels): kept as stored (never rewritten), "
        "not read"
    )
    assert invalid["items:index:deep"].startswith("element(s) 2 (nested too deep to read")
    assert invalid["context:history:c1"].startswith("1 nested too deep to read (1,000+ levels)")
    assert "trip:big" not in invalid  # readable: its numbers read as doubles
    if "trip:bad" in rows:
        assert invalid["trip:bad"] == "not valid JSON (Expecting value)"
        assert invalid["trip:sur"] == (
            "title: contains a lone surrogate (U+D800), which is not valid Unicode"
        )
        assert invalid["trips:index:u2"].startswith("not valid JSON")
    # ... and the rest of the table is still checked: dangling ids, a duplicate
    missing = {"gone"} | {id_ for id_ in ("bad", "sur") if f"trip:{id_}" not in rows}
    assert {p.id for p in report.of(Kind.DANGLING)} == missing
    assert {(p.key, p.id) for p in report.of(Kind.DUPLICATE)} == {("items:index:deep", "i1")}

    url, table = store_url
    assert (
        await asyncio.to_thread(cli.main, ["check", "--store-url", url, "--kv-table", table]) == 1
    )
    out = capsys.readouterr().out
    for key in ("trip:deep", "context:history:c1", *(k for k in TEXT_ROWS if k in rows)):
        assert f"invalid    {key}: " in out


async def test_repair_fixes_the_rest_and_never_rewrites_them(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await seed(store, store_url)
    before = dict(zip(rows, await read_raw(store_url, list(rows)), strict=True))
    url, table = store_url
    flags = ["--store-url", url, "--kv-table", table]
    assert await asyncio.to_thread(cli.main, ["repair", "--apply", *flags]) == 1  # invalid left
    out = capsys.readouterr().out
    assert "trip:deep: left alone (invalid: coverNotes nested too deep" in out
    after = dict(zip(rows, await read_raw(store_url, list(rows)), strict=True))
    for key in rows:
        if key != "items:index:deep":
            assert after[key] == before[key], key
    # The index with a duplicate was fixed, its deep element kept in place, as stored (on
    # Postgres, in the spelling jsonb gives every value kvgraph writes).
    fixed = '["i1",' + DEEP + "]"
    if url.startswith("sqlite"):
        assert after["items:index:deep"] == fixed
    assert canonical_text(after["items:index:deep"] or "") == canonical_text(fixed)
    listed = await store.get(f"trips:index:{U}")
    assert listed == [k.split(":")[1] for k in ("trip:bad", "trip:sur") if k in rows] + [
        "deep",
        "big",
    ]


async def test_shapes_list_them_by_key(
    store: Store, store_url: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    rows = await seed(store, store_url)
    shapes = await scan_shapes(store)
    unreadable = dict(shapes.unreadable)
    expected = {"trip:deep", "items:index:deep", "context:history:c1"}
    assert set(unreadable) == expected | (TEXT_ROWS.keys() & rows)
    assert shapes.entities["trip"].dropped["coverNotes"] == 1
    url, table = store_url
    flags = ["check", "--shapes", "--store-url", url, "--kv-table", table]
    assert await asyncio.to_thread(cli.main, flags) == 1
    out = capsys.readouterr().out
    assert f"values kvgraph cannot read ({len(unreadable)}; kept as they are):" in out
    assert "  trip:deep: coverNotes nested too deep to read (1,000+ levels)" in out
    assert "coverNotes  " in out and "unreadable" in out  # its JSON type in the table


async def test_updates_keep_the_digits_and_bytes_they_do_not_change(
    store: Store, store_url: tuple[str, str]
) -> None:
    await seed(store, store_url)
    repo = Repository(store)
    updated = await repo.update(e.TRIP, ["big"], {"title": "Bigger"})
    assert updated.title == "Bigger"  # type: ignore[attr-defined]
    (raw,) = await read_raw(store_url, ["trip:big"])
    assert raw is not None and f"{BIG}" in raw and PI in raw and "Bigger" in raw
    updated = await repo.update(e.TRIP, ["deep"], {"title": "Deeper"})
    assert updated.dropped_fields == {"coverNotes": "nested too deep to read (1,000+ levels)"}
    (raw,) = await read_raw(store_url, ["trip:deep"])
    assert raw is not None and DEEP in raw and "Deeper" in raw


async def test_the_owner_can_delete_a_record_nested_too_deep(
    store: Store, store_url: tuple[str, str]
) -> None:
    rows = await seed(store, store_url)
    repo = Repository(store)
    await repo.delete(e.TRIP, "deep")
    assert await read_raw(store_url, ["trip:deep", "item:i1"]) == [None, None]
    assert "deep" not in await store.get(f"trips:index:{U}")
    if "trip:bad" in rows:  # not JSON at all: no owner can be known, nothing is deleted
        # Stored data kvgraph cannot read: INVALID_RECORD, never the client's input.
        with pytest.raises(UnreadableRecord, match="trip:bad: not valid JSON"):
            await repo.delete(e.TRIP, "bad")
        with pytest.raises(UnreadableRecord, match="trip:bad: not valid JSON"):
            await repo.update(e.TRIP, ["bad"], {"title": "x"})
        assert await read_raw(store_url, ["trip:bad"]) == ["this is not json"]
