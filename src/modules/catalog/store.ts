import { asc, eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { modelAliases, models, providers, routes } from "../../db/schema";

export type ModelRow = typeof models.$inferSelect;
export type RouteRow = typeof routes.$inferSelect;
export type ProviderRow = typeof providers.$inferSelect;
export type AliasRow = typeof modelAliases.$inferSelect;

export const allModels = (conn: Conn): ModelRow[] =>
  conn.select().from(models).where(eq(models.enabled, true)).orderBy(asc(models.slug)).all();

export const allRoutes = (conn: Conn): RouteRow[] => conn.select().from(routes).orderBy(asc(routes.modelSlug), asc(routes.position)).all();

export const allProviders = (conn: Conn): ProviderRow[] => conn.select().from(providers).all();

export function upsertProvider(conn: Conn, row: typeof providers.$inferInsert) {
  conn
    .insert(providers)
    .values(row)
    .onConflictDoUpdate({ target: providers.id, set: { kind: row.kind, baseUrl: row.baseUrl, apiKey: row.apiKey, keyRefs: row.keyRefs, config: row.config } })
    .run();
}

/** Replaces a model and its routes. */
export function replaceModel(conn: Conn, row: typeof models.$inferInsert, modelRoutes: (typeof routes.$inferInsert)[]) {
  const { slug, createdAt: _createdAt, ...rest } = row;
  conn.insert(models).values(row).onConflictDoUpdate({ target: models.slug, set: rest }).run();
  conn.delete(routes).where(eq(routes.modelSlug, slug)).run();
  for (const route of modelRoutes) conn.insert(routes).values(route).run();
}

export const allAliases = (conn: Conn): AliasRow[] => conn.select().from(modelAliases).orderBy(asc(modelAliases.name)).all();

/** Creates or replaces an alias. */
export function upsertAlias(conn: Conn, row: typeof modelAliases.$inferInsert) {
  conn.insert(modelAliases).values(row).onConflictDoUpdate({ target: modelAliases.name, set: { models: row.models, description: row.description } }).run();
}

export const deleteAlias = (conn: Conn, name: string) => conn.delete(modelAliases).where(eq(modelAliases.name, name)).run();
