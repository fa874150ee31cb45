/** Queries on executions. Status is written only by state.ts. */
import { and, eq, gt, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import type { Database, Statement } from "bun:sqlite";
import { clientOf, isPostgres, placeholders, preparedPerConnection, rawPerConnection, rowCodec } from "../../db/prepared";
import { executions } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type ExecutionRow = typeof executions.$inferSelect;
export type Status = ExecutionRow["status"];

export const TERMINAL: readonly Status[] = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];
export const isTerminal = (status: Status) => TERMINAL.includes(status);

export type NewExecution = Required<Pick<typeof executions.$inferInsert,
  "id" | "orgId" | "keyId" | "model" | "candidates" | "status" | "mode" | "input" | "metadata" | "webhookUrl" | "holdMicros" | "deadlineAt" | "createdAt" | "startedAt" | "routing" | "discountPercent" | "cacheStatus" | "cacheKey">>;

const executionCodec = rowCodec<ExecutionRow>(executions);
const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/** The statements every execution runs, raw (db/prepared.ts rawPerConnection says why). */
const hot = rawPerConnection((sqlite) => ({
  insert: sqlite.prepare(
    `INSERT INTO executions (id, org_id, key_id, model, candidates, status, mode, input, metadata, webhook_url, hold_micros, deadline_at, created_at, started_at, routing, discount_percent, cache_status, cache_key)
     VALUES ($id, $orgId, $keyId, $model, $candidates, $status, $mode, $input, $metadata, $webhookUrl, $holdMicros, $deadlineAt, $createdAt, $startedAt, $routing, $discountPercent, $cacheStatus, $cacheKey)`,
  ),
  byId: sqlite.prepare("SELECT * FROM executions WHERE id = $id"),
  // What GET …/result shows, without the input and the columns it never reads (db/prepared.ts: raw, camelCase).
  resultById: sqlite.prepare(
    `SELECT id, org_id AS orgId, status, output, error_code AS errorCode, error_message AS errorMessage, usage, cost_micros AS costMicros, created_at AS createdAt, completed_at AS completedAt
     FROM executions WHERE id = $id`,
  ),
  updates: new Map<string, Statement>(),
}));

/** Inserts a new execution (state.ts decides its first status); returns the row as stored. */
export function insertExecution(tx: Conn, row: NewExecution): ExecutionRow {
  hot(tx).insert.run({ ...row, candidates: json(row.candidates), input: json(row.input), metadata: json(row.metadata), routing: json(row.routing) });
  return {
    ...row,
    output: null,
    errorCode: null,
    errorMessage: null,
    usage: null,
    costMicros: null,
    routeId: null,
    servedModel: null,
    providerJob: null,
    callbackToken: null,
    cacheSource: null,
    cacheSavedMicros: null,
    awaitingAt: null,
    completedAt: null,
    purgedAt: null,
  };
}

/** What an execution that is finished when it is created (a response-cache hit) has besides. */
export type FinishedAtCreate = Required<Pick<typeof executions.$inferInsert, "output" | "usage" | "costMicros" | "servedModel" | "routeId" | "cacheSource" | "cacheSavedMicros" | "completedAt">>;

const insertFinished = rawPerConnection((sqlite) =>
  sqlite.prepare(
    `INSERT INTO executions (id, org_id, key_id, model, candidates, status, mode, input, metadata, webhook_url, hold_micros, deadline_at, created_at, started_at, routing, discount_percent,
       cache_status, cache_key, output, usage, cost_micros, served_model, route_id, cache_source, cache_saved_micros, completed_at)
     VALUES ($id, $orgId, $keyId, $model, $candidates, $status, $mode, $input, $metadata, $webhookUrl, $holdMicros, $deadlineAt, $createdAt, $startedAt, $routing, $discountPercent,
       $cacheStatus, $cacheKey, $output, $usage, $costMicros, $servedModel, $routeId, $cacheSource, $cacheSavedMicros, $completedAt)`,
  ),
);

