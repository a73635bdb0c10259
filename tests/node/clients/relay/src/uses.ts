// The generated artifacts' types in use under strict tsc.
import type { TripBoardQuery$data } from "./__generated__/TripBoardQuery.graphql";
import type { TripBoard_place$data } from "./__generated__/TripBoard_place.graphql";
import TripBoardItemsPaginationQuery from "./__generated__/TripBoardItemsPaginationQuery.graphql";

export function tripTitles(data: TripBoardQuery$data): string[] {
  return data.viewer?.trips.edges?.flatMap((edge) => (edge?.node ? [edge.node.title] : [])) ?? [];
}

export function placeLine(place: TripBoard_place$data): string {
  switch (place.__typename) {
    case "Restaurant":
      return `${place.name}: ${place.cuisine ?? "food"}`;
    case "Event":
      return `${place.name}: ${place.startsAt ?? "?"}`;
    case "Rental":
      return `${place.name}: ${place.pricePerNight ?? "?"} a night`;
    default:
      return place.name;
  }
}

// The refetch query asks `node(nodeId: $nodeId)`, as the schemaConfig says.
export const refetchText: string | null | undefined = TripBoardItemsPaginationQuery.params.text;
