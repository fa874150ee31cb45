/**
 * Queries on webhook_endpoints, webhook_deliveries and webhook_attempts, and on the webhook
 * signing-secret columns of orgs (they exist for this module; nothing else reads them).
 */
import { and, asc, eq, getTableColumns, inArray, isNull, lt, ne, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { placeholders, preparedPerConnection, rawPerConnection } from "../../db/prepared";
import { events, orgs, webhookAttempts, webhookDeliveries, webhookEndpoints } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
export type DeliveryStatus = DeliveryRow["status"];
/** A delivery with the event it carries. */
export type DeliveryWithEvent = DeliveryRow & { eventType: string; executionId: string | null };

// Endpoints ------------------------------------------------------------------------------------

export const insertEndpoint = (conn: Conn, row: typeof webhookEndpoints.$inferInsert) => conn.insert(webhookEndpoints).values(row).run();

/** A live (not deleted) endpoint of the org. */
export const endpointInOrg = (conn: Conn, orgId: string, id: string): EndpointRow | undefined =>
  conn
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.deletedAt)))
    .get();

/**
 * The statements every delivery attempt runs (read the delivery and its endpoint, count and log
 * the attempt, record its outcome), prepared once per connection: building each with drizzle
 * took most of an attempt's time (scripts/bench/webhooks.ts).
 */
const attemptStatements = preparedPerConnection((conn: Conn) => ({
  endpointById: conn.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, sql.placeholder("id"))).prepare(),
  deliveryById: conn.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, sql.placeholder("id"))).prepare(),
  countAttempt: conn
    .update(webhookDeliveries)
    .set({ attempts: sql`${webhookDeliveries.attempts} + 1` })
    .where(eq(webhookDeliveries.id, sql.placeholder("id")))
    .returning({ attempts: webhookDeliveries.attempts })
    .prepare(),
  recordOutcome: conn
    .update(webhookDeliveries)
    .set({
      status: sql`${sql.placeholder("status")}`,
      lastStatusCode: sql`${sql.placeholder("lastStatusCode")}`,
      nextAttemptAt: sql`${sql.placeholder("nextAttemptAt")}`,
      url: sql`${sql.placeholder("url")}`,
    })
    .where(eq(webhookDeliveries.id, sql.placeholder("id")))
    .prepare(),
  insertAttempt: conn.insert(webhookAttempts).values(placeholders("deliveryId", "attempt", "at", "statusCode", "latencyMs", "error", "nextRetryAt")).prepare(),
}));

/** Any endpoint, deleted ones included (a delivery outlives its endpoint). */
export const endpointById = (conn: Conn, id: string): EndpointRow | undefined => attemptStatements(conn).endpointById.get({ id });

export function pageOfEndpoints(conn: Conn, orgId: string, page: PageRequest): EndpointRow[] {
  const { where, orderBy, take } = pageClauses(webhookEndpoints.id, page, and(eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.deletedAt)));
  return conn.select().from(webhookEndpoints).where(where).orderBy(orderBy).limit(take).all();
}

export const countEndpoints = (conn: Conn, orgId: string): number =>
  conn
    .select({ n: sql<number>`count(*)` })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.orgId, orgId), isNull(webhookEndpoints.deletedAt)))
    .get()!.n;

export const updateEndpoint = (conn: Conn, id: string, set: Partial<Omit<EndpointRow, "id" | "orgId" | "createdAt">>) =>
  conn.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).run();

// Raw: every status change of every execution asks it (db/prepared.ts rawPerConnection).
const enabledOfOrg = rawPerConnection((sqlite) => sqlite.prepare("SELECT id, url, events FROM webhook_endpoints WHERE org_id = $orgId AND enabled = 1 AND deleted_at IS NULL"));

type EnabledEndpoint = { id: string; url: string; events: string[] | null };

/** The endpoints an event of the org fans out to (before the `events` filter); dispatch hot path. */
export const enabledEndpoints = (conn: Conn, orgId: string): EnabledEndpoint[] =>
  (enabledOfOrg(conn).all({ orgId }) as { id: string; url: string; events: string | null }[]).map((e) => ({ id: e.id, url: e.url, events: e.events === null ? null : (JSON.parse(e.events) as string[]) }));

/** Whether an endpoint receives events of `type` (omitted `events` = all). */
export const subscribes = (endpoint: Pick<EndpointRow, "events">, type: string) => endpoint.events === null || endpoint.events.includes(type);

/** True when an enabled endpoint of the org subscribes to `type`. */
export const hasSubscriber = (conn: Conn, orgId: string, type: string) => enabledEndpoints(conn, orgId).some((endpoint) => subscribes(endpoint, type));

// Org signing secret ---------------------------------------------------------------------------

export type SecretColumns = { secret: string | null; previous: string | null; previousExpiresAt: number | null };

