// Catalog search: the public places, filtered and paged, each drawn by LocationCard.
import { graphql } from "./gql";

export const CatalogSearch = graphql(`
  query CatalogSearch($search: String, $kind: LocationKind, $city: String, $after: String) {
    locations(search: $search, kind: $kind, city: $city, first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { id ...LocationCard }
    }
  }
`);
