"""Which record lives under which key, which indexes list it, and which record it belongs to.

The repository and `check` are generic over these specs: adding an entity is a line here.
A child (an item of a trip, a message of a conversation) declares its parent: creating it
locks and re-reads the parent in the same transaction, deleting the parent deletes it, and
`check` reports it as an orphan when its parent is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from gql.kv import keys as k
from gql.kv import models as m


@dataclass(frozen=True)
class IndexLink:
    """An index that lists an entity: its pattern and the record field filling its parameter."""

    pattern: k.KeyPattern
    field: str | None = None  # None for a global index (`events:index`)
    # The record field whose value the index lists: the record's own `id`, or another
    # record's id (a collaborator entry lists its trip in the collaborator's `trips:index:`).
    lists: str = "id"
    # A filtered index lists only matching records. `when` answers None for a record whose
    # value kvgraph does not know (`status: "pending"`): such a record is neither added to the
    # index nor taken out of it (the app may list it on purpose).
    when: Callable[[Any], bool | None] | None = None

    def key_for(self, record: Any) -> str:
        """The index key that should list `record`."""
        return self.pattern.key(getattr(record, self.field)) if self.field else self.pattern.key()

    def listed_id(self, record: Any) -> str:
        """The id this index lists for `record`."""
        return str(getattr(record, self.lists, "") or "")

    @property
    def shared(self) -> bool:
        """Whether the index lists another record's id for this one (a share, not itself)."""
        return self.lists != "id"

    def wants(self, record: Any) -> bool:
        """Whether this index should list `record`."""
        return self.when is None or bool(self.when(record))

    def unsure(self, record: Any) -> bool:
        """Whether this filtered index cannot tell if it should list `record` (a value
        kvgraph does not know): it keeps listing it if it does, and does not add it."""
        return self.when is not None and self.when(record) is None


@dataclass(frozen=True)
class Parent:
    """The record a child belongs to: its key pattern and the child's field holding its id."""

    pattern: k.KeyPattern
    field: str  # snake_case record field; the child's key parameter of the same name wins

    def key_for(self, record: Any, params: dict[str, str] | None = None) -> str | None:
        """The parent's key, from the child's key parameters or record (None: no parent id)."""
        found = (params or {}).get(to_camel(self.field)) or getattr(record, self.field, None)
        return self.pattern.key(found) if isinstance(found, str) and k.is_id(found) else None


@dataclass(frozen=True)
class EntitySpec:
    """One entity kind: key pattern, model, the fields that build its key, its indexes."""

    pattern: k.KeyPattern
    model: type[m.Record]
    key_fields: tuple[str, ...] = ("id",)
    indexes: tuple[IndexLink, ...] = ()
    # Deleted with the entity: indexes of children keyed by its id (their members too),
    # and single keys keyed by its id.
    child_indexes: tuple[tuple[k.KeyPattern, str], ...] = ()
    owned_keys: tuple[k.KeyPattern, ...] = ()
    owned_prefixes: tuple[k.KeyPattern, ...] = ()
    parent: Parent | None = None

    @property
    def name(self) -> str:
        return self.pattern.name

    def key_for(self, record: Any) -> str:
        """The key `record` is stored under."""
        return self.pattern.key(*(getattr(record, f) for f in self.key_fields))

    def identity(self, *key_args: str) -> m.Identity:
        """The key fields' values a key with these parameters gives: the record's identity."""
        return tuple(zip(self.key_fields, key_args, strict=True))

    def identity_of(self, key: str) -> m.Identity:
        """The identity the key `key` gives (none if it is not one of this entity's keys)."""
        found = self.pattern.regex.match(key)
        return self.identity(*found.groups()) if found else ()

    def validate(self, key: str, value: Any, mapping: Any = None) -> m.Record | m.InvalidRecord:
        """The record stored at `key` (decoded JSON), or why it is invalid (a record whose
        key fields disagree with its key is invalid: the key is the identity)."""
        return m.validate(self.model, key, value, mapping, self.identity_of(key))

    def index_keys(self, record: Any) -> list[str]:
        """Every index key that should list `record`."""
        return [link.key_for(record) for link in self.indexes if link.wants(record)]

    def index_entries(self, record: Any) -> list[tuple[str, str]]:
        """Every (index key, id it lists) that should list `record`."""
        return [
            (link.key_for(record), link.listed_id(record))
            for link in self.indexes
            if link.wants(record)
        ]

    def unsure_index_keys(self, record: Any) -> list[str]:
        """The filtered index keys that may list `record` or not (see `IndexLink.unsure`)."""
        return [link.key_for(record) for link in self.indexes if link.unsure(record)]


