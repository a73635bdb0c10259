// Usage: node print.mjs < documents.json. Reads a JSON array of GraphQL documents and prints
// a JSON array of the same documents as graphql-js (the `print` Apollo hashes) prints them.
import { parse, print } from 'graphql';

let input = '';
for await (const chunk of process.stdin) input += chunk;
console.log(JSON.stringify(JSON.parse(input).map((doc) => print(parse(doc)))));
