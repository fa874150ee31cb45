/** HTTP routes of the balance, its ledger and usage, and the operator's credits. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import { auth } from "../../http/auth";
import * as Idempotency from "../../http/idempotency";
import { errorResponses } from "../../http/schemas";
import { DISPATCH_JOB } from "../events/service";
import * as Orgs from "../orgs/service";
import { LedgerModel } from "./model";
import * as Ledger from "./service";
import * as Usage from "./usage";

const security = [{ apiKey: [] }];
const operatorSecurity = [{ operatorToken: [] }];

/** A balance.low written outside an execution's transaction: hand it to the dispatcher now. */
const wakeDispatcher = (ctx: AppContext, fired: boolean) => {
  if (fired) ctx.scheduler.wake(DISPATCH_JOB as never);
};

export const balanceRoutes = (ctx: AppContext) =>
  new Elysia({ prefix: "/v1/balance", tags: ["Balance"] })
    .use(auth(ctx))
    .get("/", ({ caller }) => Ledger.balanceView(ctx.db, caller.orgId), {
      auth: "inference",
      detail: {
        summary: "Get the balance",
        description:
          "The prepaid balance in USD. Creating an execution holds its maximum cost (`available` → `held`); when it ends, the actual cost " +
          "(never more than the hold) is captured and the rest released. `total` = `available` + `held`.",
        security,
      },
      response: { 200: LedgerModel.balance, ...errorResponses(401, 429) },
    })
    .get("/transactions", ({ caller, query }) => Ledger.listTransactions(ctx.db, caller.orgId, query), {
      auth: "inference",
      query: LedgerModel.transactionsQuery,
      detail: {
        summary: "List balance transactions",
        description:
          "The ledger, newest first, with cursor pagination: credits, holds, and one `capture` or `release` per finished execution. " +
          "The sum of `amount` over all entries is `available`.",
        security,
      },
      response: { 200: LedgerModel.transactions, ...errorResponses(400, 401, 429) },
    })
    .get("/settings", ({ caller }) => Ledger.balanceSettingsView(ctx.db, caller.orgId), {
      auth: "full",
      detail: { summary: "Get balance settings", description: "The low-balance alert threshold (full-permission keys).", security },
      response: { 200: LedgerModel.settings, ...errorResponses(401, 403, 429) },
    })
    .patch(
      "/settings",
      ({ caller, body }) => {
        const { settings, fired } = Ledger.updateBalanceSettings({ db: ctx.db, now: ctx.clock.now() }, caller.orgId, body.low_balance_threshold);
        wakeDispatcher(ctx, fired);
        return settings;
      },
      {
        auth: "full",
        body: LedgerModel.settingsBody,
        detail: {
          summary: "Set the low-balance alert",
          description:
            "When `available` drops below `low_balance_threshold`, a `balance.low` event is sent to your webhook endpoints, once; it is " +
            "armed again when `available` is back at or above the threshold (after a credit). Off by default (null).",
          security,
        },
        response: { 200: LedgerModel.settings, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    );

export const usageRoutes = (ctx: AppContext) =>
  new Elysia({ prefix: "/v1/usage", tags: ["Usage"] })
    .use(auth(ctx))
    .get("/", ({ caller, query }) => Usage.usage(ctx, caller.orgId, query), {
      auth: "inference",
      query: LedgerModel.usageQuery,
      detail: {
        summary: "Get usage",
        description:
          "Executions, tokens and cost per UTC day or per model over [`from`, `to`) — by default the last 30 UTC days, today included. " +
          "Counts COMPLETED executions and CANCELLED ones that were charged, on the day they were created.",
        security,
      },
      response: { 200: LedgerModel.usage, ...errorResponses(400, 401, 429) },
    });

export const ledgerAdminRoutes = (ctx: AppContext) => {
  const deps = (): Ledger.OperatorDeps => ({ db: ctx.db, now: ctx.clock.now(), actor: "operator" });
  return new Elysia({ prefix: "/admin/v1/orgs", tags: ["Admin"] })
    .use(auth(ctx))
    .post(
      "/:id/credits",
      ({ params, body, headers, set }) => {
        const fromHeader = headers["idempotency-key"];
        if (body.idempotency_key !== undefined) Idempotency.assertKeyShape(body.idempotency_key, "idempotency_key");
        if (fromHeader !== undefined && body.idempotency_key !== undefined && fromHeader !== body.idempotency_key)
          throw new AppError("INPUT_VALIDATION_ERROR", "The Idempotency-Key header and idempotency_key differ; send one of them.", [
            { field: "idempotency_key", code: "invalid_format", message: "Differs from the Idempotency-Key header." },
          ]);
        const { transaction, created, balance } = Ledger.addCredit(deps(), params.id, {
          amount: body.amount,
          note: body.note,
          idempotencyKey: fromHeader ?? body.idempotency_key,
        });
        set.status = created ? 201 : 200;
        if (!created) set.headers["idempotent-replayed"] = "true";
        return { ...transaction, balance };
      },
      {
        admin: true,
        params: LedgerModel.orgParams,
        body: LedgerModel.creditBody,
        headers: LedgerModel.creditHeaders,
        detail: {
          summary: "Credit an organization",
          description:
            "Adds `amount` USD to the organization's balance (the CLI's `credits add`) and records it in the audit log. With an idempotency " +
            "key (header or body) a retry returns the first credit with 200 and `Idempotent-Replayed: true` and adds nothing; the same key " +
            "with another amount or note is 422 `IDEMPOTENCY_KEY_REUSED`.",
          security: operatorSecurity,
        },
        response: { 200: LedgerModel.credit, 201: LedgerModel.credit, ...errorResponses(400, 401, 404, 413, 415, 422) },
      },
    )
    .get("/:id/balance", ({ params }) => Ledger.balanceView(ctx.db, Orgs.findOrg(ctx.db, params.id).id), {
      admin: true,
      params: LedgerModel.orgParams,
      detail: { summary: "Get an organization's balance", security: operatorSecurity },
      response: { 200: LedgerModel.balance, ...errorResponses(401, 404) },
    })
    .get("/:id/balance/transactions", ({ params, query }) => Ledger.listTransactions(ctx.db, Orgs.findOrg(ctx.db, params.id).id, query), {
      admin: true,
      params: LedgerModel.orgParams,
      query: LedgerModel.transactionsQuery,
      detail: { summary: "List an organization's balance transactions", description: "As GET /v1/balance/transactions.", security: operatorSecurity },
      response: { 200: LedgerModel.transactions, ...errorResponses(400, 401, 404) },
    })
    .patch(
      "/:id/balance/settings",
      ({ params, body }) => {
        const orgId = Orgs.findOrg(ctx.db, params.id).id;
        const { settings, fired } = Ledger.updateBalanceSettings(deps(), orgId, body.low_balance_threshold);
        wakeDispatcher(ctx, fired);
        return settings;
      },
      {
        admin: true,
        params: LedgerModel.orgParams,
        body: LedgerModel.settingsBody,
        detail: { summary: "Set an organization's low-balance alert", description: "As PATCH /v1/balance/settings; audited.", security: operatorSecurity },
        response: { 200: LedgerModel.settings, ...errorResponses(400, 401, 404, 413, 415) },
      },
    );
};
