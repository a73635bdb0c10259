"""A team's own names for kvgraph's fields and enum values, from a TOML mapping file.

Apps that wrote their table before kvgraph name things their way (`ownerId` for `userId`,
`model` for an assistant message, `flight` for a transport item). A mapping says so once per
entity, and kvgraph reads those names and values as its own. Writing them back is where
meaning can be lost: an app's value is often narrower or broader than kvgraph's (`flight`
is one kind of `transport`), and writing it would store every train as a flight. So every
entry says whether kvgraph also *writes* the app's spelling, with the safe default:

    [trip.fields]              # app's name = kvgraph's name: also written (same field)
    ownerId = "userId"
    uid = { means = "userId", write = false }   # a spelling a few records use: read only

    [item.values.kind]         # app's value = kvgraph's value: read only (may be narrower)
    flight = "transport"

    [message.values.role]      # the same meaning: written too
    model = { means = "assistant", write = true }

A read-only name fills kvgraph's field only where kvgraph's own name is absent or null, so it
never hides a value stored under kvgraph's name; a written name wins over it. A read-only
value is read as kvgraph's value and never produced by a write: new and updated records get
kvgraph's own value. At most one written name per field and one written value per kvgraph
value. A mapping is a value handed to whatever reads or writes records (never global
state), the identity by default, and a file is checked completely when it is loaded, so a
typo stops the start with a clear message.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gql.kv import models as m
from gql.kv.entities import LISTS, SPECS

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
NAMES_WRITTEN = True  # a field name is written unless its entry says `write = false`
VALUES_WRITTEN = False  # a value is read only unless its entry says `write = true`
NOTHING: MappingABC[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Entry:
    """What one app name or value means (kvgraph's), whether kvgraph writes it, and why (a
    comment printed beside it in a proposed file)."""

    means: str
    write: bool
    why: str = ""


Names = dict[str, dict[str, Entry]]  # entity -> app name -> entry
Values = dict[str, dict[str, dict[str, Entry]]]  # entity -> field -> app value -> entry


class MappingError(ValueError):
    """A mapping file kvgraph cannot use; the message names the file and every bad entry."""


def _frozen(table: MappingABC[str, Any]) -> MappingABC[str, Any]:
    return MappingProxyType(dict(table))


@dataclass(frozen=True, eq=False)
class EntityMapping:
    """One entity's names: the app's field names and enum values, how each is read and
    whether it is written."""

    entity: str
    model: type[m.Record]
    names: MappingABC[str, Entry]  # app name -> entry
    value_entries: MappingABC[str, MappingABC[str, Entry]]  # kvgraph field -> app value -> entry
    fields: MappingABC[str, str] = field(init=False)  # app name -> kvgraph name (all)
    values: MappingABC[str, MappingABC[str, str]] = field(init=False)  # field -> app -> kvgraph
    renames: MappingABC[str, str] = field(init=False)  # written app name -> kvgraph name
    spellings: MappingABC[str, tuple[str, ...]] = field(init=False)  # kvgraph -> read-only names
    app_names: MappingABC[str, str] = field(init=False)  # kvgraph name -> written app name
    app_values: MappingABC[str, MappingABC[str, str]] = field(init=False)  # field -> kv -> app

    def __post_init__(self) -> None:
        names, tables = self.names, self.value_entries
        spellings: dict[str, tuple[str, ...]] = {}
        for app, entry in names.items():
            if not entry.write:
                spellings[entry.means] = (*spellings.get(entry.means, ()), app)
        derived = {
            "fields": _frozen({a: e.means for a, e in names.items()}),
            "values": _frozen(
                {f: _frozen({a: e.means for a, e in t.items()}) for f, t in tables.items()}
            ),
            "renames": _frozen({a: e.means for a, e in names.items() if e.write}),
            "spellings": _frozen(spellings),
            "app_names": _frozen({e.means: a for a, e in names.items() if e.write}),
            "app_values": _frozen(
                {
                    f: _frozen({e.means: a for a, e in t.items() if e.write})
                    for f, t in tables.items()
                }
            ),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def incoming(self, value: dict[str, Any]) -> tuple[dict[str, Any], MappingABC[str, str]]:
        """A stored object with the app's names and values turned into kvgraph's, and the
        stored value of each enum-like field whose value it turned (camelCase name -> value)."""
        out = value
        for app, name in self.renames.items():  # a written name wins over kvgraph's own
            if app in out:
                out = dict(out) if out is value else out
                out[name] = out.pop(app)
        for name, apps in self.spellings.items():  # a read-only one only fills a gap
            if not _empty(self.model, out, name):
                continue
            found = next((out[a] for a in apps if out.get(a) is not None), None)
            if found is not None:
                out = dict(out) if out is value else out
                out[name] = found
        stored: dict[str, str] = {}
        for name, table in self.values.items():
            current = out.get(name)
            if isinstance(current, str) and current in table:
                out = dict(out) if out is value else out
                out[name], stored[name] = table[current], current
        return out, (MappingProxyType(stored) if stored else NOTHING)


def _empty(model: type[m.Record], data: MappingABC[str, Any], name: str) -> bool:
    """Whether a record leaves a field (camelCase) absent or null, under its camelCase and
    its Python name."""
    python = m.field_names(model).get(name, name)
    return data.get(name) is None and data.get(python) is None


@dataclass(frozen=True, eq=False)
class AppMapping:
    """How one app names things, per record model (identity when empty).

    Identity-hashed: it keys the validation cache, and one mapping lives for a process.
    """

    entities: MappingABC[type[m.Record], EntityMapping] = field(
        default_factory=lambda: MappingProxyType({})
    )
    source: str = "(none)"

    def incoming(
        self, model: type[m.Record], value: dict[str, Any]
    ) -> tuple[dict[str, Any], MappingABC[str, str]]:
        """A stored object as kvgraph reads it (the app's names and values made kvgraph's),
        and the stored values of the enum-like fields the mapping read as others."""
        entity = self.entities.get(model)
        return (value, NOTHING) if entity is None else entity.incoming(value)

    def write_name(
        self, model: type[m.Record], name: str, stored: MappingABC[str, Any] | None = None
    ) -> str:
        """The name a kvgraph field (camelCase) is written under.

        The mapping's written name for it; else, when updating `stored`, a name the record
        already uses for it (a read-only name of the mapping, its snake_case name or a
        built-in synonym); else kvgraph's own name.
        """
        entity = self.entities.get(model)
        if entity is not None and name in entity.app_names:
            return entity.app_names[name]
        if stored is None or name in stored:
            return name
        spelled = entity.spellings.get(name, ()) if entity is not None else ()
        for other in (*spelled, *_other_names(model).get(name, ())):
            if other in stored:
                return other
        return name

    def outgoing(
        self,
        model: type[m.Record],
        data: MappingABC[str, Any],
        stored: MappingABC[str, Any] | None = None,
    ) -> dict[str, Any]:
        """kvgraph-named data (camelCase) in the app's names, for writing; an enum value is
        written in the app's spelling only where the mapping marks that spelling written."""
        entity = self.entities.get(model)
        if entity is None and stored is None:
            return dict(data)
        out: dict[str, Any] = {}
        for name, value in data.items():
            if entity is not None and isinstance(value, str):
                value = entity.app_values.get(name, {}).get(value, value)
            out[self.write_name(model, name, stored)] = value
        return out

    def tables(self) -> tuple[Names, Values]:
        """The mapping as plain tables by entity name (for printing and proposals)."""
        names: Names = {}
        values: Values = {}
        for entity in self.entities.values():
            if entity.names:
                names[entity.entity] = dict(entity.names)
            if entity.value_entries:
                values[entity.entity] = {f: dict(t) for f, t in entity.value_entries.items()}
        return names, values

    def summary(self) -> str:
        """One line saying what the mapping renames and what it writes."""
        names, values = self.tables()
        fields = [e for table in names.values() for e in table.values()]
        kinds = [e for tables in values.values() for t in tables.values() for e in t.values()]
        read_only = sum(not e.write for e in fields)
        written = sum(e.write for e in kinds)
        return (
            f"mapping {self.source}: {len(fields)} field name(s) ({read_only} read-only), "
            f"{len(kinds)} enum value(s) ({written} written)"
        )


