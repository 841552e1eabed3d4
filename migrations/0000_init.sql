-- convostore 0.1's tables were named users, agents, sessions and messages. Such a database is
-- upgraded by renaming them (src/sql/migrations.ts, adoptLegacyJournal, which `npx drizzle-kit
-- migrate` with convostore's drizzle.config.ts, `npx convostore migrate` and the store's
-- migrate-on-open run first). Creating empty tables beside them would hide their conversations, so
-- this migration refuses such a database with a CHECK failure that names the way out.
CREATE TABLE `convostore_upgrade_guard` (
	`legacy_tables` integer,
	CONSTRAINT "convostore_0_1_tables_found_run_npx_convostore_migrate" CHECK("legacy_tables" IS NULL)
);
--> statement-breakpoint
INSERT INTO `convostore_upgrade_guard` (`legacy_tables`)
SELECT 1 FROM `sqlite_master` WHERE `type` = 'table' AND `name` = 'messages' AND `sql` LIKE '%"messages_role_check"%'
  AND `sql` LIKE '%`session_pk`%' AND `sql` LIKE '%`agent_pk`%';--> statement-breakpoint
DROP TABLE `convostore_upgrade_guard`;--> statement-breakpoint
CREATE TABLE `convostore_agents` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_agents_id_unique` ON `convostore_agents` (`id`);--> statement-breakpoint
CREATE TABLE `convostore_messages` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_pk` integer NOT NULL,
	`agent_pk` integer NOT NULL,
	`seq` integer NOT NULL,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_pk`) REFERENCES `convostore_sessions`(`pk`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`agent_pk`) REFERENCES `convostore_agents`(`pk`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "convostore_messages_role_check" CHECK("convostore_messages"."role" IN ('user', 'assistant')),
	CONSTRAINT "convostore_messages_seq_check" CHECK("convostore_messages"."seq" >= 1)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_messages_conversation_seq_unique` ON `convostore_messages` (`session_pk`,`agent_pk`,`seq`);--> statement-breakpoint
CREATE INDEX `convostore_messages_session_idx` ON `convostore_messages` (`session_pk`);--> statement-breakpoint
CREATE INDEX `convostore_messages_created_at_idx` ON `convostore_messages` (`created_at`);--> statement-breakpoint
CREATE TABLE `convostore_sessions` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_pk` integer NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_activity_at` integer NOT NULL,
	FOREIGN KEY (`user_pk`) REFERENCES `convostore_users`(`pk`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_sessions_user_id_unique` ON `convostore_sessions` (`user_pk`,`id`);--> statement-breakpoint
CREATE INDEX `convostore_sessions_user_activity_idx` ON `convostore_sessions` (`user_pk`,`last_activity_at`,`id`);--> statement-breakpoint
CREATE TABLE `convostore_users` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `convostore_users_id_unique` ON `convostore_users` (`id`);