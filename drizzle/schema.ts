/**
 * convostore's relational model for SQLite and libSQL/Turso. Text ids from callers live in one
 * column each and are joined by integer keys, so no separator can make two ids collide.
 * `npx drizzle-kit generate` turns changes here into the checked-in SQL under `migrations/`.
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('users', {
  pk: integer('pk').primaryKey({ autoIncrement: true }),
  id: text('id').notNull().unique('users_id_unique'),
  createdAt: integer('created_at').notNull(),
});

export const agents = sqliteTable('agents', {
  pk: integer('pk').primaryKey({ autoIncrement: true }),
  id: text('id').notNull().unique('agents_id_unique'),
  createdAt: integer('created_at').notNull(),
});

export const sessions = sqliteTable(
  'sessions',
  {
    pk: integer('pk').primaryKey({ autoIncrement: true }),
    userPk: integer('user_pk')
      .notNull()
      .references(() => users.pk, { onDelete: 'cascade' }),
    /** Scoped per user: two users may both have a session "s1". */
    id: text('id').notNull(),
    createdAt: integer('created_at').notNull(),
    lastActivityAt: integer('last_activity_at').notNull(),
  },
  (t) => [
    uniqueIndex('sessions_user_id_unique').on(t.userPk, t.id),
    // listSessions: a user's sessions, most recent first (scanned backwards), without touching
    // other users' rows.
    index('sessions_user_activity_idx').on(t.userPk, t.lastActivityAt, t.id),
  ],
);

export const messages = sqliteTable(
  'messages',
  {
    /** AUTOINCREMENT: never reused, so it is the store-wide write order across agents of a session. */
    pk: integer('pk').primaryKey({ autoIncrement: true }),
    sessionPk: integer('session_pk')
      .notNull()
      .references(() => sessions.pk, { onDelete: 'cascade' }),
    agentPk: integer('agent_pk')
      .notNull()
      .references(() => agents.pk, { onDelete: 'cascade' }),
    /** Position in the conversation (session, agent), from 1, in write order. */
    seq: integer('seq').notNull(),
    role: text('role', { enum: ['user', 'assistant'] }).notNull(),
    /** The content blocks as JSON text. */
    content: text('content').notNull(),
    /** Epoch milliseconds from the store's clock (or the caller's timestamp). */
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    // Windows and pages of one conversation, newest or oldest first; also serves the FK cascade.
    uniqueIndex('messages_conversation_seq_unique').on(t.sessionPk, t.agentPk, t.seq),
    // A session across agents in write order (the index carries pk, so no sort is needed).
    index('messages_session_idx').on(t.sessionPk),
    // TTL retention.
    index('messages_created_at_idx').on(t.createdAt),
    check('messages_role_check', sql`${t.role} IN ('user', 'assistant')`),
    check('messages_seq_check', sql`${t.seq} >= 1`),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
export type AgentRow = typeof agents.$inferSelect;
export type NewAgentRow = typeof agents.$inferInsert;
export type SessionRow = typeof sessions.$inferSelect;
export type NewSessionRow = typeof sessions.$inferInsert;
export type MessageRow = typeof messages.$inferSelect;
export type NewMessageRow = typeof messages.$inferInsert;
