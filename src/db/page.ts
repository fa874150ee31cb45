/**
 * Cursor pagination over UUIDv7 ids (CONTRACT.md "Shapes"): newest first, `limit` default 20,
 * max 100, `starting_after` / `ending_before` take an id. UUIDv7 ids sort by creation time, so
 * the id column is the cursor and no offset scan is needed.
 */
import { and, asc, desc, gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { invalidField } from "../errors";

export type PageQuery = { limit?: number; starting_after?: string; ending_before?: string };
export type Page<T> = { data: T[]; hasMore: boolean };

export const DEFAULT_PAGE_SIZE = 20;

export type PagePlan = {
  /** The cursor condition, AND-ed with the caller's own filter. */
  where: (filter: SQL | undefined) => SQL | undefined;
  orderBy: SQL;
  /** One more than the page size: the extra row tells whether another page follows. */
  fetch: number;
  finish<T>(rows: T[]): Page<T>;
};

/** Plans a page query on `idColumn`; 400 when both cursors are given. */
export function planPage(idColumn: SQLiteColumn, query: PageQuery): PagePlan {
  if (query.starting_after !== undefined && query.ending_before !== undefined)
    throw invalidField("ending_before", "unsupported", "Give starting_after or ending_before, not both.");
  const size = query.limit ?? DEFAULT_PAGE_SIZE;
  const backwards = query.ending_before !== undefined;
  const cursor = backwards ? gt(idColumn, query.ending_before!) : query.starting_after !== undefined ? lt(idColumn, query.starting_after) : undefined;
  return {
    where: (filter) => (cursor ? and(filter, cursor) : filter),
    orderBy: backwards ? asc(idColumn) : desc(idColumn),
    fetch: size + 1,
    finish(rows) {
      const hasMore = rows.length > size;
      const data = rows.slice(0, size);
      if (backwards) data.reverse(); // fetched oldest-first to sit right before the cursor
      return { data, hasMore };
    },
  };
}
