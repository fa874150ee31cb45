CREATE TABLE `batch_lines` (
	`batch_id` text NOT NULL,
	`line` integer NOT NULL,
	`custom_id` text NOT NULL,
	`model` text NOT NULL,
	`input` text NOT NULL,
	`execution_id` text,
	`outcome` text,
	`status_code` integer,
	`result` text,
	PRIMARY KEY(`batch_id`, `line`)
);
--> statement-breakpoint
CREATE INDEX `batch_lines_open` ON `batch_lines` (`batch_id`,`outcome`);--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`org_id` text NOT NULL,
	`caller` text NOT NULL,
	`dialect` text NOT NULL,
	`endpoint` text NOT NULL,
	`input_file_id` text,
	`completion_window` text NOT NULL,
	`status` text NOT NULL,
	`errors` text,
	`metadata` text,
	`output_file_id` text,
	`error_file_id` text,
	`discount_percent` integer NOT NULL,
	`total` integer DEFAULT 0 NOT NULL,
	`succeeded` integer DEFAULT 0 NOT NULL,
	`errored` integer DEFAULT 0 NOT NULL,
	`canceled` integer DEFAULT 0 NOT NULL,
	`expired` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`in_progress_at` integer,
	`finalizing_at` integer,
	`completed_at` integer,
	`failed_at` integer,
	`expired_at` integer,
	`cancelling_at` integer,
	`cancelled_at` integer,
	`deleted_at` integer,
	FOREIGN KEY (`org_id`) REFERENCES `orgs`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `batches_org` ON `batches` (`org_id`,`id`);--> statement-breakpoint
ALTER TABLE `executions` ADD `discount_percent` integer;--> statement-breakpoint
ALTER TABLE `files` ADD `purpose` text;