// The classic `typescript` + `typescript-operations` output of the same documents.
import type {
  CatalogSearchQuery,
  CatalogSearchQueryVariables,
  ItemKind,
  LocationCardFragment,
} from "./classic";

export const firstPage: CatalogSearchQueryVariables = { search: "fado", kind: "EVENT", city: "Lisbon" };

export function names(data: CatalogSearchQuery): string[] {
  return data.locations.nodes.map((node) => node.id);
}

export function price(card: LocationCardFragment): string {
  return card.__typename === "Rental" ? `${card.pricePerNight ?? "?"}` : "-";
}

export function startsAt(card: LocationCardFragment): string | null {
  return card.__typename === "Event" ? (card.startsAt ?? null) : null; // DateTime: a string
}
export const someKinds: ItemKind[] = ["ACTIVITY", "OTHER"];
