// The chat in Relay: the latest messages, paginated backwards, and posting one.
import { graphql } from "relay-runtime";

export const query = graphql`
  query ChatQuery($id: ID!) {
    conversation(id: $id) {
      title
      ...Chat_messages
    }
  }
`;

export const messages = graphql`
  fragment Chat_messages on Conversation
  @refetchable(queryName: "ChatMessagesPaginationQuery")
  @argumentDefinitions(count: { type: "Int", defaultValue: 30 }, cursor: { type: "String" }) {
    messages(last: $count, before: $cursor) @connection(key: "Chat_messages") {
      edges {
        node { id role roleRaw content timestamp }
      }
    }
  }
`;

export const post = graphql`
  mutation ChatPostMutation($input: PostMessageInput!, $connections: [ID!]!) {
    postMessage(input: $input) {
      message @appendNode(connections: $connections, edgeTypeName: "MessageEdge") {
        id role roleRaw content timestamp
      }
      userErrors { field message errorCode }
    }
  }
`;
