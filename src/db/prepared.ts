/**
 * Prepared drizzle statements for hot paths. Building a drizzle query costs ~50–90 µs a call
 * (measured with scripts/bench/executions.ts); a statement prepared once per SQLite connection and filled with
 * placeholders costs a fraction. Statements are cached per connection, so one prepared on the
 * database also serves a transaction on it (same connection, same statement).
 */
import { sql, type Placeholder } from "drizzle-orm";
import type { Conn } from "./client";

const clientOf = (conn: Conn): object => (conn as unknown as { session: { client: object } }).session.client;

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
