"""The Strawberry types. Stored records are the sources of their GraphQL types (duck typed):
plain fields read record attributes directly, relations go through `resolvers/`."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLAbstractType, GraphQLResolveInfo
from strawberry.scalars import JSON

from gql.kv import models as m
from gql.schema.base import Info
from resolvers import batches as b
from resolvers.nodes import TYPE_NAMES
from resolvers.users import UserRef

T = TypeVar("T")


def src(value: object) -> Any:
    """Let a record (or a resolvers/ result) stand in for the GraphQL type it backs."""
    return value


async def one(batch: b.Batch, info: Info, root: Any, **args: Any) -> Any:
    """Resolve one object's field through the field's batch resolver."""
    return (await batch(info.context, [root], args))[0]


def relation(batch: b.Batch, resolver: Any, **options: Any) -> Any:
    """A field resolved level-at-a-time by `batch` (and per object by `resolver`)."""
    return strawberry.field(resolver=resolver, metadata={"batch": batch}, **options)


def connection(batch: b.Batch, node: str, **options: Any) -> Any:
    """A Relay connection of `node` objects (`first/after/last/before`) served by `batch`."""

    async def resolve(
        root: strawberry.Parent[Any],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        return await one(batch, info, root, first=first, after=after, last=last, before=before)

    resolve.__annotations__["return"] = f"Connection[{node}]"  # resolved in this module
    return relation(batch, resolve, **options)


def backed_by(*models: type) -> Any:
    """Mark a GraphQL object type as served by these record classes."""

    def mark(cls: type) -> type:
        cls.is_type_of = classmethod(lambda _cls, obj, _info: isinstance(obj, models))  # type: ignore[attr-defined]
        return cls

    return mark


@strawberry.enum(description="The three kinds of place in the catalog.")
class LocationKind(Enum):
    EVENT = "event"
    RESTAURANT = "restaurant"
    RENTAL = "rental"


@strawberry.enum
class ItemKind(Enum):
    ACTIVITY = "activity"
    MEAL = "meal"
    STAY = "stay"
    TRANSPORT = "transport"


@strawberry.enum
class MessageRole(Enum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


@strawberry.enum
class SuggestionStatus(Enum):
    ACTIVE = "active"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"
    EXPIRED = "expired"


async def _node_id(root: strawberry.Parent[Any], info: Info) -> strawberry.ID:
    return await one(b.node_ids, info, root)


def _type_name(obj: Any, _info: GraphQLResolveInfo, _type: GraphQLAbstractType) -> str:
    return TYPE_NAMES[type(obj)]


@strawberry.interface(description="An object with a global id, fetchable with `node(nodeId:)`.")
class Node:
    node_id: strawberry.ID = relation(
        b.node_ids, _node_id, description="Opaque global id (base64 of `Type:id`)."
    )

    @classmethod
    def resolve_type(
        cls, obj: Any, info: GraphQLResolveInfo, abstract_type: GraphQLAbstractType
    ) -> str:
        return _type_name(obj, info, abstract_type)


@strawberry.type(description="An amount of money in a currency (ISO-4217 code when known).")
class Money:
    amount: float
    currency: str | None


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list; `totalCount` is the length of the whole list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="One problem with a mutation's input; nothing was written.")
class UserError:
    field: str | None
    message: str
    code: str


# ---------------------------------------------------------------- places
@strawberry.interface(description="A place in the catalog: an event, a restaurant or a rental.")
class Location(Node):
    id: strawberry.ID
    name: str
    description: str | None
    address: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    rating: float | None
    price_level: int | None
    image_url: str | None
    tags: list[str] | None

    @classmethod
    def resolve_type(
        cls, obj: Any, info: GraphQLResolveInfo, abstract_type: GraphQLAbstractType
    ) -> str:
        return _type_name(obj, info, abstract_type)


@strawberry.type
@backed_by(m.Event)
class Event(Location):
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


@strawberry.type
@backed_by(m.Restaurant)
class Restaurant(Location):
    cuisine: str | None
    opening_hours: JSON | None


@strawberry.type
@backed_by(m.Rental)
class Rental(Location):
    price_per_night: float | None
    bedrooms: int | None


# ---------------------------------------------------------------- trips and items
async def _item_location(root: strawberry.Parent[m.Item], info: Info) -> Location | None:
    return await one(b.item_locations, info, root)


async def _item_trip(root: strawberry.Parent[m.Item], info: Info) -> Trip | None:
    return await one(b.item_trips, info, root)


async def _item_cost(root: strawberry.Parent[m.Item], info: Info) -> Money | None:
    return await one(b.item_costs, info, root)


@strawberry.type(description="One entry of a trip's itinerary (`item:{id}`).")
@backed_by(m.Item)
class ItineraryItem(Node):
    id: strawberry.ID
    title: str
    kind: ItemKind | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    notes: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    location: Location | None = relation(b.item_locations, _item_location)
    trip: Trip | None = relation(b.item_trips, _item_trip)
    cost: Money | None = relation(b.item_costs, _item_cost)


async def _trip_owner(root: strawberry.Parent[m.Trip], info: Info) -> User:
    return await one(b.trip_owner, info, root)


@strawberry.type(description="A trip (`trip:{id}`), listed in `trips:index:{userId}`.")
@backed_by(m.Trip)
class Trip(Node):
    id: strawberry.ID
    title: str
    destination: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    currency: str | None
    status: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    owner: User = relation(b.trip_owner, _trip_owner)
    items: Connection[ItineraryItem] = connection(
        b.trip_items,
        "ItineraryItem",
        description="The itinerary, in order (`items:index:{tripId}`).",
    )


# ---------------------------------------------------------------- conversations
async def _record_data(root: strawberry.Parent[Any], info: Info) -> JSON:
    return await one(b.record_data, info, root)


@strawberry.type(description="A conversation's current AI context (`context:{conversationId}`).")
@backed_by(m.AIContext)
class AIContext(Node):
    conversation_id: strawberry.ID | None
    entities: JSON | None
    preferences: JSON | None
    session: JSON | None
    updated_at: dt.datetime | None
    data: JSON = relation(b.record_data, _record_data, description="The whole stored record.")


@strawberry.type(description="A message (`message:{id}`).")
@backed_by(m.Message)
class Message(Node):
    id: strawberry.ID
    conversation_id: strawberry.ID
    role: MessageRole
    content: str
    timestamp: dt.datetime | None


async def _conv_context(root: strawberry.Parent[m.Conversation], info: Info) -> AIContext | None:
    return await one(b.conversation_context, info, root)


@strawberry.type(description="A conversation with an AI agent (`conversation:{id}`).")
@backed_by(m.Conversation)
class Conversation(Node):
    id: strawberry.ID
    title: str | None
    agent_type: str | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    messages: Connection[Message] = connection(b.conversation_messages, "Message")
    context: AIContext | None = relation(b.conversation_context, _conv_context)


# ---------------------------------------------------------------- suggestions
async def _suggestion_trip(root: strawberry.Parent[m.Suggestion], info: Info) -> Trip | None:
    return await one(b.suggestion_trip, info, root)


@strawberry.type(description="A proactive suggestion (`suggestion:{id}`).")
@backed_by(m.Suggestion)
class Suggestion(Node):
    id: strawberry.ID
    title: str | None
    content: str
    confidence: float | None
    status: SuggestionStatus
    shown_at: dt.datetime | None
    expires_at: dt.datetime | None
    action: JSON | None
    created_at: dt.datetime | None
    trip: Trip | None = relation(b.suggestion_trip, _suggestion_trip)


# ---------------------------------------------------------------- the viewer
@strawberry.type(description="A user's preferences (`preferences:{userId}`).")
class Preferences:
    currency: str | None
    language: str | None
    home_city: str | None
    travel_style: str | None
    interests: list[str] | None
    notifications: JSON | None
    data: JSON = relation(b.record_data, _record_data, description="The whole stored record.")


async def _email(root: strawberry.Parent[UserRef], info: Info) -> str | None:
    return await one(b.user_email, info, root)


async def _display_name(root: strawberry.Parent[UserRef], info: Info) -> str | None:
    return await one(b.user_display_name, info, root)


async def _avatar_url(root: strawberry.Parent[UserRef], info: Info) -> str | None:
    return await one(b.user_avatar_url, info, root)


async def _preferences(root: strawberry.Parent[UserRef], info: Info) -> Preferences | None:
    return await one(b.user_preferences, info, root)


async def _user_suggestions(
    root: strawberry.Parent[UserRef],
    info: Info,
    status: SuggestionStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Suggestion]:
    page = {"first": first, "after": after, "last": last, "before": before}
    return await one(b.user_suggestions, info, root, status=status, **page)


@strawberry.type(description="A user: the viewer. Profile fields are null without `profile:{id}`.")
@backed_by(UserRef)
class User(Node):
    id: strawberry.ID
    email: str | None = relation(b.user_email, _email)
    display_name: str | None = relation(b.user_display_name, _display_name)
    avatar_url: str | None = relation(b.user_avatar_url, _avatar_url)
    preferences: Preferences | None = relation(b.user_preferences, _preferences)
    trips: Connection[Trip] = connection(b.user_trips, "Trip")
    conversations: Connection[Conversation] = connection(b.user_conversations, "Conversation")
    suggestions: Connection[Suggestion] = relation(b.user_suggestions, _user_suggestions)
    saved_places: Connection[Location] = connection(b.user_saved_places, "Location")
