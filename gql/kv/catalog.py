"""The public catalog's kinds of place: one table entry each, everything else derived from it.

A kind (`event`, `restaurant`, `rental`) is: a record model over the fields every place
shares (`models.PLACES`), a key `{kind}:{id}` and a global index `{plural}:index`
(`keys.LOCATION_ENTITY`, `keys.LOCATION_INDEX`), an entity spec (`entities.LOCATIONS`) that
everyone may read (`resolvers/access.py`), a known value of an item's `locationType` and of
the GraphQL enum `LocationKind`, a GraphQL type implementing `Location`
(`gql/schema/locations.py`), and demo records (`gql/commands/demo.py`). Every one of those
is derived from `CATALOG` below, so adding a kind is one `CatalogKind` entry here (then
`python -m gql export-schema`); the tests derive their expectations from it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic.alias_generators import to_pascal

from gql.kv.scalars import Count, DateTime


@dataclass(frozen=True)
class CatalogKind:
    """One kind of place in the public catalog."""

    name: str  # its key prefix and `locationType` value; `Rental` in GraphQL, `RENTAL` its enum
    description: str
    # Its own record fields beyond every place's (Python name -> annotation); all default None.
    fields: Mapping[str, Any] = field(default_factory=dict)
    # Other names apps use for its fields (camelCase name -> names tried in order).
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Demo records (`seed-demo`): city, name, tags and stored fields (camelCase). The demo
    # draws the id, address, coordinates, rating and price level.
    samples: tuple[Mapping[str, Any], ...] = ()
    plural: str = ""  # of its index `{plural}:index`; default: the name and "s"

    @property
    def index_name(self) -> str:
        """The literal part of its index key: `rentals`."""
        return self.plural or self.name + "s"

    @property
    def type_name(self) -> str:
        """Its record model's and GraphQL type's name: `Rental`."""
        return to_pascal(self.name)


def _place(city: str, name: str, tags: tuple[str, ...], **stored: Any) -> dict[str, Any]:
    return {"city": city, "name": name, "tags": tags, **stored}


# fmt: off
CATALOG: tuple[CatalogKind, ...] = (
    CatalogKind(
        "event",
        "Something on at a time: a concert, a festival, a tour.",
        fields={"starts_at": DateTime | None, "ends_at": DateTime | None},
        synonyms={"startsAt": ("startTime", "startDate", "date"), "endsAt": ("endTime", "endDate")},
        samples=(
            _place("Lisbon", "Fado Night in Alfama", ("music", "nightlife"),
                   description="Live fado in a candle-lit tavern, two sets with a short break.",
                   startsAt="2026-06-13T20:00:00Z", endsAt="2026-06-13T22:00:00Z"),
            _place("Lisbon", "Santo António Street Festival", ("festival", "food"),
                   description="Grilled sardines, paper garlands and dancing in the old quarters.",
                   startsAt="2026-06-14T17:00:00Z", endsAt="2026-06-14T22:00:00Z"),
            _place("Lisbon", "Azulejo Painting Workshop", ("workshop", "art"),
                   description="Paint your own tile with a local ceramicist; materials included.",
                   startsAt="2026-06-22T09:00:00Z", endsAt="2026-06-22T12:00:00Z"),
            _place("Barcelona", "Electronic Music by Day", ("music", "festival"),
                   description="Daytime stages, installations and talks on electronic music.",
                   startsAt="2026-07-04T11:00:00Z", endsAt="2026-07-04T17:00:00Z"),
            _place("Barcelona", "Gothic Quarter Night Walk", ("tour", "history"),
                   description="A guided walk through Roman walls and medieval squares after dark.",
                   startsAt="2026-07-05T19:00:00Z", endsAt="2026-07-05T20:30:00Z"),
            _place("Barcelona", "Stadium and Museum Tour", ("sport", "tour"),
                   description="Behind the scenes of the city's football stadium.",
                   startsAt="2026-08-02T09:30:00Z", endsAt="2026-08-02T11:30:00Z"),
            _place("Berlin", "Museum Island Late Opening", ("museum", "art"),
                   description="Five museums open until late with talks and music.",
                   startsAt="2026-08-21T16:00:00Z", endsAt="2026-08-21T19:00:00Z"),
            _place("Berlin", "Open-Air Cinema in Friedrichshain", ("film", "outdoors"),
                   description="Classic and new films under the trees; bring a blanket.",
                   startsAt="2026-08-22T19:30:00Z", endsAt="2026-08-22T22:00:00Z"),
        ),
    ),
    CatalogKind(
        "restaurant",
        "A place to eat.",
        fields={"cuisine": str | None, "opening_hours": Any},
        samples=(
            _place("Lisbon", "Tasca do Fado Velho", ("traditional", "cozy"),
                   cuisine="Portuguese", description="Portuguese cooking in Lisbon."),
            _place("Lisbon", "Mar de Alfama", ("seafood", "terrace"),
                   cuisine="Seafood", description="Seafood cooking in Lisbon."),
            _place("Lisbon", "Pastelaria Estrela", ("breakfast", "sweet"),
                   cuisine="Bakery", description="Bakery cooking in Lisbon."),
            _place("Barcelona", "Bodega La Plata Nova", ("tapas", "lively"),
                   cuisine="Tapas", description="Tapas cooking in Barcelona."),
            _place("Barcelona", "Can Barceloneta", ("paella", "seafood"),
                   cuisine="Catalan", description="Catalan cooking in Barcelona."),
            _place("Barcelona", "Vermuteria del Born", ("vermouth", "small plates"),
                   cuisine="Catalan", description="Catalan cooking in Barcelona."),
            _place("Berlin", "Kreuzberg Kebap Haus", ("street food", "cheap"),
                   cuisine="Turkish", description="Turkish cooking in Berlin."),
            _place("Berlin", "Gasthaus Spreeblick", ("local", "tasting menu"),
                   cuisine="German", description="German cooking in Berlin."),
        ),
    ),
    CatalogKind(
        "rental",
        "A place to stay, by the night.",
        fields={"price_per_night": float | None, "bedrooms": Count | None},
        samples=(
            _place("Lisbon", "Alfama Rooftop Apartment", ("view", "terrace"), bedrooms=2,
                   pricePerNight=145.0, description="2-bedroom rental in Lisbon."),
            _place("Lisbon", "Bairro Alto Studio", ("central", "nightlife"), bedrooms=1,
                   pricePerNight=89.0, description="1-bedroom rental in Lisbon."),
            _place("Lisbon", "Belém Family House", ("family", "garden"), bedrooms=3,
                   pricePerNight=210.0, description="3-bedroom rental in Lisbon."),
            _place("Barcelona", "Eixample Modernist Flat", ("architecture", "balcony"), bedrooms=2,
                   pricePerNight=175.0, description="2-bedroom rental in Barcelona."),
            _place("Barcelona", "Barceloneta Beach Loft", ("beach", "sea view"), bedrooms=1,
                   pricePerNight=160.0, description="1-bedroom rental in Barcelona."),
            _place("Barcelona", "Gràcia Courtyard Rooms", ("quiet", "local"), bedrooms=2,
                   pricePerNight=120.0, description="2-bedroom rental in Barcelona."),
            _place("Berlin", "Kreuzberg Canal Loft", ("canal", "design"), bedrooms=2,
                   pricePerNight=130.0, description="2-bedroom rental in Berlin."),
            _place("Berlin", "Prenzlauer Berg Altbau", ("family", "high ceilings"), bedrooms=3,
                   pricePerNight=155.0, description="3-bedroom rental in Berlin."),
        ),
    ),
)
# fmt: on
