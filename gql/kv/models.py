"""Record models (pydantic v2) for every entity of the seed document.

Records are read the way apps really write them, because kvgraph serves tables it did not
write. camelCase on the wire, snake_case in Python. Unknown fields are kept (`extra="allow"`),
so a record survives a read-modify-write. Enum-like fields take any string (the values kvgraph
knows are declared here, once: `ITEM_KINDS`, ...). Numbers, dates and times are read leniently
(`Count`, `PriceLevel`, `Date`, `DateTime` in `scalars.py`). The catalog's kinds of place are
built from their table (`catalog.py`: `PLACES`). Other common names for a field are read
through `SYNONYMS`, and a team's own names through a mapping (`gql/kv/mapping.py`). An
optional field whose value cannot be read at all is left empty and named in
`record.dropped_fields` rather than hiding the record: only a missing or unreadable id,
owner/parent id or `title`/`name`/`content` makes a record invalid.
"""

from __future__ import annotations

import datetime as dt
import functools
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic.alias_generators import to_camel

from gql.kv import catalog
from gql.kv.jsontext import Kept, Partial, Undecodable, Unreadable, decode
from gql.kv.scalars import Count, Date, DateTime, PriceLevel, earlier, is_local, number

__all__ = ["Count", "Date", "DateTime", "PriceLevel", "earlier", "is_local"]  # lenient scalars

PARSED_CACHE = 65_536  # validated records kept across requests, by key, with their JSON text
SKIP_SYNONYMS = "kvgraph.skip_synonyms"  # validation context: fields not to fill from synonyms
_NOTHING: Mapping[str, str] = MappingProxyType({})
DROPPED = "dropped"  # where a record keeps the names of the fields it could not read
STORED = "stored"  # where it keeps the stored values a mapping read as other values

# ---------------------------------------------------------------- enum-like fields
# The values kvgraph knows. A stored value outside them is kept as is (the GraphQL layer
# shows it as OTHER with the raw value); a mapping file can name app values for them.
ItemKind = Literal["activity", "meal", "stay", "transport"]
if TYPE_CHECKING:
    LocationType = str
else:  # the catalog's kinds (`catalog.py`)
    LocationType = Literal[tuple(kind.name for kind in catalog.CATALOG)]
Role = Literal["user", "assistant", "system", "tool"]
SuggestionStatus = Literal["active", "accepted", "dismissed", "expired"]
CollaboratorRole = Literal["viewer", "editor"]
# What `detectConflicts` finds (`resolvers/conflicts.py`), and whether it is dealt with.
ConflictType = Literal["overlap", "outside_trip", "place_closed", "outside_event"]
ConflictStatus = Literal["open", "resolved"]
# A booking workflow's steps (`resolvers/workflows.py` has the allowed transitions) and the
# status each step gives it.
WorkflowStep = Literal[
    "draft", "searching", "selected", "booking", "confirmed", "failed", "cancelled"
]
WorkflowStatus = Literal["active", "completed", "failed", "cancelled"]
BudgetAlertType = Literal["threshold"]
JobStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
LogLevel = Literal["debug", "info", "warning", "error"]
AIRunStatus = Literal["running", "success", "error", "timeout", "cancelled"]
ITEM_KINDS: tuple[str, ...] = get_args(ItemKind)
LOCATION_TYPES: tuple[str, ...] = get_args(LocationType)
MESSAGE_ROLES: tuple[str, ...] = get_args(Role)
SUGGESTION_STATUSES: tuple[str, ...] = get_args(SuggestionStatus)
COLLABORATOR_ROLES: tuple[str, ...] = get_args(CollaboratorRole)
CONFLICT_TYPES: tuple[str, ...] = get_args(ConflictType)
CONFLICT_STATUSES: tuple[str, ...] = get_args(ConflictStatus)
WORKFLOW_STEPS: tuple[str, ...] = get_args(WorkflowStep)
WORKFLOW_STATUSES: tuple[str, ...] = get_args(WorkflowStatus)
BUDGET_ALERT_TYPES: tuple[str, ...] = get_args(BudgetAlertType)
JOB_STATUSES: tuple[str, ...] = get_args(JobStatus)
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)
AI_RUN_STATUSES: tuple[str, ...] = get_args(AIRunStatus)
OTHER = "other"  # how a value outside the known ones is named where a known one is expected


