CREATE TABLE `agents` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `agents_id_unique` ON `agents` (`id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_pk` integer NOT NULL,
	`agent_pk` integer NOT NULL,
	`seq` integer NOT NULL,
	`role` text NOT NULL,
	`content` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`session_pk`) REFERENCES `sessions`(`pk`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`agent_pk`) REFERENCES `agents`(`pk`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "messages_role_check" CHECK("messages"."role" IN ('user', 'assistant')),
	CONSTRAINT "messages_seq_check" CHECK("messages"."seq" >= 1)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `messages_conversation_seq_unique` ON `messages` (`session_pk`,`agent_pk`,`seq`);--> statement-breakpoint
CREATE INDEX `messages_session_idx` ON `messages` (`session_pk`);--> statement-breakpoint
CREATE INDEX `messages_created_at_idx` ON `messages` (`created_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_pk` integer NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL,
	`last_activity_at` integer NOT NULL,
	FOREIGN KEY (`user_pk`) REFERENCES `users`(`pk`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sessions_user_id_unique` ON `sessions` (`user_pk`,`id`);--> statement-breakpoint
CREATE INDEX `sessions_user_activity_idx` ON `sessions` (`user_pk`,`last_activity_at`,`id`);--> statement-breakpoint
CREATE TABLE `users` (
	`pk` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_id_unique` ON `users` (`id`);