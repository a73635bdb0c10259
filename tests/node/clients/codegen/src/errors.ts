// Reading kvgraph's error codes: `extensions.code` and `userErrors.errorCode` are `ErrorCode`
// values (the schema's enum, written by the `typescript` plugin), whatever the HTTP status.
import type { ErrorCode } from "./enums";

type Reaction = "sign-out" | "retry-later" | "outage" | "fix-request" | "show" | "ignore";

const KNOWN: ReadonlySet<string> = new Set<ErrorCode>([
  "UNAUTHENTICATED",
  "RATE_LIMITED",
  "AUTH_UNAVAILABLE",
  "STORE_UNAVAILABLE",
  "TIMEOUT",
]);

/** A code from a response body; a string no kvgraph version sent is kept as future. */
export function codeOf(extensions: { code?: unknown } | undefined): ErrorCode {
  const code = extensions?.code;
  return typeof code === "string" && (KNOWN.has(code) || /^[A-Z_]+$/.test(code))
    ? (code as ErrorCode)
    : "%future added value";
}

export function react(code: ErrorCode): Reaction {
  switch (code) {
    case "UNAUTHENTICATED":
      return "sign-out";
    case "RATE_LIMITED":
    case "AUTH_UNAVAILABLE":
      return "retry-later";
    case "STORE_UNAVAILABLE":
    case "TIMEOUT":
      return "outage";
    case "BAD_REQUEST":
    case "GRAPHQL_PARSE_FAILED":
    case "GRAPHQL_VALIDATION_FAILED":
    case "QUERY_TOO_LARGE":
      return "fix-request";
    case "INVALID_RECORD":
    case "PERSISTED_QUERY_NOT_FOUND":
      return "ignore"; // a warning; Apollo's persisted-query link resends
    default:
      return "show"; // NOT_FOUND, FORBIDDEN, ... and codes added later
  }
}
