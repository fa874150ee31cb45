/**
 * Builds the Elysia application from the cross-cutting plugins and the feature modules. No
 * listen here: tests call app.handle() or start it through server.ts.
 */
import { Elysia } from "elysia";
import { publicUrl, type AppContext } from "./context";
import { dialectErrorFor } from "./dialects/errors";
import { drain } from "./http/drain";
import { anthropicRoutes } from "./dialects/anthropic";
import { geminiRoutes } from "./dialects/gemini";
import { openaiRoutes } from "./dialects/openai";
import { isMultipartDialectRequest, openaiMediaRoutes } from "./dialects/openai/media";
import { responsesRoutes } from "./dialects/openai/responses";
import { ollamaRoutes } from "./dialects/ollama";
import { isOllamaPath } from "./dialects/ollama/paths";
import { openrouterRoutes } from "./dialects/openrouter";
import { rerankRoutes } from "./dialects/rerank";
import { jsonBody, type RawBodyRoutes } from "./http/body";
import { meterIfAuthenticated } from "./http/auth";
import { errors } from "./http/errors";
import { headerLimit } from "./http/header-limit";
import { observe } from "./http/observe";
import { adminRoutes } from "./modules/admin";
import { aimpRoutes } from "./modules/aimp";
import { callbackRoutes, isCallbackRequest } from "./modules/callbacks";
import { catalogRoutes } from "./modules/catalog";
import { docsRoutes, type DocumentedApp } from "./modules/docs";
import { guardrailRoutes } from "./modules/guardrails";
import { keyRoutes } from "./modules/keys";
import { anthropicBatchRoutes, openaiBatchRoutes } from "./modules/batches";
import { balanceRoutes, ledgerAdminRoutes, usageRoutes } from "./modules/ledger";
import { executionRoutes } from "./modules/executions";
import { filesRoutes, isFileUploadRequest } from "./modules/files";
import { opsRoutes } from "./modules/ops";
import { webhookRoutes } from "./modules/webhooks";

type RouteShape = { method: string; path: string };

/** Compiles the route table once into matchers, for telling 405 from 404. */
function methodsIndex(routes: () => RouteShape[]) {
  let compiled: { method: string; re: RegExp }[] | null = null;
  return (path: string) => {
    compiled ??= routes()
      .filter((r) => r.method !== "ALL")
      .map((r) => ({
        method: r.method,
        re: new RegExp(`^${r.path.replace(/\/+$/, "").replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[^/]+/g, "/[^/]+").replace(/\*/g, ".*")}/?$`),
      }));
    return [...new Set(compiled.filter((r) => r.re.test(path)).map((r) => r.method))];
  };
}

export function createApp(ctx: AppContext, rawBodyRoutes: RawBodyRoutes = () => false) {
  let root: Elysia | undefined;
  const methodsFor = methodsIndex(() => (root?.routes ?? []) as RouteShape[]);
  const app = new Elysia({ normalize: false })
    .use(errors(ctx.log, methodsFor, (request, headers) => meterIfAuthenticated(ctx, request, headers), dialectErrorFor))
    .use(headerLimit())
    .use(drain(ctx.drain, ctx.instanceId))
    .use(observe(ctx))
    .use(jsonBody((method, path) => isFileUploadRequest(method, path) || isCallbackRequest(method, path) || isMultipartDialectRequest(method, path) || rawBodyRoutes(method, path), isOllamaPath))
    .use(docsRoutes(() => root as unknown as DocumentedApp, () => publicUrl(ctx)))
    .use(opsRoutes(ctx))
    .use(catalogRoutes(ctx))
    .use(keyRoutes(ctx))
    .use(guardrailRoutes(ctx))
    .use(adminRoutes(ctx))
    .use(executionRoutes(ctx))
    .use(filesRoutes(ctx))
    .use(webhookRoutes(ctx))
    .use(callbackRoutes(ctx))
    .use(openaiRoutes(ctx))
    .use(openaiMediaRoutes(ctx))
    .use(rerankRoutes(ctx))
    .use(responsesRoutes(ctx, { prefix: "/v1", dialect: "openai", tag: "OpenAI compatible" }))
    .use(anthropicRoutes(ctx))
    .use(geminiRoutes(ctx))
    .use(openaiBatchRoutes(ctx))
    .use(anthropicBatchRoutes(ctx))
    .use(openrouterRoutes(ctx))
    .use(ollamaRoutes(ctx))
    .use(aimpRoutes(ctx))
    .use(responsesRoutes(ctx, { prefix: "/api/v1", dialect: "openrouter", tag: "OpenRouter compatible" }))
    .use(balanceRoutes(ctx))
    .use(usageRoutes(ctx))
    .use(ledgerAdminRoutes(ctx));
  root = app as unknown as Elysia;
  return app;
}

export type App = ReturnType<typeof createApp>;
