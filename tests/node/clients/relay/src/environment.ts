// The Relay runtime as docs/frontends.md sets it up: records are identified by `nodeId`.
import {
  Environment,
  type FetchFunction,
  Network,
  RecordSource,
  Store,
} from "relay-runtime";

const fetchGraphQL: FetchFunction = async (operation, variables) => {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json;q=0.9",
    },
    body: JSON.stringify({ query: operation.text, variables }),
  });
  return await response.json();
};

export const environment = new Environment({
  network: Network.create(fetchGraphQL),
  store: new Store(new RecordSource()),
  // Records are identified by their global `nodeId`; objects without one (Money,
  // Preferences, PageInfo, ...) get Relay's client ids.
  getDataID: (fieldValue: { nodeId?: string }) => fieldValue.nodeId,
});
