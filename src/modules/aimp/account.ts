/**
 * The AIMP marketplace, wallet and usage over the gateway's own records: the catalog as
 * marketplace entries, the balance as the workspace wallet (one ledger, no second one), and
 * usage summed from the same numbers `/v1/usage` reports.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import { formatUsd, parseUsd } from "../../money";
import * as Catalog from "../catalog/service";
import type { Caller } from "../keys/service";
import * as Ledger from "../ledger/service";
import * as Usage from "../ledger/usage";
import { mediaTypeOf } from "./media";
import { modesOf } from "./service";

/** "demo-model" → "Demo Model". */
const titleOf = (slug: string) => slug.split(/[-_.]/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");

/** The model's media inputs: each file field and the media types it takes. */
function mediaInputs(model: Catalog.Model) {
  const props = (model.inputSchema.properties ?? {}) as Record<string, { "x-accept"?: string[]; items?: { "x-accept"?: string[] } }>;
  return Catalog.fileFields(model).map((field) => {
    const accept = props[field]?.["x-accept"] ?? props[field]?.items?.["x-accept"] ?? [];
    return { field, media_types: [...new Set(accept.map(mediaTypeOf))], content_types: accept };
  });
}

export function marketplaceEntry(model: Catalog.Model) {
  return {
    object: "marketplace_model" as const,
    slug: model.slug,
    name: titleOf(model.slug),
    description: model.description,
    task: model.task,
    modes: modesOf(model),
    pricing: Catalog.pricingView(model.pricing),
    input_contract: model.inputSchema,
    media_inputs: mediaInputs(model),
    owned_by: model.ownedBy,
    created_at: new Date(model.createdAt).toISOString(),
  };
}

export function marketplaceModels(ctx: AppContext) {
  const data = Catalog.listModels(ctx.db)
    .sort((a, b) => a.slug.localeCompare(b.slug))
    .map(marketplaceEntry);
  return { object: "list" as const, data, has_more: false };
}

export function marketplaceModel(ctx: AppContext, slug: string) {
  const model = Catalog.findModel(ctx.db, slug);
  if (!model) throw new AppError("NOT_FOUND", `No marketplace model ${slug}; GET /api/marketplace/models lists them.`);
  return marketplaceEntry(model);
}

export function wallet(ctx: AppContext, caller: Caller) {
  const balance = Ledger.balanceView(ctx.db, caller.orgId);
  return { object: "wallet" as const, workspace_id: caller.orgId, available: balance.available, held: balance.held, total: balance.total, currency: balance.currency };
}

/** Totals over the range plus the same rows `/v1/usage` gives per day and per model. */
export function usageSummary(ctx: AppContext, caller: Caller, query: { from?: string; to?: string }) {
  const byDay = Usage.usage(ctx, caller.orgId, { ...query, group_by: "day" });
  const byModel = Usage.usage(ctx, caller.orgId, { ...query, group_by: "model" });
  const total = byModel.data.reduce(
    (sum, r) => ({
      executions: sum.executions + r.executions,
      input_tokens: sum.input_tokens + r.input_tokens,
      output_tokens: sum.output_tokens + r.output_tokens,
      costMicros: sum.costMicros + (parseUsd(r.cost) ?? 0),
    }),
    { executions: 0, input_tokens: 0, output_tokens: 0, costMicros: 0 },
  );
  return {
    object: "usage_summary" as const,
    workspace_id: caller.orgId,
    from: byDay.from,
    to: byDay.to,
    currency: "USD" as const,
    total: { executions: total.executions, input_tokens: total.input_tokens, output_tokens: total.output_tokens, cost: formatUsd(total.costMicros) },
    by_day: byDay.data,
    by_model: byModel.data,
  };
}
