/**
 * Cursor pagination (docs/decisions.md): newest first, `limit` 1–100 (default 20),
 * `starting_after` / `ending_before` take an id. Ids are UUIDv7, so id order is time order.
 */
import { and, asc, desc, gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { invalidField } from "../errors";
import { isAnyId } from "../ids";

/** The page parameters as they arrive on the wire (the route's `pageQuery`) or from the CLI. */
export type PageQuery = { limit?: number; starting_after?: string; ending_before?: string };
export type PageRequest = { limit: number; startingAfter?: string; endingBefore?: string };

/** 400 when both cursors are given, or a cursor is not an id (it would silently match nothing or everything). */
export function pageRequest(query: PageQuery): PageRequest {
  if (query.starting_after && query.ending_before)
    throw invalidField("ending_before", "invalid_format", "Use starting_after or ending_before, not both.");
  for (const field of ["starting_after", "ending_before"] as const) {
    const cursor = query[field];
    if (cursor && !isAnyId(cursor)) throw invalidField(field, "invalid_format", `Must be the id of an item of this list, like one from a previous page.`);
  }
  return { limit: query.limit ?? 20, startingAfter: query.starting_after, endingBefore: query.ending_before };
}

/** WHERE and ORDER BY for a page over an id column; fetch limit + 1 rows to learn has_more. */
export function pageClauses(idColumn: SQLiteColumn, page: PageRequest, filter?: SQL) {
  const cursor = page.startingAfter ? lt(idColumn, page.startingAfter) : page.endingBefore ? gt(idColumn, page.endingBefore) : undefined;
  return {
    where: and(filter, cursor),
    orderBy: page.endingBefore ? asc(idColumn) : desc(idColumn),
    take: page.limit + 1,
  };
}

/** Shapes fetched rows (limit + 1 of them) into the list envelope, newest first. */
export function toList<R, V>(rows: R[], page: PageRequest, view: (row: R) => V) {
  const hasMore = rows.length > page.limit;
  const pageRows = rows.slice(0, page.limit);
  if (page.endingBefore) pageRows.reverse();
  return { object: "list" as const, data: pageRows.map(view), has_more: hasMore };
}