export const orgSecrets = (conn: Conn, orgId: string): SecretColumns | undefined =>
  conn
    .select({ secret: orgs.webhookSecret, previous: orgs.webhookPreviousSecret, previousExpiresAt: orgs.webhookPreviousExpiresAt })
    .from(orgs)
    .where(eq(orgs.id, orgId))
    .get();

/** Sets the first secret of an org unless another request set one first. */
export const setFirstOrgSecret = (conn: Conn, orgId: string, secret: string) =>
  conn.update(orgs).set({ webhookSecret: secret }).where(and(eq(orgs.id, orgId), isNull(orgs.webhookSecret))).run();

export const rotateOrgSecret = (conn: Conn, orgId: string, secret: string, previous: string, previousExpiresAt: number) =>
  conn.update(orgs).set({ webhookSecret: secret, webhookPreviousSecret: previous, webhookPreviousExpiresAt: previousExpiresAt }).where(eq(orgs.id, orgId)).run();

// Deliveries -----------------------------------------------------------------------------------

const insertDeliveryStatement = preparedPerConnection((conn) =>
  conn
    .insert(webhookDeliveries)
    .values(placeholders("id", "orgId", "eventId", "endpointId", "url", "status", "nextAttemptAt", "deadlineAt", "createdAt"))
    .prepare(),
);

export type NewDelivery = Pick<DeliveryRow, "id" | "orgId" | "eventId" | "endpointId" | "url" | "status" | "nextAttemptAt" | "deadlineAt" | "createdAt">;

/** One per endpoint per event: prepared, the dispatcher writes many. */
export const insertDelivery = (conn: Conn, row: NewDelivery) => insertDeliveryStatement(conn).run(row);

const withEvent = { eventType: events.type, executionId: events.executionId };

const selectDeliveries = (conn: Conn) =>
  conn
    .select({ ...getTableColumns(webhookDeliveries), ...withEvent })
    .from(webhookDeliveries)
    .innerJoin(events, eq(events.id, webhookDeliveries.eventId));

export const deliveryInOrg = (conn: Conn, orgId: string, id: string): DeliveryWithEvent | undefined =>
  selectDeliveries(conn).where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.orgId, orgId))).get();

export const deliveryById = (conn: Conn, id: string): DeliveryRow | undefined => attemptStatements(conn).deliveryById.get({ id });

/** A page of the org's deliveries, newest first; optionally one endpoint's, or one status. */
export function pageOfDeliveries(conn: Conn, orgId: string, page: PageRequest, filter: { endpointId?: string; status?: DeliveryStatus }): DeliveryWithEvent[] {
  const { where, orderBy, take } = pageClauses(
    webhookDeliveries.id,
    page,
    and(
      filter.endpointId ? eq(webhookDeliveries.endpointId, filter.endpointId) : eq(webhookDeliveries.orgId, orgId),
      filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
    ),
  );
  return selectDeliveries(conn).where(where).orderBy(orderBy).limit(take).all();
}

/** Counts an attempt on the delivery and returns its number (1 for the first). */
export const countAttempt = (conn: Conn, id: string): number => attemptStatements(conn).countAttempt.get({ id })!.attempts;

/** An attempt's outcome on its delivery: its status, last status code, next attempt and URL. */
export const recordOutcome = (conn: Conn, id: string, set: Pick<DeliveryRow, "status" | "lastStatusCode" | "nextAttemptAt" | "url">) =>
  attemptStatements(conn).recordOutcome.run({ id, ...set });

export const updateDelivery = (conn: Conn, id: string, set: Partial<Pick<DeliveryRow, "status" | "lastStatusCode" | "nextAttemptAt" | "url">>) =>
  conn.update(webhookDeliveries).set(set).where(eq(webhookDeliveries.id, id)).run();

// Attempts -------------------------------------------------------------------------------------

export const insertAttempt = (conn: Conn, row: Omit<typeof webhookAttempts.$inferInsert, "id">) =>
  attemptStatements(conn).insertAttempt.run({ statusCode: null, error: null, nextRetryAt: null, ...row });

export const attemptsOf = (conn: Conn, deliveryId: string): AttemptRow[] =>
  conn.select().from(webhookAttempts).where(eq(webhookAttempts.deliveryId, deliveryId)).orderBy(asc(webhookAttempts.attempt)).all();

/** Retention: deletes finished deliveries created before `before`, with their attempts. */
export function purgeFinishedBefore(conn: Conn, before: number, limit: number): number {
  const ids = conn
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(ne(webhookDeliveries.status, "pending"), lt(webhookDeliveries.createdAt, before)))
    .limit(limit)
    .all()
    .map((r) => r.id);
  if (ids.length === 0) return 0;
  conn.delete(webhookAttempts).where(inArray(webhookAttempts.deliveryId, ids)).run();
  conn.delete(webhookDeliveries).where(inArray(webhookDeliveries.id, ids)).run();
  return ids.length;
}
