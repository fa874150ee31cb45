DROP INDEX `vector_items_scope`;--> statement-breakpoint
CREATE INDEX `vector_items_scope` ON `vector_items` (`org_id`,`model`,`scope`,`row_id`,`metadata`);