// Usage: node diff.mjs OLD.graphql NEW.graphql. Prints one JSON array: every change
// graphql-inspector (the library behind `graphql-inspector diff`) finds between the two
// schemas, as {type, level, path, message} (level: BREAKING, DANGEROUS or NON_BREAKING).
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff } from '@graphql-inspector/core';

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error('usage: node diff.mjs OLD.graphql NEW.graphql');
  process.exit(2);
}
const load = (path) => buildSchema(readFileSync(path, 'utf8'));
const changes = await diff(load(oldPath), load(newPath));
console.log(
  JSON.stringify(
    changes.map((c) => ({
      type: c.type,
      level: c.criticality.level,
      path: c.path ?? null,
      message: c.message,
    })),
  ),
);