@dataclass(frozen=True)
class ValueSet:
    """What an enum-like value set is called and means: the GraphQL enum derived from it
    (`gql/schema/enums.py`, with `OTHER` added) takes its name and descriptions from here."""

    name: str  # the GraphQL enum's name
    description: str | None = None
    values: Mapping[str, str] = _field(default_factory=dict)  # value -> its description


# Each value set above (but the catalog's `LocationType`, `LocationKind` from `catalog.py`):
# a new one is a Literal and its line here, and nothing else in enums.py.
VALUE_SETS: dict[Any, ValueSet] = {
    ItemKind: ValueSet("ItemKind"),
    Role: ValueSet("MessageRole"),
    SuggestionStatus: ValueSet("SuggestionStatus"),
    CollaboratorRole: ValueSet("CollaboratorRole"),
    ConflictType: ValueSet(
        "ConflictType",
        "What kind of conflict `detectConflicts` found.",
        {
            "overlap": "Two items' times overlap.",
            "outside_trip": "An item is outside the trip's dates.",
            "place_closed": "An item's place is closed then (its opening hours).",
            "outside_event": "An item at an event is not during the event.",
        },
    ),
    ConflictStatus: ValueSet("ConflictStatus"),
    WorkflowStep: ValueSet("WorkflowStep", "A booking workflow's step."),
    WorkflowStatus: ValueSet("WorkflowStatus", "Where a booking workflow stands, from its step."),
    BudgetAlertType: ValueSet("BudgetAlertType"),
    JobStatus: ValueSet("JobStatus", "Where a background job stands."),
    AIRunStatus: ValueSet("AIRunStatus", "How an agent run ended (`ai_run:{id}` status)."),
    LogLevel: ValueSet("LogLevel", "How much a job's log entry matters."),
}


