/**
 * The `replicate` adapter: Replicate's hosted predictions API. A job is created with a webhook
 * back to the gateway (`upstream_model` is `owner/name` for an official model, or
 * `owner/name:version`); callbacks are verified with the provider's Standard Webhooks secret
 * (`webhook_secret_env`); when none comes, the engine polls `urls.get`. Output files are links
 * that expire within the hour: they are fetched on completion and kept as the gateway's files.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ProviderError } from "../errors";
import { joinUrl, readJson, send } from "../http";
import { predictionOutcome, type Prediction as BasePrediction } from "../outputs";
import type { JobCall, ProviderAdapter, ProviderResult, TaskCall, TaskRunner } from "../types";

/** Standard Webhooks: a callback older or newer than this is refused (replays). */
const SIGNATURE_TOLERANCE_S = 5 * 60;

const errorMessage = (body: unknown) => {
  const b = body as { detail?: unknown; title?: unknown } | null;
  return typeof b?.detail === "string" ? b.detail : typeof b?.title === "string" ? b.title : undefined;
};

type Prediction = BasePrediction & { urls?: { get?: string; cancel?: string } };

const auth = (key: string | null): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

function base(route: TaskCall["route"]) {
  if (!route.provider.baseUrl) throw new ProviderError("bad_request", `provider ${route.provider.id} has no base_url`);
  return route.provider.baseUrl;
}


const submit: (task: string) => TaskRunner = (task) => async (call): Promise<ProviderResult> => {
  if (!call.async) throw new ProviderError("bad_request", "replicate needs the asynchronous path");
  const [model, version] = call.route.upstreamModel.split(":");
  const body = { ...(version ? { version } : {}), input: { ...call.input, ...call.route.params }, webhook: call.async.callbackUrl, webhook_events_filter: ["start", "completed"] };
  const url = version ? joinUrl(base(call.route), "predictions") : joinUrl(base(call.route), `models/${model}/predictions`);
  const prediction = (await readJson(await send({ url, headers: auth(call.apiKey), body, signal: call.signal, errorMessage }), call)) as Prediction;
  if (!prediction.id) throw new ProviderError("server", "the prediction has no id");
  const outcome = await predictionOutcome(task, call.input, prediction, call.signal);
  if (outcome.state === "done") return outcome.result;
  if (outcome.state === "failed") throw new ProviderError("server", `the prediction failed: ${outcome.message}`);
  return {
    output: {},
    usage: { inputTokens: 0, outputTokens: 0 },
    pending: { ref: prediction.id, pollUrl: prediction.urls?.get ?? joinUrl(base(call.route), `predictions/${prediction.id}`), cancelUrl: prediction.urls?.cancel },
  };
};

/** True when one of the `webhook-signature` values is this body's, under this secret, recently. */
export function verifyStandardWebhook(secret: string, raw: string, headers: Headers, nowS = Math.floor(Date.now() / 1000)): boolean {
  const id = headers.get("webhook-id");
  const timestamp = Number(headers.get("webhook-timestamp"));
  const signatures = headers.get("webhook-signature");
  if (!id || !Number.isInteger(timestamp) || !signatures) return false;
  if (Math.abs(nowS - timestamp) > SIGNATURE_TOLERANCE_S) return false;
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice(6) : secret, "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${raw}`).digest();
  return signatures.split(" ").some((s) => {
    const [v, sig] = s.split(",");
    if (v !== "v1" || !sig) return false;
    const given = Buffer.from(sig, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const TASKS = ["text-to-image", "text-generation", "chat", "image-to-text", "speech", "transcription", "image-to-image", "text-to-video", "predict"];

export const replicateAdapter: ProviderAdapter = {
  kind: "replicate",
  idempotent: false, // a repeated create is a second, billed prediction
  tasks: Object.fromEntries(TASKS.map((task) => [task, submit(task)])),
  async: {
    pollable: true,
    async poll(call: JobCall) {
      const url = call.job.pollUrl ?? joinUrl(base(call.route), `predictions/${call.job.ref}`);
      const prediction = (await readJson(await send({ url, method: "GET", headers: auth(call.apiKey), signal: call.signal, errorMessage }), call)) as Prediction;
      return predictionOutcome(call.task, call.input, prediction, call.signal);
    },
    async callback(call, body, raw, headers, secret) {
      if (secret !== null && !verifyStandardWebhook(secret, raw, headers)) return null;
      return predictionOutcome(call.task, call.input, body as Prediction, AbortSignal.timeout(60_000));
    },
    async cancel(call: JobCall) {
      const url = call.job.cancelUrl ?? joinUrl(base(call.route), `predictions/${call.job.ref}/cancel`);
      await send({ url, headers: auth(call.apiKey), body: {}, signal: call.signal, errorMessage });
    },
  },
};
