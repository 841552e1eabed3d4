/**
 * Every SQL statement convostore runs, written once for SQLite and libSQL and compiled once.
 *
 * Callers' ids only ever arrive as bound parameters. A conversation is found through the unique
 * indexes on (users.id), (sessions.user_pk, sessions.id) and (agents.id); the scalar subqueries below
 * are uncorrelated, so SQLite evaluates each once per statement.
 */
import { sql, type SQL } from 'drizzle-orm';
import { compile, type CompiledQuery } from './driver.js';
import { agents, messages, sessions, users } from '../../drizzle/schema.js';

const p = (name: string) => sql.placeholder(name);

/** Rows per multi-row INSERT: 4 parameters each keeps a statement far below SQLite's variable limit. */
export const INSERT_CHUNK = 100;

/** No bound at all, for the optional `created_at >= cutoff` and seq bounds. */
export const NO_CUTOFF = -Number.MAX_SAFE_INTEGER;
export const NO_SEQ_BOUND = Number.MAX_SAFE_INTEGER;
/** Sorts after every real (lastActivityAt, sessionId) pair. */
export const FIRST_SESSION_PAGE = { lastActivityAt: Number.MAX_SAFE_INTEGER, sessionId: '' };

const userPk = sql`(SELECT pk FROM ${users} WHERE id = ${p('userId')})`;
const sessionPk = sql`(SELECT pk FROM ${sessions} WHERE user_pk = ${userPk} AND id = ${p('sessionId')})`;
const agentPk = sql`(SELECT pk FROM ${agents} WHERE id = ${p('agentId')})`;
const inConversation = sql`session_pk = ${sessionPk} AND agent_pk = ${agentPk}`;

export const upsertUser = compile(
  sql`INSERT INTO ${users} (id, created_at) VALUES (${p('userId')}, ${p('now')}) ON CONFLICT (id) DO NOTHING`,
);

export const upsertAgent = compile(
  sql`INSERT INTO ${agents} (id, created_at) VALUES (${p('agentId')}, ${p('now')}) ON CONFLICT (id) DO NOTHING`,
);

/** Last activity never moves backwards, even if the clock does. */
export const upsertSession = compile(sql`
  INSERT INTO ${sessions} (user_pk, id, created_at, last_activity_at)
  SELECT pk, ${p('sessionId')}, ${p('now')}, ${p('now')} FROM ${users} WHERE id = ${p('userId')}
  ON CONFLICT (user_pk, id) DO UPDATE SET last_activity_at = max(last_activity_at, excluded.last_activity_at)`);

export type FirstMessageRule = 'keep' | 'skip' | 'throw';

/**
 * Appends `count` messages after the conversation's last seq in one statement, so reading the last
 * seq and role and writing after them cannot be split by another writer. The rule for the first
 * message against the last live one (an expired message is invisible, so it cannot make a new one a
 * repeat):
 * - keep: append all;
 * - skip: leave out the first when its role repeats the stored last role, renumbering the rest;
 * - throw: make its seq NULL when the role repeats, so NOT NULL aborts the whole batch, which the
 *   backend reports as ConsecutiveRoleError. SQLite has no RAISE outside triggers; this is the one
 *   place a statement can refuse itself atomically inside a batch.
 * ORDER BY makes pk (the session's write order) follow seq.
 */
export function insertMessages(count: number, rule: FirstMessageRule): CompiledQuery {
  const key = `${rule}:${count}`;
  let query = insertCache.get(key);
  if (!query) {
    const rows = sql.join(
      Array.from({ length: count }, (_, i) => sql`(${i + 1}, ${p(`role${i}`)}, ${p(`content${i}`)}, ${p(`ts${i}`)})`),
      sql`, `,
    );
    const repeats = sql`c.last_role IS ${p('firstRole')}`;
    const seq =
      rule === 'keep'
        ? sql`c.last_seq + v.column1`
        : rule === 'skip'
          ? sql`c.last_seq + v.column1 - (${repeats})`
          : sql`CASE WHEN ${repeats} THEN NULL ELSE c.last_seq + v.column1 END`;
    const where = rule === 'skip' ? sql`WHERE NOT (v.column1 = 1 AND ${repeats})` : sql``;
    query = compile(sql`
      INSERT INTO ${messages} (session_pk, agent_pk, seq, role, content, created_at)
      SELECT c.session_pk, c.agent_pk, ${seq}, v.column2, v.column3, v.column4
      FROM (
        SELECT s.pk AS session_pk, a.pk AS agent_pk,
          coalesce((SELECT max(seq) FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk), 0) AS last_seq,
          (SELECT role FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk AND +m.created_at >= ${p('cutoff')}
            ORDER BY seq DESC LIMIT 1) AS last_role
        FROM ${sessions} s, ${agents} a
        WHERE s.user_pk = ${userPk} AND s.id = ${p('sessionId')} AND a.id = ${p('agentId')}
      ) AS c, (VALUES ${rows}) AS v
      ${where}
      ORDER BY v.column1`);
    insertCache.set(key, query);
  }
  return query;
}
const insertCache = new Map<string, CompiledQuery>();

