/**
 * PostgreSQL's own C client (libpq), called synchronously through bun:ffi. The stores are
 * synchronous functions over bun:sqlite; a synchronous driver lets the same stores, the same
 * transactions and the same drizzle queries run on PostgreSQL (docs/decisions.md "PostgreSQL
 * through a synchronous libpq"). libpq comes with every PostgreSQL install (`libpq5` on Debian).
 */
import { CString, dlopen, FFIType as T, ptr, toArrayBuffer, type Pointer } from "bun:ffi";

const LIBRARY_NAMES = ["libpq.so.5", "libpq.so", "libpq.5.dylib", "libpq.dylib", "/opt/homebrew/opt/libpq/lib/libpq.5.dylib"];

const SYMBOLS = {
  PQconnectdb: { args: [T.ptr], returns: T.ptr },
  PQstatus: { args: [T.ptr], returns: T.i32 },
  PQerrorMessage: { args: [T.ptr], returns: T.ptr },
  PQfinish: { args: [T.ptr], returns: T.void },
  PQreset: { args: [T.ptr], returns: T.void },
  PQtransactionStatus: { args: [T.ptr], returns: T.i32 },
  PQexec: { args: [T.ptr, T.ptr], returns: T.ptr },
  PQprepare: { args: [T.ptr, T.ptr, T.ptr, T.i32, T.ptr], returns: T.ptr },
  PQexecPrepared: { args: [T.ptr, T.ptr, T.i32, T.ptr, T.ptr, T.ptr, T.i32], returns: T.ptr },
  PQexecParams: { args: [T.ptr, T.ptr, T.i32, T.ptr, T.ptr, T.ptr, T.ptr, T.i32], returns: T.ptr },
  PQresultStatus: { args: [T.ptr], returns: T.i32 },
  PQresultErrorField: { args: [T.ptr, T.i32], returns: T.ptr },
  PQntuples: { args: [T.ptr], returns: T.i32 },
  PQnfields: { args: [T.ptr], returns: T.i32 },
  PQfname: { args: [T.ptr, T.i32], returns: T.ptr },
  PQftype: { args: [T.ptr, T.i32], returns: T.u32 },
  PQgetvalue: { args: [T.ptr, T.i32, T.i32], returns: T.ptr },
  PQgetlength: { args: [T.ptr, T.i32, T.i32], returns: T.i32 },
  PQgetisnull: { args: [T.ptr, T.i32, T.i32], returns: T.i32 },
  PQcmdTuples: { args: [T.ptr], returns: T.ptr },
  PQclear: { args: [T.ptr], returns: T.void },
  PQconsumeInput: { args: [T.ptr], returns: T.i32 },
  PQnotifies: { args: [T.ptr], returns: T.ptr },
  PQfreemem: { args: [T.ptr], returns: T.void },
  PQsetnonblocking: { args: [T.ptr, T.i32], returns: T.i32 },
} as const;

// bun:ffi types pointer returns as `Pointer | bigint`; libpq's are always pointers or NULL.
type Lib = { [K in keyof typeof SYMBOLS]: (...args: (Pointer | number | null)[]) => (typeof SYMBOLS)[K]["returns"] extends typeof T.ptr ? Pointer | null : number };

let loaded: Lib | null = null;

/** Loads libpq once; throws a message naming the package to install when it is missing. */
export function libpq(): Lib {
  if (loaded) return loaded;
  const tried: string[] = [];
  for (const name of [process.env.MODELROUTE_LIBPQ_PATH, ...LIBRARY_NAMES].filter(Boolean) as string[]) {
    try {
      loaded = dlopen(name, SYMBOLS).symbols as unknown as Lib;
      return loaded;
    } catch (error) {
      tried.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `PostgreSQL mode needs libpq, PostgreSQL's client library (Debian/Ubuntu: apt-get install libpq5; macOS: brew install libpq), or MODELROUTE_LIBPQ_PATH naming it. Tried: ${tried.join("; ")}`,
  );
}

const CONNECTION_OK = 0;
const PGRES_COMMAND_OK = 1;
const PGRES_TUPLES_OK = 2;
const PQTRANS_IDLE = 0;
const PQTRANS_INERROR = 3;
const DIAG_SQLSTATE = "C".charCodeAt(0);
const DIAG_MESSAGE = "M".charCodeAt(0);
const DIAG_DETAIL = "D".charCodeAt(0);

/** A statement PostgreSQL refused, with its SQLSTATE (`23505` unique violation, `40001` serialization failure…). */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = "PostgresError";
  }
}

