/**
 * OpenAI's audio, image edit and moderation routes under `/v1`, for the `openai` SDK with only
 * its base URL and key changed: speech (audio bytes back), transcriptions and translations
 * (multipart in), image edits and variations (multipart in), moderations. Each call is an
 * execution of the named model, held, metered and settled like any other; an uploaded file is
 * stored as a file of the organization and is the execution's `file_…` input. Errors are in
 * OpenAI's shape (dialects/errors.ts).
 */
import { Elysia } from "elysia";
import type { SpeechOutput } from "../../canonical/media";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import * as Catalog from "../../modules/catalog/service";
import type { ExecutionRow } from "../../modules/executions/store";
import type { Caller } from "../../modules/keys/service";
import * as Files from "../../modules/files/service";
import { readForm, storeUploaded } from "../multipart";
import { operationDoc } from "../route-docs";
import { modelFor, runCompleted } from "../run";
import { checkSpeechFormat, parseSpeechRequest, parseTranscriptionForm, renderTranscript } from "./audio";
import { inOpenAIParams } from "./errors";
import { IMAGE_PARAMS, parseImageEditForm, parseImageVariationForm } from "./image-edits";
import { imagesResponse } from "./images";
import { OpenAIMediaModel } from "./media-model";
import { OpenAIModel } from "./model";
import { moderationResponse, parseModerationRequest } from "./moderations";

const MULTIPART_PATH = /^\/v1\/(audio\/(transcriptions|translations)|images\/(edits|variations))\/?$/;

/** For the JSON body parser: these routes read their multipart bodies themselves. */
export const isMultipartDialectRequest = (method: string, path: string) => method === "POST" && MULTIPART_PATH.test(path);

const answerHeaders = (row: ExecutionRow, request: Request, contentType: string) => ({ "content-type": contentType, "x-execution-id": row.id, "x-request-id": requestIdOf(request) });

/** The speech file's bytes, with its content type; the execution's id in `x-execution-id`. */
async function audioResponse(ctx: AppContext, caller: Caller, row: ExecutionRow, request: Request): Promise<Response> {
  const audio = (row.output as unknown as SpeechOutput).audio;
  const download = await Files.downloadWhole(ctx, caller.orgId, audio.file_id);
  return new Response(download.body, { headers: { ...answerHeaders(row, request, audio.content_type), "content-length": download.headers["content-length"]! } });
}

type Run = { ctx: AppContext; caller: Caller; request: Request; idempotencyKey: string | undefined };
/** `uploads` stores the request's files (as input fields) unless the call replays an Idempotency-Key. */
const run = (r: Run, path: string, model: string, input: Record<string, unknown>, uploads?: () => Promise<Record<string, unknown>>) =>
  runCompleted(r.ctx, r.caller, { model, input, request: r.request, path, idempotencyKey: r.idempotencyKey, dialect: "openai", uploads });

async function transcribe(r: Run, translate: boolean) {
  const path = translate ? "/v1/audio/translations" : "/v1/audio/transcriptions";
  const req = parseTranscriptionForm(await readForm(r.request), translate);
  modelFor(r.ctx, req.model, ["speech-to-text"], translate ? "audio translations" : "audio transcriptions");
  const row = await run(r, path, req.model, req.input, async () => ({ file: await storeUploaded(r.ctx, r.caller.orgId, req.file) }));
  const rendered = renderTranscript(row, req.format, translate);
  if ("json" in rendered) return rendered.json;
  return new Response(rendered.text, { headers: answerHeaders(row, r.request, "text/plain; charset=utf-8") });
}

const transcriptDoc = (translate: boolean) =>
  operationDoc({
    summary: translate ? "Create a translation" : "Create a transcription",
    description:
      `OpenAI's audio ${translate ? "translations (the text in English)" : "transcriptions"} for any speech-to-text model of the catalog, multipart as the SDK sends it, up to 25 MB. ` +
      "The file is stored as a file of the organization and is the execution's input; the execution is priced per second of audio (held from the file's size, " +
      "charged on the duration). `response_format` json (default) or verbose_json answer JSON; text, srt and vtt answer text/plain (the execution's id in " +
      "`x-execution-id`). mock-transcribe gives back the text a mock-tts WAV carries, or describes the recording.",
    request: translate ? OpenAIMediaModel.translationForm : OpenAIMediaModel.transcriptionForm,
    requestType: "multipart/form-data",
    response: ["The transcript.", OpenAIMediaModel.transcription],
    alsoAnswers: { "text/plain": { type: "string", description: "response_format text, srt or vtt." } },
  });

const imagesDoc = (summary: string, description: string, request: unknown) =>
  operationDoc({ summary, description, request, requestType: "multipart/form-data", response: ["The images, as base64 or links.", OpenAIModel.images] });

