-- An execution's status history is derived from its own row (created, started, awaiting and
-- completed times) instead of one execution_events row per transition: docs/decisions.md
-- "Status history derived from the execution row". The time an asynchronous upstream took an
-- execution is kept from the old rows before they go.
ALTER TABLE `executions` ADD `awaiting_at` integer;--> statement-breakpoint
UPDATE `executions` SET `awaiting_at` = (SELECT max(`at`) FROM `execution_events` e WHERE e.`execution_id` = `executions`.`id` AND e.`status` = 'AWAITING_WEBHOOK') WHERE `provider_job` IS NOT NULL;--> statement-breakpoint
DROP TABLE `execution_events`;
