// The chat's live part in Relay: each message added is appended to the Chat_messages
// connection. Copied into src/ by tests/web/test_frontend_clients.py when the schema has a
// Subscription type.
import { graphql } from "relay-runtime";

export const subscription = graphql`
  subscription ChatLiveSubscription($id: ID!, $connections: [ID!]!) {
    messageAdded(conversationId: $id)
      @appendNode(connections: $connections, edgeTypeName: "MessageEdge") {
      id
      role
      roleRaw
      content
      timestamp
    }
  }
`;
