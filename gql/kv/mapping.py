"""A team's own names for kvgraph's fields and enum values, from a TOML mapping file.

Apps that wrote their table before kvgraph name things their way (`ownerId` for `userId`,
`model` for an assistant message). A mapping says so once per entity; kvgraph then reads
those names and values as its own and writes them back in the app's spelling, so a record
kvgraph writes keeps looking like the app's own. A mapping is a value handed to whatever
reads or writes records (never global state), the identity by default, and a file is
checked completely when it is loaded, so a typo stops the start with a clear message:

    [trip.fields]              # app's name = kvgraph's name
    ownerId = "userId"

    [message.values.role]      # app's value = kvgraph's value (kvgraph's field name)
    model = "assistant"
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
from gql.kv.entities import SPECS

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
Names = dict[str, dict[str, str]]  # entity -> app name -> kvgraph name
Values = dict[str, dict[str, dict[str, str]]]  # entity -> field -> app value -> kvgraph value


class MappingError(ValueError):
    """A mapping file kvgraph cannot use; the message names the file and every bad entry."""


def _frozen(table: MappingABC[str, Any]) -> MappingABC[str, Any]:
    return MappingProxyType(dict(table))


@dataclass(frozen=True, eq=False)
class EntityMapping:
    """One entity's names: the app's field names and enum values, both ways."""

    entity: str
    fields: MappingABC[str, str]  # app name -> kvgraph name
    values: MappingABC[str, MappingABC[str, str]]  # kvgraph field -> app value -> kvgraph value
    app_names: MappingABC[str, str] = field(init=False)
    app_values: MappingABC[str, MappingABC[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "app_names", _frozen({k: a for a, k in self.fields.items()}))
        back: dict[str, MappingABC[str, str]] = {}
        for name, table in self.values.items():
            targets = list(table.values())
            # Written back in the app's spelling only when exactly one app value means it.
            back[name] = _frozen({k: a for a, k in table.items() if targets.count(k) == 1})
        object.__setattr__(self, "app_values", _frozen(back))

    def incoming(self, value: dict[str, Any]) -> dict[str, Any]:
        """A stored object with the app's names and values turned into kvgraph's."""
        out = value
        for app, name in self.fields.items():
            if app in out:
                out = dict(out) if out is value else out
                out[name] = out.pop(app)
        for name, table in self.values.items():
            current = out.get(name)
            if isinstance(current, str) and current in table:
                out = dict(out) if out is value else out
                out[name] = table[current]
        return out


@dataclass(frozen=True, eq=False)
class AppMapping:
    """How one app names things, per record model (identity when empty).

    Identity-hashed: it keys the validation cache, and one mapping lives for a process.
    """

    entities: MappingABC[type[m.Record], EntityMapping] = field(
        default_factory=lambda: MappingProxyType({})
    )
    source: str = "(none)"

    def incoming(self, model: type[m.Record], value: dict[str, Any]) -> dict[str, Any]:
        """A stored object as kvgraph reads it: the app's names and values made kvgraph's."""
        entity = self.entities.get(model)
        return value if entity is None else entity.incoming(value)

    def write_name(
        self, model: type[m.Record], name: str, stored: MappingABC[str, Any] | None = None
    ) -> str:
        """The name a kvgraph field (camelCase) is written under.

        The mapping's name for it; else, when updating `stored`, a name the record already
        uses for it (its snake_case name or a built-in synonym); else kvgraph's own name.
        """
        entity = self.entities.get(model)
        if entity is not None and name in entity.app_names:
            return entity.app_names[name]
        if stored is None or name in stored:
            return name
        for other in _other_names(model).get(name, ()):
            if other in stored:
                return other
        return name

    def outgoing(
        self,
        model: type[m.Record],
        data: MappingABC[str, Any],
        stored: MappingABC[str, Any] | None = None,
    ) -> dict[str, Any]:
        """kvgraph-named data (camelCase) in the app's names and enum values, for writing."""
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
            if entity.fields:
                names[entity.entity] = dict(entity.fields)
            if entity.values:
                values[entity.entity] = {f: dict(t) for f, t in entity.values.items()}
        return names, values

    def summary(self) -> str:
        """One line saying what the mapping renames."""
        names, values = self.tables()
        count = sum(len(t) for t in names.values())
        kinds = sum(len(t) for fields in values.values() for t in fields.values())
        return f"mapping {self.source}: {count} field name(s), {kinds} enum value(s)"


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
        spec = SPECS.get(entity)
        if spec is None:
            problems.append(f"[{entity}]: no such entity{_hint(entity, SPECS)}")
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
        entity, _frozen(fields), _frozen({k: _frozen(v) for k, v in values.items()})
    )


def _fields(entity: str, model: type[m.Record], table: Any, problems: list[str]) -> dict[str, str]:
    where = f"[{entity}.fields]"
    if not isinstance(table, dict):
        problems.append(f"{where}: expected a table of app name = kvgraph name")
        return {}
    known = _camel_fields(model)
    out: dict[str, str] = {}
    for app, name in table.items():
        if not isinstance(name, str):
            problems.append(
                f'{where} {app}: expected a kvgraph field name in quotes, e.g. "userId"'
            )
        elif name not in known:
            problems.append(
                f"{where} {app} = {name!r}: {entity} has no field {name!r}"
                f"{_hint(name, known)}; its fields: {', '.join(known)}"
            )
        elif "." in app or not app:
            problems.append(f"{where} {app!r}: an app name is one top-level field name")
        elif app in known:
            problems.append(f"{where} {app} = {name!r}: {app!r} is itself a {entity} field")
        elif name in out.values():
            problems.append(f"{where}: two app names for {name!r}")
        else:
            out[app] = name
    return out


def _values(
    entity: str, model: type[m.Record], table: Any, problems: list[str]
) -> dict[str, dict[str, str]]:
    enums = m.enum_fields(model)
    if not isinstance(table, dict):
        problems.append(f"[{entity}.values]: expected tables such as [{entity}.values.<field>]")
        return {}
    out: dict[str, dict[str, str]] = {}
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
        for app, value in pairs.items():
            if not isinstance(value, str) or value not in known:
                problems.append(f"{where} {app} = {value!r}: use one of {', '.join(known)}")
            elif app in known:
                problems.append(f"{where} {app!r} is already a value kvgraph knows")
            else:
                out.setdefault(name, {})[app] = value
    return out


# ---------------------------------------------------------------- writing a mapping file
def _key(word: str) -> str:
    return word if _BARE_KEY.match(word) else json.dumps(word)


def toml_text(names: Names, values: Values, notes: MappingABC[str, list[str]] | None = None) -> str:
    """A mapping file for these tables; `notes` adds comment lines under an entity."""
    lines: list[str] = []
    for entity in sorted(set(names) | set(values) | set(notes or {})):
        block: list[str] = [f"# {note}" for note in (notes or {}).get(entity, [])]
        if names.get(entity):
            block.append(f"[{entity}.fields]")
            block += [f"{_key(a)} = {json.dumps(k)}" for a, k in names[entity].items()]
        for name, pairs in values.get(entity, {}).items():
            block.append(f"[{entity}.values.{name}]")
            block += [f"{_key(a)} = {json.dumps(k)}" for a, k in pairs.items()]
        lines += [*block, ""]
    return "\n".join(lines)
