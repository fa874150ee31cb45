import { t } from "elysia";
import { enumOf, listOf, pageQuery, strictInteger, strictObject } from "../../http/schemas";

const money = (description: string, example: string) => t.String({ description, examples: [example] });

/**
 * Whole examples as service.ts renders them (formatUsd: at least 3 decimals). The capture is the
 * mock-image execution of the executions examples: $0.040 held, $0.040 charged, nothing back.
 */
const EXECUTION_ID = "exec_01a22bba-60e0-72d2-9799-f779f6a5dcce";
const balanceExample = { object: "balance", available: "9.960", held: "0.040", total: "10.000", currency: "USD" };
const captureExample = {
  id: "entry_01a22bba-6198-7aa3-bee0-02adb203bfbf",
  object: "balance_transaction",
  type: "capture",
  amount: "-0.040",
  captured: "0.040",
  released: "0.000",
  execution_id: EXECUTION_ID,
  note: null,
  created_at: "2026-11-30T09:12:44.696Z",
};
const creditExample = {
  id: "entry_01a22bca-2e3d-7e51-a142-7621e1f3c6fb",
  object: "balance_transaction",
  type: "credit",
  amount: "25.000",
  captured: null,
  released: null,
  execution_id: null,
  note: "Invoice 2026-11",
  created_at: "2026-11-30T09:30:00.125Z",
  balance: { object: "balance", available: "34.960", held: "0.040", total: "35.000", currency: "USD" },
};

export namespace LedgerModel {
  export const balance = t.Object(
    {
      object: t.Literal("balance"),
      available: money("What new executions can hold: total minus the holds of running executions.", "9.960"),
      held: money("Held for executions that have not finished yet (their maximum cost).", "0.040"),
      total: money("available + held: credits minus everything captured.", "10.000"),
      currency: t.Literal("USD"),
    },
    { description: "The organization's prepaid balance. Money is a decimal string in USD.", examples: [balanceExample] },
  );

  export const transaction = t.Object(
    {
      id: t.String({ examples: [captureExample.id] }),
      object: t.Literal("balance_transaction"),
      type: enumOf(["credit", "capture", "release", "adjustment"], {
        description:
          "`credit`: money added. `capture`: an execution ended and was charged `captured`; the rest of what it held (`released`) came back. " +
          "`release`: it ended without a charge (failed, expired, cancelled before work), all it held came back. `adjustment`: an operator correction. " +
          "A running execution's hold is not an entry: it is in the balance's `held` until the execution ends.",
        examples: ["capture"],
      }),
      amount: money("Signed effect on `available`: a credit is positive, a capture is minus what it charged, a release is zero.", "-0.040"),
      captured: t.Union([t.String(), t.Null()], { description: "On `capture` and `release`: what was charged.", examples: ["0.040"] }),
      released: t.Union([t.String(), t.Null()], { description: "On `capture` and `release`: what went back to `available`.", examples: ["0.000"] }),
      execution_id: t.Union([t.String(), t.Null()], { description: "The execution a hold, capture or release belongs to.", examples: [EXECUTION_ID] }),
      note: t.Union([t.String(), t.Null()], { description: "Free text given with a credit.", examples: ["Invoice 2026-11"] }),
      created_at: t.String({ examples: [captureExample.created_at] }),
    },
    { description: "One entry of the append-only ledger.", examples: [captureExample] },
  );

  export const transactions = listOf(transaction, "Ledger entries, newest first.");

  export const transactionsQuery = t.Object(pageQuery);

  export const settings = t.Object(
    {
      object: t.Literal("balance_settings"),
      low_balance_threshold: t.Union([t.String(), t.Null()], {
        description: "`balance.low` fires when `available` drops below it; null = off.",
        examples: ["5.000"],
      }),
    },
    { description: "Balance alert settings.", examples: [{ object: "balance_settings", low_balance_threshold: "5.000" }] },
  );

  export const settingsBody = strictObject({
    low_balance_threshold: t.Union([t.String({ maxLength: 20 }), t.Null()], {
      description:
        "USD amount as a decimal string. `balance.low` is written once when `available` drops below it and again only after it has been back at or above it. " +
        "Set above the current `available`, it fires at once. null turns the alert off.",
      examples: ["5.00"],
    }),
  }, { description: "The new threshold, or null to turn the alert off.", examples: [{ low_balance_threshold: "5.00" }] });

