/**
 * First run ("no organization in the database", never the presence of a file: docs/operations.md "First run"):
 * the `default` organization, its first full-permission key and the operator token, written to
 * <data-dir>/bootstrap.json (0600) in clear so the operator can copy them once.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { isPostgres } from "../../db/prepared";
import { newId } from "../../ids";
import * as Keys from "../keys/service";
import { generateAdminToken, hashSecret } from "../keys/secret";
import { putSetting } from "../settings/store";
import * as store from "./store";

export const ADMIN_TOKEN_SETTING = "admin_token_sha256";

export type Bootstrap = { org_id: string; api_key: string; admin_token: string };

/** Hooks other modules add to the first-run transaction (the demo credit of the ledger). */
export type BootstrapHook = (tx: Tx, orgId: string, now: number) => void;

/** Creates the default org, key and operator token when the database has no organization; null otherwise. */
export function bootstrapIfEmpty(db: Db, dataDir: string, now: number, hooks: BootstrapHook[] = []): Bootstrap | null {
  const created = db.transaction((tx) => {
    // Replicas starting together on an empty PostgreSQL: one bootstraps, the others then find its org.
    if (isPostgres(tx)) tx.run(sql`SELECT pg_advisory_xact_lock(7243190117004002)`);
    if (store.countOrgs(tx) > 0) return null;
    const orgId = newId("org");
    store.insertOrg(tx, { id: orgId, name: "default", createdAt: now });
    const { key } = Keys.issueKey(tx, { orgId, name: "bootstrap", permission: "full" }, now);
    const adminToken = generateAdminToken();
    putSetting(tx, ADMIN_TOKEN_SETTING, hashSecret(adminToken));
    for (const hook of hooks) hook(tx, orgId, now);
    return { org_id: orgId, api_key: key, admin_token: adminToken };
  });
  if (created) {
    const path = join(dataDir, "bootstrap.json");
    writeFileSync(path, JSON.stringify(created, null, 2) + "\n", { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  return created;
}
