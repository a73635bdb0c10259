"""A new entity whose key pattern exists is five source files: its record in `models.py`, its
spec in `entities.py`, its read and write rules in `access.py`, `resolvers/<domain>.py` and
`gql/schema/<domain>.py`; nothing to register in `build.py` or `enums.py`.

Tried on a copy of the source tree: the five edits below (the same text a contributor would
write) are made to the copy, the key patterns first (the seed's are all in `keys.py`
already), and a fresh interpreter serves and checks the new kind from it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The precondition, not one of the five: the entity's key patterns (`keys.py`).
KEYS = (
    "gql/kv/keys.py",
    "# Indexes (JSON arrays of ids, in order).\n",
    'NOTE = _p("note", "note:{id}", ENT)\n',
    'NOTES_INDEX = _p("notes_index", "notes:index:{userId}", IDX)\n',
)

# The five places: edits (file, anchor, text inserted before it) and new files.
EDITS = (
    (
        "gql/kv/models.py",
        "class Collection(Record):\n",
        """Mood = Literal["calm", "excited"]
VALUE_SETS[Mood] = ValueSet("NoteMood", "How a note feels.", {"calm": "Nothing to worry."})


class Note(Record):
    id: str
    user_id: str
    text: str
    mood: Annotated[Mood, Open] | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


""",
    ),
    (
        "gql/kv/entities.py",
        "\n# The catalog (`catalog.py`): each kind's places",
        '\nNOTE = _s(k.NOTE, m.Note, indexes=(IndexLink(k.NOTES_INDEX, "user_id"),))\n',
    ),
    ("resolvers/access.py", "    e.TRIP.name: Rule(_trips),\n", "    e.NOTE.name: Rule(_owner),\n"),
    ("resolvers/access.py", "    e.TRIP.name: USER,\n", "    e.NOTE.name: USER,\n"),
)
NEW_FILES = {
    "resolvers/notes.py": '''"""Notes: a user's own notes (`note:{id}`, listed by `notes:index:{userId}`)."""

from __future__ import annotations

from typing import Any

from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from resolvers.access import record
from resolvers.common import IdArgs, Outcome, author, pages_of_index, viewer_id, written
from resolvers.context import Context
from resolvers.paging import Page, PageArgs


async def note(ctx: Context, note_id: str) -> m.Note | None:
    """A note of the viewer's."""
    return await record(ctx, e.NOTE, note_id)


async def note_by_id(ctx: Context, args: IdArgs) -> m.Note | None:
    """`note(id:)`."""
    return await note(ctx, args.id)


async def my_notes(ctx: Context, args: PageArgs) -> Page:
    """A page of the viewer's notes."""
    user = viewer_id(ctx)
    return (await pages_of_index(ctx, [user], k.NOTES_INDEX, str, e.NOTE, args))[0]


async def create_note(ctx: Context, data: dict[str, Any]) -> Outcome:
    """Write a note for the viewer."""
    user = author(ctx, e.NOTE)
    if not str(data.get("text") or "").strip():
        return Outcome.fail("a note needs text", "text")
    return await written(ctx, ctx.repo.create(e.NOTE, {**data, "userId": user}))
''',
    "gql/schema/notes.py": '''"""Notes: `Note`, `note(id:)`, `notes` and `createNote`."""

from __future__ import annotations

import strawberry

from gql.kv import models as m
from gql.schema.base import Connection, Node, by_id, node, root_field, root_mutations, root_query
from gql.schema.derive import create_input, from_model, mutation
from resolvers import notes
from resolvers.paging import PageArgs


@strawberry.type(description="A note of the viewer's.")
@node(m.Note, notes.note)
@from_model(m.Note, hide=("user_id",))
class Note(Node):
    pass


CreateNoteInput = create_input(m.Note, "CreateNoteInput", hide=("user_id",))


@root_query
@strawberry.type
class NoteQuery:
    note: Note | None = by_id(notes.note_by_id, description="A note of the viewer's.")
    notes: Connection[Note] = root_field(
        notes.my_notes, args=PageArgs, description="The viewer's notes."
    )


@root_mutations
@strawberry.type
class NoteMutations:
    create_note = mutation(notes.create_note, CreateNoteInput, "note", Note, "Write a note.")
