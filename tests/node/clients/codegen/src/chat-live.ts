// The chat's live part: each message added to the open conversation, drawn by MessageBubble.
// Copied into src/ by tests/web/test_frontend_clients.py when the schema has a Subscription
// type (documents naming unknown root fields would stop codegen before that).
import { graphql } from "./gql";
import type { ChatLiveSubscription } from "./gql/graphql";
import { bubble } from "./chat";

export const ChatLive = graphql(`
  subscription ChatLive($id: ID!) {
    messageAdded(conversationId: $id) { id ...MessageBubble }
  }
`);

/** The line to append for one event; nothing for an event without data (an error). */
export function appended(event: ChatLiveSubscription | null | undefined): string | null {
  return event ? bubble(event.messageAdded) : null;
}
