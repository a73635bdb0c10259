"""`check --shapes`: what the records of a table look like, beside what kvgraph expects.

A team pointing kvgraph at the table its app wrote needs to see which of its field names,
types and enum values kvgraph does not read as they are, and which mapping file would make
them fit. One pass over the table counts, per key pattern, each field's records, JSON types,
enum values and date/time formats; validates every record as kvgraph would (with the mapping
in use); and proposes mapping entries for the names and values it recognises. Only the
logic lives here; `gql/commands/shapes.py` prints it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.base import Store
from gql.kv.entities import LISTS, SPECS, EntitySpec
from gql.kv.jsontext import Kept, Number, Unreadable, kept
from gql.kv.mapping import IDENTITY, AppMapping, EntityMapping, Entry, Names, Values, toml_text

PROGRESS_EVERY = 10_000
VALUES_KEPT = 30  # distinct values counted per enum-like field; the rest count as "…"
FIELDS_KEPT = 200  # distinct field names counted per key pattern; the rest count as "…"
EPOCH_MS_FROM = 20_000_000_000
_OFFSET = re.compile(r"([+-]\d{2}(:?\d{2})?|[Zz])$")

# Names apps use for kvgraph's fields (proposals only: `check --shapes` suggests them, a
# person confirms them in the mapping file). Built-in synonyms (`models.SYNONYMS`) are read
# without a mapping; they are proposed too, so that kvgraph also writes the app's name.
NAME_PROPOSALS: dict[str, tuple[str, ...]] = {
    "userId": ("ownerId", "owner", "uid", "user", "authorId", "createdBy"),
    "tripId": ("trip", "itineraryId", "planId"),
    "conversationId": ("chatId", "threadId", "conversation"),
    "title": ("name", "label"),
    "name": ("title", "label"),
    "content": ("body", "text", "message"),
    "startTime": ("start", "startsAt", "startAt", "time"),
    "endTime": ("end", "endsAt", "endAt"),
    "startDate": ("start", "from", "departureDate"),
    "endDate": ("end", "to", "returnDate"),
    "timestamp": ("sentAt", "time", "createdAt"),
    "createdAt": ("created", "createdOn", "dateCreated", "created_at"),
    "updatedAt": ("updated", "modifiedAt", "lastModified", "updated_at"),
    "imageUrl": ("image", "photo", "photoUrl", "imageURL"),
    "avatarUrl": ("avatar", "photoUrl", "picture"),
    "locationId": ("placeId",),
    "locationType": ("placeType",),
    "placeId": ("locationId", "place"),
    "placeIds": ("places", "locationIds", "items"),
    "invitedAt": ("invited", "addedAt", "sharedAt"),
    "role": ("permission", "access", "accessLevel"),
    "kind": ("type", "category"),
    "notes": ("note",),
    "cost": ("price", "amount"),
    "currentStep": ("stage", "state", "current_step"),
    "itemIds": ("conflictingItems", "item_ids"),
    "jobId": ("job",),
    "url": ("link", "href", "sourceUrl"),
    "fetchedAt": ("retrievedAt", "scrapedAt"),
    "trigger": ("when", "condition"),
    "action": ("then", "do"),
    "agentName": ("agent", "agentType", "model"),
    "inputTokens": ("promptTokens", "tokensIn", "input_tokens"),
    "outputTokens": ("completionTokens", "tokensOut", "output_tokens"),
    "durationMs": ("duration", "latencyMs", "elapsedMs", "duration_ms"),
}


@dataclass(frozen=True)
class Hints:
    """App values for one kvgraph value: exact synonyms (proposed written) and values that
    are narrower, broader or only related (proposed read only, so kvgraph never writes them
    for another meaning: a train is no `flight`)."""

    same: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


# App values for kvgraph's enum values, per (entity, field): proposals only. A value differing
# from kvgraph's only in case (`Meal`) is an exact synonym too.
VALUE_PROPOSALS: dict[tuple[str, str], dict[str, Hints]] = {
    ("item", "kind"): {
        "transport": Hints(
            ("transportation",),
            ("flight", "train", "bus", "car", "ferry", "transfer", "taxi", "travel"),
        ),
        "stay": Hints(("accommodation",), ("hotel", "lodging", "check-in", "checkin")),
        "meal": Hints(
            (), ("restaurant", "food", "dining", "dinner", "lunch", "breakfast", "brunch")
        ),
        "activity": Hints(
            (), ("sightseeing", "tour", "event", "attraction", "museum", "excursion")
        ),
    },
    ("message", "role"): {
        "assistant": Hints(("model", "ai", "bot"), ("agent",)),
        "user": Hints(("human",)),
    },
    ("suggestion", "status"): {
        "active": Hints((), ("pending", "new", "open", "shown")),
        "accepted": Hints((), ("done", "applied", "approved")),
        "dismissed": Hints((), ("rejected", "declined", "ignored")),
    },
    ("saved_place", "locationType"): {
        "restaurant": Hints(("restaurants",), ("food", "dining")),
        "event": Hints(("events",), ("activity", "concert")),
        "rental": Hints(("rentals",), ("stay", "accommodation", "hotel")),
    },
    ("job", "status"): {
        "pending": Hints(("queued",), ("new", "scheduled", "waiting")),
        "running": Hints(("in_progress", "processing", "started"), ("active",)),
        "completed": Hints(("complete", "done", "succeeded", "success"), ("finished",)),
        "failed": Hints(("failure", "errored"), ("error", "timeout")),
        "cancelled": Hints(("canceled", "aborted"), ("stopped",)),
    },
    ("ai_run", "status"): {
        "success": Hints(("succeeded", "completed", "ok"), ("done", "finished")),
        "error": Hints(("failed", "failure", "errored"), ("rejected",)),
        "running": Hints(("in_progress", "started"), ("pending", "queued")),
        "cancelled": Hints(("canceled", "aborted"), ("stopped",)),
        "timeout": Hints(("timed_out", "timedout"), ()),
    },
    ("collaborator", "role"): {
        "editor": Hints(("edit", "write", "writer"), ("owner", "admin")),
        "viewer": Hints(("read", "reader", "view"), ("guest",)),
    },
    ("conflict", "type"): {
        "overlap": Hints(("overlapping", "time_overlap"), ("double_booking", "clash")),
        "outside_trip": Hints(("outside_dates",), ("out_of_range",)),
        "place_closed": Hints(("closed",), ("opening_hours",)),
        "outside_event": Hints((), ("event_time",)),
    },
    ("conflict", "status"): {
        "open": Hints((), ("new", "pending", "active", "unresolved")),
        "resolved": Hints((), ("fixed", "dismissed", "ignored", "accepted", "closed")),
    },
    ("workflow", "currentStep"): {
        "searching": Hints(("search",), ("quoting", "comparing")),
        "selected": Hints(("chosen",), ("selection",)),
        "booking": Hints((), ("pending", "processing", "payment", "awaiting_payment")),
        "confirmed": Hints(("booked",), ("completed", "done")),
        "cancelled": Hints(("canceled",), ()),
    },
    ("workflow", "status"): {
        "active": Hints((), ("in_progress", "pending", "open")),
        "completed": Hints(("complete",), ("done",)),
        "cancelled": Hints(("canceled",), ()),
    },
}


# ---------------------------------------------------------------- what kvgraph expects
@dataclass(frozen=True)
class Expect:
    """What kvgraph reads in one field: its type, whether it is required, known values."""

    type: str  # string, integer, number, boolean, date, date-time, array, object, any
    required: bool = False
    values: tuple[str, ...] = ()

    def text(self) -> str:
        """e.g. `string, required` or `one of user|assistant|system|tool`."""
        what = f"one of {'|'.join(self.values)}" if self.values else self.type
        return f"{what}, required" if self.required else what

    def to_json(self) -> dict[str, Any]:
        """The expectation as JSON."""
        return {"type": self.type, "required": self.required, "values": list(self.values)}


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:
        return _type_name(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _type_name(inner[0]) if len(inner) == 1 else "any"
    origin = get_origin(annotation) or annotation
    for python, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "number"),
        (str, "string"),
        (dt.datetime, "date-time"),
        (dt.date, "date"),
        (list, "array"),
        (dict, "object"),
    ):
        if isinstance(origin, type) and issubclass(origin, python):
            return name
    return "any"


@functools.cache
def expectations(model: type[m.Record]) -> dict[str, Expect]:
    """What kvgraph expects in each field of a model, by camelCase name."""
    enums = m.enum_fields(model)
    out = {}
    for name, info in model.model_fields.items():
        camel = info.alias or name
        kind = "string" if camel in enums else _type_name(info.annotation)
        out[camel] = Expect(kind, info.is_required(), enums.get(camel, ()))
    return out


# ---------------------------------------------------------------- what the table holds
def json_type(value: Any) -> str:
    """The JSON type of a decoded value (integer and number told apart; `unreadable`: a part
    kept as stored text, see `jsontext`)."""
    if value is None:
        return "null"
    if isinstance(value, Kept | Unreadable):
        return "unreadable"
    if isinstance(value, Number):
        return "integer" if value.text.lstrip("-").isdigit() else "number"
    for python, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string")):
        if isinstance(value, python):
            return name
    return "array" if isinstance(value, list) else "object"


def time_format(value: Any) -> str:
    """How a date or date-time is written: date, utc, offset, local, epoch ms/s, or text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "epoch ms" if abs(value) > EPOCH_MS_FROM else "epoch s"
    if not isinstance(value, str):
        return json_type(value)
    if value.isdigit():
        return "epoch (text)"
    if len(value) == 10 and value[4:5] == "-":
        return "date"
    if len(value) < 16 or value[10] not in "Tt ":
        return "text"
    found = _OFFSET.search(value[10:])
    if found is None:
        return "local"
    return "utc" if found.group(0) in {"Z", "z", "+00:00", "+0000", "+00"} else "offset"