''',
}

SCRIPT = """
import asyncio, json, sys
from gql.kv import check, open_store
from gql.kv import entities as e
from gql.schema.build import build_schema, sdl
from resolvers import access
from resolvers.context import Context

CREATE = '''mutation { createNote(input: {text: "Pack the charger", mood: CALM}) {
  note { id text mood } userErrors { code field } } }'''
EMPTY = '''mutation { createNote(input: {text: " "}) { note { id } userErrors { code field } } }'''
LIST = '''{ notes { totalCount nodes { text mood moodRaw } } }'''
BY_ID = '''{ note(id: "n-app") { text } }'''
NODE = '''query($n: ID!) { node(nodeId: $n) { __typename ... on Note { text mood } } }'''

async def main(path):
    store = open_store(f"sqlite:///{path}", "kv")
    await store.open()
    schema = build_schema()

    async def run(query, viewer, variables=None):
        context = Context(store=store, viewer_id=viewer)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        return {"data": result.data, "errors": [e.message for e in result.errors or ()]}

    try:
        await store.set_many({  # a note as an app writes it, with a mood kvgraph does not know
            "note:n-app": {"id": "n-app", "userId": "u1", "text": "Call", "mood": "grumpy"},
            "notes:index:u1": ["n-app"],
            "notes:index:u2": ["gone"],
        })
        created = await run(CREATE, "u1")
        node_id = (await run('{ notes { nodes { nodeId } } }', "u1"))["data"]["notes"]["nodes"]
        out = {
            "created": created,
            "empty": await run(EMPTY, "u1"),
            "anonymous": await run(EMPTY, None),
            "list": await run(LIST, "u1"),
            "byId": await run(BY_ID, "u1"),
            "stranger": await run(BY_ID, "u2"),
            "node": await run(NODE, "u1", {"n": node_id[-1]["nodeId"]}),
            "strangerNode": await run(NODE, "u2", {"n": node_id[-1]["nodeId"]}),
        }
        report = await check.scan(store)
    finally:
        await store.close()
    text = sdl()
    out.update({
        "spec": e.SPECS["note"].model.__name__,
        "rules": [access.RULES["note"].by_key, access.WRITES["note"].create.value],
        "type": "type Note implements Node {" in text,
        "enum": 'enum NoteMood {\\n  \\"\\"\\"Nothing to worry.\\"\\"\\"\\n  CALM\\n  EXCITED\\n' in text
        and "\\n  OTHER\\n}" in text.split("enum NoteMood", 1)[1].split("}", 1)[0] + "}",
        "problems": sorted(f"{p.key} {p.kind.value}" for p in report.problems),
    })
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
"""


def _copy_with_new_entity(dest: Path) -> set[str]:
    """Copy the source packages to `dest`, make the edits; the source files changed."""
    for package in ("gql", "resolvers"):
        shutil.copytree(
            ROOT / package, dest / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    changed = set()
    for path, anchor, *texts in (KEYS, *EDITS):
        source = (dest / path).read_text(encoding="utf-8")
        assert source.count(anchor) == 1, f"{path}: anchor {anchor!r} not found once"
        (dest / path).write_text(source.replace(anchor, "".join(texts) + anchor), "utf-8")
        changed.add(path)
    for path, text in NEW_FILES.items():
        (dest / path).write_text(text, encoding="utf-8")
        changed.add(path)
    return changed - {KEYS[0]}


def test_a_new_entity_is_five_source_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    changed = _copy_with_new_entity(src)
    assert changed == {
        "gql/kv/models.py",
        "gql/kv/entities.py",
        "resolvers/access.py",
        "resolvers/notes.py",
        "gql/schema/notes.py",
    }
    script = src / "notes_script.py"
    script.write_text(SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "kv.db")],
        cwd=src,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(src)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    created = found["created"]["data"]["createNote"]
    assert created["userErrors"] == [] and created["note"]["mood"] == "CALM"
    assert found.pop("created")["errors"] == []
    assert found == {
        "empty": {
            "data": {
                "createNote": {
                    "note": None,
                    "userErrors": [{"code": "BAD_USER_INPUT", "field": "text"}],
                }
            },
            "errors": [],
        },
        "anonymous": {
            "data": None,
            "errors": ["sign in first: send Authorization: Bearer <token>"],
        },
        "list": {
            "data": {
                "notes": {
                    "totalCount": 2,
                    "nodes": [
                        {"text": "Call", "mood": "OTHER", "moodRaw": "grumpy"},
                        {"text": "Pack the charger", "mood": "CALM", "moodRaw": "calm"},
                    ],
                }
            },
            "errors": [],
        },
        "byId": {"data": {"note": {"text": "Call"}}, "errors": []},
        "stranger": {"data": {"note": None}, "errors": []},
        "node": {
            "data": {"node": {"__typename": "Note", "text": "Pack the charger", "mood": "CALM"}},
            "errors": [],
        },
        "strangerNode": {"data": {"node": None}, "errors": []},
        "spec": "Note",
        "rules": [False, "user"],
        "type": True,
        "enum": True,
        "problems": ["notes:index:u2 dangling"],
    }


def test_a_value_set_that_makes_no_graphql_enum_is_refused_by_name() -> None:
    from typing import Literal

    from gql.kv import models as m
    from gql.schema.enums import enum_of

    for values, message in (
        (Literal["ok", "other"], "`other` names unknown values"),
        (Literal["ok", "in-progress"], "values ['IN-PROGRESS'] make no GraphQL enum value names"),
    ):
        m.VALUE_SETS[values] = m.ValueSet("Broken")
        try:
            with pytest.raises(ValueError, match=re.escape(f"Broken: {message}")):
                enum_of(values)
        finally:
            del m.VALUE_SETS[values]


def test_every_value_set_derives_its_enum_with_other_last() -> None:
    from typing import get_args

    from gql.kv import models as m
    from gql.schema import enums

    for literal, info in m.VALUE_SETS.items():
        enum = enums.enum_of(literal)
        assert enum is getattr(enums, info.name)
        assert [member.value for member in enum] == [*get_args(literal), m.OTHER]
    assert enums.enum_of(str) is None