/** Inserts an execution already terminal (a response-cache hit), in one statement; returns the row as stored. */
export function insertFinishedExecution(tx: Conn, row: NewExecution & FinishedAtCreate): ExecutionRow {
  insertFinished(tx).run({
    ...row,
    candidates: json(row.candidates),
    input: json(row.input),
    metadata: json(row.metadata),
    routing: json(row.routing),
    output: json(row.output),
    usage: json(row.usage),
  } as Record<string, string | number | null>);
  return { ...row, errorCode: null, errorMessage: null, providerJob: null, callbackToken: null, awaitingAt: null, purgedAt: null };
}


/** One execution by id (the polling hot path). */
export function byId(conn: Conn, id: string): ExecutionRow | undefined {
  const raw = hot(conn).byId.get({ id });
  return raw ? executionCodec.fromRaw(raw) : undefined;
}

/** The columns of an execution its result is made of. */
export type ResultRow = Pick<ExecutionRow, "id" | "orgId" | "status" | "output" | "errorCode" | "errorMessage" | "usage" | "costMicros" | "createdAt" | "completedAt">;

/** What GET …/result needs of an execution: its input (up to megabytes) is neither read nor parsed. */
export function resultById(conn: Conn, id: string): ResultRow | undefined {
  const raw = hot(conn).resultById.get({ id }) as (Omit<ResultRow, "output" | "usage"> & { output: string | null; usage: string | null }) | null;
  if (!raw) return undefined;
  return { ...raw, output: raw.output === null ? null : JSON.parse(raw.output), usage: raw.usage === null ? null : JSON.parse(raw.usage) };
}

/**
 * `UPDATE … SET <set> WHERE id = :id AND status IN (:from) RETURNING *`, prepared per shape
 * (the columns set and the allowed sources). Only state.ts calls this with a status.
 */
export function guardedUpdate(tx: Conn, id: string, from: readonly Status[], set: Partial<typeof executions.$inferInsert>): ExecutionRow | undefined {
  const props = Object.keys(set).filter((prop) => set[prop as keyof typeof set] !== undefined);
  const statements = hot(tx);
  const shape = `${props.join(",")}|${from.join(",")}`;
  let statement = statements.updates.get(shape);
  if (!statement) {
    const assignments = props.map((prop) => `${executionCodec.column(prop)} = $${prop}`).join(", ");
    // The sources are the state machine's own constants, never input.
    statement = (clientOf(tx) as Database).prepare(`UPDATE executions SET ${assignments} WHERE id = $id AND status IN (${from.map((s) => `'${s}'`).join(", ")}) RETURNING *`);
    statements.updates.set(shape, statement);
  }
  const params: Record<string, unknown> = { id };
  for (const prop of props) params[prop] = executionCodec.toDriver(prop, set[prop as keyof typeof set]);
  const raw = statement.get(params as Record<string, string | number | null>);
  return raw ? executionCodec.fromRaw(raw) : undefined;
}

export function page(db: Conn, orgId: string, req: PageRequest, filters: { status?: Status; model?: string }) {
  const { where, orderBy, take } = pageClauses(
    executions.id,
    req,
    and(eq(executions.orgId, orgId), filters.status ? eq(executions.status, filters.status) : undefined, filters.model ? eq(executions.model, filters.model) : undefined),
  );
  return db.select().from(executions).where(where).orderBy(orderBy).limit(take).all();
}

export const byCallbackToken = (conn: Conn, token: string): ExecutionRow | undefined => conn.select().from(executions).where(eq(executions.callbackToken, token)).get();

export const setProviderJob = (conn: Conn, id: string, job: Record<string, unknown>) => conn.update(executions).set({ providerJob: job }).where(eq(executions.id, id)).run();

/** Gives a PROCESSING execution re-run after a restart the callback token it was created without. */
export const setCallbackToken = (conn: Conn, id: string, token: string) =>
  conn.update(executions).set({ callbackToken: token }).where(and(eq(executions.id, id), isNull(executions.callbackToken))).run();

/** Exactly the WHERE of the partial index executions_open: SQLite uses it only for a query that names it. */
const OPEN = sql`status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK')`;