export type Param = string | number | bigint | boolean | null | undefined | Uint8Array;
export type Result = { fields: string[]; rows: unknown[][]; changes: number };

const encoder = new TextEncoder();
const cstring = (text: string) => encoder.encode(`${text}\0`);
const text = (p: Pointer | null) => (p ? new CString(p).toString() : "");

// Type OIDs whose text form is read as a JS number: int8, int2, int4, oid, float4, float8,
// numeric (sum() of a bigint is numeric). Booleans read as 1/0, as SQLite gives them.
const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOL = 16;
const BYTEA = 17;

function decodeBytea(hex: string): Uint8Array {
  // bytea_output 'hex' (the default since PostgreSQL 9.0): "\x" then two hex digits a byte.
  return Buffer.from(hex.slice(2), "hex");
}

/** SQLSTATEs of a connection that is gone: connection exceptions and an administrator's termination. */
const isConnectionLoss = (code: string) => code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";

/** Prepared statements kept per connection; past this, statements run unnamed (dynamic IN lists). */
const MAX_PREPARED = 2000;

export class PgConnection {
  private readonly lib = libpq();
  private handle: Pointer;
  private readonly prepared = new Map<string, Uint8Array>();
  private closed = false;
  /** Called after a lost connection was made again: session state (LISTEN, advisory locks) is gone with the old one. */
  onReconnect: (() => void) | null = null;

  constructor(readonly url: string) {
    this.handle = this.lib.PQconnectdb(ptr(cstring(url)))!;
    if (!this.handle) throw new PostgresError("libpq could not allocate a connection", "08000");
    if (this.lib.PQstatus(this.handle) !== CONNECTION_OK) {
      const message = text(this.lib.PQerrorMessage(this.handle)).trim();
      this.lib.PQfinish(this.handle);
      this.closed = true;
      throw new PostgresError(`cannot connect to PostgreSQL: ${message}`, "08001");
    }
    // NOTICEs ("relation already exists, skipping") would go to stderr through libpq's default processor.
    this.exec("SET client_min_messages = warning");
  }

  /** Runs one or more statements without parameters (simple protocol). */
  exec(sql: string): void {
    this.onceMoreIfLost(() => this.finish(this.lib.PQexec(this.handle, ptr(cstring(sql))), sql));
  }

  /**
   * Runs one statement with $1…$n parameters, prepared once per connection by its text. A
   * statement outside a transaction that found the connection gone (PostgreSQL restarted, the
   * session terminated) runs once more on the new one (exec too); inside a transaction the
   * error stands, since what the transaction did is gone with the session.
   */
  query(sql: string, params: readonly Param[]): Result {
    return this.onceMoreIfLost(() => this.queryOnce(sql, params));
  }

  private onceMoreIfLost<T>(run: () => T): T {
    const alone = !this.inTransaction;
    try {
      return run();
    } catch (error) {
      if (!alone || !(error instanceof PostgresError) || !isConnectionLoss(error.code) || this.lib.PQstatus(this.handle) !== CONNECTION_OK) throw error;
      return run();
    }
  }