def _any_text(value: Any) -> str:
    """An enum-like field's value: any string is kept as written (a number as text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("expected a string")


class _Secret:
    """The marker of a secret field (`Annotated[str | None, Secret]`): kept in the store,
    never shown. The GraphQL layer refuses to derive a field, input or `data` from it."""

    def __repr__(self) -> str:
        return "Secret"


Secret = _Secret()


# Marks an enum-like field, `Annotated[ItemKind, Open]`: its Literal names the values kvgraph
# knows (and the GraphQL enum that shows them), yet any string reads, kept as written.
Open = PlainValidator(_any_text)


# ---------------------------------------------------------------- records
class Translation(Protocol):
    """A team's names for fields and enum values (`gql/kv/mapping.py`), applied on read."""

    def incoming(
        self, model: type[Record], value: dict[str, Any]
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        """The stored object with the app's names and values turned into kvgraph's, and the
        stored values of the enum-like fields it turned (camelCase name -> value as stored)."""
        ...

    def __hash__(self) -> int:
        """Mappings key the validation cache."""
        ...


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`location.lat`) of a JSON object, or None."""
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


class Record(BaseModel):
    """Base of every stored record."""

    # Frozen: a validated record may be shared by every request that reads the same bytes.
    # Numbers are read as text where text is expected (numeric ids, titles).
    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
        coerce_numbers_to_str=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _read_synonyms(cls, data: Any, info: ValidationInfo) -> Any:
        """Fill a field kvgraph's name leaves empty from its first present synonym."""
        names, table = synonyms(cls)
        if not isinstance(data, dict) or names.isdisjoint(data):
            return data
        skip = (info.context or {}).get(SKIP_SYNONYMS, ())
        filled: dict[str, Any] | None = None
        for name, python_name, others in table:
            if name in skip or data.get(name) is not None or data.get(python_name) is not None:
                continue
            for other in others:
                value = _lookup(data, other)
                if value is not None:
                    filled = dict(data) if filled is None else filled
                    filled[name] = value
                    break
        return data if filled is None else filled

    @property
    def dropped_fields(self) -> Mapping[str, str]:
        """Optional fields whose stored value could not be read: camelCase name -> why."""
        # Kept beside the fields, not as a declared private attribute: those cost every
        # validation a per-instance initialisation, and only records with dropped fields
        # (or values a mapping read as others, `stored_values`) carry one.
        private = self.__pydantic_private__
        return private.get(DROPPED, _NOTHING) if private else _NOTHING

    @staticmethod
    def all_plain(records: Iterable[Record]) -> bool:
        """Whether none of `records` has dropped fields or stored values (what is kept beside
        a record's fields: nothing, for almost every record)."""
        return not any(map(_KEPT, records))

    @property
    def stored_values(self) -> Mapping[str, str]:
        """Enum-like fields a mapping read as another value: camelCase name -> the value as
        stored (`...Raw` shows it). A field not named here holds its stored value."""
        private = self.__pydantic_private__
        return private.get(STORED, _NOTHING) if private else _NOTHING

    def to_json(self) -> dict[str, Any]:
        """Return the camelCase JSON object to store (unset fields stay absent)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def public_json(self) -> dict[str, Any]:
        """The record as a client may see it: `to_json()` without its secret fields."""
        secret = secret_fields(type(self))
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=set(secret))


class Profile(Record):
    id: str
    email: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class Preferences(Record):
    user_id: str | None = None
    currency: str | None = None
    language: str | None = None
    home_city: str | None = None
    travel_style: str | None = None
    interests: list[str] | None = None
    notifications: dict[str, Any] | None = None
    updated_at: DateTime | None = None


class Trip(Record):
    id: str
    user_id: str
    title: str
    destination: str | None = None
    start_date: Date | None = None
    end_date: Date | None = None
    currency: str | None = None
    status: str | None = None
    time_zone: str | None = None  # IANA (`Europe/Lisbon`): where its local times are
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class Item(Record):
    id: str
    trip_id: str
    title: str
    kind: Annotated[ItemKind, Open] | None = None
    start_time: DateTime | None = None
    end_time: DateTime | None = None
    cost: float | None = None
    currency: str | None = None
    notes: str | None = None
    location_type: Annotated[LocationType, Open] | None = None
    location_id: str | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None

    @property
    def coordinates(self) -> tuple[float, float] | None:
        """The item's own (latitude, longitude), e.g. from an embedded `location: {lat, lng}`.

        Read from the fields kvgraph keeps but does not declare (so they stay out of the
        GraphQL types until someone exposes them); None unless both are numbers.
        """
        extra = self.model_extra or {}
        return _pair(_first_number(extra, _ITEM_LAT), _first_number(extra, _ITEM_LNG))


class Place(Record):
    id: str
    name: str
    description: str | None = None
    address: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    rating: float | None = None
    price_level: PriceLevel | None = None
    image_url: str | None = None
    tags: list[str] | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None

    @property
    def coordinates(self) -> tuple[float, float] | None:
        """(latitude, longitude) when both are known."""
        return _pair(self.latitude, self.longitude)


def _place_model(kind: catalog.CatalogKind) -> type[Place]:
    """The record model of a catalog kind: a place with the kind's own fields."""
    own: dict[str, Any] = {name: (annotation, None) for name, annotation in kind.fields.items()}
    model: type[Place] = create_model(
        kind.type_name, __base__=Place, __module__=__name__, __doc__=kind.description, **own
    )
    return model


# Each catalog kind's record model, by kind (`catalog.py`): `PLACES["rental"]`.
PLACES: dict[str, type[Place]] = {kind.name: _place_model(kind) for kind in catalog.CATALOG}


class Conversation(Record):
    id: str
    user_id: str
    title: str | None = None
    agent_type: str | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class Message(Record):
    id: str
    conversation_id: str
    role: Annotated[Role, Open] = "user"
    content: str
    timestamp: DateTime | None = None


