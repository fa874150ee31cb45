/**
 * Organizations: created and suspended by the operator (admin API, CLI). A suspended org's keys
 * answer 401 "The organization is suspended." (keys/service.ts reads the org status with the key).
 * Names are unique so the CLI can take `--org NAME` as well as an id.
 */
import type { Conn, Db } from "../../db/client";
import { AppError, invalidField } from "../../errors";
import { pageRequest, toList, type PageQuery } from "../../http/pagination";
import { isId, newId } from "../../ids";
import * as store from "./store";

export type OrgRow = store.OrgRow;

export function orgView(row: OrgRow) {
  return {
    id: row.id,
    object: "organization" as const,
    name: row.name,
    status: row.status,
    created_at: new Date(row.createdAt).toISOString(),
  };
}

/** Inserts an org in the caller's transaction; 409 when the name is taken. */
export function createOrg(tx: Conn, name: string, now: number): OrgRow {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw invalidField("name", "too_short", "Must not be blank.");
  if (store.orgsByName(tx, trimmed).length > 0) throw new AppError("CONFLICT", `An organization named "${trimmed}" already exists.`);
  const row = { id: newId("org"), name: trimmed, status: "active" as const, createdAt: now };
  store.insertOrg(tx, row);
  return store.orgById(tx, row.id)!;
}

/** The org with this id, or 404 (a malformed id is a 404 too). */
export function findOrg(conn: Conn, id: string): OrgRow {
  const row = isId("org", id) ? store.orgById(conn, id) : undefined;
  if (!row) throw new AppError("NOT_FOUND", `No organization ${id}.`);
  return row;
}

/** For the CLI: an org id, or a name (unique by construction). */
export function resolveOrg(conn: Conn, idOrName: string): OrgRow {
  if (isId("org", idOrName)) return findOrg(conn, idOrName);
  const [row] = store.orgsByName(conn, idOrName);
  if (!row) throw new AppError("NOT_FOUND", `No organization with id or name "${idOrName}".`);
  return row;
}

export function listOrgs(db: Db, query: PageQuery) {
  const page = pageRequest(query);
  return toList(store.listOrgs(db, page), page, orgView);
}

export function setOrgStatus(tx: Conn, id: string, status: OrgRow["status"]): OrgRow {
  findOrg(tx, id);
  store.setOrgStatus(tx, id, status);
  return store.orgById(tx, id)!;
}

export const countOrgsByStatus = store.countOrgsByStatus;
