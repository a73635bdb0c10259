// The trip board in Relay: a paginated, refetchable itinerary per trip (refetched through
// `node(nodeId:)`), places through a fragment on the `Location` interface.
import { graphql } from "relay-runtime";

export const query = graphql`
  query TripBoardQuery($trips: Int!) {
    viewer {
      trips(first: $trips) @connection(key: "TripBoard_trips") {
        edges {
          node {
            id
            title
            startDate
            budget { ...TripBoard_budget }
            ...TripBoard_items
          }
        }
      }
    }
  }
`;

export const items = graphql`
  fragment TripBoard_items on Trip
  @refetchable(queryName: "TripBoardItemsPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 20 }, cursor: { type: "String" }) {
    items(first: $count, after: $cursor) @connection(key: "TripBoard_items") {
      edges {
        node {
          id
          title
          kind
          kindRaw
          startTime
          location { ...TripBoard_place }
        }
      }
    }
  }
`;

// Budget has a nodeId but no id: fine for Relay, which keys records by nodeId.
export const budget = graphql`
  fragment TripBoard_budget on Budget @refetchable(queryName: "TripBoardBudgetRefetchQuery") {
    currency
    spent
    thresholds
  }
`;

export const place = graphql`
  fragment TripBoard_place on Location {
    __typename
    name
    city
    ... on Restaurant { cuisine }
    ... on Event { startsAt }
    ... on Rental { pricePerNight }
  }
`;