class AIContext(Record):
    conversation_id: str | None = None
    entities: Any = None
    preferences: Any = None
    session: Any = None
    updated_at: DateTime | None = None


class ContextSnapshot(Record):
    """One earlier context of a conversation (an element of `context:history:{id}`): the
    context as it was, when it was replaced (`recordedAt`), and its sequence number (`seq`,
    which keeps paging cursors valid once older snapshots are dropped: `gql/kv/history.py`)."""

    seq: int | None = None
    entities: Any = None
    preferences: Any = None
    session: Any = None
    updated_at: DateTime | None = None
    recorded_at: DateTime | None = None


class AIRun(Record):
    id: str
    user_id: str
    agent_name: str | None = None
    input_tokens: Count | None = None
    output_tokens: Count | None = None
    duration_ms: float | None = None  # a measurement: 850.7 ms keeps its fraction
    status: Annotated[AIRunStatus, Open] | None = None
    created_at: DateTime | None = None


class Suggestion(Record):
    id: str
    user_id: str
    trip_id: str | None = None
    title: str | None = None
    content: str
    confidence: float | None = None
    status: Annotated[SuggestionStatus, Open] = "active"
    shown_at: DateTime | None = None
    expires_at: DateTime | None = None
    action: Any = None
    item_id: str | None = None  # the itinerary item accepting its `addPlace` action added
    created_at: DateTime | None = None
    updated_at: DateTime | None = None

    def expired(self, now: dt.datetime | None = None) -> bool:
        """Whether `expiresAt` has passed (a time without an offset is read as UTC)."""
        if self.expires_at is None:
            return False
        at = self.expires_at
        at = at.replace(tzinfo=dt.UTC) if is_local(at) else at
        return at <= (now or dt.datetime.now(dt.UTC))

    def current_status(self, now: dt.datetime | None = None) -> str:
        """The status as it stands: an `active` one past its `expiresAt` is `expired`."""
        return "expired" if self.status == "active" and self.expired(now) else self.status


class Conflict(Record):
    id: str
    trip_id: str
    type: Annotated[ConflictType, Open] | None = None
    description: str | None = None
    item_ids: list[str] | None = None
    status: Annotated[ConflictStatus, Open] = "open"  # no status yet: not dealt with
    detected_at: DateTime | None = None
    resolved_at: DateTime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    # What the conflicting items' times were when it was detected (`resolvers/conflicts.py`):
    # a resolved conflict is recorded again only once they change.
    fingerprint: str | None = None


class Budget(Record):
    trip_id: str
    total: float | None = None
    currency: str | None = None
    thresholds: list[float] | None = None  # fractions of `total` (see `spending.py`)
    rates: dict[str, float] | None = None  # currency -> worth in the budget's currency
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class BudgetAlert(Record):
    type: Annotated[BudgetAlertType, Open] | None = None
    message: str | None = None
    threshold: float | None = None
    spent: float | None = None
    total: float | None = None
    currency: str | None = None
    at: DateTime | None = None


class Workflow(Record):
    id: str
    user_id: str
    title: str | None = None
    trip_id: str | None = None
    current_step: Annotated[WorkflowStep, Open] = "draft"  # no step yet: not started
    status: Annotated[WorkflowStatus, Open] | None = None
    data: Any = None
    history: list[Any] | None = None  # WorkflowTransition objects, oldest first
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class WorkflowTransition(Record):
    """One move of a booking workflow, kept in its `history`: the step entered, the one
    left (none for the first), when and by whom."""

    step: Annotated[WorkflowStep, Open]
    previous: Annotated[WorkflowStep, Open] | None = None
    at: DateTime | None = None
    by: str | None = None
    note: str | None = None


class Collection(Record):
    id: str
    user_id: str
    name: str
    description: str | None = None
    place_ids: list[str] | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class Collaborator(Record):
    trip_id: str
    user_id: str
    role: Annotated[CollaboratorRole, Open] = "viewer"
    invited_at: DateTime | None = None


