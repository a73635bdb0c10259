"""Export and import: byte-identical round trips within and across stores, idempotent
imports, bad lines and unstorable values reported, counts verified, the dashboard's CSV read."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from gql.kv import Store, open_store
from gql.kv.base import JSON
from gql.kv.transfer import (
    ImportReport,
    Step,
    TransferError,
    canonical,
    csv_field,
    export_table,
    import_file,
    parse_json,
)
from tests.support import PG_SKIP, PG_URL, admin, drop_table

FORMATS = ["jsonl", "csv"]

# Values that trip exporters up: key order, whitespace, quoting, number forms, scalars.
ROWS: dict[str, JSON] = {
    "trip:t1": {"title": "Lisbon", "id": "t1", "budget": {"currency": "EUR", "amount": 1200.5}},
    "trips:index:u1": ["t1", "t2", 1732723200000],
    "profile:u1": {"displayName": 'Ana "Ni" Ló, 東京 🚲', "tags": [], "prefs": {}},
    "note:multiline": "line one\nline two\r\nthird, with a comma",
    "note:spaces": " leading and trailing ",
    "note:bom": "\ufeffstarts with a BOM",
    "note:empty": "",
    "note:looks-like-a-number": "42",
    "setting:dark": True,
    "counter:n": 7,
    "float:tiny": 1e-7,
    "float:big": 1.5e300,
    "int:big": 9007199254740993,
    "null:value": None,
    'key, with "quotes" and , commas': {"nested": [{"b": 2, "a": 1}, None, False]},
    " key with spaces ": "v",
    "key:ünïcode:😀": {"ж": "я"},
}


@pytest.fixture
async def new_store(tmp_path: Path) -> AsyncIterator[Any]:
    """A factory of opened, empty stores: `await new_store("sqlite" | "postgres")`."""
    made: list[tuple[Store, str]] = []

    async def make(backend: str) -> Store:
        table = f"kv_test_{uuid.uuid4().hex[:10]}"
        if backend.startswith("postgres"):
            if not PG_URL:
                pytest.skip(PG_SKIP)
            if backend == "postgres-text":  # an app's own table, its values as text
                await admin(f"CREATE TABLE {table} (key text PRIMARY KEY, value text NOT NULL)")
            store = open_store(PG_URL, table)
        else:
            store = open_store(f"sqlite:///{tmp_path}/{table}.db", table)
        await store.open()
        made.append((store, table))
        return store

    yield make
    for store, table in made:
        await store.close()
        if store.url.startswith("postgres"):
            await drop_table(PG_URL, table)


async def export_bytes(store: Store, fmt: str) -> bytes:
    out = io.BytesIO()
    await export_table(store, out, fmt)
    return out.getvalue()


async def import_bytes(store: Store, data: bytes, fmt: str, **kw: Any) -> ImportReport:
    return await import_file(store, io.BytesIO(data), fmt, total=len(data), **kw)


PAIRS = [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgres", marks=pytest.mark.postgres),
    pytest.param("postgres", "sqlite", marks=pytest.mark.postgres),
    pytest.param("postgres", "postgres", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("source", "target"), PAIRS)
async def test_export_import_export_is_byte_identical(
    new_store: Any, source: str, target: str, fmt: str
) -> None:
    first = await new_store(source)
    await first.set_many(ROWS)
    exported = await export_bytes(first, fmt)
    second = await new_store(target)
    report = await import_bytes(second, exported, fmt)
    assert report.clean, report
    assert (report.written, report.verified, report.keys) == (len(ROWS),) * 3
    assert await export_bytes(second, fmt) == exported
    values = await second.get_many(list(ROWS))
    assert [canonical(v) for v in values] == [canonical(v) for v in ROWS.values()]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_reimport_changes_nothing(new_store: Any, backend: str, fmt: str) -> None:
    store = await new_store(backend)
    await store.set_many(ROWS)
    exported = await export_bytes(store, fmt)
    report = await import_bytes(store, exported, fmt)
    assert (report.written, report.unchanged, report.verified) == (0, len(ROWS), len(ROWS))
    await store.set("trip:t1", {"title": "changed"})
    await store.delete("counter:n")
    report = await import_bytes(store, exported, fmt)
    assert (report.written, report.unchanged) == (2, len(ROWS) - 2)
    assert await export_bytes(store, fmt) == exported


async def test_jsonl_export_is_canonical_and_in_key_order(new_store: Any) -> None:
    store = await new_store("sqlite")
    await store.set_many({"b": {"z": 1, "a": [1, {"y": None, "x": "é"}]}, "a": 1})
    assert await export_bytes(store, "jsonl") == (
        b'{"key":"a","value":1}\n{"key":"b","value":{"a":[1,{"x":"\xc3\xa9","y":null}],"z":1}}\n'
    )


async def test_export_streams_page_by_page(new_store: Any) -> None:
    store = await new_store("sqlite")
    await store.set_many({f"k:{i:05d}": {"i": i} for i in range(1_234)})
    seen: list[int] = []
    out = io.BytesIO()
    report = await export_table(store, out, "jsonl", seen.append)
    assert report.rows == 1_234 and report.clean and seen == [500, 1_000]
    lines = out.getvalue().splitlines()
    assert lines == sorted(lines) and len(lines) == 1_234


def test_csv_fields_are_quoted_like_papa_parse() -> None:
    assert [
        csv_field(text)
        for text in [
            "plain",
            "a,b",
            'say "hi"',
            "two\nlines",
            "cr\r",
            " lead",
            "trail ",
            "\ufeffx",
            "",
        ]
    ] == [
        "plain",
        '"a,b"',
        '"say ""hi"""',
        '"two\nlines"',
        '"cr\r"',
        '" lead"',
        '"trail "',
        '"\ufeffx"',
        "",
    ]


