// The trip board: the viewer's trips, each with its budget and itinerary, places as cards.
import { graphql } from "./gql";
import type { ItemKind, TripBoardQuery } from "./gql/graphql";
import { describePlace } from "./location";
import { calendarDate, instantMillis } from "./scalars";

export const TripBoard = graphql(`
  query TripBoard($trips: Int = 10, $items: Int = 50) {
    viewer {
      id
      displayName
      trips(first: $trips) {
        totalCount
        nodes {
          id
          title
          destination
          startDate
          endDate
          createdAt
          owner { id displayName email }
          budget { nodeId currency spent thresholds }
          items(first: $items) {
            totalCount
            nodes {
              id
              title
              kind
              kindRaw
              startTime
              endTime
              cost { amount currency }
              location { ...LocationCard }
            }
          }
        }
      }
    }
  }
`);

type Trip = NonNullable<TripBoardQuery["viewer"]>["trips"]["nodes"][number];
type Item = Trip["items"]["nodes"][number];

/** A label per kind; OTHER and kinds added later show the stored value. */
export function kindLabel(kind: ItemKind | null | undefined, raw: string | null | undefined): string {
  switch (kind) {
    case "ACTIVITY":
      return "Activity";
    case "MEAL":
      return "Meal";
    case "STAY":
      return "Stay";
    case "TRANSPORT":
      return "Travel";
    case "OTHER":
    case null:
    case undefined:
      return raw ?? "Item";
    default:
      return raw ?? String(kind); // '%future added value': a value this bundle does not know
  }
}

function itemLine(item: Item): string {
  const place = item.location ? ` at ${describePlace(item.location)}` : "";
  const cost = item.cost ? ` ${item.cost.amount} ${item.cost.currency ?? ""}` : "";
  return `${item.startTime ?? ""} ${kindLabel(item.kind, item.kindRaw)}: ${item.title}${place}${cost}`;
}

/** The board as lines of text; trips sorted by start date, newest created first on ties. */
export function renderBoard(data: TripBoardQuery): string[] {
  if (!data.viewer) return ["sign in"];
  const trips = [...data.viewer.trips.nodes].sort((a, b) => {
    const byDate = (a.startDate ?? "").localeCompare(b.startDate ?? "");
    return byDate || (instantMillis(b.createdAt ?? "") ?? 0) - (instantMillis(a.createdAt ?? "") ?? 0);
  });
  return trips.flatMap((trip) => {
    const [year] = trip.startDate ? calendarDate(trip.startDate) : [0];
    const spent = trip.budget ? ` (spent ${trip.budget.spent} ${trip.budget.currency ?? ""})` : "";
    const owner = trip.owner.email ?? trip.owner.displayName ?? trip.owner.id; // email: null for others
    return [`${trip.title} ${year} by ${owner}${spent}`, ...trip.items.nodes.map(itemLine)];
  });
}
