"""Record models (pydantic v2) for every entity of the seed document.

camelCase on the wire, snake_case in Python. Unknown fields are kept (`extra="allow"`), so a
record another app wrote survives a read-modify-write. Only ids, the owner/parent id and a
record's `title`/`name`/`content` are required: real tables are sparse.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

PARSED_CACHE = 65_536  # validated records kept across requests, keyed by their JSON text

Role = Literal["user", "assistant", "system", "tool"]
SuggestionStatus = Literal["active", "accepted", "dismissed", "expired"]
ItemKind = Literal["activity", "meal", "stay", "transport"]
LocationType = Literal["event", "restaurant", "rental"]
CollaboratorRole = Literal["viewer", "editor"]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# Apps write times with and without an offset; a time without one is taken as UTC.
UTCDateTime = Annotated[dt.datetime, AfterValidator(_utc)]


class Record(BaseModel):
    """Base of every stored record."""

    # Frozen: a validated record may be shared by every request that reads the same bytes.
    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, frozen=True
    )

    def to_json(self) -> dict[str, Any]:
        """Return the camelCase JSON object to store (unset fields stay absent)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class Profile(Record):
    id: str
    email: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Preferences(Record):
    user_id: str | None = None
    currency: str | None = None
    language: str | None = None
    home_city: str | None = None
    travel_style: str | None = None
    interests: list[str] | None = None
    notifications: dict[str, Any] | None = None
    updated_at: UTCDateTime | None = None


class Trip(Record):
    id: str
    user_id: str
    title: str
    destination: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    currency: str | None = None
    status: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Item(Record):
    id: str
    trip_id: str
    title: str
    kind: ItemKind | None = None
    start_time: UTCDateTime | None = None
    end_time: UTCDateTime | None = None
    cost: float | None = None
    currency: str | None = None
    notes: str | None = None
    location_type: LocationType | None = None
    location_id: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Place(Record):
    id: str
    name: str
    description: str | None = None
    address: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    rating: float | None = None
    price_level: int | None = None
    image_url: str | None = None
    tags: list[str] | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Event(Place):
    starts_at: UTCDateTime | None = None
    ends_at: UTCDateTime | None = None


class Restaurant(Place):
    cuisine: str | None = None
    opening_hours: Any = None


class Rental(Place):
    price_per_night: float | None = None
    bedrooms: int | None = None


class Conversation(Record):
    id: str
    user_id: str
    title: str | None = None
    agent_type: str | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Message(Record):
    id: str
    conversation_id: str
    role: Role = "user"
    content: str
    timestamp: UTCDateTime | None = None


class AIContext(Record):
    conversation_id: str | None = None
    entities: Any = None
    preferences: Any = None
    session: Any = None
    updated_at: UTCDateTime | None = None


class AIRun(Record):
    id: str
    user_id: str
    agent_name: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    duration_ms: int | None = None
    status: str | None = None
    created_at: UTCDateTime | None = None


class Suggestion(Record):
    id: str
    user_id: str
    trip_id: str | None = None
    title: str | None = None
    content: str
    confidence: float | None = None
    status: SuggestionStatus = "active"
    shown_at: UTCDateTime | None = None
    expires_at: UTCDateTime | None = None
    action: Any = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Conflict(Record):
    id: str
    trip_id: str
    type: str | None = None
    description: str | None = None
    item_ids: list[str] | None = None
    status: str | None = None
    detected_at: UTCDateTime | None = None
    resolved_at: UTCDateTime | None = None
    resolution: str | None = None


class Budget(Record):
    trip_id: str
    total: float | None = None
    currency: str | None = None
    thresholds: list[float] | None = None


class BudgetAlert(Record):
    type: str | None = None
    message: str | None = None
    threshold: float | None = None
    at: UTCDateTime | None = None


class Workflow(Record):
    id: str
    user_id: str
    current_step: str | None = None
    status: str | None = None
    data: Any = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Collection(Record):
    id: str
    user_id: str
    name: str
    description: str | None = None
    place_ids: list[str] | None = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class Collaborator(Record):
    trip_id: str
    user_id: str
    role: CollaboratorRole = "viewer"
    invited_at: UTCDateTime | None = None


class Job(Record):
    id: str
    type: str | None = None
    status: str | None = None
    payload: Any = None
    result: Any = None
    created_at: UTCDateTime | None = None
    updated_at: UTCDateTime | None = None


class AutomationRule(Record):
    id: str
    user_id: str
    name: str | None = None
    trigger: Any = None
    action: Any = None
    enabled: bool | None = None
    created_at: UTCDateTime | None = None


class AutomationLog(Record):
    job_id: str | None = None
    entries: list[Any] | None = None


class WebSource(Record):
    hash: str | None = None
    url: str | None = None
    title: str | None = None
    content: str | None = None
    fetched_at: UTCDateTime | None = None


class ApiKey(Record):
    user_id: str
    provider: str | None = None
    hint: str | None = None
    ciphertext: str | None = None
    created_at: UTCDateTime | None = None


class InvalidRecord:
    """A stored value that failed validation: kept with its key, reported, never raised."""

    __slots__ = ("key", "message")

    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message

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


@functools.lru_cache(maxsize=PARSED_CACHE)
def _parse(model: type[Record], raw: str | bytes) -> Record | str:
    """Decode and validate stored JSON text; a string is the reason it is invalid."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    return _checked(model, value)


def _checked(model: type[Record], value: Any) -> Record | str:
    """Validate decoded JSON as `model`; a string is the reason it is invalid."""
    if not isinstance(value, dict):
        return f"expected a JSON object, found {type(value).__name__}"
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        return describe(exc)


def validate_raw(model: type[Record], key: str, raw: str | bytes) -> Record | InvalidRecord:
    """Validate a stored value given as JSON text, reusing the result for identical text.

    Equal bytes always give an equal (immutable) record, so a record unchanged since an
    earlier request is neither decoded nor validated again.
    """
    result = _parse(model, raw)
    return InvalidRecord(key, result) if isinstance(result, str) else result


def validate(model: type[Record], key: str, value: Any) -> Record | InvalidRecord:
    """Validate a stored value as `model`; an invalid value comes back as InvalidRecord."""
    result = _checked(model, value)
    return InvalidRecord(key, result) if isinstance(result, str) else result
