"""Deterministic demo data: users, a public catalog, trips, conversations and suggestions.

Everything is written through `Repository.create` (indexes kept in step) from tables below (the
catalog's from its own, `gql/kv/catalog.py`) and one `random.Random(DEMO_SEED)`: the same seed
gives the same ids, places, times and costs, so tests and docs can rely on them. Times are UTC
around `BASE_DATE` (2026-06-01); `createdAt` is fixed too, `updatedAt` is stamped by the
repository when seeding. Transport items have no place
(`locationType`/`locationId` absent); every other item links to an event, restaurant or rental.
Seeding again into the same store changes nothing (creates with a known id are idempotent).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gql.kv import Store, StoreError
from gql.kv import entities as e
from gql.kv import keys as k
from gql.kv import models as m
from gql.kv.catalog import CATALOG
from gql.kv.entities import EntitySpec
from gql.kv.repo import Repository
from gql.web.settings import Settings
from resolvers import conflicts, workflows
from resolvers.websources import normalize_url, url_hash

DEMO_SEED = 20260601
BASE_DATE = dt.date(2026, 6, 1)
BASE_TIME = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CURRENCY = "EUR"

DEMO_USER_ID = "7b0f5d2e-4c1a-4e8b-9f3d-2a6c8e1b5d70"
ALEX_USER_ID = "3e9a1c74-8b2d-4f60-a1e5-6c7d9b0f2a13"
SAM_USER_ID = "c5d28f1b-9e4a-4b37-8d62-1f0e7a3c9b45"
NOOR_USER_ID = "91f4b6a0-2d7c-4e1b-b5a8-4e3f0c6d8a27"  # a profile, preferences and nothing else
USER_IDS = (DEMO_USER_ID, ALEX_USER_ID, SAM_USER_ID, NOOR_USER_ID)

# fmt: off
# (user id, email, display name, home city, language, travel style, interests)
USERS: tuple[tuple[str, str, str, str, str, str, tuple[str, ...]], ...] = (
    (DEMO_USER_ID, "demo@example.com", "Dana Demo", "Amsterdam", "en", "foodie",
     ("food", "music", "architecture")),
    (ALEX_USER_ID, "alex@example.com", "Alex Rivera", "Madrid", "es", "budget",
     ("nightlife", "history")),
    (SAM_USER_ID, "sam@example.com", "Sam Okafor", "London", "en", "relaxed",
     ("beaches", "sport", "film")),
    (NOOR_USER_ID, "noor@example.com", "Noor Haddad", "Paris", "fr", "luxury",
     ("art", "museums")),
)
# fmt: on

# fmt: off
# city -> (country, latitude, longitude, streets)
CITIES: dict[str, tuple[str, float, float, tuple[str, ...]]] = {
    "Lisbon": (
        "Portugal", 38.7223, -9.1393,
        ("Rua Augusta", "Rua da Bica de Duarte Belo", "Avenida da Liberdade", "Rua do Norte"),
    ),
    "Barcelona": (
        "Spain", 41.3874, 2.1686,
        ("Carrer de Verdi", "Passeig de Gràcia", "Carrer del Rec", "Carrer de Blai"),
    ),
    "Berlin": (
        "Germany", 52.5200, 13.4050,
        ("Oranienstraße", "Kastanienallee", "Torstraße", "Weserstraße"),
    ),
}
# fmt: on

# (owner, title, city, first day after BASE_DATE, nights, status)
TRIPS: tuple[tuple[str, str, str, int, int, str], ...] = (
    (DEMO_USER_ID, "Long weekend in Lisbon", "Lisbon", 11, 3, "completed"),
    (DEMO_USER_ID, "Barcelona food tour", "Barcelona", 32, 4, "booked"),
    (DEMO_USER_ID, "Berlin in summer", "Berlin", 80, 3, "planning"),
    (ALEX_USER_ID, "Lisbon with friends", "Lisbon", 20, 2, "booked"),
    (SAM_USER_ID, "Barcelona beach week", "Barcelona", 60, 5, "booked"),
    (SAM_USER_ID, "Berlin film weekend", "Berlin", 81, 2, "planning"),
)

NOTES: dict[str, tuple[str, ...]] = {
    "transport": ("Window seat booked.", "Check in online 24h before.", "Carry-on only."),
    "stay": ("Keys in the lockbox by the door.", "Late check-out requested.", "Wi-Fi on fridge."),
    "meal": ("Table for two booked.", "Ask for the daily special.", "Cash preferred."),
    "activity": ("Tickets on the phone.", "Arrive 15 minutes early.", "Bring a light jacket."),
}

Chat = tuple[tuple[str, str], ...]
# fmt: off
# (owner, agent type, title, index into TRIPS, messages as (role, content))
CONVERSATIONS: tuple[tuple[str, str, str, int, Chat], ...] = (
    (DEMO_USER_ID, "local-scout", "Plan my Lisbon weekend", 0, (
        ("user", "I'm in Lisbon for three nights in June. What shouldn't I miss?"),
        ("assistant", "The Santo António festival is on the 14th: sardines and music everywhere. "
                      "A fado night in Alfama the evening before makes a good pair."),
        ("user", "Add the fado night, and somewhere for dinner nearby."),
        ("assistant", "Done: Fado Night in Alfama on June 13 and dinner at Tasca do Fado Velho."),
    )),
    (DEMO_USER_ID, "dining-orchestrator", "Dinner ideas in Barcelona", 1, (
        ("user", "Four dinners in Barcelona, mostly tapas, one nice paella."),
        ("assistant", "Bodega La Plata Nova for tapas, Can Barceloneta for paella by the sea."),
        ("user", "Is Can Barceloneta expensive?"),
        ("assistant", "Mid-range: around 40 EUR a head with wine."),
        ("user", "Great, book it for the second night."),
        ("assistant", "Booked for two on July 4 and added to your itinerary."),
    )),
    (DEMO_USER_ID, "budget-guardian", "Keep Barcelona under budget", 1, (
        ("user", "My Barcelona budget is 1500 EUR. Am I on track?"),
        ("assistant", "Yes. The rental is the largest part; the dinners fit in what is left."),
        ("user", "Warn me at 80%."),
    )),
    (ALEX_USER_ID, "local-scout", "What's on in Lisbon?", 3, (
        ("user", "Anything creative to do in Lisbon on the 22nd?"),
        ("assistant", "An azulejo painting workshop runs that morning."),
        ("user", "Perfect, thanks!"),
    )),
)
# fmt: on

# fmt: off
# (owner, status, index into TRIPS or None, place kind or None, title, content, confidence)
SUGGESTIONS: tuple[tuple[str, str, int | None, str | None, str, str, float], ...] = (
    (DEMO_USER_ID, "active", 1, "restaurant", "Book a table at {name}",
     "{name} is one of the best-rated places in {city} for your dates.", 0.86),
    (DEMO_USER_ID, "active", 2, "event", "Don't miss {name}",
     "{name} is on while you are in {city}.", 0.91),
    (DEMO_USER_ID, "active", None, None, "Turn on price alerts",
     "Get told when rentals in the cities you saved drop in price.", 0.55),
    (DEMO_USER_ID, "accepted", 1, "rental", "Stay at {name}",
     "{name} is close to most of your {city} plans.", 0.78),
    (DEMO_USER_ID, "dismissed", 2, "restaurant", "Try {name}",
     "Locals love {name}; it fits your taste in {city}.", 0.62),
    (DEMO_USER_ID, "expired", 0, "event", "Tickets for {name} are selling fast",
     "Only a few tickets are left for {name} in {city}.", 0.7),
    (ALEX_USER_ID, "active", 3, "restaurant", "Dinner at {name}?",
     "{name} suits a group of friends in {city}.", 0.74),
)
# fmt: on

# (owner, agent name, input tokens, output tokens, duration ms, status, day after BASE_DATE)
AI_RUNS: tuple[tuple[str, str, int, int, int, str, int], ...] = (
    (DEMO_USER_ID, "local-scout", 1840, 612, 2310, "success", -8),
    (DEMO_USER_ID, "dining-orchestrator", 2210, 845, 3125, "success", 10),
    (ALEX_USER_ID, "local-scout", 960, 0, 30000, "timeout", 12),
)

BUDGETS: tuple[tuple[int, float], ...] = ((1, 1500.0),)  # (index into TRIPS, total)
# (owner, index into TRIPS or None, title, the steps it went through after draft, data)
WORKFLOWS: tuple[tuple[str, int | None, str, tuple[str, ...], dict[str, Any]], ...] = (
    (
        DEMO_USER_ID,
        1,
        "Flight to Barcelona",
        ("searching", "selected", "booking", "confirmed"),
        {"from": "LIS", "to": "BCN", "offer": "VY 8461"},
    ),
    (DEMO_USER_ID, 2, "Berlin rental", ("searching",), {"guests": 2}),
    (DEMO_USER_ID, None, "Train pass", ("searching", "selected", "booking", "failed"), {}),
)

# fmt: off
# (status, type, payload, result, day after BASE_DATE, log entries as (level, message))
JOBS: tuple[tuple[str, str, dict[str, Any], dict[str, Any] | None, int,
                  tuple[tuple[str, str], ...]], ...] = (
    ("completed", "catalog-sync", {"city": "Lisbon"}, {"added": 4, "updated": 9}, -2, (
        ("info", "Fetched 13 places from the events feed."),
        ("info", "4 new, 9 updated."),
    )),
    ("failed", "catalog-sync", {"city": "Berlin"}, {"error": "feed timed out"}, -1, (
        ("info", "Fetching the events feed."),
        ("error", "The feed did not answer within 30 s."),
    )),
    ("running", "price-watch", {"kind": "rental", "city": "Barcelona"}, None, 0, (
        ("info", "Checking 5 rentals."),
    )),
)
# (owner, name, trigger, action, enabled)
AUTOMATION_RULES: tuple[tuple[str, str, dict[str, Any], dict[str, Any], bool], ...] = (
    (DEMO_USER_ID, "Tell me when Barcelona rentals drop",
     {"type": "priceDrop", "kind": "rental", "city": "Barcelona", "below": 120},
     {"type": "notify", "channel": "email"}, True),
    (DEMO_USER_ID, "Suggest events for new trips", {"type": "tripCreated"},
     {"type": "suggest", "kinds": ["event"]}, False),
    (ALEX_USER_ID, "Weekly budget summary", {"type": "schedule", "every": "week"},
     {"type": "notify", "channel": "push"}, True),
)
# (url, title, content): pages the agents fetched
WEB_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("https://www.visitlisboa.com/en/events/santo-antonio", "Santo António festival",
     "Lisbon celebrates its patron saint on 12 and 13 June: grilled sardines, music and "
     "decorated streets in Alfama and Mouraria."),
)
# fmt: on
SAVED_COUNT = {DEMO_USER_ID: 4, ALEX_USER_ID: 2}
# Saved as one key per place (`saved:{userId}:{placeId}`), the seed's other pattern.
SAVED_KEYS_COUNT = {SAM_USER_ID: 2}
# (index into TRIPS, collaborator, role): the demo user shares two of their trips.
COLLABORATORS: tuple[tuple[int, str, str], ...] = (
    (0, ALEX_USER_ID, "editor"),
    (2, SAM_USER_ID, "viewer"),
)
# (owner, name, description, catalog kind or None for any, how many places)
COLLECTIONS: tuple[tuple[str, str, str, str | None, int], ...] = (
    (DEMO_USER_ID, "Where to eat", "Tables worth booking ahead.", "restaurant", 3),
    (DEMO_USER_ID, "Someday", "Places for a trip not planned yet.", None, 4),
    (ALEX_USER_ID, "Nights out", "", "event", 2),
)


@dataclass(frozen=True)
class DemoSummary:
    """What `seed_demo` wrote: record counts and the ids to start exploring from."""

    demo_user_id: str
    demo_trip_ids: tuple[str, ...]
    users: int
    trips: int
    items: int
    places: tuple[tuple[str, int], ...]  # (catalog kind, how many), in the catalog's order
    conversations: int
    messages: int
    suggestions: int
    saved_places: int
    collaborators: int
    collections: int
    budgets: int
    ai_runs: int
    conflicts: int = 0
    workflows: int = 0
    jobs: int = 0
    automation_rules: int = 0
    web_sources: int = 0

    def describe(self) -> str:
        """Return a two-line human summary (counts, then the demo user id)."""
        parts = [
            _count(self.users, "user"),
            _count(self.trips, "trip"),
            _count(self.items, "itinerary item"),
            *(_count(n, kind) for kind, n in self.places),
            _count(self.conversations, "conversation"),
            _count(self.messages, "message"),
            _count(self.suggestions, "suggestion"),
            _count(self.saved_places, "saved place"),
            _count(self.collaborators, "collaborator"),
            _count(self.collections, "collection"),
            _count(self.budgets, "budget"),
            _count(self.ai_runs, "AI run"),
            _count(self.conflicts, "conflict"),
            _count(self.workflows, "booking workflow"),
            _count(self.jobs, "job"),
            _count(self.automation_rules, "automation rule"),
            _count(self.web_sources, "web source"),
        ]
        counts = "seeded " + ", ".join(parts)
        return f"{counts}\ndemo user: {self.demo_user_id}"


def _count(n: int, noun: str) -> str:
    """Return `n noun`, plural unless n is 1."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def iso(moment: dt.datetime) -> str:
    """Format a UTC datetime as ISO-8601 with `Z`."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def at(day: int, clock: str) -> dt.datetime:
    """Return the UTC time `clock` ("HH:MM") on BASE_DATE + `day` days."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return BASE_TIME + dt.timedelta(days=day, hours=hours, minutes=minutes)


