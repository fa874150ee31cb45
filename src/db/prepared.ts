/**
 * Prepared drizzle statements for hot paths. Building a drizzle query costs ~50–90 µs a call
 * (measured with scripts/bench/executions.ts); a statement prepared once per SQLite connection and filled with
 * placeholders costs a fraction. Statements are cached per connection, so one prepared on the
 * database also serves a transaction on it (same connection, same statement).
 */
import type { Database } from "bun:sqlite";
import { getTableColumns, sql, type Placeholder, type Table } from "drizzle-orm";
import type { Conn } from "./client";
import { PgDatabase } from "./postgres/database";

export const clientOf = (conn: Conn): object => (conn as unknown as { session: { client: object } }).session.client;

/** Whether a connection is PostgreSQL: the few statements the two engines read differently are written for each. */
export const isPostgres = (conn: Conn): boolean => clientOf(conn) instanceof PgDatabase;

/** `{ name: sql.placeholder(name) }` for each name: the values of a prepared insert or set, filled by `.run({ name: … })`. */
export const placeholders = <const K extends string>(...names: K[]) =>
  Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as { [N in K]: Placeholder<N> };

/** Returns a getter that builds the statement on first use for each connection. */
export function preparedPerConnection<T>(build: (conn: Conn) => T): (conn: Conn) => T {
  const cache = new WeakMap<object, T>();
  return (conn) => {
    const client = clientOf(conn);
    let statement = cache.get(client);
    if (statement === undefined) cache.set(client, (statement = build(conn)));
    return statement;
  };
}

/** Like preparedPerConnection, for statements whose shape varies by a small, bounded key. */
export function preparedByShape<T>(build: (conn: Conn, shape: string) => T): (conn: Conn, shape: string) => T {
  const cache = new WeakMap<object, Map<string, T>>();
  return (conn, shape) => {
    const client = clientOf(conn);
    let byShape = cache.get(client);
    if (!byShape) cache.set(client, (byShape = new Map()));
    let statement = byShape.get(shape);
    if (statement === undefined) byShape.set(shape, (statement = build(conn, shape)));
    return statement;
  };
}

/**
 * Raw bun:sqlite statements, prepared once per connection, for the few statements every
 * execution runs: drizzle's placeholder filling and row mapping cost more there than SQLite's own
 * work. Rows come back through rowCodec, in the shape drizzle gives them.
 */
export function rawPerConnection<T>(build: (sqlite: Database) => T): (conn: Conn) => T {
  const cache = new WeakMap<object, T>();
  return (conn) => {
    const client = clientOf(conn);
    let statements = cache.get(client);
    if (statements === undefined) cache.set(client, (statements = build(client as Database)));
    return statements;
  };
}

type ColumnCodec = { prop: string; name: string; json: boolean; boolean: boolean };

/** A table's columns as raw statements bind and read them: JSON columns as text, booleans as 0/1. */
export type RowCodec<Row> = {
  /** The row from a raw `SELECT *` / `RETURNING *` result. */
  fromRaw(raw: unknown): Row;
  /** The database name of a property. */
  column(prop: string): string;
  /** A property's value as the column stores it. */
  toDriver(prop: string, value: unknown): unknown;
};

const parseJson = (value: unknown) => (value === null || value === undefined ? null : JSON.parse(value as string));

export function rowCodec<Row>(table: Table): RowCodec<Row> {
  const columns: ColumnCodec[] = Object.entries(getTableColumns(table)).map(([prop, column]) => ({
    prop,
    name: column.name,
    json: column.columnType === "SQLiteTextJson",
    boolean: column.columnType === "SQLiteBoolean",
  }));
  const byProp = new Map(columns.map((c) => [c.prop, c]));
  // One object literal of a fixed shape, generated from the schema (never from input): the
  // engine keeps it monomorphic, which a loop adding properties does not.
  const body = columns
    .map((c) => {
      const read = `r[${JSON.stringify(c.name)}]`;
      const value = c.json ? `parseJson(${read})` : c.boolean ? `(${read} === null ? null : ${read} === 1)` : read;
      return `${JSON.stringify(c.prop)}: ${value}`;
    })
    .join(", ");
  const fromRaw = new Function("parseJson", `return (r) => ({ ${body} });`)(parseJson) as (raw: unknown) => Row;
  return {
    fromRaw,
    column: (prop) => byProp.get(prop)!.name,
    toDriver(prop, value) {
      const c = byProp.get(prop)!;
      if (value === null || value === undefined) return null;
      return c.json ? JSON.stringify(value) : c.boolean ? (value ? 1 : 0) : value;
    },
  };
}