/** Non-terminal executions whose deadline has passed, for the sweep. */
export const overdue = (db: Conn, now: number, limit: number) =>
  db
    .select({ id: executions.id, status: executions.status })
    .from(executions)
    .where(and(OPEN, inArray(executions.status, ["PENDING", "AWAITING_WEBHOOK"]), isNotNull(executions.deadlineAt), lt(executions.deadlineAt, now)))
    .limit(limit)
    .all();

/** Drops input and output of executions finished before `before` (retention); returns the ids it purged. */
export const purgeFinishedBefore = (db: Conn, before: number, now: number, limit: number): string[] =>
  db
    .update(executions)
    .set({ input: null, output: null, purgedAt: now })
    .where(
      inArray(
        executions.id,
        db
          .select({ id: executions.id })
          .from(executions)
          .where(and(isNull(executions.purgedAt), isNotNull(executions.completedAt), lt(executions.completedAt, before)))
          .limit(limit),
      ),
    )
    .returning({ id: executions.id })
    .all()
    .map((r) => r.id);

export const countRunningForKey = (db: Conn, keyId: string): number =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(executions)
    .where(and(OPEN, eq(executions.keyId, keyId)))
    .get()!.n;

/** Executions of every organization by status; a status nobody is in is left out. */
export function countByStatus(conn: Conn): Partial<Record<Status, number>> {
  const rows = conn.select({ status: executions.status, n: sql<number>`count(*)` }).from(executions).groupBy(executions.status).all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** `day_model`: one group per UTC day and model, `YYYY-MM-DD model` (OpenRouter's activity). */
export type UsageGroupBy = "day" | "model" | "day_model";
export type UsageTotals = {
  group: string;
  executions: number;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  costMicros: number;
  /** Answered from the response cache, and what those answers cost the first time above what they cost now. */
  cacheHits: number;
  cacheMisses: number;
  cacheSavedMicros: number;
};

/**
 * Billable executions (COMPLETED, and CANCELLED with a charge) created in [fromMs, toMs), summed
 * per UTC day (YYYY-MM-DD), per model, or per both, in group order. Read-only, for /v1/usage.
 */
export function usageTotals(conn: Conn, orgId: string, fromMs: number, toMs: number, groupBy: UsageGroupBy): UsageTotals[] {
  const postgres = isPostgres(conn);
  const day = postgres
    ? sql<string>`to_char(to_timestamp(${executions.createdAt} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`
    : sql<string>`strftime('%Y-%m-%d', ${executions.createdAt} / 1000, 'unixepoch')`;
  const tokens = (field: string) =>
    postgres
      ? sql<number>`coalesce(sum((${executions.usage}::json ->> ${sql.raw(`'${field}'`)})::bigint), 0)`
      : sql<number>`coalesce(sum(json_extract(${executions.usage}, ${sql.raw(`'$.${field}'`)})), 0)`;
  // By the model that answered and was charged (an alias's execution counts for its model).
  const model = sql<string>`coalesce(${executions.servedModel}, ${executions.model})`;
  const group = groupBy === "day" ? day : groupBy === "model" ? model : sql<string>`${day} || ' ' || ${model}`;
  return conn
    .select({
      group,
      executions: sql<number>`count(*)`,
      inputTokens: tokens("inputTokens"),
      outputTokens: tokens("outputTokens"),
      reasoningTokens: tokens("reasoningTokens"),
      costMicros: sql<number>`coalesce(sum(${executions.costMicros}), 0)`,
      cacheHits: sql<number>`count(case when ${executions.cacheStatus} in ('hit', 'semantic_hit') then 1 end)`,
      cacheMisses: sql<number>`count(case when ${executions.cacheStatus} = 'miss' then 1 end)`,
      cacheSavedMicros: sql<number>`coalesce(sum(${executions.cacheSavedMicros}), 0)`,
    })
    .from(executions)
    .where(
      and(
        eq(executions.orgId, orgId),
        gte(executions.createdAt, fromMs),
        lt(executions.createdAt, toMs),
        or(eq(executions.status, "COMPLETED"), and(eq(executions.status, "CANCELLED"), gt(executions.costMicros, 0))),
      ),
    )
    .groupBy(group)
    .orderBy(group)
    .all();
}