@dataclass
class FieldStats:
    """One stored field name under one key pattern: how often, which types and values."""

    records: int = 0
    types: Counter[str] = field(default_factory=Counter)
    values: Counter[str] = field(default_factory=Counter)  # enum-like fields only
    formats: Counter[str] = field(default_factory=Counter)  # date and date-time fields only


@dataclass(frozen=True)
class Reading:
    """How kvgraph reads one stored field name: as which field, and why."""

    status: str  # field | snake_case | mapped | mapped read-only | synonym | embedded |
    # property | not read
    target: str | None = None  # the kvgraph field it fills
    note: str = ""  # embedded, property: the fields or model property it feeds


NOT_READ = Reading("not read")


@functools.cache
def _readings(model: type[m.Record]) -> dict[str, Reading]:
    """Every stored name a model reads without a mapping, and how."""
    # What each stored name fills: a field through a synonym, or a model property.
    fills: list[tuple[str, str, bool]] = [  # (stored name, what it fills, a property?)
        (other, target, False) for target, _, others in m.synonyms(model)[1] for other in others
    ]
    fills += [(n, prop, True) for prop, ns in m.PROPERTIES.get(model, {}).items() for n in ns]
    out: dict[str, Reading] = {}
    inside: dict[str, list[str]] = {}
    for name, target, is_property in fills:
        if "." in name:  # read inside an embedded object
            inside.setdefault(name.split(".", 1)[0], []).append(target)
        elif is_property:
            out.setdefault(name, Reading("property", None, target))
        else:
            out.setdefault(name, Reading("synonym", target))
    for top, targets in inside.items():
        out.setdefault(top, Reading("embedded", None, ", ".join(dict.fromkeys(targets))))
    for python, info in model.model_fields.items():
        camel = info.alias or python
        out[camel] = Reading("field", camel)
        if python != camel:
            out[python] = Reading("snake_case", camel)
    return out