class SavedPlace(Record):
    """One saved place under its own key (`saved:{userId}:{placeId}`); the key names both."""

    user_id: str
    place_id: str
    location_type: Annotated[LocationType, Open] | None = None  # the place's kind, if known
    created_at: DateTime | None = None  # when it was saved


class Job(Record):
    id: str
    type: str | None = None
    status: Annotated[JobStatus, Open] | None = None
    payload: Any = None
    result: Any = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class AutomationRule(Record):
    id: str
    user_id: str
    name: str | None = None
    trigger: Any = None
    action: Any = None
    enabled: bool | None = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


class AutomationLog(Record):
    job_id: str | None = None
    entries: list[Any] | None = None  # `AutomationLogEntry` objects, oldest first
    updated_at: DateTime | None = None


class AutomationLogEntry(Record):
    """One entry of a job's log (`log:{jobId}`, `entries`): an object without an id."""

    at: DateTime | None = None
    level: Annotated[LogLevel, Open] | None = None
    message: str | None = None
    data: Any = None


class WebSource(Record):
    hash: str | None = None
    url: str | None = None
    title: str | None = None
    content: str | None = None
    fetched_at: DateTime | None = None


# The model of each object of a record's list field (a job log's `entries`): read one by
# one, an object that is not valid is skipped and reported as `key.field[n]`, by the API and
# by `check`.
ELEMENTS: dict[type[Record], dict[str, type[Record]]] = {
    AutomationLog: {"entries": AutomationLogEntry},
    Workflow: {"history": WorkflowTransition},
}
# Records an app may store as the bare list of their one list field (`log:{jobId}` as
# `[{...}, ...]`, the job's execution history itself): read as `{field: list}`, and appended
# to as the list they are (`Repository.append`), so the app's form is kept.
BARE_LISTS: dict[type[Record], str] = {AutomationLog: "entries"}


class ApiKey(Record):
    user_id: str
    provider: str | None = None
    hint: str | None = None
    ciphertext: Annotated[str | None, Secret] = None
    created_at: DateTime | None = None
    updated_at: DateTime | None = None


def _first_number(data: Mapping[str, Any], paths: tuple[str, ...]) -> float | None:
    """The first number found at one of these (dotted) paths."""
    for path in paths:
        found = number(_lookup(data, path))
        if found is not None:
            return found
    return None


def _pair(lat: float | None, lng: float | None) -> tuple[float, float] | None:
    return None if lat is None or lng is None else (lat, lng)


# ---------------------------------------------------------------- other names for fields
_LAT = ("lat", "location.lat", "location.latitude", "coordinates.lat", "coordinates.latitude")
_LNG = (
    "lng",
    "lon",
    "location.lng",
    "location.lon",
    "location.longitude",
    "coordinates.lng",
    "coordinates.lon",
    "coordinates.longitude",
)
_ITEM_LAT, _ITEM_LNG = ("latitude", *_LAT), ("longitude", *_LNG)
# Stored names read by a model property rather than a field (kept out of the GraphQL types
# until someone exposes them): model -> property -> the names it reads (dotted: embedded).
PROPERTIES: dict[type[Record], dict[str, tuple[str, ...]]] = {
    Item: {"coordinates": _ITEM_LAT + _ITEM_LNG},
}
# Built-in synonyms, the one place for them: model -> kvgraph's (camelCase) name -> other
# names apps use for it, tried in order when kvgraph's own name is absent or null (a dotted
# name reads inside an embedded object). Subclasses inherit them (events read `title` too);
# a catalog kind's own come from its entry (`catalog.py`).
# Writes go to kvgraph's name, or to the synonym an existing record already uses.
SYNONYMS: dict[type[Record], dict[str, tuple[str, ...]]] = {
    Profile: {
        "displayName": ("name", "fullName", "full_name", "username"),
        "avatarUrl": ("avatar",),
    },
    Trip: {"title": ("name",), "timeZone": ("timezone", "tz", "timeZoneId")},
    Item: {"title": ("name",)},
    Place: {"name": ("title",), "latitude": _LAT, "longitude": _LNG, "imageUrl": ("image",)},
    Message: {"timestamp": ("createdAt",), "content": ("text",)},
    Suggestion: {"content": ("message", "text", "body")},
    Collection: {"name": ("title",), "placeIds": ("places", "locationIds")},
    SavedPlace: {
        "placeId": ("locationId",),
        "locationType": ("kind", "placeType"),
        "createdAt": ("savedAt",),
    },
    Conflict: {"type": ("conflictType",), "detectedAt": ("createdAt",)},
    BudgetAlert: {"at": ("createdAt", "timestamp", "time")},
    ContextSnapshot: {"recordedAt": ("timestamp", "savedAt", "createdAt")},
    Workflow: {"currentStep": ("step", "stage")},
    AutomationRule: {"name": ("title",), "enabled": ("active", "isEnabled")},
    AutomationLogEntry: {"at": ("timestamp", "time", "createdAt"), "message": ("msg", "text")},
    WebSource: {"content": ("text", "body"), "fetchedAt": ("cachedAt", "createdAt")},
    AIRun: {
        "agentName": ("agent", "agentType"),
        "inputTokens": ("promptTokens",),
        "outputTokens": ("completionTokens",),
    },
    **{PLACES[kind.name]: dict(kind.synonyms) for kind in catalog.CATALOG if kind.synonyms},
}


