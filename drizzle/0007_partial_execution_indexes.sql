DROP INDEX `executions_status`;--> statement-breakpoint
DROP INDEX `executions_completed`;--> statement-breakpoint
DROP INDEX `executions_callback_token`;--> statement-breakpoint
CREATE INDEX `executions_open` ON `executions` (`status`) WHERE status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK');--> statement-breakpoint
CREATE INDEX `executions_to_purge` ON `executions` (`completed_at`) WHERE completed_at IS NOT NULL AND purged_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `executions_callback_token` ON `executions` (`callback_token`) WHERE callback_token IS NOT NULL;