IDENTITY = AppMapping()


def _other_names(model: type[m.Record]) -> dict[str, tuple[str, ...]]:
    """For each field (camelCase): its snake_case name and its top-level built-in synonyms."""
    _, entries = m.synonyms(model)
    extra = {name: tuple(o for o in others if "." not in o) for name, _, others in entries}
    out: dict[str, tuple[str, ...]] = {}
    for python, info in model.model_fields.items():
        camel = info.alias or python
        snake = (python,) if python != camel else ()
        out[camel] = snake + extra.get(camel, ())
    return out


# ---------------------------------------------------------------- loading and checking
def load_mapping(path: str | Path) -> AppMapping:
    """Read and check a mapping file; MappingError says everything that is wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"mapping file {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise MappingError(f"mapping file {path}: not UTF-8 text") from None
    return parse_mapping(text, str(path))


def parse_mapping(text: str, source: str = "mapping") -> AppMapping:
    """Check a mapping document (TOML text) and build the mapping it describes."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {source}: not valid TOML: {exc}") from None
    problems: list[str] = []
    entities: dict[type[m.Record], EntityMapping] = {}
    for entity, section in document.items():
        spec = SPECS.get(entity) or LISTS.get(entity)
        if spec is None:
            problems.append(f"[{entity}]: no such entity{_hint(entity, {**SPECS, **LISTS})}")
        elif not isinstance(section, dict):
            problems.append(f"{entity}: expected a table such as [{entity}.fields]")
        else:
            found = _entity(entity, spec.model, section, problems)
            if found is not None:
                entities[spec.model] = found
    if problems:
        raise MappingError(f"mapping file {source}:\n  " + "\n  ".join(problems))
    return AppMapping(MappingProxyType(entities), source)


