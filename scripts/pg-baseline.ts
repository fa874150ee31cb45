// Writes drizzle-pg/0000_baseline.sql: the whole schema (src/db/schema.ts) as PostgreSQL DDL.
// A later schema change adds its own drizzle-pg/NNNN_name.sql beside the SQLite migration
// drizzle-kit generates; test/db/postgres-schema.test.ts fails until the two agree.
import { postgresSchemaStatements } from "../src/db/postgres/ddl";

const text = postgresSchemaStatements().join(";\n--> statement-breakpoint\n") + ";\n";
await Bun.write(new URL("../drizzle-pg/0000_baseline.sql", import.meta.url), text);
console.log(`drizzle-pg/0000_baseline.sql: ${postgresSchemaStatements().length} statements`);
