CREATE TABLE `rate_windows` (
	`key_id` text NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL,
	PRIMARY KEY(`key_id`, `window_start`)
);