@dataclass
class _PlannedItem:
    """An itinerary item before it is written (items are written in time order)."""

    start: dt.datetime
    data: dict[str, Any]


class _Seeder:
    """Writes the tables above through one repository, drawing ids from one rng."""

    def __init__(self, store: Store, seed: int) -> None:
        self.repo = Repository(store)
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.places: dict[str, list[dict[str, Any]]] = {kind: [] for kind in k.LOCATION_KINDS}
        self.kind_of: dict[str, str] = {}
        self.trip_ids: list[str] = []

    def new_id(self) -> str:
        """Draw the next record id (a UUID4 string) from the rng."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    async def create(self, spec: EntitySpec, data: dict[str, Any]) -> None:
        """Write one record and its index entries, and count it."""
        await self.repo.create(spec, data)
        self.counts[spec.name] += 1

    async def run(self) -> DemoSummary:
        """Write everything, in a fixed order, and summarize it."""
        await self.users()
        await self.catalog()
        await self.trips()
        await self.conversations()
        await self.suggestions()
        await self.saved()
        await self.saved_keys()
        await self.collaborators()
        await self.collections()
        await self.budgets()
        await self.ai_runs()
        await self.conflicts()
        await self.workflows()
        await self.automation()
        return self.summary()

    def summary(self) -> DemoSummary:
        """Build the summary from the counts."""
        c = self.counts
        demo_trips = [
            tid for tid, row in zip(self.trip_ids, TRIPS, strict=True) if row[0] == DEMO_USER_ID
        ]
        return DemoSummary(
            demo_user_id=DEMO_USER_ID,
            demo_trip_ids=tuple(demo_trips),
            users=c["profile"],
            trips=c["trip"],
            items=c["item"],
            places=tuple((kind, c[kind]) for kind in k.LOCATION_KINDS),
            conversations=c["conversation"],
            messages=c["message"],
            suggestions=c["suggestion"],
            saved_places=c["saved"],
            collaborators=c["collaborator"],
            collections=c["collection"],
            budgets=c["budget"],
            ai_runs=c["ai_run"],
            conflicts=c["conflict"],
            workflows=c["workflow"],
            jobs=c["job"],
            automation_rules=c["automation"],
            web_sources=c["websource"],
        )

    async def users(self) -> None:
        """Write a profile and preferences for every user."""
        for index, (uid, email, name, home, language, style, interests) in enumerate(USERS):
            created = iso(BASE_TIME - dt.timedelta(days=120 - 7 * index))
            profile = {"id": uid, "email": email, "displayName": name, "createdAt": created}
            await self.create(e.PROFILE, profile)
            prefs = {
                "userId": uid,
                "currency": CURRENCY,
                "language": language,
                "homeCity": home,
                "travelStyle": style,
                "interests": list(interests),
                "notifications": {"email": True, "push": index % 2 == 0},
            }
            await self.create(e.PREFERENCES, prefs)

    def place(self, city: str, name: str, tags: tuple[str, ...]) -> dict[str, Any]:
        """Return the fields every place shares, with a drawn id, address and rating."""
        _country, lat, lon, streets = CITIES[city]
        return {
            "id": self.new_id(),
            "name": name,
            "city": city,
            "address": f"{self.rng.choice(streets)} {self.rng.randint(1, 180)}, {city}",
            "latitude": round(lat + self.rng.uniform(-0.03, 0.03), 6),
            "longitude": round(lon + self.rng.uniform(-0.03, 0.03), 6),
            "rating": round(self.rng.uniform(3.8, 4.9), 1),
            "priceLevel": self.rng.randint(1, 4),
            "tags": list(tags),
            "createdAt": iso(BASE_TIME - dt.timedelta(days=60)),
        }

    async def add_place(self, kind: str, data: dict[str, Any]) -> None:
        """Write one catalog place and remember it for itineraries and suggestions."""
        await self.create(e.LOCATIONS[kind], data)
        self.places[kind].append(data)
        self.kind_of[data["id"]] = kind

    async def catalog(self) -> None:
        """Write the public catalog: each kind's demo records (`gql/kv/catalog.py`)."""
        for kind in CATALOG:
            for sample in kind.samples:
                own = {f: v for f, v in sample.items() if f not in ("city", "name", "tags")}
                data = self.place(sample["city"], sample["name"], sample["tags"]) | own
                await self.add_place(kind.name, data)

    def in_city(self, kind: str, city: str) -> list[dict[str, Any]]:
        """Return the catalog places of `kind` in `city`."""
        return [p for p in self.places[kind] if p["city"] == city]

    async def trips(self) -> None:
        """Write every trip with its itinerary, in itinerary (time) order."""
        for owner, title, city, first_day, nights, status in TRIPS:
            trip_id = self.new_id()
            self.trip_ids.append(trip_id)
            trip = {
                "id": trip_id,
                "userId": owner,
                "title": title,
                "destination": f"{city}, {CITIES[city][0]}",
                "startDate": (BASE_DATE + dt.timedelta(days=first_day)).isoformat(),
                "endDate": (BASE_DATE + dt.timedelta(days=first_day + nights)).isoformat(),
                "currency": CURRENCY,
                "status": status,
                "createdAt": iso(at(first_day - 30, "09:00")),
            }
            await self.create(e.TRIP, trip)
            for planned in sorted(self.plan(trip_id, city, first_day, nights), key=_start):
                await self.create(e.ITEM, planned.data | {"createdAt": trip["createdAt"]})

    def plan(self, trip_id: str, city: str, day: int, nights: int) -> list[_PlannedItem]:
        """Plan a trip: travel both ways, one stay, up to 3 dinners and 2 events."""
        last = day + nights
        items = [
            self.item(trip_id, "transport", f"Travel to {city}", at(day, "07:30"), 150, None),
            self.item(
                trip_id, "transport", f"Travel home from {city}", at(last, "15:00"), 150, None
            ),
        ]
        rental = self.rng.choice(self.in_city("rental", city))
        stay_minutes = nights * 24 * 60 - 4 * 60
        stay = f"Stay at {rental['name']}"
        cost = rental["pricePerNight"] * nights
        items.append(
            self.item(trip_id, "stay", stay, at(day, "13:00"), stay_minutes, rental, cost=cost)
        )
        restaurants = self.in_city("restaurant", city)
        offset = self.rng.randrange(len(restaurants))
        for night in range(min(nights, 3)):
            place = restaurants[(offset + night) % len(restaurants)]
            when = at(day + night, "18:30")
            items.append(self.item(trip_id, "meal", f"Dinner at {place['name']}", when, 120, place))
        items += [self.event_item(trip_id, ev) for ev in self.events_during(city, day, last)[:2]]
        return items

    def events_during(self, city: str, first: int, last: int) -> list[dict[str, Any]]:
        """Return the city's events that start within the trip."""
        start, end = at(first, "00:00"), at(last + 1, "00:00")
        return [ev for ev in self.in_city("event", city) if start <= _parse(ev["startsAt"]) < end]

    def event_item(self, trip_id: str, event: dict[str, Any]) -> _PlannedItem:
        """Plan attending an event, at the event's own times."""
        starts, ends = _parse(event["startsAt"]), _parse(event["endsAt"])
        minutes = int((ends - starts).total_seconds() // 60)
        return self.item(trip_id, "activity", event["name"], starts, minutes, event)

    def item(
        self,
        trip_id: str,
        kind: str,
        title: str,
        start: dt.datetime,
        minutes: int,
        place: dict[str, Any] | None,
        *,
        cost: float | None = None,
    ) -> _PlannedItem:
        """Plan one itinerary item with a drawn id, cost and note."""
        low, high = {"transport": (60, 240), "meal": (35, 95), "activity": (12, 65)}.get(
            kind, (0, 0)
        )
        data: dict[str, Any] = {
            "id": self.new_id(),
            "tripId": trip_id,
            "title": title,
            "kind": kind,
            "startTime": iso(start),
            "endTime": iso(start + dt.timedelta(minutes=minutes)),
            "cost": round(cost if cost is not None else self.rng.uniform(low, high), 2),
            "notes": self.rng.choice(NOTES[kind]),
        }
        if place is not None:
            data["locationType"] = self.kind_of[place["id"]]
            data["locationId"] = place["id"]
        return _PlannedItem(start, data)

    async def conversations(self) -> None:
        """Write conversations with their messages and current context."""
        for owner, agent, title, trip_index, chat in CONVERSATIONS:
            conv_id = self.new_id()
            started = at(TRIPS[trip_index][3] - self.rng.randint(5, 20), "08:00")
            started += dt.timedelta(minutes=self.rng.randint(0, 600))
            conversation = {"id": conv_id, "userId": owner, "title": title, "agentType": agent}
            await self.create(e.CONVERSATION, conversation | {"createdAt": iso(started)})
            last = await self.messages(conv_id, started, chat)
            await self.context(conv_id, owner, agent, trip_index, chat, last)

    async def messages(self, conv_id: str, started: dt.datetime, chat: Chat) -> dt.datetime:
        """Write a conversation's messages, timestamps increasing; return the last one."""
        moment = started
        for role, content in chat:
            moment += dt.timedelta(seconds=self.rng.randint(20, 240))
            message = {"id": self.new_id(), "conversationId": conv_id, "role": role}
            await self.create(e.MESSAGE, message | {"content": content, "timestamp": iso(moment)})
        return moment

    async def context(
        self, conv_id: str, owner: str, agent: str, trip_index: int, chat: Chat, last: dt.datetime
    ) -> None:
        """Write `context:{conversationId}`: entities, preferences and session state."""
        city = TRIPS[trip_index][2]
        style, interests = next((u[5], u[6]) for u in USERS if u[0] == owner)
        mentioned = [p["id"] for kind in k.LOCATION_KINDS for p in self.in_city(kind, city)[:1]]
        data = {
            "conversationId": conv_id,
            "entities": {"tripId": self.trip_ids[trip_index], "city": city, "placeIds": mentioned},
            "preferences": {
                "currency": CURRENCY,
                "travelStyle": style,
                "interests": list(interests),
            },
            "session": {"agentType": agent, "turns": len(chat), "lastMessageAt": iso(last)},
        }
        await self.create(e.CONTEXT, data)
        await self.context_history(conv_id, data, last)

    async def context_history(self, conv_id: str, final: dict[str, Any], last: dt.datetime) -> None:
        """Write `context:history:{conversationId}`: the context after each earlier turn, as
        `setContext` keeps them (numbered, `recordedAt` when the next one replaced it); only
        into a store without one, so seeding again changes nothing."""
        key = k.CONTEXT_HISTORY.key(conv_id)
        if await self.repo.store.get(key) is not None:
            return
        turns = final["session"]["turns"]
        snapshots = [
            {
                "seq": turn - 1,
                "entities": {**final["entities"], "placeIds": final["entities"]["placeIds"][:turn]},
                "preferences": final["preferences"],
                "session": {"agentType": final["session"]["agentType"], "turns": turn},
                "recordedAt": iso(last - dt.timedelta(minutes=5 * (turns - turn))),
            }
            for turn in range(1, turns)
        ]
        await self.repo.store.set(key, snapshots)
        self.counts["context_snapshot"] += len(snapshots)

    async def suggestions(self) -> None:
        """Write suggestions in every state, some proposing to add a place to a trip."""
        for owner, status, trip_index, kind, title, content, confidence in SUGGESTIONS:
            shown = at(-3 if trip_index is None else TRIPS[trip_index][3] - 7, "10:00")
            data: dict[str, Any] = {
                "id": self.new_id(),
                "userId": owner,
                "status": status,
                "confidence": confidence,
                "shownAt": iso(shown),
                "createdAt": iso(shown - dt.timedelta(minutes=5)),
            }
            if status == "expired":
                data["expiresAt"] = iso(shown + dt.timedelta(days=2))
            if trip_index is not None:
                data["tripId"] = self.trip_ids[trip_index]
            city = TRIPS[trip_index][2] if trip_index is not None else ""
            name = ""
            if kind is not None:
                place = self.rng.choice(self.in_city(kind, city))
                name = place["name"]
                data["action"] = {"type": "addPlace", "placeType": kind, "placeId": place["id"]}
            data["title"] = title.format(name=name, city=city)
            data["content"] = content.format(name=name, city=city)
            await self.create(e.SUGGESTION, data)

    async def saved(self) -> None:
        """Save a few catalog places for some users (`saved:{userId}`)."""
        kinds = [kind for kind in k.LOCATION_KINDS if self.places[kind]]
        for owner, count in SAVED_COUNT.items():
            chosen: list[str] = []
            for i in range(count):
                kind = kinds[i % len(kinds)]
                place = self.rng.choice([p for p in self.places[kind] if p["id"] not in chosen])
                chosen.append(place["id"])
                await self.repo.add_to_list(k.SAVED.key(owner), place["id"])
            self.counts["saved"] += len(chosen)

    async def saved_keys(self) -> None:
        """Save places as one key each (`saved:{userId}:{placeId}`) for some users."""
        kinds = [kind for kind in k.LOCATION_KINDS if self.places[kind]]
        for owner, count in SAVED_KEYS_COUNT.items():
            for i in range(count):
                place = self.places[kinds[i % len(kinds)]][i // len(kinds)]
                data = {
                    "userId": owner,
                    "placeId": place["id"],
                    "locationType": self.kind_of[place["id"]],
                }
                await self.repo.create(e.SAVED_PLACE, data | {"createdAt": iso(at(i, "12:00"))})
                self.counts["saved"] += 1

    async def collaborators(self) -> None:
        """Share some of the demo user's trips (listed in each collaborator's trips too)."""
        for trip_index, user, role in COLLABORATORS:
            trip_id = self.trip_ids[trip_index]
            entry = {"tripId": trip_id, "userId": user, "role": role}
            await self.create(e.COLLABORATOR, entry | {"invitedAt": iso(at(-20, "18:00"))})

    async def collections(self) -> None:
        """Write a few collections of catalog places, in order."""
        for owner, name, description, kind, count in COLLECTIONS:
            pool = self.places[kind] if kind else [p for ps in self.places.values() for p in ps]
            chosen = self.rng.sample(pool, min(count, len(pool)))
            data = {"id": self.new_id(), "userId": owner, "name": name}
            data["createdAt"] = iso(at(-10, "20:00"))
            data |= {"description": description} if description else {}
            await self.create(e.COLLECTION, data | {"placeIds": [p["id"] for p in chosen]})

    async def budgets(self) -> None:
        """Write a budget for some trips (written after their items, the repository records
        an alert in `budget:alerts:{tripId}` for each threshold they already reach)."""
        for trip_index, total in BUDGETS:
            data = {
                "tripId": self.trip_ids[trip_index],
                "total": total,
                "currency": CURRENCY,
                "thresholds": [0.5, 0.8, 1.0],
                "createdAt": iso(at(TRIPS[trip_index][3] - 30, "09:00")),
            }
            await self.create(e.BUDGET, data)

    async def ai_runs(self) -> None:
        """Write a few agent runs."""
        for owner, agent, tokens_in, tokens_out, duration, status, day in AI_RUNS:
            data = {
                "id": self.new_id(),
                "userId": owner,
                "agentName": agent,
                "inputTokens": tokens_in,
                "outputTokens": tokens_out,
                "durationMs": duration,
                "status": status,
                "createdAt": iso(
                    at(day, "09:00") + dt.timedelta(seconds=self.rng.randint(0, 3600))
                ),
            }
            await self.create(e.AI_RUN, data)

    async def conflicts(self) -> None:
        """Record what `detectConflicts` finds in the demo user's trips."""
        for trip_id, row in zip(self.trip_ids, TRIPS, strict=True):
            if row[0] != DEMO_USER_ID:
                continue
            trip = await self.repo.get(e.TRIP, trip_id)
            ids = await self.repo.store.get(k.ITEMS_INDEX.key(trip_id)) or []
            items = [await self.repo.get(e.ITEM, i) for i in ids]
            places = [
                await self.repo.get(e.LOCATIONS[i.location_type], i.location_id)
                if isinstance(i, m.Item) and i.location_id and i.location_type in e.LOCATIONS
                else None
                for i in items
            ]
            found, _ = conflicts.find(trip, items, places)  # type: ignore[arg-type]
            detected = iso(at(row[3] - 7, "10:00"))
            entries = [{**f, "id": self.new_id(), "detectedAt": detected} for f in found]
            index_key = k.CONFLICTS_INDEX.key(trip_id)
            created, matched = await self.repo.create_missing(
                e.CONFLICT, index_key, entries, conflicts.same
            )
            self.counts["conflict"] += len(created) + len(matched)  # seeded again: matched

    async def workflows(self) -> None:
        """Write booking workflows at several steps, each with the history of its moves."""
        for owner, trip_index, title, steps, data in WORKFLOWS:
            moved = at(-20, "09:00")
            history = [{"step": "draft", "previous": None, "at": iso(moved), "by": owner}]
            for previous, step in zip(("draft", *steps), steps, strict=False):
                moved += dt.timedelta(hours=self.rng.randint(1, 30))
                history.append({"step": step, "previous": previous, "at": iso(moved), "by": owner})
            last = history[-1]["step"]
            record = {
                "id": self.new_id(),
                "userId": owner,
                "title": title,
                "currentStep": last,
                "status": workflows.STATUS_OF[last],  # type: ignore[index]
                "data": data,
                "history": history,
                "createdAt": history[0]["at"],
            }
            if trip_index is not None:
                record["tripId"] = self.trip_ids[trip_index]
            await self.create(e.WORKFLOW, record)

    async def automation(self) -> None:
        """Write jobs with their logs, automation rules and a cached page."""
        for status, kind, payload, result, day, entries in JOBS:
            job_id, started = self.new_id(), at(day, "03:00")
            job = {"id": job_id, "type": kind, "status": status, "payload": payload}
            await self.create(e.JOB, {**job, "result": result, "createdAt": iso(started)})
            log = [
                {"at": iso(started + dt.timedelta(seconds=30 * n)), "level": lvl, "message": msg}
                for n, (lvl, msg) in enumerate(entries)
            ]
            await self.create(e.LOG, {"jobId": job_id, "entries": log})
        for owner, name, trigger, action, enabled in AUTOMATION_RULES:
            rule = {"id": self.new_id(), "userId": owner, "name": name, "enabled": enabled}
            made = iso(at(-10, "09:00"))
            await self.create(
                e.AUTOMATION, {**rule, "trigger": trigger, "action": action, "createdAt": made}
            )
        for url, title, content in WEB_SOURCES:
            page = {"hash": url_hash(url), "url": normalize_url(url), "title": title}
            fetched = iso(at(-5, "12:00"))
            await self.create(e.WEBSOURCE, {**page, "content": content, "fetchedAt": fetched})


def _start(item: _PlannedItem) -> dt.datetime:
    """Sort key: when an item starts."""
    return item.start


def _parse(value: str) -> dt.datetime:
    """Parse an ISO-8601 UTC time written with `Z`."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


async def seed_demo(store: Store, *, seed: int = DEMO_SEED) -> DemoSummary:
    """Write the demo data set into an opened store and summarize it."""
    return await _Seeder(store, seed).run()


async def store_is_empty(store: Store) -> bool:
    """Return whether the store's table has no keys at all."""
    return not await store.scan_prefix("", limit=1)


async def seed_demo_command(settings: Settings, *, force: bool) -> int:
    """Seed the configured store (refusing one that has data unless `force`); exit code."""
    store = settings.make_store()
    try:
        await store.open()
        if not force and not await store_is_empty(store):
            print(
                f"refusing to seed: table {settings.kv_table!r} already has data "
                "(use --force to add the demo data anyway)",
                file=sys.stderr,
            )
            return 1
        summary = await seed_demo(store)
    except StoreError as exc:
        print(f"cannot seed the demo data: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(summary.describe())
    return 0


__all__ = [
    "ALEX_USER_ID",
    "BASE_DATE",
    "DEMO_SEED",
    "DEMO_USER_ID",
    "NOOR_USER_ID",
    "SAM_USER_ID",
    "USER_IDS",
    "DemoSummary",
    "seed_demo",
    "seed_demo_command",
    "store_is_empty",
]
