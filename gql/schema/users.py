"""Users: the viewer with their profile, preferences and lists."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.ai_runs import TOTALS_TYPES, AIRun, AIRunTotals
from gql.schema.api_keys import ApiKey
from gql.schema.automation import AutomationRule
from gql.schema.base import (
    Connection,
    Node,
    connection,
    node,
    record_data_field,
    relation,
    root_field,
    root_mutations,
    root_query,
)
from gql.schema.collections import Collection
from gql.schema.conversations import Conversation
from gql.schema.derive import from_model, mutation
from gql.schema.enums import SuggestionStatus
from gql.schema.locations import Location
from gql.schema.suggestions import Suggestion
from gql.schema.trips import Trip
from gql.schema.workflows import BookingWorkflow
from resolvers import ai_runs as runs
from resolvers import (
    api_keys,
    automation,
    collections,
    conversations,
    locations,
    suggestions,
    trips,
    users,
    workflows,
)
from resolvers.suggestions import SuggestionArgs


@strawberry.type(description="A user's preferences (`preferences:{userId}`).")
@from_model(m.Preferences, hide=("user_id", "updated_at"))
class Preferences:
    data: JSON = record_data_field()


@strawberry.type(
    description="A user (`profile:{id}`; profile fields are null without one). A user other "
    "than the viewer, such as a shared trip's owner, shows only `displayName` and `avatarUrl`: "
    "the other fields are null, the lists empty."
)
@node(users.UserRef, users.user)
class User(Node):
    id: strawberry.ID
    email: str | None = relation(users.profile_field("email", public=False))
    display_name: str | None = relation(users.profile_field("display_name", public=True))
    avatar_url: str | None = relation(users.profile_field("avatar_url", public=True))
    preferences: Preferences | None = relation(users.preferences)
    trips: Connection[Trip] = connection(trips.user_trips)
    conversations: Connection[Conversation] = connection(conversations.user_conversations)
    suggestions: Connection[Suggestion] = connection(
        suggestions.user_suggestions,
        args=SuggestionArgs,
        types={"status": SuggestionStatus | None},
    )
    saved_places: Connection[Location] = connection(
        locations.saved_places,
        description="Saved places: `saved:{userId}` in its order, then the "
        "`saved:{userId}:{placeId}` keys (each place once).",
    )
    collections: Connection[Collection] = connection(
        collections.user_collections,
        description="The user's collections of places (`collections:index:{userId}`).",
    )
    workflows: Connection[BookingWorkflow] = connection(
        workflows.user_workflows,
        description="The user's booking workflows (`workflows:index:{userId}`).",
    )
    automation_rules: Connection[AutomationRule] = connection(
        automation.user_automation_rules,
        description="The user's automation rules (`automations:index:{userId}`).",
    )
    ai_runs: Connection[AIRun] = connection(
        runs.user_ai_runs, description="The viewer's agent runs, in the order recorded."
    )
    ai_run_totals: AIRunTotals | None = relation(
        runs.ai_run_totals,
        args=runs.TotalsArgs,
        types=TOTALS_TYPES,
        description="The viewer's agent runs added up over `from`..`to` (at most 366 days).",
    )
    api_key: ApiKey | None = relation(
        api_keys.user_api_keys, description="The viewer's API key, masked."
    )


@root_query
@strawberry.type
class UserQuery:
    viewer: User | None = root_field(
        users.viewer, description="The signed-in user; null without a valid bearer token."
    )


@strawberry.input
class UpdateProfileInput:
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Shown to others; null or empty clears it."
    )
    avatar_url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An http(s) URL, shown to others; null or empty clears it.",
    )


@root_mutations
@strawberry.type
class UserMutations:
    update_profile = mutation(
        users.update_profile,
        UpdateProfileInput,
        "user",
        User,
        "Change the viewer's own profile (`profile:{userId}`, made if missing); fields left "
        "out stay as they are.",
    )