async def test_csv_export_has_the_dashboard_layout(new_store: Any) -> None:
    store = await new_store("sqlite")
    await store.set_many({"a": {"b": 1, "a": "x,y"}, "b": "dark", "c": None})
    assert await export_bytes(store, "csv") == (
        b'key,value\r\na,"{""a"":""x,y"",""b"":1}"\r\nb,"""dark"""\r\nc,null'
    )


async def test_reads_a_supabase_dashboard_csv(new_store: Any) -> None:
    # Papa Parse output of the table editor: jsonb key order, string values bare, null empty.
    dashboard = (
        "\ufeffkey,value\r\n"
        'trip:t1,"{""id"":""t1"",""title"":""Porto, Portugal""}"\r\n'
        'trips:index:u1,"[""t1"",""t2""]"\r\n'
        "theme:u1,dark\r\n"
        'quote:u1,"He said ""hi"""\r\n'
        "count:u1,3\r\n"
        "null:u1,\r\n"
        '"weird, key",true'
    ).encode()
    store = await new_store("sqlite")
    report = await import_bytes(store, dashboard, "csv")
    assert report.clean and report.verified == 7, report
    assert await store.get_many(
        ["trip:t1", "trips:index:u1", "theme:u1", "quote:u1", "count:u1", "null:u1", "weird, key"]
    ) == [
        {"id": "t1", "title": "Porto, Portugal"},
        ["t1", "t2"],
        "dark",
        'He said "hi"',
        3,
        None,
        True,
    ]


async def test_csv_with_another_header_is_refused_as_a_whole(new_store: Any) -> None:
    store = await new_store("sqlite")
    with pytest.raises(TransferError, match="expected the columns key and value"):
        await import_bytes(store, b"id,data\r\na,1", "csv")
    with pytest.raises(TransferError):
        await import_bytes(store, b"key,value,created_at\r\na,1,2024", "csv")


