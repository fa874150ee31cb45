-- Model aliases with fallbacks (docs/catalog.md "Aliases"), the response cache (docs/cache.md),
-- and what an execution records of both: its candidate models, the one that served, its cache part.
CREATE TABLE `model_aliases` (
	`name` text PRIMARY KEY NOT NULL,
	`models` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `response_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`model` text NOT NULL,
	`execution_id` text NOT NULL,
	`output` text NOT NULL,
	`usage` text NOT NULL,
	`cost_micros` integer NOT NULL,
	`served_model` text NOT NULL,
	`route_id` text,
	`vector_scope` text,
	`vector_model` text,
	`size_bytes` integer NOT NULL,
	`hits` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_used_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `response_cache_lru` ON `response_cache` (`last_used_at`);--> statement-breakpoint
CREATE INDEX `response_cache_expires` ON `response_cache` (`expires_at`);--> statement-breakpoint
CREATE INDEX `response_cache_org` ON `response_cache` (`org_id`);--> statement-breakpoint
ALTER TABLE `executions` ADD `candidates` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `served_model` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `cache_status` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `cache_key` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `cache_source` text;--> statement-breakpoint
ALTER TABLE `executions` ADD `cache_saved_micros` integer;--> statement-breakpoint
ALTER TABLE `models` ADD `cache` text;