/**
 * Retention on write: keep the newest `keepLast`; the unique index makes this a range delete. The
 * bound is the seq of the first message beyond the limit, not `max(seq) - keepLast`: TTL pruning
 * leaves gaps in seq when timestamps are not monotonic, and arithmetic would then delete too many.
 */
export const trimConversation = compile(sql`
  DELETE FROM ${messages} WHERE ${inConversation}
  AND seq <= (SELECT seq FROM ${messages} WHERE ${inConversation} ORDER BY seq DESC LIMIT 1 OFFSET ${p('keepLast')})`);

const messageColumns = sql`seq, role, content, created_at`;

// `+created_at` keeps the TTL filter off messages_created_at_idx: the planner must never trade the
// conversation's index range for a scan of every message newer than the cutoff.
export const readNewest = compile(sql`
  SELECT ${messageColumns} FROM ${messages} INDEXED BY messages_conversation_seq_unique
  WHERE ${inConversation} AND seq < ${p('bound')} AND +created_at >= ${p('cutoff')}
  ORDER BY seq DESC LIMIT ${p('limit')}`);

export const readOldest = compile(sql`
  SELECT ${messageColumns} FROM ${messages} INDEXED BY messages_conversation_seq_unique
  WHERE ${inConversation} AND seq > ${p('bound')} AND +created_at >= ${p('cutoff')}
  ORDER BY seq ASC LIMIT ${p('limit')}`);

/**
 * messages_session_idx holds (session_pk, pk), so write order needs no sort. INDEXED BY pins the
 * plan: with skewed statistics (one big session) SQLite would otherwise scan the whole table.
 */
export const readSession = compile(sql`
  SELECT a.id AS agent_id, m.seq, m.role, m.content, m.created_at
  FROM ${messages} m INDEXED BY messages_session_idx JOIN ${agents} a ON a.pk = m.agent_pk
  WHERE m.session_pk = ${sessionPk} AND +m.created_at >= ${p('cutoff')}
  ORDER BY m.pk`);

/**
 * One page of a user's sessions, newest activity first, with per-agent counts of live messages.
 * The page is cut first (from sessions_user_activity_idx, walked backwards) and only its sessions'
 * messages are counted.
 */
export const listSessions = compile(sql`
  WITH page AS (
    SELECT pk, id, created_at, last_activity_at FROM ${sessions}
    WHERE user_pk = ${userPk} AND (last_activity_at, id) < (${p('afterTime')}, ${p('afterId')})
    ORDER BY last_activity_at DESC, id DESC LIMIT ${p('limit')}
  )
  SELECT page.id AS session_id, page.created_at, page.last_activity_at,
    a.id AS agent_id, count(m.pk) AS message_count, max(m.created_at) AS last_message_at
  FROM page
  LEFT JOIN ${messages} m INDEXED BY messages_session_idx ON m.session_pk = page.pk AND +m.created_at >= ${p('cutoff')}
  LEFT JOIN ${agents} a ON a.pk = m.agent_pk
  GROUP BY page.pk, m.agent_pk
  ORDER BY page.last_activity_at DESC, page.id DESC, a.id`);

// Deletes name every table explicitly instead of leaning on ON DELETE CASCADE: PRAGMA foreign_keys
// is per connection, and a remote libSQL connection is not ours to configure.

export const deleteConversationMessages = compile(sql`DELETE FROM ${messages} WHERE ${inConversation}`);

/** A session disappears with its last conversation, as it does in every backend. */
export const deleteSessionIfEmpty = compile(sql`
  DELETE FROM ${sessions} WHERE pk = ${sessionPk}
  AND NOT EXISTS (SELECT 1 FROM ${messages} WHERE session_pk = ${sessionPk})`);

export const deleteSessionMessages = compile(sql`DELETE FROM ${messages} WHERE session_pk = ${sessionPk}`);
export const deleteSessionRow = compile(sql`DELETE FROM ${sessions} WHERE pk = ${sessionPk}`);

export const deleteUserMessages = compile(sql`
  DELETE FROM ${messages} WHERE session_pk IN (SELECT pk FROM ${sessions} WHERE user_pk = ${userPk})`);
export const deleteUserSessions = compile(sql`DELETE FROM ${sessions} WHERE user_pk = ${userPk}`);
export const deleteUserRow = compile(sql`DELETE FROM ${users} WHERE id = ${p('userId')}`);

export const listUsers = compile(sql`
  SELECT id FROM ${users} u WHERE id > ${p('after')}
  AND EXISTS (SELECT 1 FROM ${sessions} WHERE user_pk = u.pk)
  ORDER BY id LIMIT ${p('limit')}`);

export const pruneExpired = compile(sql`DELETE FROM ${messages} WHERE created_at < ${p('cutoff')}`);

export const pruneBeyondLimit = compile(sql`
  DELETE FROM ${messages} WHERE pk IN (
    SELECT pk FROM (
      SELECT pk, row_number() OVER (PARTITION BY session_pk, agent_pk ORDER BY seq DESC) AS rank FROM ${messages}
    ) WHERE rank > ${p('keepLast')})`);

export const enableWal = compile(sql`PRAGMA journal_mode = WAL`);

export const latestMigration = compile(
  sql`SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 1`,
);

export type { SQL };