@functools.cache
def synonyms(
    model: type[Record],
) -> tuple[frozenset[str], tuple[tuple[str, str, tuple[str, ...]], ...]]:
    """A model's built-in synonyms: every top-level name they read (a quick test whether a
    record uses any), and for each field (camelCase name, Python name, other names)."""
    table: dict[str, tuple[str, ...]] = {}
    for cls in reversed(model.__mro__):
        table.update(SYNONYMS.get(cls, {}))
    python = {info.alias or name: name for name, info in model.model_fields.items()}
    entries = tuple((name, python[name], others) for name, others in table.items())
    return frozenset(o.split(".", 1)[0] for others in table.values() for o in others), entries


def _known_values(annotation: Any) -> tuple[str, ...]:
    """The values of the Literal inside an annotation (`Annotated[Role, Open] | None`)."""
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    if get_origin(annotation) in (Annotated, Union, types.UnionType):
        for inner in get_args(annotation):
            if found := _known_values(inner):
                return found
    return ()


@functools.cache
def enum_fields(model: type[Record]) -> dict[str, tuple[str, ...]]:
    """The enum-like fields of a model: camelCase name -> the values kvgraph knows."""
    found = {
        info.alias or name: _known_values(info.annotation)
        for name, info in model.model_fields.items()
    }
    return {name: values for name, values in found.items() if values}


@functools.cache
def secret_fields(model: type[Record]) -> frozenset[str]:
    """The Python names of a model's secret fields (`Annotated[..., Secret]`)."""
    return frozenset(
        name for name, info in model.model_fields.items() if any(x is Secret for x in info.metadata)
    )


@functools.cache
def field_names(model: type[Record]) -> dict[str, str]:
    """Every name a field is stored under (camelCase and Python) -> its Python name."""
    names = {name: name for name in model.model_fields}
    names.update({info.alias: name for name, info in model.model_fields.items() if info.alias})
    return names


class InvalidRecord:
    """A stored value that failed validation: kept with its key, reported, never raised.

    `found`: when the value is a valid record under the wrong key (its id names another),
    the record with its key's identity; read rules ask it whether the viewer may be told
    (see `access`). It is never shown.
    """

    __slots__ = ("found", "key", "message")

    def __init__(self, key: str, message: str, found: Record | None = None) -> None:
        self.key, self.message, self.found = key, message, found

    def __repr__(self) -> str:
        return f"InvalidRecord({self.key!r}: {self.message})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InvalidRecord) and (self.key, self.message) == (
            other.key,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.key, self.message))


