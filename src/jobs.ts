/** Registers every module's job handlers on the scheduler, with their concurrency and timing. */
import type { AppContext } from "./context";
import * as Events from "./modules/events/service";
import { hasSubscriber } from "./modules/webhooks/service";
import { FILE_JOB_OPTIONS, purgeFiles, sweepFileUploads } from "./modules/files/jobs";
import { cancelUpstream, pollExecution } from "./modules/executions/async";
import { onPurge, purgeExecutions, runExecution, sweepExecutions } from "./modules/executions/jobs";
import { purgeRuns } from "./modules/aimp/store";
import { purgeStoredResponses } from "./modules/responses/store";
import { expireBatchJob, finalizeBatchJob, runBatchLine, validateBatchJob } from "./modules/batches/jobs";
import { deliverWebhook, dispatchEvents, purgeWebhookHistory } from "./modules/webhooks/jobs";

const MINUTE = 60_000;

export function registerJobs(ctx: AppContext) {
  // The outbox keeps an event only when someone receives it: webhooks decide who does.
  Events.setAudience(hasSubscriber);
  // Retention drops what other modules keep of an execution's content, in the same transaction.
  onPurge(purgeRuns);
  onPurge(purgeStoredResponses);
  const s = ctx.scheduler;
  // The lease outlives the longest provider timeout, so a live run is never claimed twice.
  s.register("execution.run", runExecution, { concurrency: ctx.config.workerConcurrency, leaseMs: 15 * MINUTE });
  // Asynchronous upstreams: polls for callbacks that never come, and cancels forwarded to them.
  s.register("execution.poll", pollExecution, { concurrency: 8, leaseMs: 2 * MINUTE });
  s.register("execution.cancel-upstream", cancelUpstream, { concurrency: 4, leaseMs: 2 * MINUTE });
  s.register("execution.sweep", sweepExecutions, { concurrency: 1, leaseMs: MINUTE, everyMs: 5_000 });
  s.register("execution.purge", purgeExecutions, { concurrency: 1, leaseMs: 5 * MINUTE, everyMs: 60 * MINUTE });
  s.register("files.purge", purgeFiles, FILE_JOB_OPTIONS["files.purge"]);
  s.register("files.sweep-uploads", sweepFileUploads, FILE_JOB_OPTIONS["files.sweep-uploads"]);
  // Woken after every committed event; the period is only a fallback (e.g. events written by the CLI).
  s.register("events.dispatch", dispatchEvents, { concurrency: 1, leaseMs: MINUTE, everyMs: 1_000 });
  // I/O-bound: many attempts in flight; the lease outlives DNS + the attempt's own timeout.
  s.register("webhook.deliver", deliverWebhook, { concurrency: ctx.config.webhookConcurrency, leaseMs: 2 * ctx.config.webhookTimeoutMs + MINUTE });
  // Batch lines: a kind of their own with its own cap, so a large batch never takes the workers
  // interactive calls need (docs/batches.md). A line job waits for its execution, hence the lease.
  // Batch lines give way to interactive calls: two at a time while they keep arriving.
  s.register("batch.line", runBatchLine, { concurrency: ctx.config.batchConcurrency, leaseMs: 30 * MINUTE, yieldsToInteractive: { concurrency: 2, quietMs: 1000 } });
  s.register("batch.validate", validateBatchJob, { concurrency: 2, leaseMs: 30 * MINUTE });
  s.register("batch.finalize", finalizeBatchJob, { concurrency: 2, leaseMs: 30 * MINUTE });
  s.register("batch.expire", expireBatchJob, { concurrency: 2, leaseMs: 10 * MINUTE });
  s.register("webhooks.purge", purgeWebhookHistory, { concurrency: 1, leaseMs: 10 * MINUTE, everyMs: 60 * MINUTE });
}
