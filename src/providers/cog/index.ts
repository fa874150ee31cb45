/**
 * The `cog` adapter: a self-hosted Cog server. A job is created with `PUT /predictions/{id}`
 * and `Prefer: respond-async`; the id is the execution's, so a create retried after a dropped
 * connection finds the prediction it started instead of starting a second one. Cog calls back
 * on `start` and `completed`; it has no way to read a prediction, so a lost callback ends at the
 * deadline. 409 "at capacity" is back-pressure, not ill health; a 200 with `status: "failed"`
 * is a failure; outputs are `data:` URIs by default and become files.
 */
import { ProviderError } from "../errors";
import { joinUrl, readJson, send } from "../http";
import { predictionOutcome, type Prediction } from "../outputs";
import type { JobCall, ProviderAdapter, ProviderResult, TaskCall, TaskRunner } from "../types";

const errorMessage = (body: unknown) => {
  const b = body as { detail?: unknown; error?: unknown } | null;
  return typeof b?.detail === "string" ? b.detail : typeof b?.error === "string" ? b.error : undefined;
};


const baseOf = (route: TaskCall["route"]) => {
  if (!route.provider.baseUrl) throw new ProviderError("bad_request", `provider ${route.provider.id} has no base_url`);
  return route.provider.baseUrl;
};


/** Cog's 409 means busy: the router tries later or elsewhere without holding it against the route. */
async function put(call: TaskCall, id: string, body: unknown, headers: Record<string, string>) {
  try {
    return await send({ url: joinUrl(baseOf(call.route), `predictions/${encodeURIComponent(id)}`), method: "PUT", headers, body, signal: call.signal, errorMessage });
  } catch (error) {
    if (error instanceof ProviderError && error.opts.status === 409) throw new ProviderError("capacity", error.message, error.opts);
    throw error;
  }
}

const submit: (task: string) => TaskRunner = (task) => async (call): Promise<ProviderResult> => {
  if (!call.async) throw new ProviderError("bad_request", "cog needs the asynchronous path");
  const id = call.async.jobId;
  const input = { ...call.input, ...call.route.params };
  const body = { id, input, webhook: call.async.callbackUrl, webhook_events_filter: ["start", "completed"] };
  const response = await put(call, id, body, { prefer: "respond-async" });
  const prediction = (await readJson(response, call)) as Prediction;
  const outcome = await predictionOutcome(task, call.input, prediction, call.signal);
  if (outcome.state === "done") return outcome.result; // a server that ran it at once
  if (outcome.state === "failed") throw new ProviderError("server", `the prediction failed: ${outcome.message}`);
  if (outcome.state === "canceled") throw new ProviderError("server", "the prediction was canceled upstream");
  return { output: {}, usage: { inputTokens: 0, outputTokens: 0 }, pending: { ref: id } };
};

const TASKS = ["text-to-image", "text-generation", "chat", "image-to-text", "embedding", "speech", "transcription", "image-to-image", "text-to-video", "predict"];

export const cogAdapter: ProviderAdapter = {
  kind: "cog",
  idempotent: true, // PUT /predictions/{execution id}: a repeat finds the running prediction
  tasks: Object.fromEntries(TASKS.map((task) => [task, submit(task)])),
  async: {
    pollable: false,
    // Cog cannot read a prediction back (a PUT would start a new one once it has ended).
    poll: async () => ({ state: "running" }),
    async callback(call, body) {
      return predictionOutcome(call.task, call.input, body as Prediction, AbortSignal.timeout(60_000));
    },
    async cancel(call: JobCall) {
      try {
        await send({ url: joinUrl(baseOf(call.route), `predictions/${encodeURIComponent(call.job.ref)}/cancel`), headers: {}, body: {}, signal: call.signal, errorMessage });
      } catch (error) {
        if (error instanceof ProviderError && error.opts.status === 404) return; // already finished
        throw error;
      }
    },
  },
};