  export const usageQuery = t.Object({
    from: t.Optional(t.String({ maxLength: 40, description: "Start, inclusive: ISO-8601 UTC date or time. Default: 00:00 UTC 29 days before `to`'s day.", examples: ["2026-11-01"] })),
    to: t.Optional(t.String({ maxLength: 40, description: "End, exclusive: ISO-8601 UTC date or time. Default: now. At most 366 days after `from`.", examples: ["2026-12-01"] })),
    group_by: t.Optional(enumOf(["day", "model"] as const, { description: "One entry per UTC day (default, days without usage included) or per model." })),
  });

  export const usageGroup = t.Object({
    group: t.String({ description: "The UTC day (YYYY-MM-DD) or the slug of the model that answered (an alias's calls count for their model).", examples: ["2026-11-26"] }),
    executions: strictInteger({ description: "Billable executions: COMPLETED, and CANCELLED ones that were charged.", examples: [42] }),
    input_tokens: strictInteger({ examples: [12840] }),
    output_tokens: strictInteger({ examples: [30211] }),
    cost: money("What they were charged.", "1.680"),
    cache_hits: strictInteger({ description: "Of the executions, answered from the response cache (docs/cache.md).", examples: [5] }),
    cache_misses: strictInteger({ description: "Of the executions, cacheable but answered by the model (and stored).", examples: [9] }),
    cache_saved: money("What the cache hits would have cost had the model answered them again.", "0.120"),
  });

  export const usage = t.Object(
    {
      object: t.Literal("list"),
      data: t.Array(usageGroup),
      has_more: t.Boolean({ description: "Always false: every group is in one response." }),
      group_by: enumOf(["day", "model"]),
      from: t.String({ description: "The start used (inclusive).", examples: ["2026-11-29T00:00:00.000Z"] }),
      to: t.String({ description: "The end used (exclusive).", examples: ["2026-12-01T00:00:00.000Z"] }),
    },
    {
      description: "Usage per day (oldest first) or per model (by slug).",
      // ?from=2026-11-29&to=2026-12-01: three mock-image runs, then four more and one demo-model run.
      examples: [
        {
          object: "list",
          data: [
            { group: "2026-11-29", executions: 3, input_tokens: 15, output_tokens: 0, cost: "0.120", cache_hits: 0, cache_misses: 0, cache_saved: "0.000" },
            { group: "2026-11-30", executions: 5, input_tokens: 30, output_tokens: 20, cost: "0.160009", cache_hits: 0, cache_misses: 0, cache_saved: "0.000" },
          ],
          has_more: false,
          group_by: "day",
          from: "2026-11-29T00:00:00.000Z",
          to: "2026-12-01T00:00:00.000Z",
        },
      ],
    },
  );

  export const orgParams = t.Object({ id: t.String({ description: "Organization id.", examples: ["org_01932c5e-7a1b-7000-8000-000000000001"] }) });

  export const creditBody = strictObject({
    amount: t.String({ maxLength: 20, description: "USD to add, a positive decimal string with at most 6 decimals (at most 1000000).", examples: ["25.00"] }),
    note: t.Optional(t.String({ maxLength: 500, description: "Shown on the balance transaction.", examples: ["Invoice 2026-11"] })),
    idempotency_key: t.Optional(t.String({ maxLength: 255, description: "Same as the Idempotency-Key header: a retry with the same key adds nothing.", examples: ["invoice-2026-11"] })),
  }, { description: "The credit to add.", examples: [{ amount: "25.00", note: "Invoice 2026-11", idempotency_key: "invoice-2026-11" }] });

  export const creditHeaders = t.Object({
    "idempotency-key": t.Optional(t.String({ description: "A retry with the same key returns the first credit and adds nothing (kept forever per organization)." })),
  });

  export const credit = t.Object(
    { ...transaction.properties, balance },
    { description: "The credit's balance transaction and the organization's balance after it.", examples: [creditExample] },
  );
}
