// Catalog search in Relay: the public places, refetched with other filters.
import { graphql } from "relay-runtime";

export const query = graphql`
  query CatalogSearchQuery($search: String, $kind: LocationKind) {
    ...CatalogSearch_places @arguments(search: $search, kind: $kind)
  }
`;

export const places = graphql`
  fragment CatalogSearch_places on Query
  @refetchable(queryName: "CatalogSearchRefetchQuery")
  @argumentDefinitions(
    search: { type: "String" }
    kind: { type: "LocationKind" }
    count: { type: "Int", defaultValue: 20 }
    cursor: { type: "String" }
  ) {
    locations(search: $search, kind: $kind, first: $count, after: $cursor)
      @connection(key: "CatalogSearch_locations", filters: ["search", "kind"]) {
      edges {
        node { __typename id name city }
      }
    }
  }
`;