def reading(model: type[m.Record], entity: EntityMapping | None, name: str) -> Reading:
    """How kvgraph (with this entity mapping) reads a stored field name."""
    if entity is not None and name in entity.fields:
        written = name in entity.renames
        return Reading("mapped" if written else "mapped read-only", entity.fields[name])
    return _readings(model).get(name, NOT_READ)


@dataclass
class EntityShape:
    """Every record under one entity key pattern."""

    spec: EntitySpec
    records: int = 0
    not_objects: int = 0
    invalid: Counter[str] = field(default_factory=Counter)  # reason -> records
    dropped: Counter[str] = field(default_factory=Counter)  # unreadable field -> records
    fields: dict[str, FieldStats] = field(default_factory=dict)
    filled: Counter[str] = field(default_factory=Counter)  # kvgraph field -> records with a value

    def _stats(self, name: str) -> FieldStats:
        """The counters of one stored field name; past FIELDS_KEPT names (records keyed by
        data, such as dates) they share one entry, "…"."""
        if name not in self.fields and len(self.fields) >= FIELDS_KEPT:
            name = "…"
        return self.fields.setdefault(name, FieldStats())

    def add(self, key: str, value: Any, mapping: AppMapping) -> None:
        """Count one stored record."""
        self.records += 1
        if isinstance(value, Unreadable):
            self.invalid[value.reason] += 1
            return
        if not isinstance(value, dict):
            self.not_objects += 1
            self.invalid[f"not a JSON object ({json_type(value)})"] += 1
            return
        model = self.spec.model
        expect, entity = expectations(model), mapping.entities.get(model)
        targets: set[str] = set()
        for name, item in value.items():
            stats = self._stats(name)
            stats.records += 1
            stats.types[json_type(item)] += 1
            target = reading(model, entity, name).target
            if target is not None and item is not None:
                targets.add(target)
            wanted = expect.get(target) if target else None
            if wanted is not None and wanted.values:
                label = item if isinstance(item, str) else json_type(item)
                if label in stats.values or len(stats.values) < VALUES_KEPT:
                    stats.values[label] += 1
                else:
                    stats.values["…"] += 1
            elif wanted is not None and wanted.type in {"date", "date-time"}:
                stats.formats[time_format(item)] += 1
        self.filled.update(targets)
        record = m.validate(model, key, value, mapping)
        if isinstance(record, m.InvalidRecord):
            self.invalid[record.message] += 1
        else:
            self.dropped.update(list(record.dropped_fields))


