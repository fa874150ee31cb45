/**
 * PostgreSQL DDL for the one schema (db/schema.ts, written with drizzle's sqlite-core), so the
 * tables are declared once for both engines (docs/decisions.md "One schema, two engines").
 * Types keep the values the stores read and write: integers (counts, micro-USD, ms times, 0/1
 * booleans) are bigint, text is text in byte order (COLLATE "C", as SQLite compares, so id
 * ranges and cursors sort alike), blobs are bytea. `scripts/pg-baseline.ts` writes it to
 * drizzle-pg/; the PostgreSQL schema test checks a migrated database against the schema.
 */
import { is, SQL, Table } from "drizzle-orm";
import { getTableConfig, SQLiteSyncDialect, type SQLiteColumn, type SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "../schema";

export const schemaTables = (): SQLiteTable[] => (Object.values(schema) as unknown[]).filter((v): v is SQLiteTable => is(v, Table));

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The PostgreSQL type of a column as the stores use it. */
export function postgresType(column: SQLiteColumn): string {
  const sqlType = column.getSQLType().toLowerCase();
  if (sqlType.startsWith("integer")) return "bigint";
  if (sqlType.startsWith("real") || sqlType.startsWith("double") || sqlType.startsWith("numeric")) return "double precision";
  if (sqlType.startsWith("blob")) return "bytea";
  if (sqlType.startsWith("text")) return 'text COLLATE "C"';
  throw new Error(`no PostgreSQL type for ${column.name} (${sqlType})`);
}

function literal(value: unknown): string {
  if (value === null) return "NULL";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'`;
  throw new Error(`no SQL literal for default ${JSON.stringify(value)}`);
}

const dialect = new SQLiteSyncDialect();
const render = (where: SQL) => {
  const { sql, params } = dialect.sqlToQuery(where);
  if (params.length) throw new Error(`index condition with parameters: ${sql}`);
  return sql;
};

function columnSql(column: SQLiteColumn, inlinePrimary: boolean): string {
  const autoIncrement = (column as unknown as { autoIncrement?: boolean }).autoIncrement;
  if (column.primary && autoIncrement) return `${quote(column.name)} bigint PRIMARY KEY`;
  let out = `${quote(column.name)} ${postgresType(column)}`;
  if (inlinePrimary && column.primary) out += " PRIMARY KEY";
  if (column.notNull && !column.primary) out += " NOT NULL";
  if (column.default !== undefined) {
    if (is(column.default, SQL)) throw new Error(`SQL default on ${column.name}: write its PostgreSQL form`);
    out += ` DEFAULT ${literal(column.mapToDriverValue(column.default))}`;
  }
  return out;
}

/** Every CREATE TABLE, then every index, then every foreign key (tables may refer to later ones). */
export function postgresSchemaStatements(): string[] {
  const tables: string[] = [];
  const indexes: string[] = [];
  const foreignKeys: string[] = [];
  for (const table of schemaTables()) {
    const config = getTableConfig(table);
    const parts = config.columns.map((c) => columnSql(c, true));
    for (const pk of config.primaryKeys) parts.push(`PRIMARY KEY (${pk.columns.map((c) => quote(c.name)).join(", ")})`);
    for (const unique of config.uniqueConstraints) parts.push(`UNIQUE (${unique.columns.map((c) => quote(c.name)).join(", ")})`);
    tables.push(`CREATE TABLE ${quote(config.name)} (\n  ${parts.join(",\n  ")}\n)`);
    // drizzle's sqlite-core inserts NULL into an autoincrement key it is not given (SQLite then
    // numbers the row); on PostgreSQL a trigger numbers it from the table's own sequence.
    for (const column of config.columns) {
      if (!(column.primary && (column as unknown as { autoIncrement?: boolean }).autoIncrement)) continue;
      const sequence = quote(`${config.name}_${column.name}_seq`);
      const fill = quote(`${config.name}_fill_${column.name}`);
      tables.push(`CREATE SEQUENCE ${sequence} OWNED BY ${quote(config.name)}.${quote(column.name)}`);
      tables.push(
        `CREATE FUNCTION ${fill}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.${quote(column.name)} IS NULL THEN NEW.${quote(column.name)} := nextval('${sequence}'); END IF; RETURN NEW; END $$`,
      );
      tables.push(`CREATE TRIGGER ${fill} BEFORE INSERT ON ${quote(config.name)} FOR EACH ROW EXECUTE FUNCTION ${fill}()`);
    }
    for (const index of config.indexes) {
      const c = index.config;
      const columns = c.columns.map((col) => (is(col, SQL) ? render(col) : quote((col as SQLiteColumn).name))).join(", ");
      indexes.push(`CREATE ${c.unique ? "UNIQUE " : ""}INDEX ${quote(c.name)} ON ${quote(config.name)} (${columns})${c.where ? ` WHERE ${render(c.where)}` : ""}`);
    }
    for (const fk of config.foreignKeys) {
      const ref = fk.reference();
      const name = fk.getName();
      const onDelete = fk.onDelete ? ` ON DELETE ${fk.onDelete.toUpperCase()}` : "";
      foreignKeys.push(
        `ALTER TABLE ${quote(config.name)} ADD CONSTRAINT ${quote(name)} FOREIGN KEY (${ref.columns.map((c) => quote(c.name)).join(", ")}) REFERENCES ${quote(getTableConfig(ref.foreignTable).name)} (${ref.foreignColumns.map((c) => quote(c.name)).join(", ")})${onDelete}`,
      );
    }
  }
  return [...tables, ...indexes, ...foreignKeys];
}
