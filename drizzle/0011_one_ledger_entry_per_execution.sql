-- One ledger entry per execution (docs/decisions.md "One ledger entry per execution"): a hold is
-- the execution's hold_micros until its resolution, whose amount becomes minus what it captured.
-- Sums are kept: available = sum(amounts) - held, total = credits - captures +- adjustments.
-- A resolution written from now on has its execution's id; older ones keep theirs (the time they
-- were settled, a few seconds after their execution was created, for a key's spend windows).
UPDATE `ledger_entries` SET `amount_micros` = -`captured_micros` WHERE `kind` = 'resolve';--> statement-breakpoint
DELETE FROM `ledger_entries` WHERE `kind` = 'hold';--> statement-breakpoint
DROP INDEX `ledger_key_holds`;--> statement-breakpoint
DROP INDEX `ledger_hold_resolved_once`;--> statement-breakpoint
CREATE INDEX `ledger_key_resolutions` ON `ledger_entries` (`key_id`,`id`) WHERE kind = 'resolve';
