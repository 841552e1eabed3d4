-- Conversation model v2: message ids and metadata, session titles and metadata, system and tool
-- roles, and table names of convostore's own. Written by hand from what drizzle-kit generated:
-- drizzle-kit rebuilds every table whose columns change, and rebuilding a parent table
-- (DROP TABLE sessions) cascades into its messages whenever foreign keys are on, which PRAGMA
-- foreign_keys cannot prevent inside the migration's transaction (or a remote batch). So parents
-- are renamed and widened with ADD COLUMN, and only the child table `messages` is rebuilt (for its
-- role CHECK). Renaming a parent rewrites its children's foreign keys (SQLite >= 3.26).
ALTER TABLE `users` RENAME TO `convostore_users`;--> statement-breakpoint
DROP INDEX `users_id_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_users_id_unique` ON `convostore_users` (`id`);--> statement-breakpoint
ALTER TABLE `agents` RENAME TO `convostore_agents`;--> statement-breakpoint
DROP INDEX `agents_id_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_agents_id_unique` ON `convostore_agents` (`id`);--> statement-breakpoint
ALTER TABLE `sessions` RENAME TO `convostore_sessions`;--> statement-breakpoint
ALTER TABLE `convostore_sessions` ADD `title` text;--> statement-breakpoint
ALTER TABLE `convostore_sessions` ADD `metadata` text;--> statement-breakpoint
DROP INDEX `sessions_user_id_unique`;--> statement-breakpoint
DROP INDEX `sessions_user_activity_idx`;--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_sessions_user_id_unique` ON `convostore_sessions` (`user_pk`,`id`);--> statement-breakpoint
CREATE INDEX `convostore_sessions_user_activity_idx` ON `convostore_sessions` (`user_pk`,`last_activity_at`,`id`);--> statement-breakpoint
CREATE TABLE `convostore_messages` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_pk` integer NOT NULL,
	`agent_pk` integer NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`metadata` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_pk`) REFERENCES `convostore_sessions`(`pk`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`agent_pk`) REFERENCES `convostore_agents`(`pk`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "convostore_messages_role_check" CHECK("convostore_messages"."role" IN ('user', 'assistant', 'system', 'tool')),
	CONSTRAINT "convostore_messages_seq_check" CHECK("convostore_messages"."seq" >= 1)
);
--> statement-breakpoint
-- Existing messages keep pk (the write order), seq, content and time, and get ids in write order:
-- UUIDv7-shaped with a zero timestamp, so they sort before every id made from now on.
INSERT INTO `convostore_messages` (`pk`, `session_pk`, `agent_pk`, `seq`, `id`, `role`, `content`, `metadata`, `created_at`)
SELECT `pk`, `session_pk`, `agent_pk`, `seq`, printf('00000000-0000-7000-8000-%012x', `pk`), `role`, `content`, NULL, `created_at`
FROM `messages` ORDER BY `pk`;--> statement-breakpoint
-- AUTOINCREMENT's high-water mark moves with the rows, so a pk is never reused.
UPDATE `sqlite_sequence` SET `seq` = (SELECT `seq` FROM `sqlite_sequence` WHERE `name` = 'messages') WHERE `name` = 'convostore_messages'
  AND (SELECT `seq` FROM `sqlite_sequence` WHERE `name` = 'messages') > `seq`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_messages_conversation_seq_unique` ON `convostore_messages` (`session_pk`,`agent_pk`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_messages_session_id_unique` ON `convostore_messages` (`session_pk`,`id`);--> statement-breakpoint
CREATE INDEX `convostore_messages_session_idx` ON `convostore_messages` (`session_pk`);--> statement-breakpoint
CREATE INDEX `convostore_messages_created_at_idx` ON `convostore_messages` (`created_at`);--> statement-breakpoint
CREATE TABLE `convostore_refusals` (
	`conflict` integer,
	`not_found` integer,
	`consecutive_role` integer,
	`too_large` integer,
	CONSTRAINT "convostore_refused_conflict" CHECK("convostore_refusals"."conflict" IS NULL),
	CONSTRAINT "convostore_refused_not_found" CHECK("convostore_refusals"."not_found" IS NULL),
	CONSTRAINT "convostore_refused_consecutive_role" CHECK("convostore_refusals"."consecutive_role" IS NULL),
	CONSTRAINT "convostore_refused_too_large" CHECK("convostore_refusals"."too_large" IS NULL)
);