export const openaiMediaRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/openai-media", seed: ctx.instanceId, prefix: "/v1", tags: ["OpenAI compatible"] })
    .use(auth(ctx))
    .post(
      "/audio/speech",
      async ({ body, caller, request, headers }) => {
        const req = parseSpeechRequest(body);
        const model = modelFor(ctx, req.model, ["text-to-speech"], "audio speech");
        checkSpeechFormat(model, req.input);
        const row = await inOpenAIParams({ format: "response_format" }, () => run({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, "/v1/audio/speech", req.model, req.input));
        return audioResponse(ctx, caller, row, request);
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create speech",
          description:
            "OpenAI's speech for any text-to-speech model of the catalog: the audio bytes with their content type (audio/wav, audio/pcm, audio/mpeg, …), the execution's id in " +
            "`x-execution-id`. Priced per character. A `response_format` the model cannot produce is a 400 naming it; mock-tts speaks wav (24 kHz 16-bit mono, 60 ms per " +
            "character at speed 1) and pcm (the same samples, raw).",
          request: OpenAIMediaModel.speechRequest,
          response: ["The audio.", null],
          alsoAnswers: { "audio/wav": { type: "string", format: "binary" }, "audio/pcm": { type: "string", format: "binary" }, "audio/mpeg": { type: "string", format: "binary" } },
        }),
      },
    )
    .post("/audio/transcriptions", ({ caller, request, headers }) => transcribe({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, false), {
      auth: "inference",
      detail: transcriptDoc(false),
    })
    .post("/audio/translations", ({ caller, request, headers }) => transcribe({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, true), {
      auth: "inference",
      detail: transcriptDoc(true),
    })
    .post(
      "/images/edits",
      async ({ caller, request, headers }) => {
        const req = parseImageEditForm(await readForm(request));
        modelFor(ctx, req.model, ["image-edit"], "image edits");
        const uploads = async () => ({
          images: await Promise.all(req.images.map((image) => storeUploaded(ctx, caller.orgId, image))),
          ...(req.mask ? { mask: await storeUploaded(ctx, caller.orgId, req.mask) } : {}),
        });
        const row = await inOpenAIParams(IMAGE_PARAMS, () => run({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, "/v1/images/edits", req.model, req.input, uploads));
        return imagesResponse(ctx, caller.orgId, row, req.format);
      },
      {
        auth: "inference",
        detail: imagesDoc(
          "Create an image edit",
          "OpenAI's image edits for any image-edit model of the catalog, multipart as the SDK sends it: `image` (or `image[]`), an optional `mask`, `prompt`, `n`, `size`. " +
            "Priced per image. mock-image-edit decodes the PNG and inverts it, tinted by the prompt, where the mask is fully transparent (everywhere without a mask).",
          OpenAIMediaModel.imageEditForm,
        ),
      },
    )
    .post(
      "/images/variations",
      async ({ caller, request, headers }) => {
        const req = parseImageVariationForm(await readForm(request));
        modelFor(ctx, req.model, ["image-variation"], "image variations");
        const uploads = async () => ({ image: await storeUploaded(ctx, caller.orgId, req.image) });
        const row = await inOpenAIParams(IMAGE_PARAMS, () => run({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, "/v1/images/variations", req.model, req.input, uploads));
        return imagesResponse(ctx, caller.orgId, row, req.format);
      },
      {
        auth: "inference",
        detail: imagesDoc(
          "Create image variations",
          "OpenAI's image variations for any image-variation model of the catalog: `image`, `n`, `size`. Priced per image. mock-image-variation rotates and shifts the PNG's colours, differently for each variation.",
          OpenAIMediaModel.imageVariationForm,
        ),
      },
    )
    .post(
      "/moderations",
      async ({ body, caller, request, headers }) => {
        const fallback = Catalog.listModels(ctx.db).find((m) => m.task === "moderation")?.slug ?? null;
        const req = parseModerationRequest(body, fallback);
        modelFor(ctx, req.model, ["moderation"], "moderations");
        return moderationResponse(await run({ ctx, caller, request, idempotencyKey: headers["idempotency-key"] }, "/v1/moderations", req.model, req.input));
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a moderation",
          description:
            "OpenAI's moderations for any moderation model of the catalog: a string, a list of strings, or text and image_url parts. Each result scores OpenAI's categories. " +
            "mock-moderation scores each category from a word list (one listed word scores 0.7; flagged at 0.5) and is priced per request.",
          request: OpenAIMediaModel.moderationRequest,
          response: ["The verdicts.", OpenAIMediaModel.moderation],
        }),
      },
    );
