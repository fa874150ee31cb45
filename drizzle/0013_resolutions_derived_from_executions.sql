-- Resolutions derived from the execution (docs/decisions.md "Resolutions derived from the execution"):
-- a finished execution that held anything is its own resolution (captured = cost_micros, released =
-- hold_micros - cost_micros), so the stored copies go. A key's spend moves to key_spend, by the UTC
-- day its executions were created. Executions take their figures from their entry first, so
-- nothing an entry said is lost; an entry whose execution is gone stays stored.
CREATE TABLE `key_spend` (
	`key_id` text NOT NULL,
	`day` integer NOT NULL,
	`captured_micros` integer NOT NULL,
	PRIMARY KEY(`key_id`, `day`)
);
--> statement-breakpoint
INSERT INTO `key_spend` (`key_id`, `day`, `captured_micros`)
SELECT l.`key_id`, coalesce(e.`created_at`, l.`created_at`) / 86400000, sum(l.`captured_micros`)
FROM `ledger_entries` l LEFT JOIN `executions` e ON e.`id` = l.`execution_id`
WHERE l.`kind` = 'resolve' AND l.`key_id` IS NOT NULL AND l.`captured_micros` > 0
GROUP BY 1, 2;
--> statement-breakpoint
UPDATE `executions` SET `cost_micros` = l.`captured_micros`, `hold_micros` = l.`captured_micros` + l.`released_micros`
FROM `ledger_entries` l
WHERE l.`execution_id` = `executions`.`id` AND l.`kind` = 'resolve'
  AND (`executions`.`cost_micros` IS NOT l.`captured_micros` OR `executions`.`hold_micros` != l.`captured_micros` + l.`released_micros`);
--> statement-breakpoint
DELETE FROM `ledger_entries` WHERE `kind` = 'resolve' AND `execution_id` IN (SELECT `id` FROM `executions`);
--> statement-breakpoint
DROP INDEX `ledger_key_resolutions`;