def describe(error: ValidationError) -> str:
    """Summarize a validation error in one line, with camelCase field paths."""
    parts = []
    for err in error.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "value"
        parts.append(f"{where}: {err['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


# A record's identity: the key fields' values its key names, e.g. (("id", "t1"),) for
# `trip:t1`. The key is the identity: a record without those fields takes them from its key,
# and one whose fields disagree with its key is invalid (it would otherwise claim, and be
# granted, another record's identity).
Identity = tuple[tuple[str, str], ...]


class Misplaced(str):
    """Why a valid record is invalid under its key (its id names another), with the record."""

    __slots__ = ("record",)
    record: Record


def _misplaced(problem: str, record: Record) -> Misplaced:
    found = Misplaced(problem)
    found.record = record
    return found


def _invalid(key: str, result: str) -> InvalidRecord:
    return InvalidRecord(key, result, result.record if isinstance(result, Misplaced) else None)


def _parse(
    model: type[Record], raw: str | bytes, mapping: Translation | None, identity: Identity
) -> Record | str:
    """Decode and validate stored JSON text; a string is the reason it is invalid."""
    try:
        value = decode(raw, exact=False)
    except Undecodable as exc:
        return str(exc)
    return _checked(model, value, mapping, identity)


def _checked(
    model: type[Record], value: Any, mapping: Translation | None, identity: Identity = ()
) -> Record | str:
    """Validate decoded JSON as `model` stored under `identity`; a string says why not."""
    if isinstance(value, list) and model in BARE_LISTS:
        value = {BARE_LISTS[model]: value}
    if not isinstance(value, dict):
        if isinstance(value, Unreadable):
            return value.reason
        return f"expected a JSON object, found {type(value).__name__}"
    partial = type(value) is Partial  # members kept as stored text: read without them
    stored = _NOTHING
    if mapping is not None:
        value, stored = mapping.incoming(model, value)
    unread: Mapping[str, str] = _NOTHING
    if partial:
        value, found = _without_kept(model, value)
        if isinstance(found, str):
            return found
        unread = found
    if identity:
        value = _with_identity(model, value, identity)
    try:
        if unread:
            record: Record | str = model.model_validate(value, context=_skip(unread))
        else:
            record = model.model_validate(value)
    except ValidationError as exc:
        record = _without_unreadable(model, value, exc, unread)
    problem = _identity_problem(model, record, identity)
    if problem is not None:
        if not isinstance(record, Record):
            return problem
        # Read rules judge it under its own key: never under the identity it claims.
        return _misplaced(problem, record.model_copy(update=dict(identity)))
    if unread and isinstance(record, Record):
        _keep(record, DROPPED, {**unread, **record.dropped_fields})
    if stored and isinstance(record, Record):
        _keep(record, STORED, stored)
    return record


_KEPT = attrgetter("__pydantic_private__")  # where `_keep` keeps its tables (None: none)


def _keep(record: Record, name: str, table: Mapping[str, str]) -> None:
    """Keep `table` beside a record's fields (see `Record.dropped_fields`)."""
    private = dict(record.__pydantic_private__ or {})
    private[name] = MappingProxyType(dict(table))
    object.__setattr__(record, "__pydantic_private__", private)


def _without_kept(
    model: type[Record], value: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str] | str]:
    """`value` without the members kept as stored text (nested too deep, lone surrogates:
    see `jsontext`), and why each was not read; why the record is invalid if one of them is
    a required field."""
    unread = {name: part.reason for name, part in value.items() if type(part) is Kept}
    names = field_names(model)
    for name, why in unread.items():
        python = names.get(name)
        if python is not None and model.model_fields[python].is_required():
            return value, f"{name}: {why}"
    return {name: v for name, v in value.items() if name not in unread}, unread


def _skip(unread: Mapping[str, str]) -> dict[str, Any] | None:
    """The validation context that keeps synonyms from filling fields that were not read."""
    return {SKIP_SYNONYMS: frozenset(unread)} if unread else None