def _hint(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _camel_fields(model: type[m.Record]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _entity(
    entity: str, model: type[m.Record], section: dict[str, Any], problems: list[str]
) -> EntityMapping | None:
    before = len(problems)
    for key in section:
        if key not in {"fields", "values"}:
            problems.append(f"[{entity}.{key}]: use [{entity}.fields] or [{entity}.values.<field>]")
    fields = _fields(entity, model, section.get("fields", {}), problems)
    values = _values(entity, model, section.get("values", {}), problems)
    if len(problems) > before:
        return None
    return EntityMapping(
        entity, model, _frozen(fields), _frozen({k: _frozen(v) for k, v in values.items()})
    )


def _entry(
    where: str, raw: Any, written: bool, what: str, sample: str, problems: list[str]
) -> Entry | None:
    """One entry: `"kvgraph's"` (the default for writing) or `{ means = "...", write = ... }`."""
    if isinstance(raw, str):
        return Entry(raw, written)
    if not isinstance(raw, dict):
        flag = str(not written).lower()
        problems.append(
            f'{where}: expected a kvgraph {what} in quotes, e.g. "{sample}", '
            f'or {{ means = "{sample}", write = {flag} }}'
        )
        return None
    means, write = raw.get("means"), raw.get("write", written)
    if unknown := set(raw) - {"means", "write"}:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (use means, write)")
    elif not isinstance(means, str):
        problems.append(f'{where}: means names the kvgraph {what} in quotes, e.g. "{sample}"')
    elif not isinstance(write, bool):
        problems.append(f"{where}: write is true or false")
    else:
        return Entry(means, write)
    return None


def _fields(
    entity: str, model: type[m.Record], table: Any, problems: list[str]
) -> dict[str, Entry]:
    where = f"[{entity}.fields]"
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table of app name = kvgraph name")
        return {}
    known = _camel_fields(model)
    out: dict[str, Entry] = {}
    for app, raw in table.items():
        entry = _entry(f"{where} {app}", raw, NAMES_WRITTEN, "field name", "userId", problems)
        if entry is None:
            continue
        name = entry.means
        if name not in known:
            problems.append(
                f"{where} {app} = {name!r}: {entity} has no field {name!r}"
                f"{_hint(name, known)}; its fields: {', '.join(known)}"
            )
        elif "." in app or not app:
            problems.append(f"{where} {app!r}: an app name is one top-level field name")
        elif app in known:
            problems.append(f"{where} {app} = {name!r}: {app!r} is itself a {entity} field")
        else:
            out[app] = entry
    problems += _written_twice(where, "app names", out)
    return out


def _written_twice(where: str, what: str, entries: MappingABC[str, Entry]) -> list[str]:
    """Problems where two entries write the same kvgraph name or value."""
    writers: dict[str, list[str]] = {}
    for app, entry in entries.items():
        if entry.write:
            writers.setdefault(entry.means, []).append(app)
    return [
        f"{where}: two {what} for {means!r} are written ({', '.join(apps)}); kvgraph writes "
        "one spelling: mark the others write = false"
        for means, apps in writers.items()
        if len(apps) > 1
    ]


def _values(
    entity: str, model: type[m.Record], table: Any, problems: list[str]
) -> dict[str, dict[str, Entry]]:
    enums = m.enum_fields(model)
    if not isinstance(table, dict):
        problems.append(f"[{entity}.values]: expected tables such as [{entity}.values.<field>]")
        return {}
    out: dict[str, dict[str, Entry]] = {}
    for name, pairs in table.items():
        where = f"[{entity}.values.{name}]"
        if name not in enums:
            listed = ", ".join(enums) or "none"
            problems.append(f"{where}: not an enum-like field of {entity} (those are: {listed})")
            continue
        if not isinstance(pairs, dict):
            problems.append(f"{where}: expected a table of app value = kvgraph value")
            continue
        known = enums[name]
        for app, raw in pairs.items():
            entry = _entry(f"{where} {app}", raw, VALUES_WRITTEN, "value", known[0], problems)
            if entry is None:
                continue
            if entry.means not in known:
                problems.append(f"{where} {app} = {entry.means!r}: use one of {', '.join(known)}")
            elif app in known:
                problems.append(f"{where} {app!r} is already a value kvgraph knows")
            else:
                out.setdefault(name, {})[app] = entry
        problems += _written_twice(where, "app values", out.get(name, {}))
    return out


# ---------------------------------------------------------------- writing a mapping file
HEADER = (
    "# write = true: kvgraph writes your name or value; write = false: it reads it but writes "
    "its own.\n# Field names are written and values are read only unless an entry says otherwise."
)


def _key(word: str) -> str:
    return word if _BARE_KEY.match(word) else json.dumps(word)


def _line(app: str, entry: Entry, written: bool) -> str:
    """One entry: the plain form for a written field name, else `{ means, write }` spelled
    out, so a reader sees what kvgraph writes; `why` as a comment."""
    if entry.write and written:
        text = f"{_key(app)} = {json.dumps(entry.means)}"
    else:
        flag = "true" if entry.write else "false"
        text = f"{_key(app)} = {{ means = {json.dumps(entry.means)}, write = {flag} }}"
    return f"{text}  # {entry.why}" if entry.why else text


def toml_text(names: Names, values: Values, notes: MappingABC[str, list[str]] | None = None) -> str:
    """A mapping file for these tables; `notes` adds comment lines under an entity."""
    lines: list[str] = [HEADER, ""]
    for entity in sorted(set(names) | set(values) | set(notes or {})):
        block: list[str] = [f"# {note}" for note in (notes or {}).get(entity, [])]
        if names.get(entity):
            block.append(f"[{entity}.fields]")
            block += [_line(a, e, NAMES_WRITTEN) for a, e in names[entity].items()]
        for name, pairs in values.get(entity, {}).items():
            block.append(f"[{entity}.values.{name}]")
            block += [_line(a, e, VALUES_WRITTEN) for a, e in pairs.items()]
        lines += [*block, ""]
    return "\n".join(lines)
