ALTER TABLE `executions` ADD `callback_token` text;--> statement-breakpoint
CREATE UNIQUE INDEX `executions_callback_token` ON `executions` (`callback_token`);--> statement-breakpoint
ALTER TABLE `models` ADD `task_schema` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `models` ADD `context_window` integer;--> statement-breakpoint
ALTER TABLE `providers` ADD `key_refs` text DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE `routes` ADD `first_token_ms` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `idle_ms` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `retries` integer;--> statement-breakpoint
ALTER TABLE `routes` ADD `max_queue` integer;