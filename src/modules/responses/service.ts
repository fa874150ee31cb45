/**
 * Stored responses (OpenAI's Responses API): what `GET /v1/responses/{id}` shows and what
 * `previous_response_id` continues. The conversation lives in the execution (its input and
 * output); the stored row adds what the Responses object echoes. A response created with
 * `store: false` has no row: it can be neither retrieved nor continued, though its execution is
 * listed and metered like any other.
 */
import type { ChatInput, ChatMessage, ChatOutput } from "../../canonical/chat";
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import * as Executions from "../executions/service";
import { isTerminal, type ExecutionRow } from "../executions/store";
import type { Caller } from "../keys/service";
import { deleteStoredResponse, storedResponse, type StoredResponseRow } from "./store";

export type StoredResponse = { row: ExecutionRow; stored: StoredResponseRow };

const notFound = (id: string) => new AppError("NOT_FOUND", `No response with id ${id}.`);

/** The organization's stored response and its execution; 404 for one never stored, deleted or another org's. */
export function find(ctx: AppContext, caller: Caller, id: string): StoredResponse {
  const stored = storedResponse(ctx.db, caller.orgId, id);
  if (!stored) throw notFound(id);
  return { row: Executions.find(ctx, caller, id), stored };
}

/**
 * The messages a continuation starts from: the previous response's conversation (without its
 * instructions, which do not carry over) and its answer. 400 naming `previous_response_id` when
 * there is nothing to continue.
 */
export function conversationBefore(ctx: AppContext, caller: Caller, previousId: string): ChatMessage[] {
  const refuse = (message: string) => invalidField("previous_response_id", "invalid_value", message);
  const stored = storedResponse(ctx.db, caller.orgId, previousId);
  if (!stored) throw refuse(`Previous response with id '${previousId}' not found.`);
  const row = Executions.find(ctx, caller, previousId);
  if (!isTerminal(row.status)) throw refuse(`Previous response with id '${previousId}' is still in progress; wait for it to finish.`);
  if (row.status !== "COMPLETED") throw refuse(`Previous response with id '${previousId}' did not complete (${row.status.toLowerCase()}); it cannot be continued.`);
  if (row.purgedAt !== null || !row.input || !row.output) throw refuse(`Previous response with id '${previousId}' has passed its retention period; its content is gone.`);
  const input = row.input as unknown as ChatInput;
  const output = row.output as unknown as ChatOutput;
  const history = stored.instructions !== null ? input.messages.slice(1) : input.messages;
  return [...history, { role: "assistant", content: output.message.content }];
}

/** Deletes a stored response (its execution stays, as the record of what was charged). */
export function remove(ctx: AppContext, caller: Caller, id: string) {
  if (!deleteStoredResponse(ctx.db, caller.orgId, id, ctx.clock.now())) throw notFound(id);
  return { id, object: "response" as const, deleted: true as const };
}