  private queryOnce(sql: string, params: readonly Param[]): Result {
    const n = params.length;
    const values = new BigUint64Array(Math.max(1, n));
    const lengths = new Int32Array(Math.max(1, n));
    const formats = new Int32Array(Math.max(1, n));
    const keep: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const value = params[i];
      if (value === null || value === undefined) continue;
      let bytes: Uint8Array;
      if (value instanceof Uint8Array) {
        bytes = value.byteLength ? value : new Uint8Array(1);
        lengths[i] = value.byteLength;
        formats[i] = 1;
      } else {
        const asText = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
        if (typeof value === "string" && value.includes("\0")) throw new PostgresError("a text value contains a NUL character, which PostgreSQL cannot store", "22021");
        bytes = cstring(asText);
      }
      keep.push(bytes);
      values[i] = BigInt(ptr(bytes));
    }
    let name = this.prepared.get(sql);
    if (!name && this.prepared.size < MAX_PREPARED) {
      const candidate = cstring(`s${this.prepared.size}`);
      this.finish(this.lib.PQprepare(this.handle, ptr(candidate), ptr(cstring(sql)), n, null), sql);
      this.prepared.set(sql, (name = candidate));
    }
    const res = name
      ? this.lib.PQexecPrepared(this.handle, ptr(name), n, ptr(values), ptr(lengths), ptr(formats), 0)
      : this.lib.PQexecParams(this.handle, ptr(cstring(sql)), n, null, ptr(values), ptr(lengths), ptr(formats), 0);
    keep.length = 0;
    return this.finish(res, sql);
  }

  /** Whether a transaction is open on this connection (also when it failed and awaits ROLLBACK). */
  get inTransaction(): boolean {
    return this.lib.PQtransactionStatus(this.handle) !== PQTRANS_IDLE;
  }

  get inFailedTransaction(): boolean {
    return this.lib.PQtransactionStatus(this.handle) === PQTRANS_INERROR;
  }

  /** LISTEN connections: reads what arrived without blocking and returns the notifications. */
  notifications(): { channel: string; payload: string }[] {
    if (!this.lib.PQconsumeInput(this.handle)) this.reconnectIfBroken(text(this.lib.PQerrorMessage(this.handle)));
    const out: { channel: string; payload: string }[] = [];
    for (let n = this.lib.PQnotifies(this.handle); n; n = this.lib.PQnotifies(this.handle)) {
      // PGnotify: char *relname, int be_pid (padded to 8 bytes), char *extra.
      const view = new BigUint64Array(toArrayBuffer(n, 0, 24));
      out.push({ channel: text(Number(view[0]) as Pointer), payload: text(Number(view[2]) as Pointer) });
      this.lib.PQfreemem(n);
    }
    return out;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.lib.PQfinish(this.handle);
  }

  private finish(res: Pointer | null, sql: string): Result {
    if (!res) {
      const message = text(this.lib.PQerrorMessage(this.handle)).trim();
      this.reconnectIfBroken(message);
      throw new PostgresError(`PostgreSQL connection failed: ${message}`, "08006");
    }
    try {
      const status = this.lib.PQresultStatus(res);
      if (status !== PGRES_COMMAND_OK && status !== PGRES_TUPLES_OK) {
        const code = text(this.lib.PQresultErrorField(res, DIAG_SQLSTATE)) || "08006";
        const message = text(this.lib.PQresultErrorField(res, DIAG_MESSAGE)) || text(this.lib.PQerrorMessage(this.handle)).trim();
        const detail = text(this.lib.PQresultErrorField(res, DIAG_DETAIL)) || undefined;
        if (isConnectionLoss(code)) this.reconnectIfBroken(message);
        throw new PostgresError(message, code, detail ?? `statement: ${sql.slice(0, 200)}`);
      }
      return this.read(res);
    } finally {
      this.lib.PQclear(res);
    }
  }

  private read(res: Pointer): Result {
    const lib = this.lib;
    const rowCount = lib.PQntuples(res);
    const fieldCount = lib.PQnfields(res);
    const fields: string[] = [];
    const types: number[] = [];
    for (let c = 0; c < fieldCount; c++) {
      fields.push(text(lib.PQfname(res, c)));
      types.push(lib.PQftype(res, c));
    }
    const rows: unknown[][] = new Array(rowCount);
    for (let r = 0; r < rowCount; r++) {
      const row: unknown[] = new Array(fieldCount);
      for (let c = 0; c < fieldCount; c++) {
        if (lib.PQgetisnull(res, r, c)) {
          row[c] = null;
          continue;
        }
        const length = lib.PQgetlength(res, r, c);
        const raw = length === 0 ? "" : new CString(lib.PQgetvalue(res, r, c)!, 0, length).toString();
        const type = types[c]!;
        row[c] = NUMERIC_TYPES.has(type) ? Number(raw) : type === BOOL ? (raw === "t" ? 1 : 0) : type === BYTEA ? decodeBytea(raw) : raw;
      }
      rows[r] = row;
    }
    const tuples = text(lib.PQcmdTuples(res));
    return { fields, rows, changes: tuples ? Number(tuples) : 0 };
  }

  /** After a lost connection: reconnect, forgetting statements prepared on the old one. */
  private reconnectIfBroken(_message: string) {
    if (this.closed || this.lib.PQstatus(this.handle) === CONNECTION_OK) return;
    this.prepared.clear();
    this.lib.PQreset(this.handle);
    if (this.lib.PQstatus(this.handle) !== CONNECTION_OK) return;
    this.exec("SET client_min_messages = warning");
    this.onReconnect?.();
  }
}
