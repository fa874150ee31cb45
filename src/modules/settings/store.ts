/** Process-wide values kept in the database (operator token hash, link-signing key, …). */
import { eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { settings } from "../../db/schema";

export const getSetting = (conn: Conn, key: string): string | undefined =>
  conn.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value;

export const putSetting = (conn: Conn, key: string, value: string) =>
  conn.insert(settings).values({ key, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();

/** Stores `value` unless the key is set already; returns the value that is stored now (first writer wins). */
export function putSettingIfAbsent(conn: Conn, key: string, value: string): string {
  conn.insert(settings).values({ key, value }).onConflictDoNothing({ target: settings.key }).run();
  return getSetting(conn, key)!;
}
