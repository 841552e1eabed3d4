/**
 * convostore's relational model for SQLite and libSQL/Turso. Text ids from callers live in one
 * column each and are joined by integer keys, so no separator can make two ids collide.
 * Every table is named `convostore_…`, so an application's own `users` or `sessions` tables can
 * live in the same database (see docs/turso.md, "One database, two schemas").
 * `npx drizzle-kit generate` turns changes here into the checked-in SQL under `migrations/`.
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const users = sqliteTable('convostore_users', {
  pk: integer('pk').primaryKey({ autoIncrement: true }),
  id: text('id').notNull().unique('convostore_users_id_unique'),
  createdAt: integer('created_at').notNull(),
});

export const agents = sqliteTable('convostore_agents', {
  pk: integer('pk').primaryKey({ autoIncrement: true }),
  id: text('id').notNull().unique('convostore_agents_id_unique'),
  createdAt: integer('created_at').notNull(),
});

export const sessions = sqliteTable(
  'convostore_sessions',
  {
    pk: integer('pk').primaryKey({ autoIncrement: true }),
    userPk: integer('user_pk')
      .notNull()
      .references(() => users.pk, { onDelete: 'cascade' }),
    /** Scoped per user: two users may both have a session "s1". */
    id: text('id').notNull(),
    createdAt: integer('created_at').notNull(),
    lastActivityAt: integer('last_activity_at').notNull(),
    /** Optional, for a sidebar; a titled session outlives its last message. */
    title: text('title'),
    /** A JSON object as text, merged key by key by updateSession. */
    metadata: text('metadata'),
  },
  (t) => [
    uniqueIndex('convostore_sessions_user_id_unique').on(t.userPk, t.id),
    // listSessions: a user's sessions, most recent first (scanned backwards), without touching
    // other users' rows.
    index('convostore_sessions_user_activity_idx').on(t.userPk, t.lastActivityAt, t.id),
  ],
);

export const messages = sqliteTable(
  'convostore_messages',
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
    /** The message id, unique within its session (given by the caller or a UUIDv7 made by the store). */
    id: text('id').notNull(),
    role: text('role', { enum: ['user', 'assistant', 'system', 'tool'] }).notNull(),
    /** The content blocks as JSON text. */
    content: text('content').notNull(),
    /** A JSON object as text, or NULL when the message has none. */
    metadata: text('metadata'),
    /** Epoch milliseconds from the store's clock (or the caller's timestamp). */
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    // Windows and pages of one conversation, newest or oldest first; also serves the FK cascade.
    uniqueIndex('convostore_messages_conversation_seq_unique').on(t.sessionPk, t.agentPk, t.seq),
    // Ids are unique per session; a message by id is one lookup. Leading with session_pk, it also
    // serves the session's FK cascade.
    uniqueIndex('convostore_messages_session_id_unique').on(t.sessionPk, t.id),
    // A session across agents in write order (the index carries pk, so no sort is needed).
    index('convostore_messages_session_idx').on(t.sessionPk),
    // TTL retention.
    index('convostore_messages_created_at_idx').on(t.createdAt),
    check('convostore_messages_role_check', sql`${t.role} IN ('user', 'assistant', 'system', 'tool')`),
    check('convostore_messages_seq_check', sql`${t.seq} >= 1`),
  ],
);

/**
 * Always empty. SQLite has no RAISE outside triggers, so a statement inside a batch refuses the
 * whole transaction by inserting a row here: the CHECK it violates names the reason
 * (`CHECK constraint failed: convostore_refused_conflict`), which the backend turns into the
 * contract's error. One batch stays one round trip to a remote database.
 */
export const refusals = sqliteTable(
  'convostore_refusals',
  {
    conflict: integer('conflict'),
    notFound: integer('not_found'),
    consecutiveRole: integer('consecutive_role'),
    tooLarge: integer('too_large'),
  },
  (t) => [
    check('convostore_refused_conflict', sql`${t.conflict} IS NULL`),
    check('convostore_refused_not_found', sql`${t.notFound} IS NULL`),
    check('convostore_refused_consecutive_role', sql`${t.consecutiveRole} IS NULL`),
    check('convostore_refused_too_large', sql`${t.tooLarge} IS NULL`),
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
