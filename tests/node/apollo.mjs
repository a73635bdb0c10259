// Usage: node apollo.mjs <graphql url> <token> <cache module>
// Apollo Client 4 as an app runs it: HttpLink with its default Accept
// (application/graphql-response+json), the cache from <cache module> (docs/frontends.md's
// snippet, exporting `cache`). Prints one JSON object: the normalized cache's keys after the
// trip board query, and what a bad token's error arrives as.
import { ApolloClient, HttpLink, gql } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { pathToFileURL } from 'node:url';

const [url, token, cacheModule] = process.argv.slice(2);
if (!url || !token || !cacheModule) {
  console.error('usage: node apollo.mjs <graphql url> <token> <cache module>');
  process.exit(2);
}
const { cache } = await import(pathToFileURL(cacheModule).href);

const BOARD = gql`
  query Board {
    viewer {
      id
      trips(first: 20) {
        nodes {
          id
          title
          budget { nodeId currency spent }
          collaborators(first: 5) { nodes { nodeId tripId userId role } }
          items(first: 20) { nodes { id title location { id name } } }
        }
      }
    }
  }
`;

const client = (bearer, withCache) =>
  new ApolloClient({
    link: new HttpLink({ uri: url, headers: { Authorization: `Bearer ${bearer}` } }),
    cache: withCache,
  });

const good = client(token, cache);
const { data, error } = await good.query({ query: BOARD });
const keys = Object.keys(cache.extract()).sort();

const { InMemoryCache } = await import('@apollo/client');
const bad = client('not-a-token', new InMemoryCache());
const badResult = await bad.query({ query: BOARD, fetchPolicy: 'network-only' }).catch((e) => ({ error: e }));
const badError = badResult.error;

console.log(
  JSON.stringify({
    error: error ? String(error) : null,
    trips: data?.viewer?.trips?.nodes?.length ?? null,
    keys,
    bad: {
      combined: CombinedGraphQLErrors.is(badError),
      server: ServerError.is(badError),
      codes: CombinedGraphQLErrors.is(badError)
        ? badError.errors.map((e) => e.extensions?.code ?? null)
        : [],
      statusCode: ServerError.is(badError) ? badError.statusCode : null,
    },
  }),
);