async def test_bad_jsonl_lines_are_reported_and_the_rest_imported(new_store: Any) -> None:
    data = b"\n".join(
        [
            b'{"key":"a","value":1}',
            b'{"key":"b","value":',  # 2: cut off
            b"",  # 3: blank lines carry nothing
            b'{"key":"c","value":3,"extra":1}',  # 4: a field kvgraph would drop
            b'{"key":5,"value":3}',  # 5: key not text
            b'{"key":"a","value":2}',  # 6: duplicate
            b'{"key":"nan","value":NaN}',  # 7: not JSON
            b'{"key":"huge","value":1e400}',  # 8: beyond a double, imported exactly
            b'{"key":"bad-utf8","value":"\xff"}',  # 9
            b'{"key":"d","value":{"ok":true}}',
        ]
    )
    store = await new_store("sqlite")
    report = await import_bytes(store, data, "jsonl")
    assert [bad.line for bad in report.bad_lines] == [2, 4, 5, 6, 7, 9]
    assert "duplicate key 'a' (first on line 1)" in report.bad_lines[3].reason
    assert not report.clean and report.verified == report.keys == 3
    assert await store.get_many(["a", "d", "c"]) == [1, {"ok": True}, None]
    assert await store.get_many_raw(["huge"]) == ["1e400"]


async def test_bad_csv_records_are_reported_with_their_line(new_store: Any) -> None:
    data = (
        b"key,value\r\n"
        b"a,1\r\n"
        b'b,"{""broken"": }"\r\n'  # 3: JSON that is broken, not a bare string
        b"c,1,2\r\n"  # 4: three fields
        b'd,"multi\r\nline ""text"""\r\n'  # 5-6: one record on two lines
        b'e,"x"y\r\n'  # 7: not CSV
        b"f,\xff\r\n"  # 8: not UTF-8
        b"g,2"
    )
    store = await new_store("sqlite")
    report = await import_bytes(store, data, "csv")
    assert [(bad.line, bad.reason.split(" (")[0]) for bad in report.bad_lines] == [
        (3, "the value is not JSON"),
        (4, "3 fields where the header has 2"),
        (7, "not CSV"),
        (8, "not UTF-8"),
    ]
    assert await store.get_many(["a", "d", "g"]) == [1, 'multi\r\nline "text"', 2]
    assert report.verified == 3


@pytest.mark.postgres
async def test_nul_is_refused_by_postgres_and_reported_by_key(new_store: Any) -> None:
    rows = {"a": 1, "nul:value": "a\x00b", "nul:deep": {"x": ["\x00"]}, "nul:key\x00": 1, "z": 2}
    source = await new_store("sqlite")  # SQLite holds NUL
    await source.set_many(rows)
    exported = await export_bytes(source, "jsonl")
    target = await new_store("postgres")
    report = await import_bytes(target, exported, "jsonl", batch=2)
    assert sorted(r.key for r in report.refused) == ["nul:deep", "nul:key\x00", "nul:value"]
    assert all("Postgres refused" in r.reason for r in report.refused)
    assert (report.written, report.verified, report.keys) == (2, 2, 2)
    assert not report.clean
    assert await target.get_many(["a", "z"]) == [1, 2]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_lone_surrogates_are_reported_by_key(new_store: Any, backend: str) -> None:
    data = b'{"key":"ok","value":1}\n{"key":"bad","value":"\\ud800"}\n{"key":"\\udfff","value":1}\n'
    store = await new_store(backend)
    report = await import_bytes(store, data, "jsonl")
    assert [(r.line, r.key) for r in report.refused] == [(2, "bad"), (3, "\udfff")]
    assert "lone surrogate" in report.refused[0].reason
    assert report.verified == report.keys == 1 and await store.get("ok") == 1


