/**
 * The operator's audit log: one append-only row per admin action (admin API and CLI), written in
 * the same transaction as the action, so an action and its record commit or fail together.
 */
import type { Conn, Db } from "../../db/client";
import { pageRequest, toList, type PageQuery } from "../../http/pagination";
import { newId } from "../../ids";
import * as store from "./store";

/** "operator": the admin API (operator token); "cli": the command line on the database. */
export type Actor = "operator" | "cli";

export type AuditEntry = { actor: Actor; action: string; target: string | null; details?: Record<string, unknown> };

export function recordAudit(conn: Conn, entry: AuditEntry, now: number) {
  store.insertAudit(conn, { id: newId("aud"), actor: entry.actor, action: entry.action, target: entry.target, details: entry.details ?? null, createdAt: now });
}

export function auditView(row: store.AuditRow) {
  return {
    id: row.id,
    object: "audit_event" as const,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: row.details ?? {},
    created_at: new Date(row.createdAt).toISOString(),
  };
}

export function listAudit(db: Db, query: PageQuery, filter: { action?: string; target?: string } = {}) {
  const page = pageRequest(query);
  return toList(store.listAudit(db, page, filter), page, auditView);
}