def _with_identity(
    model: type[Record], value: dict[str, Any], identity: Identity
) -> dict[str, Any]:
    """`value` with the key fields it leaves out taken from its key."""
    filled = value
    for name, expected in identity:
        alias = model.model_fields[name].alias or name
        if value.get(alias) is None and value.get(name) is None:
            filled = dict(value) if filled is value else filled
            filled[alias] = expected
    return filled


def _identity_problem(model: type[Record], record: Record | str, identity: Identity) -> str | None:
    """Why a validated record does not have the identity its key gives (None: it does)."""
    if isinstance(record, str):
        return None
    for name, expected in identity:
        found = getattr(record, name, None)
        if found != expected:
            alias = model.model_fields[name].alias or name
            return f"{alias} {found!r} does not match its key"
    return None


def _without_unreadable(
    model: type[Record],
    value: dict[str, Any],
    error: ValidationError,
    unread: Mapping[str, str] = _NOTHING,
) -> Record | str:
    """Validate again without the optional fields that failed; why not, if a required one did
    (`unread`: fields already left out, which synonyms must not fill either)."""
    names = field_names(model)
    dropped: dict[str, str] = {}
    for err in error.errors():
        name = names.get(str(err["loc"][0])) if err["loc"] else None
        if name is None or model.model_fields[name].is_required():
            return describe(error)
        dropped.setdefault(model.model_fields[name].alias or name, err["msg"])
    gone = {
        n for n, python in names.items() if (model.model_fields[python].alias or python) in dropped
    }
    kept = {key: v for key, v in value.items() if key not in gone}
    try:
        record = model.model_validate(kept, context=_skip({**unread, **dropped}))
    except ValidationError as exc:
        return describe(exc)
    _keep(record, DROPPED, dropped)
    return record


def validate_raw(
    model: type[Record],
    key: str,
    raw: str | bytes,
    mapping: Translation | None = None,
    identity: Identity = (),
) -> Record | InvalidRecord:
    """Validate a stored value given as JSON text, reusing the result for identical text
    (see `validate_raws`)."""
    return validate_raws(((model, key, raw, identity),), mapping)[0]


def validate_raws(
    found: Iterable[tuple[type[Record], str, str | bytes, Identity]],
    mapping: Translation | None = None,
) -> list[Record | InvalidRecord]:
    """Validate stored values given as (model, key, JSON text, identity), reusing the result
    for identical text.

    Equal bytes (read through the same mapping, under the same identity) always give an
    equal (immutable) record, so a record unchanged since an earlier request is neither
    decoded nor validated again. The results are kept by key with the text they came from
    (a dict lookup and a comparison of the text: cheaper than hashing the text), at most
    PARSED_CACHE of them in all, the oldest key dropped first. A batch is checked in one
    loop (no call per record: the common case is a hit).
    """
    get = _PARSED.get
    out: list[Record | InvalidRecord] = []
    for model, key, raw, identity in found:
        hit = get(key)
        if (
            hit is not None
            and hit[2] == raw
            and hit[0] is model
            and (hit[1] is mapping or hit[1] == mapping)
            and hit[3] == identity
        ):
            result = hit[4]
        else:
            result = _parse(model, raw, mapping, identity)
            if hit is None and len(_PARSED) >= PARSED_CACHE:
                del _PARSED[next(iter(_PARSED))]  # the oldest first (a new key only)
            _PARSED[key] = (model, mapping, raw, identity, result)
        out.append(_invalid(key, result) if isinstance(result, str) else result)
    return out


# key -> (model, mapping, stored text, identity, the record or why it is invalid)
_PARSED: dict[
    str, tuple[type[Record], Translation | None, str | bytes, Identity, Record | str]
] = {}


def validate(
    model: type[Record],
    key: str,
    value: Any,
    mapping: Translation | None = None,
    identity: Identity = (),
) -> Record | InvalidRecord:
    """Validate a stored value as `model`; an invalid value comes back as InvalidRecord."""
    result = _checked(model, value, mapping, identity)
    return _invalid(key, result) if isinstance(result, str) else result
