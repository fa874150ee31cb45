/** The files table: file rows per org. Bytes live in a FileStore; this holds what they are. */
import { and, asc, desc, eq, gt, isNotNull, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { preparedPerConnection } from "../../db/prepared";
import { files } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type FileRow = typeof files.$inferSelect;

export const insertFile = (conn: Conn, row: typeof files.$inferInsert) => conn.insert(files).values(row).run();

const byIdStatement = preparedPerConnection((conn) =>
  conn.select().from(files).where(and(eq(files.id, sql.placeholder("id")), isNull(files.deletedAt))).prepare(),
);

/** A live (not deleted) file by id, whatever its org; callers check ownership. Prepared: every execution with file inputs reads here. */
export const fileById = (conn: Conn, id: string): FileRow | undefined => byIdStatement(conn).get({ id });

/** pending → uploaded; undefined when the file is no longer pending (deleted, or confirmed by someone else). */
export const markUploaded = (conn: Conn, id: string, set: { sha256: string | null; uploadedAt: number; expiresAt: number | null }) =>
  conn
    .update(files)
    .set({ status: "uploaded", ...set })
    .where(and(eq(files.id, id), eq(files.status, "pending"), isNull(files.deletedAt)))
    .returning()
    .get();

/** pending → failed (the stored object is not what was declared). */
export const markFailed = (conn: Conn, id: string) =>
  conn.update(files).set({ status: "failed" }).where(and(eq(files.id, id), eq(files.status, "pending"))).returning().get();

/** Hides the file at once; the blob and the row go afterwards (purge retries if that is cut short). */
export const markDeleted = (conn: Conn, id: string, orgId: string, now: number) =>
  conn
    .update(files)
    .set({ deletedAt: now })
    .where(and(eq(files.id, id), eq(files.orgId, orgId), isNull(files.deletedAt)))
    .returning()
    .get();

export const removeRow = (conn: Conn, id: string) => conn.delete(files).where(eq(files.id, id)).run();

/** A page of an org's files, newest first; never-uploaded and deleted files are not listed. */
export function listPage(conn: Conn, orgId: string, page: PageRequest): FileRow[] {
  const clauses = pageClauses(files.id, page, and(eq(files.orgId, orgId), ne(files.status, "pending"), isNull(files.deletedAt)));
  return conn.select().from(files).where(clauses.where).orderBy(clauses.orderBy).limit(clauses.take).all();
}

/**
 * Rows whose blob and row should go: deleted ones, expired ones, and uploads never completed
 * whose link expired more than `pendingGraceMs` ago (pending rows keep the link expiry in expires_at).
 */
export const purgeCandidates = (conn: Conn, now: number, pendingGraceMs: number, limit: number): FileRow[] =>
  conn
    .select()
    .from(files)
    .where(
      or(
        isNotNull(files.deletedAt),
        and(ne(files.status, "pending"), lte(files.expiresAt, now)),
        and(eq(files.status, "pending"), lte(files.expiresAt, now - pendingGraceMs)),
      ),
    )
    .limit(limit)
    .all();

/** Pending uploads on a backend, oldest first, after `afterId` (the sweep walks them in pages). */
export const pendingUploads = (conn: Conn, backend: "local" | "s3", afterId: string, limit: number): FileRow[] =>
  conn
    .select()
    .from(files)
    .where(and(eq(files.status, "pending"), eq(files.backend, backend), isNull(files.deletedAt), sql`${files.id} > ${afterId}`))
    .orderBy(files.id)
    .limit(limit)
    .all();

export type PurposePage = { purpose?: string; after?: string; limit: number; order: "asc" | "desc" };

/** OpenAI's file list: uploaded files of the org, `limit + 1` of them after the cursor in `order`. */
export function listByPurpose(conn: Conn, orgId: string, page: PurposePage): FileRow[] {
  const cursor = page.after ? (page.order === "asc" ? gt(files.id, page.after) : lt(files.id, page.after)) : undefined;
  return conn
    .select()
    .from(files)
    .where(and(eq(files.orgId, orgId), ne(files.status, "pending"), isNull(files.deletedAt), page.purpose ? eq(files.purpose, page.purpose) : undefined, cursor))
    .orderBy(page.order === "asc" ? asc(files.id) : desc(files.id))
    .limit(page.limit + 1)
    .all();
}
