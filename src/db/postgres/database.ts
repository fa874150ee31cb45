/**
 * A PostgreSQL connection with bun:sqlite's `Database` interface (prepare, query, exec,
 * transaction, close), so drizzle's bun-sqlite driver, the raw statements of the stores and the
 * tests' checks run on it unchanged. Statements are translated once (translate.ts) and
 * prepared once per connection by libpq.
 */
import { PgConnection, PostgresError, type Param } from "./libpq";
import { toPostgres, type Translated } from "./translate";

type Bindings = readonly unknown[];

function isNamedBinding(args: Bindings): args is [Record<string, unknown>] {
  const first = args[0];
  return args.length === 1 && typeof first === "object" && first !== null && !(first instanceof Uint8Array) && !Array.isArray(first);
}

export class PgStatement {
  private readonly translated: Translated;

  constructor(
    private readonly db: PgDatabase,
    readonly source: string,
  ) {
    this.translated = toPostgres(source);
  }

  all(...args: Bindings): Record<string, unknown>[] {
    const { fields, rows } = this.execute(args);
    const objects: Record<string, unknown>[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r]!;
      const object: Record<string, unknown> = {};
      for (let c = 0; c < fields.length; c++) object[fields[c]!] = row[c];
      objects[r] = object;
    }
    return objects;
  }

  get(...args: Bindings): Record<string, unknown> | null {
    return this.all(...args)[0] ?? null;
  }

  run(...args: Bindings): { changes: number; lastInsertRowid: number } {
    return { changes: this.execute(args).changes, lastInsertRowid: 0 };
  }

  values(...args: Bindings): unknown[][] {
    return this.execute(args).rows;
  }

  finalize() {}

  private execute(args: Bindings) {
    const { names, count, text } = this.translated;
    let params: Param[];
    if (names) {
      const bound = isNamedBinding(args) ? args[0] : {};
      params = names.map((name) => {
        if (!(name in bound)) throw new PostgresError(`missing value for parameter ${name}`, "07002");
        return bound[name] as Param;
      });
    } else {
      params = (isNamedBinding(args) ? [] : args) as Param[];
      if (params.length < count) throw new PostgresError(`statement takes ${count} parameters, got ${params.length}`, "07002");
    }
    return this.db.connection.query(text, params);
  }
}

type TransactionFn<A extends unknown[], R> = ((...args: A) => R) & { deferred: (...args: A) => R; immediate: (...args: A) => R; exclusive: (...args: A) => R };

export class PgDatabase {
  readonly connection: PgConnection;
  private readonly statements = new Map<string, PgStatement>();
  private depth = 0;

  constructor(readonly url: string) {
    this.connection = new PgConnection(url);
  }

  prepare(sql: string): PgStatement {
    return new PgStatement(this, sql);
  }

  /** Like bun:sqlite's query(): the statement is cached by its text. */
  query(sql: string): PgStatement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = new PgStatement(this, sql)));
    return statement;
  }

  exec(sql: string) {
    this.connection.exec(toPostgres(sql).text);
  }

  run(sql: string, ...args: Bindings) {
    return this.query(sql).run(...args);
  }

  get inTransaction() {
    return this.connection.inTransaction;
  }

  /**
   * bun:sqlite's transaction(): BEGIN … COMMIT around fn, a savepoint when nested. A failed
   * statement aborts a PostgreSQL transaction (SQLite's goes on), so COMMIT refuses one that failed.
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): TransactionFn<A, R> {
    const run = (...args: A): R => {
      const nested = this.depth > 0;
      const savepoint = `mr_sp${this.depth}`;
      this.connection.exec(nested ? `SAVEPOINT ${savepoint}` : "BEGIN");
      this.depth++;
      try {
        const result = fn(...args);
        if (this.connection.inFailedTransaction) throw new PostgresError("a statement failed inside the transaction; it was rolled back", "25P02");
        this.connection.exec(nested ? `RELEASE SAVEPOINT ${savepoint}` : "COMMIT");
        return result;
      } catch (error) {
        if (this.connection.inTransaction) this.connection.exec(nested ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : "ROLLBACK");
        throw error;
      } finally {
        this.depth--;
      }
    };
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  }

  close() {
    this.connection.close();
  }
}
