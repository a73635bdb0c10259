// graphql-codegen as docs/frontends.md configures it, run by tests/web/test_clients.py in a
// scratch copy of this folder beside a copy of kvgraph's schema.graphql.
import type { CodegenConfig } from "@graphql-codegen/cli";

const scalars = {
  Date: "string", // YYYY-MM-DD
  DateTime: "string", // ISO-8601; no offset = local wall-clock time
  JSON: "unknown",
};

const config: CodegenConfig = {
  schema: "schema.graphql", // the file from kvgraph, not the live endpoint
  documents: ["src/**/*.ts", "!src/gql/**", "!src/classic.ts", "!src/enums.ts"],
  generates: {
    // the client preset (typed documents, fragment masking)
    "src/gql/": {
      preset: "client",
      config: { strictScalars: true, scalars, futureProofEnums: true },
    },
    // every enum of the schema, ErrorCode included (no document selects it)
    "src/enums.ts": {
      plugins: ["typescript"],
      config: { onlyEnums: true, enumsAsTypes: true, futureProofEnums: true },
    },
    // the classic plugins, from the same documents
    "src/classic.ts": {
      plugins: ["typescript-operations"],
      config: { strictScalars: true, scalars, futureProofEnums: true, enumsAsTypes: true },
    },
  },
};
export default config;
