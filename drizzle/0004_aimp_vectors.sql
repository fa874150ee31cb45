CREATE TABLE `aimp_runs` (
	`execution_id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`mode` text NOT NULL,
	`scope` text,
	`item_id` text,
	`request` text,
	`result` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `aimp_runs_org` ON `aimp_runs` (`org_id`,`execution_id`);--> statement-breakpoint
CREATE TABLE `vector_items` (
	`row_id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`org_id` text NOT NULL,
	`model` text NOT NULL,
	`scope` text NOT NULL,
	`item_id` text NOT NULL,
	`vector` blob NOT NULL,
	`metadata` text NOT NULL,
	`input_ref` text NOT NULL,
	`run_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `vector_items_key` ON `vector_items` (`org_id`,`model`,`scope`,`item_id`);--> statement-breakpoint
CREATE INDEX `vector_items_scope` ON `vector_items` (`org_id`,`model`,`scope`,`row_id`);--> statement-breakpoint
CREATE TABLE `vector_scopes` (
	`org_id` text NOT NULL,
	`model` text NOT NULL,
	`scope` text NOT NULL,
	`dimensions` integer NOT NULL,
	`item_count` integer NOT NULL,
	`version` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`org_id`, `model`, `scope`),
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
