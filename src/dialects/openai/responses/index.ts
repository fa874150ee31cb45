/**
 * OpenAI's Responses API (`/v1/responses`, and `/api/v1/responses` on the OpenRouter surface):
 * create (streamed, waited on, or in the background), retrieve, delete, cancel, and the input
 * items. Every response is an execution of a chat model (its id is the response's), held,
 * metered and listed in `/v1/executions` like any other; stored responses (the default) can be
 * retrieved and continued with `previous_response_id`.
 */
import { operationDoc } from "../../route-docs";
import { Elysia, t } from "elysia";
import type { ChatMessage } from "../../../canonical/chat";
import type { AppContext } from "../../../context";
import { invalidField } from "../../../errors";
import { auth } from "../../../http/auth";
import { requestIdOf } from "../../../http/request-id";
import * as Executions from "../../../modules/executions/service";
import * as Responses from "../../../modules/responses/service";
import { insertStoredResponse } from "../../../modules/responses/store";
import type { StoredResponseRow } from "../../../modules/responses/store";
import { modelFor, replayStream, runCompleted, runInBackground, runStreaming } from "../../run";
import { sseResponse } from "../../sse";
import { OpenAIModel } from "../model";
import { inputItems, responseOf, type ResponseContext } from "./render";
import { parseResponsesRequest, type ResponsesEcho } from "./request";
import { ResponseEventWriter } from "./stream";


const contextOf = (stored: StoredResponseRow): ResponseContext => ({
  instructions: stored.instructions,
  previousResponseId: stored.previousResponseId,
  store: true,
  echo: stored.echo as ResponsesEcho,
});

/** OpenAI's extra fields to include; accepted, and the answer is the same. */
const INCLUDE = t.Optional(t.Union([t.String(), t.Array(t.String())], { description: "Accepted and ignored: every field is always included." }));

const idParam = t.Object({ id: t.String({ description: "The response's id (an execution id)." }) });