def _active(record: Any) -> bool | None:
    """Whether a suggestion is active (an `active` one past its `expiresAt` is not); None for
    a status kvgraph does not know (a mapped app value is known: records are read through
    the mapping)."""
    status = getattr(record, "status", None)
    if status not in m.SUGGESTION_STATUSES:
        return None
    return bool(record.current_status() == "active")


def _s(pattern: k.KeyPattern, model: type[m.Record], **kw: Any) -> EntitySpec:
    return EntitySpec(pattern, model, **kw)


TRIP = _s(
    k.TRIP,
    m.Trip,
    indexes=(IndexLink(k.TRIPS_INDEX, "user_id"),),
    child_indexes=((k.ITEMS_INDEX, "item"), (k.CONFLICTS_INDEX, "conflict")),
    owned_keys=(k.ITEMS_INDEX, k.CONFLICTS_INDEX, k.BUDGET, k.BUDGET_ALERTS),
    owned_prefixes=(k.COLLABORATOR,),
)
OF_TRIP = Parent(k.TRIP, "trip_id")
OF_CONVERSATION = Parent(k.CONVERSATION, "conversation_id")

ITEM = _s(k.ITEM, m.Item, indexes=(IndexLink(k.ITEMS_INDEX, "trip_id"),), parent=OF_TRIP)
CONVERSATION = _s(
    k.CONVERSATION,
    m.Conversation,
    indexes=(IndexLink(k.CONVERSATIONS_INDEX, "user_id"),),
    child_indexes=((k.MESSAGES_INDEX, "message"),),
    owned_keys=(k.MESSAGES_INDEX, k.CONTEXT, k.CONTEXT_HISTORY),
)
MESSAGE = _s(
    k.MESSAGE,
    m.Message,
    indexes=(IndexLink(k.MESSAGES_INDEX, "conversation_id"),),
    parent=OF_CONVERSATION,
)
CONTEXT = _s(k.CONTEXT, m.AIContext, key_fields=("conversation_id",), parent=OF_CONVERSATION)
AI_RUN = _s(k.AI_RUN, m.AIRun, indexes=(IndexLink(k.AI_RUNS_INDEX, "user_id"),))
PROFILE = _s(k.PROFILE, m.Profile)
PREFERENCES = _s(k.PREFERENCES, m.Preferences, key_fields=("user_id",))
SUGGESTION = _s(
    k.SUGGESTION,
    m.Suggestion,
    indexes=(
        IndexLink(k.SUGGESTIONS_INDEX, "user_id"),
        IndexLink(k.SUGGESTIONS_ACTIVE, "user_id", when=_active),
    ),
)
CONFLICT = _s(
    k.CONFLICT, m.Conflict, indexes=(IndexLink(k.CONFLICTS_INDEX, "trip_id"),), parent=OF_TRIP
)
BUDGET = _s(k.BUDGET, m.Budget, key_fields=("trip_id",), parent=OF_TRIP)
WORKFLOW = _s(k.WORKFLOW, m.Workflow, indexes=(IndexLink(k.WORKFLOWS_INDEX, "user_id"),))
COLLECTION = _s(k.COLLECTION, m.Collection, indexes=(IndexLink(k.COLLECTIONS_INDEX, "user_id"),))
# A collaborator entry lists its trip in the collaborator's own `trips:index:{userId}`: how a
# user lists the trips shared with them (see SHARED_BY).
COLLABORATOR = _s(
    k.COLLABORATOR,
    m.Collaborator,
    key_fields=("trip_id", "user_id"),
    indexes=(IndexLink(k.TRIPS_INDEX, "user_id", lists="trip_id"),),
    parent=OF_TRIP,
)
SAVED_PLACE = _s(k.SAVED_PLACE, m.SavedPlace, key_fields=("user_id", "place_id"))
JOB = _s(k.JOB, m.Job, indexes=(IndexLink(k.JOBS_INDEX),), owned_keys=(k.LOG,))
AUTOMATION = _s(
    k.AUTOMATION, m.AutomationRule, indexes=(IndexLink(k.AUTOMATIONS_INDEX, "user_id"),)
)
LOG = _s(k.LOG, m.AutomationLog, key_fields=("job_id",), parent=Parent(k.JOB, "job_id"))
WEBSOURCE = _s(k.WEBSOURCE, m.WebSource, key_fields=("hash",))
APIKEY = _s(k.APIKEY, m.ApiKey, key_fields=("user_id",))

