// The chat: a conversation's latest messages and posting one. (No subscription document yet:
// kvgraph has no Subscription type on this branch; see docs/frontends.md.)
import { type FragmentType, graphql, useFragment } from "./gql";
import type { ChatQuery, MessageRole, PostMessageMutationVariables } from "./gql/graphql";
import { instantMillis, isInstant } from "./scalars";

export const MessageBubble = graphql(`
  fragment MessageBubble on Message {
    id
    nodeId
    role
    roleRaw
    content
    timestamp
  }
`);

export const Chat = graphql(`
  query Chat($id: ID!, $before: String) {
    conversation(id: $id) {
      id
      title
      agentType
      context { nodeId updatedAt preferences }
      messages(last: 30, before: $before) {
        pageInfo { hasPreviousPage startCursor }
        nodes { ...MessageBubble }
      }
    }
  }
`);

export const PostMessage = graphql(`
  mutation PostMessage($input: PostMessageInput!) {
    postMessage(input: $input) {
      message { ...MessageBubble }
      userErrors { field message errorCode }
    }
  }
`);

function speaker(role: MessageRole, raw: string): string {
  switch (role) {
    case "USER":
      return "you";
    case "ASSISTANT":
      return "agent";
    case "SYSTEM":
      return "system";
    case "TOOL":
      return "tool";
    case "OTHER":
      return raw;
    default:
      return raw; // a role added later
  }
}

/** One chat line; kvgraph stamps posted messages as UTC instants. */
export function bubble(ref: FragmentType<typeof MessageBubble>): string {
  const message = useFragment(MessageBubble, ref);
  const at = message.timestamp && isInstant(message.timestamp)
    ? new Date(instantMillis(message.timestamp) ?? 0).toISOString()
    : (message.timestamp ?? "");
  return `[${at}] ${speaker(message.role, message.roleRaw)}: ${message.content}`;
}

export function transcript(data: ChatQuery): string[] {
  return data.conversation?.messages.nodes.map(bubble) ?? [];
}

export function post(conversationId: string, content: string): PostMessageMutationVariables {
  return { input: { conversationId, content } };
}