export const responsesRoutes = (ctx: AppContext, surface: { prefix: string; dialect: string; tag: string }) =>
  new Elysia({ name: `dialect/responses${surface.prefix}`, seed: ctx.instanceId, prefix: surface.prefix, tags: [surface.tag] })
    .use(auth(ctx))
    .post(
      "/responses",
      async ({ body, caller, request, headers, server }) => {
        const req = parseResponsesRequest(body);
        modelFor(ctx, req.model, ["chat"], "responses");
        let history: ChatMessage[] = [];
        if (req.previousResponseId) {
          history = Responses.conversationBefore(ctx, caller, req.previousResponseId);
          const own = req.input.messages;
          req.input.messages = req.instructions !== null ? [own[0]!, ...history, ...own.slice(1)] : [...history, ...own];
        }
        const context: ResponseContext = { instructions: req.instructions, previousResponseId: req.previousResponseId, store: req.store, echo: req.echo };
        const run = {
          model: req.model,
          input: req.input as unknown as Record<string, unknown>,
          request,
          path: `${surface.prefix}/responses`,
          idempotencyKey: headers["idempotency-key"],
          dialect: surface.dialect,
          inTransaction: req.store
            ? (tx: Parameters<typeof insertStoredResponse>[0], executionId: string) =>
                insertStoredResponse(tx, {
                  executionId,
                  orgId: caller.orgId,
                  previousResponseId: req.previousResponseId,
                  instructions: req.instructions,
                  historyMessages: history.length,
                  echo: req.echo as Record<string, unknown>,
                  createdAt: ctx.clock.now(),
                })
            : undefined,
        };
        if (req.background) return responseOf(await runInBackground(ctx, caller, run), context);
        server?.timeout(request, 0); // a long generation must not hit the idle timeout
        if (!req.stream) {
          const row = await runCompleted(ctx, caller, run);
          return responseOf(row, context);
        }
        const stream = await runStreaming(ctx, caller, run);
        const writer = new ResponseEventWriter(stream.created ?? Executions.find(ctx, caller, stream.executionId), context);
        return sseResponse(stream, (item) => (item.kind === "event" ? writer.event(item.event) : writer.end(item.row)), writer.opening(), { "x-request-id": requestIdOf(request) }) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a response",
          description:
            "OpenAI's Responses API for any chat model of the catalog, whatever its upstream: `input` as a string or items (messages with text and images, " +
            "function calls and their outputs, reasoning), `instructions`, function `tools`, `tool_choice`, `text.format` (json_object, json_schema), " +
            "`max_output_tokens`, `temperature`, `top_p`. `stream: true` sends the Responses event sequence (`response.created` … `response.completed`); " +
            "`background: true` answers at once with a queued response to poll. Stored (the default) responses are continued with `previous_response_id`; " +
            "`store: false` keeps the response out of this API (its execution is still listed and metered). The response's `id` is the execution's.",
          request: OpenAIModel.responsesRequest, response: ["A response object, or with `stream: true` a text/event-stream of Responses events, each named by its `event:` line.", OpenAIModel.response],
        }),
      },
    )
    .get(
      "/responses/:id",
      ({ params, caller, query, request, server }) => {
        const stream = query.stream === undefined ? false : query.stream === "true" ? true : query.stream === "false" ? false : null;
        if (stream === null) throw invalidField("stream", "invalid_type", "stream is true or false.");
        const startingAfter = query.starting_after === undefined ? -1 : Number(query.starting_after);
        if (!Number.isInteger(startingAfter) || startingAfter < -1) throw invalidField("starting_after", "invalid_type", "starting_after is a sequence number: a whole number, 0 or more.");
        const { row, stored } = Responses.find(ctx, caller, params.id);
        if (!stream) return responseOf(row, contextOf(stored));
        server?.timeout(request, 0); // a background response may still be running
        const writer = new ResponseEventWriter(row, contextOf(stored), startingAfter);
        return sseResponse(replayStream(ctx, row), (item) => (item.kind === "event" ? writer.event(item.event) : writer.end(item.row)), writer.opening(), { "x-request-id": requestIdOf(request) }) as never;
      },
      {
        auth: "inference",
        params: idParam,
        query: t.Object({
          stream: t.Optional(t.String({ description: "`true`: the response as a text/event-stream of Responses events, sent once it has ended (a background one is waited for)." })),
          starting_after: t.Optional(t.String({ description: "With `stream=true`: leave out the events up to this `sequence_number` (resuming a stream)." })),
          include_obfuscation: t.Optional(t.String({ description: "Accepted and ignored: no obfuscation padding is sent." })),
          include: INCLUDE,
        }),
        detail: operationDoc({
          summary: "Retrieve a response",
          description:
            "A stored response: its status (queued, in_progress, completed, incomplete, failed, cancelled), output and usage. 404 for one created with `store: false` or deleted. " +
            "With `stream=true` the same response as the Responses event sequence, replayed from its output once it has ended; `starting_after` resumes after an event.",
          response: ["The response, or with `stream=true` a text/event-stream of Responses events.", OpenAIModel.response],
        }),
      },
    )
    .delete("/responses/:id", ({ params, caller }) => Responses.remove(ctx, caller, params.id), {
      auth: "inference",
      params: idParam,
      detail: operationDoc({
        summary: "Delete a response",
        description:
          "Removes a stored response from this API: it can no longer be retrieved or continued. Its execution stays, as the record of what was charged.",
        response: ["Deleted.", OpenAIModel.responseDeleted],
      }),
    })
    .post(
      "/responses/:id/cancel",
      async ({ params, caller }) => {
        const { stored } = Responses.find(ctx, caller, params.id);
        return responseOf(await Executions.cancel(ctx, caller, params.id), contextOf(stored));
      },
      {
        auth: "inference",
        params: idParam,
        detail: operationDoc({
          summary: "Cancel a response",
          description:
            "Stops a queued or running response (a background one, typically); what the upstream produced until then is charged. 409 when it has already ended.",
          response: ["The cancelled response.", OpenAIModel.response],
        }),
      },
    )
    .get(
      "/responses/:id/input_items",
      ({ params, caller, query }) => {
        const { row, stored } = Responses.find(ctx, caller, params.id);
        const all = inputItems(row, contextOf(stored), stored.historyMessages) as { id: string }[];
        const ordered = query.order === "asc" ? all : [...all].reverse();
        const start = query.after ? ordered.findIndex((item) => item.id === query.after) + 1 : 0;
        const limit = Math.min(Math.max(Number(query.limit ?? 20) || 20, 1), 100);
        const data = ordered.slice(start, start + limit);
        return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
      },
      {
        auth: "inference",
        params: idParam,
        query: t.Object({
          limit: t.Optional(t.String({ description: "1 to 100, default 20." })),
          order: t.Optional(t.String({ pattern: "^(asc|desc)$", description: "desc (default) or asc." })),
          after: t.Optional(t.String({ description: "An item id: the page starts after it." })),
          include: INCLUDE,
        }),
        detail: operationDoc({
          summary: "List a response's input items",
          description:
            "The items this response was given (not those of the responses it continues), newest first unless `order=asc`.",
          response: ["A list of input items.", OpenAIModel.inputItems],
        }),
      },
    );
