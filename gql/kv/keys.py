"""The key registry: every key pattern of the seed document, with builders and a parser.

Entity keys hold one JSON object (`trip:{id}`); index keys hold a JSON array of ids
(`trips:index:{userId}`); list keys hold a JSON array of objects (`context:history:{id}`,
`budget:alerts:{tripId}`). Parameters never contain `:`, which is what keeps
`conversation:{id}` apart from `conversation:index:{userId}` and `budget:{tripId}` apart from
`budget:alerts:{tripId}`; the parser also tries longer literal prefixes first.

Ids follow one rule on every store (`is_id`): 1 to 200 characters, no `:`, no control
characters, no lone surrogates. Postgres' btree index refuses keys over ~2,700 bytes while
SQLite would store anything, and a control character or a lone surrogate cannot travel
through every client and store; a short, printable id works everywhere.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import StrEnum

from gql.kv.catalog import CATALOG

_PARAM = re.compile(r"\{(\w+)\}")


class Role(StrEnum):
    ENTITY = "entity"
    INDEX = "index"
    LIST = "list"


@dataclass(frozen=True)
class KeyPattern:
    """One key pattern, e.g. `trips:index:{userId}`."""

    name: str
    template: str
    role: Role
    params: tuple[str, ...] = field(init=False)
    regex: re.Pattern[str] = field(init=False, repr=False)
    literal_prefix: str = field(init=False, repr=False)  # text before the first parameter

    def __post_init__(self) -> None:
        params = tuple(_PARAM.findall(self.template))
        parts = _PARAM.split(self.template)
        body = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^:]+)" for i, part in enumerate(parts)
        )
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "regex", re.compile(f"^{body}$"))
        object.__setattr__(self, "literal_prefix", self.template.split("{", 1)[0])

    def key(self, *args: str) -> str:
        """Build a key from positional parameters, refusing ids that would break parsing."""
        if len(args) != len(self.params):
            raise TypeError(f"{self.template} takes {len(self.params)} parameter(s)")
        for arg in args:
            if not is_id(arg):
                raise ValueError(f"invalid id for {self.template}: {id_problem(arg)}")
        return self.template.format(**dict(zip(self.params, args, strict=True)))

    def prefix(self, *args: str) -> str:
        """The prefix of every key whose first parameters are `args`, one fewer than the
        pattern takes: `collaborator:t1:` lists the collaborators of trip t1."""
        if len(args) != len(self.params) - 1:
            raise TypeError(
                f"a prefix of {self.template} takes {len(self.params) - 1} parameter(s)"
            )
        return self.key(*args, "-").removesuffix("-")


ID_MAX = 200
# What an id must not contain: the key separator, control characters, lone surrogates.
_ID_FORBIDDEN = ":\x00-\x1f\x7f-\x9f\ud800-\udfff"
_ID = re.compile(f"[^{_ID_FORBIDDEN}]{{1,{ID_MAX}}}")
_ID_BAD_CHAR = re.compile(f"[{_ID_FORBIDDEN}]")


@functools.lru_cache(maxsize=1 << 16)  # the same ids are asked about on every request
def is_id(value: str) -> bool:
    """Whether `value` can fill a key parameter: 1-200 characters, no `:`, control
    character or lone surrogate."""
    if value.isascii():  # the common case, twice as fast as the regex (C string methods)
        return 0 < len(value) <= ID_MAX and value.isprintable() and ":" not in value
    return _ID.fullmatch(value) is not None


def id_problem(value: str) -> str | None:
    """Why `value` is not an id, in words (None when it is one)."""
    if is_id(value):
        return None
    if not value:
        return "an id must not be empty"
    if len(value) > ID_MAX:
        return f"an id must be at most {ID_MAX} characters (this one has {len(value):,})"
    bad = _ID_BAD_CHAR.search(value)
    char = bad.group() if bad else ""
    what = "':'" if char == ":" else f"U+{ord(char):04X}"
    return f"an id must not contain {what} (no ':', control characters or lone surrogates)"


def _p(name: str, template: str, role: Role) -> KeyPattern:
    return KeyPattern(name, template, role)


ENT, IDX, LST = Role.ENTITY, Role.INDEX, Role.LIST

# Entities (one JSON object each).
CONVERSATION = _p("conversation", "conversation:{id}", ENT)
MESSAGE = _p("message", "message:{id}", ENT)
AI_RUN = _p("ai_run", "ai_run:{id}", ENT)
CONTEXT = _p("context", "context:{conversationId}", ENT)
TRIP = _p("trip", "trip:{id}", ENT)
ITEM = _p("item", "item:{id}", ENT)
PROFILE = _p("profile", "profile:{userId}", ENT)
PREFERENCES = _p("preferences", "preferences:{userId}", ENT)
SUGGESTION = _p("suggestion", "suggestion:{id}", ENT)
CONFLICT = _p("conflict", "conflict:{id}", ENT)
BUDGET = _p("budget", "budget:{tripId}", ENT)
WORKFLOW = _p("workflow", "workflow:{id}", ENT)
COLLECTION = _p("collection", "collection:{id}", ENT)
COLLABORATOR = _p("collaborator", "collaborator:{tripId}:{userId}", ENT)
JOB = _p("job", "job:{id}", ENT)
AUTOMATION = _p("automation", "automation:{id}", ENT)
LOG = _p("log", "log:{jobId}", ENT)
WEBSOURCE = _p("websource", "websource:{hash}", ENT)
APIKEY = _p("apikey", "apikey:{userId}", ENT)
# One key per saved place, listed by the prefix `saved:{userId}:` (the seed's saved_places
# table); `saved:{userId}`, the index of saved place ids, is the other pattern it names.
SAVED_PLACE = _p("saved_place", "saved:{userId}:{placeId}", ENT)

# Indexes (JSON arrays of ids, in order).
CONVERSATIONS_INDEX = _p("conversations_index", "conversation:index:{userId}", IDX)
MESSAGES_INDEX = _p("messages_index", "messages:index:{conversationId}", IDX)
AI_RUNS_INDEX = _p("ai_runs_index", "ai_runs:index:{userId}", IDX)
TRIPS_INDEX = _p("trips_index", "trips:index:{userId}", IDX)
ITEMS_INDEX = _p("items_index", "items:index:{tripId}", IDX)
SAVED = _p("saved", "saved:{userId}", IDX)
SUGGESTIONS_INDEX = _p("suggestions_index", "suggestions:index:{userId}", IDX)
SUGGESTIONS_ACTIVE = _p("suggestions_active", "suggestions:active:{userId}", IDX)
CONFLICTS_INDEX = _p("conflicts_index", "conflicts:index:{tripId}", IDX)
WORKFLOWS_INDEX = _p("workflows_index", "workflows:index:{userId}", IDX)
COLLECTIONS_INDEX = _p("collections_index", "collections:index:{userId}", IDX)
JOBS_INDEX = _p("jobs_index", "jobs:index", IDX)
# Not in the seed, which lists automation rules by no key: kvgraph keeps a per-user index of
# them like the seed's other per-user kinds (`docs/api.md`, "Automation rules are listed").
AUTOMATIONS_INDEX = _p("automations_index", "automations:index:{userId}", IDX)

# Lists of objects (history snapshots, alert history).
CONTEXT_HISTORY = _p("context_history", "context:history:{conversationId}", LST)
BUDGET_ALERTS = _p("budget_alerts", "budget:alerts:{tripId}", LST)

# The catalog (`catalog.py`): each kind's places (`rental:{id}`) and its global index
# (`rentals:index`), by kind.
LOCATION_ENTITY = {kind.name: _p(kind.name, f"{kind.name}:{{id}}", ENT) for kind in CATALOG}
LOCATION_INDEX = {
    kind.name: _p(f"{kind.index_name}_index", f"{kind.index_name}:index", IDX) for kind in CATALOG
}
LOCATION_KINDS: tuple[str, ...] = tuple(LOCATION_ENTITY)

PATTERNS: tuple[KeyPattern, ...] = (
    *(value for value in list(globals().values()) if isinstance(value, KeyPattern)),
    *LOCATION_ENTITY.values(),
    *LOCATION_INDEX.values(),
)
# Longest literal prefix first, so `conversation:index:` is tried before `conversation:`.
_BY_SPECIFICITY = sorted(PATTERNS, key=lambda p: len(p.literal_prefix), reverse=True)
BY_NAME = {p.name: p for p in PATTERNS}
if len(BY_NAME) < len(PATTERNS) or len({p.template for p in PATTERNS}) < len(PATTERNS):
    raise RuntimeError("two key patterns share a name or a template (a catalog kind's name?)")


@dataclass(frozen=True)
class ParsedKey:
    """A key matched to its pattern, with its parameters."""

    pattern: KeyPattern
    params: dict[str, str]

    @property
    def role(self) -> Role:
        return self.pattern.role


def parse(key: str) -> ParsedKey | None:
    """Match a key to its pattern; None for keys kvgraph does not know."""
    for pattern in _BY_SPECIFICITY:
        if key.startswith(pattern.literal_prefix):
            match = pattern.regex.match(key)
            if match:
                return ParsedKey(pattern, match.groupdict())
    return None
