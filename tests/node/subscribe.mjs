// Usage: node subscribe.mjs <ws url> <bearer token> <document> <variables JSON>
// A graphql-ws client (graphql-transport-ws over the `ws` package, as a Node app would use it):
// connects with `{"Authorization": "Bearer <token>"}` as the connection_init payload,
// subscribes, and prints one JSON line per event: {"event": "connected"}, {"event": "next",
// "payload": ...}, {"event": "error", ...} or {"event": "complete"}. Runs until stdin closes.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query, variables] = process.argv.slice(2);
if (!url || !token || !query) {
  console.error('usage: node subscribe.mjs <ws url> <token> <document> [variables JSON]');
  process.exit(2);
}
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
  on: { connected: () => print({ event: 'connected' }) },
});

const stop = client.subscribe(
  { query, variables: variables ? JSON.parse(variables) : {} },
  {
    next: (payload) => print({ event: 'next', payload }),
    error: (error) => {
      const detail = Array.isArray(error)
        ? error
        : { message: String(error?.message ?? error), code: error?.code, reason: error?.reason };
      print({ event: 'error', error: detail });
      process.exitCode = 1;
    },
    complete: () => print({ event: 'complete' }),
  },
);

process.stdin.resume();
process.stdin.on('end', async () => {
  stop();
  await client.dispose();
  process.exit();
});
