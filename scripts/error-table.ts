// Prints the README's error-code table from the CODES table in src/errors.ts (the API docs'
// introduction renders the same one). Usage: bun scripts/error-table.ts
// (test/readme.test.ts checks the README's copy is this table)
import { errorCodeTable } from "../src/modules/docs/description";

console.log(errorCodeTable());