# The catalog (`catalog.py`): each kind's places, listed by the kind's global index, by kind.
LOCATIONS: dict[str, EntitySpec] = {
    kind: _s(pattern, m.PLACES[kind], indexes=(IndexLink(k.LOCATION_INDEX[kind]),))
    for kind, pattern in k.LOCATION_ENTITY.items()
}

SPECS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (*globals().copy().values(), *LOCATIONS.values())
    if isinstance(spec, EntitySpec)
}


# Lists of objects without ids (`budget:alerts:{tripId}`), by pattern name: each element is
# read as a record of the spec's model. Named like the list's pattern (`budget_alerts`), they
# take mapping sections (`[budget_alerts.fields]`), and `check`/`check --shapes` read every
# element. Kept out of SPECS: they are not keys of their own.
LISTS: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec(k.BUDGET_ALERTS, m.BudgetAlert, key_fields=()),
        EntitySpec(k.CONTEXT_HISTORY, m.ContextSnapshot, key_fields=()),
    )
}


def place_refs(ref: str) -> list[tuple[str, str]]:
    """The (kind, id) pairs a place reference may name: `kind:id` one, a bare id every kind.

    `saved:{userId}` and item `locationId`s written by apps hold bare ids; `kind:id` is
    accepted too. A reference that cannot name a place gives no pairs.
    """
    kind, sep, id_ = ref.partition(":")
    if sep:
        return [(kind, id_)] if kind in LOCATIONS and k.is_id(id_) else []
    return [(kind, ref) for kind in LOCATIONS] if k.is_id(ref) else []


# For each index pattern: the entity its ids point to (None: any location kind, `saved:`).
INDEX_TARGET: dict[str, EntitySpec | None] = {
    link.pattern.name: spec for spec in SPECS.values() for link in spec.indexes if not link.shared
}
INDEX_TARGET[k.SAVED.name] = None


# Keys that are not records but belong to one (a trip's `items:index:`, `budget:alerts:`):
# pattern name -> the parent spec whose id fills their one parameter. Deleting the parent
# deletes them; `check` reports them as orphans when the parent is missing.
KEY_PARENT: dict[str, EntitySpec] = {
    pattern.name: spec
    for spec in SPECS.values()
    for pattern in (*spec.owned_keys, *(p for p, _ in spec.child_indexes))
    if pattern.role is not k.Role.ENTITY
}


def key_parent(parsed: k.ParsedKey) -> str | None:
    """The parent record's key of an index or list key that belongs to one (None: none)."""
    spec = KEY_PARENT.get(parsed.pattern.name)
    return spec.pattern.key(*parsed.params.values()) if spec is not None else None


# A user's index may also list what is shared with them: `trips:index:{userId}` may list a
# trip another user owns when `collaborator:{tripId}:{userId}` exists (GraphQL lists it too).
SHARED_BY: dict[str, k.KeyPattern] = {k.TRIPS_INDEX.name: k.COLLABORATOR}


def share_key(parsed_index: k.ParsedKey, id_: str) -> str | None:
    """The key whose existence lets this index list `id_` though another user owns it."""
    pattern = SHARED_BY.get(parsed_index.pattern.name)
    if pattern is None or not k.is_id(id_):
        return None
    return pattern.key(id_, *parsed_index.params.values())