@dataclass
class IndexShape:
    """Every value under one index (or list) key pattern."""

    keys: int = 0
    values: Counter[str] = field(default_factory=Counter)  # JSON type of each value
    elements: Counter[str] = field(default_factory=Counter)  # JSON type of array elements

    def add(self, value: Any) -> None:
        """Count one stored index value."""
        self.keys += 1
        self.values[json_type(value)] += 1
        if isinstance(value, list):
            self.elements.update(json_type(v) for v in value)


@dataclass
class Proposal:
    """Mapping entries `check --shapes` suggests, with notes on what it could not place."""

    names: Names = field(default_factory=dict)
    values: Values = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing is proposed or noted."""
        return not (self.names or self.values or self.notes)

    def toml(self, mapping: AppMapping = IDENTITY) -> str:
        """A mapping file: the mapping in use plus these proposals, with the notes."""
        names, values = mapping.tables()
        for entity, table in self.names.items():
            names.setdefault(entity, {}).update(table)
        for entity, fields in self.values.items():
            for name, table in fields.items():
                values.setdefault(entity, {}).setdefault(name, {}).update(table)
        return toml_text(names, values, self.notes)


@dataclass
class Shapes:
    """What one pass over a table found."""

    mapping: AppMapping = IDENTITY
    scanned: int = 0
    entities: dict[str, EntityShape] = field(default_factory=dict)
    indexes: dict[str, IndexShape] = field(default_factory=dict)
    unknown: Counter[str] = field(default_factory=Counter)  # key prefix -> keys
    # Values (of keys kvgraph knows) it cannot read completely: (key, why), in key order.
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, value: Any) -> None:
        """Count one stored key."""
        self.scanned += 1
        parsed = k.parse(key)
        if parsed is None or (parsed.role is k.Role.ENTITY and parsed.pattern.name not in SPECS):
            self.unknown[key.split(":", 1)[0] + ":" if ":" in key else key] += 1
            return
        if isinstance(value, Unreadable):
            self.unreadable.append((key, value.reason))
        elif parts := kept(value):
            why = "; ".join(f"{name} {part.reason}" for name, part in parts.items())
            self.unreadable.append((key, f"{why}: kept as stored, not read"))
        if parsed.role is k.Role.ENTITY:
            spec = SPECS[parsed.pattern.name]
            shape = self.entities.setdefault(spec.name, EntityShape(spec))
            shape.add(key, value, self.mapping)
            return
        self.indexes.setdefault(parsed.pattern.template, IndexShape()).add(value)
        listed = LISTS.get(parsed.pattern.name)
        if listed is not None and isinstance(value, list):  # each object, like a record
            shape = self.entities.setdefault(listed.name, EntityShape(listed))
            for n, element in enumerate(value):
                shape.add(f"{key}[{n}]", element, self.mapping)

    def proposal(self) -> Proposal:
        """Mapping entries for the names and values this table uses that kvgraph could map."""
        out = Proposal()
        for name in sorted(self.entities):
            shape = self.entities[name]
            entity = self.mapping.entities.get(shape.spec.model)
            names = _propose_names(shape, entity)
            if names:
                out.names[name] = names
            values, notes = _propose_values(shape, entity)
            if values:
                out.values[name] = values
            if notes:
                out.notes[name] = notes
        return out

    def to_json(self) -> dict[str, Any]:
        """Everything found, as JSON (for scripts)."""
        proposal = self.proposal()
        return {
            "scanned": self.scanned,
            "mapping": self.mapping.source,
            "entities": {name: _entity_json(s, self.mapping) for name, s in self.entities.items()},
            "indexes": {
                pattern: {"keys": s.keys, "values": s.values, "elements": s.elements}
                for pattern, s in self.indexes.items()
            },
            "unknownKeys": dict(self.unknown),
            "unreadable": [{"key": key, "reason": why} for key, why in self.unreadable],
            "proposal": {
                "fields": {e: _entries_json(t) for e, t in proposal.names.items()},
                "values": {
                    e: {f: _entries_json(t) for f, t in fields.items()}
                    for e, fields in proposal.values.items()
                },
                "notes": proposal.notes,
                "toml": proposal.toml(self.mapping),
            },
        }


def _entries_json(entries: dict[str, Entry]) -> dict[str, Any]:
    return {app: {"means": e.means, "write": e.write, "why": e.why} for app, e in entries.items()}


def _entity_json(shape: EntityShape, mapping: AppMapping) -> dict[str, Any]:
    model = shape.spec.model
    expect, entity = expectations(model), mapping.entities.get(model)
    fields = {}
    for name, stats in shape.fields.items():
        read = reading(model, entity, name)
        fields[name] = {
            "records": stats.records,
            "types": dict(stats.types),
            "values": dict(stats.values),
            "formats": dict(stats.formats),
            "readAs": read.target,
            "status": read.status,
            "expects": expect[read.target].to_json() if read.target else None,
        }
    return {
        "pattern": shape.spec.pattern.template,
        "records": shape.records,
        "invalid": dict(shape.invalid),
        "dropped": dict(shape.dropped),
        "fields": fields,
        "missing": missing_required(shape),
    }


def missing_required(shape: EntityShape) -> list[str]:
    """Required kvgraph fields some records leave empty under every name kvgraph reads (with
    the mapping the scan used)."""
    return [
        name
        for name, want in expectations(shape.spec.model).items()
        if want.required and shape.filled[name] < shape.records - shape.not_objects
    ]


def _norm(name: str) -> str:
    return name.replace("_", "").replace("-", "").casefold()


def _share(count: int, total: int, entity: str) -> str:
    """`1 of 8 trips`."""
    return f"{count:,} of {total:,} {entity}{'' if entity.endswith('s') else 's'}"


def _use(count: int, name: str) -> str:
    """`7 use userId`, `1 uses userId`."""
    return f"{count:,} use{'s' if count == 1 else ''} {name}"


def _propose_names(shape: EntityShape, entity: EntityMapping | None) -> dict[str, Entry]:
    """App name -> entry, for names kvgraph should also write or cannot read yet.

    The name most records use for a field is proposed written (kvgraph then writes it too);
    a spelling kvgraph cannot read that fewer records use than the written name (kvgraph's
    own or the app's) is proposed read only, with its count: it fills the field only where
    that name is empty, so it never hides the others' value, and records kvgraph creates
    keep the majority's name.
    """
    model = shape.spec.model
    fields = {name: stats.records for name, stats in shape.fields.items()}
    total = shape.records - shape.not_objects
    writes = dict(entity.app_names) if entity else {}  # kvgraph name -> written app name
    out: dict[str, Entry] = {}
    # Most used names first, so the name most records use wins a contested field.
    for name in sorted(fields, key=lambda n: (-fields[n], n)):
        read = reading(model, entity, name)
        if read.status in {"snake_case", "synonym"}:
            target, readable = read.target, True
        elif read.status == "not read":
            target, readable = _guess(model, name), False
        else:
            continue
        if target is None:
            continue
        count, own = fields[name], fields.get(target, 0)
        share = _share(count, total, shape.spec.name)
        if target not in writes and own < count:
            out[name] = Entry(target, True, f"{share}; {_use(own, target)}" if own else "")
            writes[target] = name
        elif not readable:  # read only: kvgraph keeps writing the majority's name
            writer = writes.get(target, target)
            why = f"{share}; {_use(fields.get(writer, 0), writer)}, which kvgraph writes"
            out[name] = Entry(target, False, why)
    return out


def _guess(model: type[m.Record], name: str) -> str | None:
    """A kvgraph field an unknown name probably means (a spelling variant, a common name)."""
    fields = [info.alias or py for py, info in model.model_fields.items()]
    for target in fields:
        if _norm(target) == _norm(name):
            return target
    for target in fields:
        if name in NAME_PROPOSALS.get(target, ()):
            return target
    return None


def _records(count: int) -> str:
    return "1 record" if count == 1 else f"{count:,} records"


def _value_guess(value: str, known: tuple[str, ...], hints: dict[str, Hints]) -> tuple[str, bool]:
    """The kvgraph value an app value probably means ("" if none), and whether exactly."""
    folded = value.casefold()
    for kvgraph in known:
        if kvgraph.casefold() == folded:
            return kvgraph, True
    for kvgraph, hint in hints.items():
        if folded in hint.same or folded in hint.other:
            return kvgraph, folded in hint.same
    return "", False


def _propose_values(
    shape: EntityShape, entity: EntityMapping | None
) -> tuple[dict[str, dict[str, Entry]], list[str]]:
    """App value -> entry per enum-like field, and notes on values left unknown.

    A value that is not exactly kvgraph's (narrower, broader, related) is proposed read only,
    so kvgraph never writes it for another meaning; an exact synonym is proposed written
    when more records use it than kvgraph's own value and no other spelling is written.
    """
    model, name = shape.spec.model, shape.spec.name
    mapped = entity.values if entity else {}
    writers: dict[str, dict[str, str]] = {}  # field -> kvgraph value -> written app value
    proposals: dict[str, dict[str, Entry]] = {}
    notes: list[str] = []
    for stored, stats in sorted(shape.fields.items()):
        target = reading(model, entity, stored).target
        known = m.enum_fields(model).get(target or "", ())
        if not known or target is None:
            continue
        hints = VALUE_PROPOSALS.get((name, target), {})
        written = writers.setdefault(
            target, dict(entity.app_values.get(target, {}) if entity else {})
        )
        for value, count in stats.values.most_common():
            if value in known or value in mapped.get(target, {}) or value == "…":
                continue
            guess, exact = _value_guess(value, known, hints)
            if not guess:
                notes.append(
                    f"{target}: {value!r} ({_records(count)}) is not one of {', '.join(known)}: "
                    f"kept as is (map it under [{name}.values.{target}] if it means one of them)"
                )
                continue
            own, records = stats.values.get(guess, 0), _records(count)
            if not exact:
                why = f"read-only: may not mean exactly {guess}, so kvgraph writes {guess}"
                entry = Entry(guess, False, f"{why} ({records})")
            elif guess not in written and own < count:
                written[guess] = value
                entry = Entry(guess, True, f"same as {guess}: kvgraph writes {value} ({records})")
            else:  # one spelling per value is written: the mapping's, or the most used
                writer = written.get(guess, guess)
                why = f"more records use {guess}" if writer == guess else f"kvgraph writes {writer}"
                entry = Entry(guess, False, f"read-only: same as {guess}, but {why} ({records})")
            proposals.setdefault(target, {})[value] = entry
    return proposals, notes


async def scan_shapes(
    store: Store,
    mapping: AppMapping = IDENTITY,
    progress: Callable[[int], None] | None = None,
    *,
    every: int = PROGRESS_EVERY,
) -> Shapes:
    """Read the whole table once and describe what its records look like."""
    shapes = Shapes(mapping)
    async for key, value in store.iter_prefix(""):
        shapes.add(key, value)
        if progress is not None and shapes.scanned % every == 0:
            progress(shapes.scanned)
    return shapes
