// A place of any kind, as a card: a fragment on the `Location` interface with per-kind parts.
import { type FragmentType, graphql, useFragment } from "./gql";
import { isInstant } from "./scalars";

export const LocationCard = graphql(`
  fragment LocationCard on Location {
    __typename
    id
    nodeId
    name
    city
    rating
    priceLevel
    tags
    ... on Restaurant { cuisine openingHours }
    ... on Event { startsAt endsAt }
    ... on Rental { pricePerNight bedrooms }
  }
`);

/** One line describing a place; each kind adds what only it has. */
export function describePlace(ref: FragmentType<typeof LocationCard>): string {
  const place = useFragment(LocationCard, ref);
  const where = place.city ? `${place.name}, ${place.city}` : place.name;
  const tags = (place.tags ?? []).join(" ");
  switch (place.__typename) {
    case "Restaurant": {
      const hours: unknown = place.openingHours; // JSON: any value, checked before use
      const open = typeof hours === "object" && hours !== null ? " (hours known)" : "";
      return `${where}: ${place.cuisine ?? "food"}${"$".repeat(place.priceLevel ?? 0)}${open} ${tags}`;
    }
    case "Event":
      return `${where}: ${place.startsAt ?? "?"}${place.startsAt && !isInstant(place.startsAt) ? " local time" : ""}`;
    case "Rental":
      return `${where}: ${place.pricePerNight ?? "?"} a night, ${place.bedrooms ?? "?"} bedrooms`;
    default:
      return where; // a kind added to the catalog later
  }
}