async def test_verification_finds_a_write_the_store_lost(
    new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await new_store("sqlite")
    real = store.set_many

    async def lossy(items: Mapping[str, JSON]) -> None:
        await real({k: v for k, v in items.items() if k != "b"})

    monkeypatch.setattr(store, "set_many", lossy)
    data = b'{"key":"a","value":1}\n{"key":"b","value":2}\n'
    report = await import_bytes(store, data, "jsonl")
    assert report.mismatched == ["'b' (line 2) is missing from the store"]
    assert report.verified == 1 and not report.clean


async def test_one_transaction_per_batch_and_progress(
    new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await new_store("sqlite")
    sizes: list[int] = []
    real = store.set_many

    async def counting(items: Mapping[str, JSON]) -> None:
        sizes.append(len(items))
        await real(items)

    monkeypatch.setattr(store, "set_many", counting)
    data = b"".join(b'{"key":"k%d","value":%d}\n' % (i, i) for i in range(7))
    steps: list[Step] = []
    report = await import_bytes(store, data, "jsonl", batch=3, progress=steps.append)
    assert sizes == [3, 3, 1] and report.verified == 7
    assert [(s.phase, s.rows) for s in steps] == [
        ("import", 3),
        ("import", 6),
        ("import", 7),
        ("verify", 3),
        ("verify", 6),
        ("verify", 7),
    ]
    assert steps[2].done == steps[2].total == len(data) == steps[-1].done


# ------------------------------------------------------------- values kvgraph cannot read

DEEP = "[" * 5_000 + "]" * 5_000
RAW_ROWS = {  # stored text only SQLite and a text column hold, exactly as another app wrote it
    "trip:bad": "this is not json, {not even close",
    "trip:sur": '{"id": "sur", "title": "x\\ud800"}',
    "trip:deep": '{ "id" : "deep", "notes" : ' + DEEP + " }",
    "note:crlf": 'line one\r\nline "two", with a comma',
}
TEXT_PAIRS = [
    ("sqlite", "sqlite"),
    pytest.param("sqlite", "postgres-text", marks=pytest.mark.postgres),
    pytest.param("postgres-text", "sqlite", marks=pytest.mark.postgres),
]


async def raw_values(store: Store, keys: list[str]) -> list[Any]:
    return list(await store.get_many_raw(keys))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("source", "target"), TEXT_PAIRS)
async def test_values_kvgraph_cannot_read_go_out_raw_and_come_back_byte_for_byte(
    new_store: Any, source: str, target: str, fmt: str
) -> None:
    first = await new_store(source)
    await first.set_many_raw(RAW_ROWS)
    await first.set_many({"trip:ok": {"id": "ok", "n": 123456789012345678901234567890}})
    out = io.BytesIO()
    report = await export_table(first, out, fmt)
    exported = out.getvalue()
    assert report.rows == 5 and not report.clean
    assert {item.key: item.reason for item in report.raw} == {
        "note:crlf": "not valid JSON (Expecting value)",
        "trip:bad": "not valid JSON (Expecting value)",
        "trip:deep": "notes nested too deep to read (1,000+ levels)",
        "trip:sur": "title contains a lone surrogate (U+D800), which is not valid Unicode",
    }
    if fmt == "jsonl":
        assert b'{"key":"trip:bad","raw":"this is not json, {not even close"}\n' in exported
        assert (
            b'{"key":"trip:sur","raw":"{\\"id\\": \\"sur\\", \\"title\\": \\"x\\\\ud800\\"}"}'
            in exported
        )
    else:
        assert b'\r\ntrip:bad,"this is not json, {not even close",raw\r\n' in exported
        assert b'\r\nnote:crlf,"line one\r\nline ""two"", with a comma",raw\r\n' in exported
    assert b"123456789012345678901234567890" in exported

    second = await new_store(target)
    imported = await import_bytes(second, exported, fmt)
    assert imported.clean, imported
    assert (imported.written, imported.verified) == (5, 5)
    keys = sorted(RAW_ROWS)
    assert await raw_values(second, keys) == [RAW_ROWS[k] for k in keys]
    assert await export_bytes(second, fmt) == exported
    again = await import_bytes(second, exported, fmt)
    assert (again.written, again.unchanged, again.verified) == (0, 5, 5)


@pytest.mark.postgres
@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_jsonb_column_takes_what_it_can_and_refuses_the_rest_by_key(
    new_store: Any, fmt: str
) -> None:
    source = await new_store("sqlite")
    await source.set_many_raw(RAW_ROWS)
    target = await new_store("postgres")
    report = await import_bytes(target, await export_bytes(source, fmt), fmt)
    assert sorted(r.key for r in report.refused) == ["note:crlf", "trip:bad", "trip:sur"]
    assert all("Postgres refused the value" in r.reason for r in report.refused)
    # The deep value is JSON: jsonb holds it in its own spelling, the same value.
    assert (report.written, report.verified, report.keys) == (1, 1, 1)
    (stored,) = await raw_values(target, ["trip:deep"])
    assert stored == '{"id": "deep", "notes": ' + DEEP + "}"


NUMBERS = {
    "n:big": 123456789012345678901234567890,
    "n:u64+1": 18446744073709551616,
    "n:neg": -9223372036854775809,
    "n:list": [1, 10**40 + 7, {"deep": -(10**25) - 3}, 10**40],
}
NUMBER_TEXTS = {"n:pi": "3.14159265358979323846", "n:huge": "1e400", "n:tiny": "1.5e-400"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("source", "target"), PAIRS)
async def test_numbers_keep_their_digits_through_export_and_import(
    new_store: Any, source: str, target: str, fmt: str
) -> None:
    first = await new_store(source)
    await first.set_many(NUMBERS)
    await first.set_many_raw({key: f"[{text}]" for key, text in NUMBER_TEXTS.items()})
    exported = await export_bytes(first, fmt)
    for digits in ("123456789012345678901234567890", "18446744073709551616", "1" + "0" * 39 + "7"):
        assert digits.encode() in exported
    for text in (b"3.14159265358979323846", b"1e400", b"1.5e-400"):
        assert text in exported
    second = await new_store(target)
    report = await import_bytes(second, exported, fmt)
    assert report.clean and report.verified == len(NUMBERS) + len(NUMBER_TEXTS), report
    assert await export_bytes(second, fmt) == exported
    values = await second.get_many(list(NUMBERS))
    assert [canonical(v) for v in values] == [canonical(v) for v in NUMBERS.values()]


async def test_verification_catches_a_store_that_rounds_numbers(
    new_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await new_store("sqlite")
    real = store.set_many

    async def rounding(items: Mapping[str, JSON]) -> None:  # stores what orjson alone reads
        await real({key: orjson.loads(canonical(value)) for key, value in items.items()})

    monkeypatch.setattr(store, "set_many", rounding)
    data = b'{"key":"a","value":123456789012345678901234567890}\n{"key":"b","value":2}\n'
    report = await import_bytes(store, data, "jsonl")
    assert report.mismatched == ["'a' (line 1) holds another value"]
    assert canonical(orjson.loads(b"123456789012345678901234567890")) == canonical(
        orjson.loads(b"123456789012345678901234567891")
    )  # why canonical compares exact values: orjson alone cannot tell these apart
    assert canonical(parse_json("123456789012345678901234567890")) != canonical(
        parse_json("123456789012345678901234567891")
    )


@pytest.mark.parametrize(
    ("data", "fmt", "reason"),
    [
        (b'{"key":"a","raw":17}\n', "jsonl", 'not a row: expected {"key": "...", "value": ...}'),
        (b'{"key":"a","raw":"x","value":1}\n', "jsonl", "not a row"),
        (b"key,value\r\na,x,rare", "csv", "3 fields where the header has 2"),
        (b"key,value\r\na,x,raw,raw", "csv", "4 fields where the header has 2"),
    ],
)
async def test_a_raw_row_must_be_flagged_exactly(
    new_store: Any, data: bytes, fmt: str, reason: str
) -> None:
    good = b'{"key":"ok","raw":"{ not json"}\n' if fmt == "jsonl" else b"\r\nok,{ not json,raw"
    store = await new_store("sqlite")
    report = await import_bytes(store, data + good, fmt)
    assert [bad.reason.startswith(reason) for bad in report.bad_lines] == [True]
    assert report.verified == 1 and await store.get_many_raw(["ok", "a"]) == ["{ not json", None]
