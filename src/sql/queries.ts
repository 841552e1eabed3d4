/**
 * Every SQL statement convostore runs, written once for SQLite and libSQL and compiled once.
 *
 * Callers' ids only ever arrive as bound parameters. A conversation is found through the unique
 * indexes on (users.id), (sessions.user_pk, sessions.id) and (agents.id); the scalar subqueries below
 * are uncorrelated, so SQLite evaluates each once per statement. Lists of ids are bound as one JSON
 * array and read with json_each, so a statement's text does not depend on a list's length.
 */
import { sql, type SQL } from 'drizzle-orm';
import { compile } from './compile.js';
import type { CompiledQuery } from './driver.js';
import { NO_SEQ_BOUND, messageParam } from './limits.js';
import { agents, messages, refusals, sessions, users } from '../../drizzle/schema.js';
import type { ConsecutiveRolePolicy } from '../types.js';
import type { WriteMode } from '../core/backend.js';

const p = (name: string) => sql.placeholder(name);

export { INSERT_CHUNK, NO_CUTOFF, NO_SEQ_BOUND, FIRST_SESSION_PAGE } from './limits.js';

const userPk = sql`(SELECT pk FROM ${users} WHERE id = ${p('userId')})`;
const sessionPk = sql`(SELECT pk FROM ${sessions} WHERE user_pk = ${userPk} AND id = ${p('sessionId')})`;
const agentPk = sql`(SELECT pk FROM ${agents} WHERE id = ${p('agentId')})`;
const inConversation = sql`session_pk = ${sessionPk} AND agent_pk = ${agentPk}`;
/** A message of the session by id: one lookup in convostore_messages_session_id_unique. */
const byId = (name: string) => sql`(SELECT pk FROM ${messages} WHERE session_pk = ${sessionPk} AND id = ${p(name)})`;
const idList = (name: string) => sql`(SELECT value FROM json_each(${p(name)}))`;

/**
 * Refuses the whole transaction when `condition` holds, by violating one of convostore_refusals'
 * named CHECKs (see drizzle/schema.ts); sql-backend.ts turns the constraint's name into the error.
 */
function refuseWhen(column: 'conflict' | 'not_found' | 'consecutive_role' | 'too_large', condition: SQL): CompiledQuery {
  return compile(sql`INSERT INTO ${refusals} (${sql.identifier(column)}) SELECT 1 WHERE ${condition}`);
}

export const upsertUser = compile(
  sql`INSERT INTO ${users} (id, created_at) VALUES (${p('userId')}, ${p('now')}) ON CONFLICT (id) DO NOTHING`,
);

export const upsertAgent = compile(
  sql`INSERT INTO ${agents} (id, created_at) VALUES (${p('agentId')}, ${p('now')}) ON CONFLICT (id) DO NOTHING`,
);

/** A new session starts at `createdAt`; last activity never moves backwards, even if the clock does. */
export const upsertSession = compile(sql`
  INSERT INTO ${sessions} (user_pk, id, created_at, last_activity_at)
  SELECT pk, ${p('sessionId')}, ${p('createdAt')}, max(${p('createdAt')}, ${p('now')}) FROM ${users} WHERE id = ${p('userId')}
  ON CONFLICT (user_pk, id) DO UPDATE SET last_activity_at = max(last_activity_at, excluded.last_activity_at)`);

/**
 * expectLastIds: the conversation's newest live ids, oldest first, joined by NUL (which no id holds),
 * must equal the expected ones; `[]` (bound as NULL, limit 1) means no live message at all.
 */
export const refuseUnexpectedLast = refuseWhen(
  'conflict',
  sql`(SELECT group_concat(id, char(0) ORDER BY seq) FROM (
    SELECT id, seq FROM ${messages} INDEXED BY convostore_messages_conversation_seq_unique
    WHERE ${inConversation} AND +created_at >= ${p('cutoff')} ORDER BY seq DESC LIMIT ${p('count')}
  )) IS NOT ${p('expected')}`,
);

export const deleteConversationIds = compile(sql`
  DELETE FROM ${messages} WHERE ${inConversation} AND id IN ${idList('ids')}`);

/** How many of the batch's ids the session holds (before the write): they are replaced or unchanged. */
export const countStoredIds = compile(sql`
  SELECT count(*) AS n FROM ${messages} WHERE session_pk = ${sessionPk} AND id IN ${idList('ids')}`);

/**
 * Writes up to INSERT_CHUNK messages in one statement. Reading the conversation's last seq and role
 * and writing after them is one statement, so no other writer can come between.
 *
 * A message whose id is new to the session ("fresh") is appended after the last seq, in batch order,
 * under the consecutive-role rule (agent-squad.ts, `appendable`, is the same rule in JS): a
 * user/assistant message whose role repeats the fresh message before it (`prev`; the first: the
 * last live stored message) is
 * - keep: appended;
 * - skip: left out, the rest numbered without it (`pos` counts the fresh messages kept so far);
 * - throw: given a NULL seq, so NOT NULL aborts the whole transaction, which the backend reports as
 *   ConsecutiveRoleError.
 * Under skip, a fresh message before the write's last message stored identically (`resent`) is left
 * out and takes no part in the rule: the write is being sent again, and it was skipped then.
 * A message whose id the session holds hits the unique (session_pk, id) index and takes the
 * ON CONFLICT branch (its proposed seq is out of every real range, so no other index objects first):
 * - append: identical (agent, role, content, metadata) is a retry and changes nothing (the WHERE is
 *   false); otherwise the first differing column is set to NULL and NOT NULL aborts the transaction
 *   (agent_pk: another agent's id; role: another role; content: other content or metadata);
 * - upsert: content and metadata are replaced in place, with the same NULL refusal for another agent
 *   or role.
 * ORDER BY takes the stored messages first, so a conflict is reported before a repeated role (as
 * every backend checks ids before the rule), then makes pk (the session's write order) follow the
 * batch's order.
 */
export function writeMessages(count: number, rule: ConsecutiveRolePolicy, mode: WriteMode): CompiledQuery {
  const key = `${rule}:${mode}:${count}`;
  let query = writeCache.get(key);
  if (!query) {
    const rows = sql.join(
      Array.from(
        { length: count },
        (_, i) =>
          sql`(${i + 1}, ${p(messageParam(i, 0))}, ${p(messageParam(i, 1))}, ${p(messageParam(i, 2))}, ${p(messageParam(i, 3))}, ${p(messageParam(i, 4))})`,
      ),
      sql`, `,
    );
    const equal = (column: string) => sql`${sql.identifier(column)} = excluded.${sql.identifier(column)}`;
    const orNull = (condition: SQL, column: string) => sql`${sql.identifier(column)} = CASE WHEN ${condition} THEN ${sql.identifier(column)} END`;
    const onConflict =
      mode === 'append'
        ? sql`DO UPDATE SET ${orNull(equal('agent_pk'), 'agent_pk')}, ${orNull(equal('role'), 'role')},
            ${orNull(sql`${equal('content')} AND metadata IS excluded.metadata`, 'content')}
          WHERE NOT (${equal('agent_pk')} AND ${equal('role')} AND ${equal('content')} AND metadata IS excluded.metadata)`
        : sql`DO UPDATE SET ${orNull(equal('agent_pk'), 'agent_pk')}, ${orNull(equal('role'), 'role')},
            content = excluded.content, metadata = excluded.metadata`;
    query = compile(count === 1 ? writeOne(rows, rule, onConflict) : writeMany(rows, rule, onConflict));
    writeCache.set(key, query);
  }
  return query;
}
const writeCache = new Map<string, CompiledQuery>();

const isStored = sql`EXISTS (SELECT 1 FROM ${messages} m WHERE m.session_pk = c.session_pk AND m.id = v.id) AS stored`;
const insertMessages = sql`INSERT INTO ${messages} (session_pk, agent_pk, seq, id, role, content, metadata, created_at)`;

/**
 * One message (most appends) needs none of the machinery for several: the statement stays small,
 * which matters where it is prepared on every call (@libsql/client: +0.6 ms per append here), and
 * has no ORDER BY (a sorter opened for one row cost 7% of the statement on better-sqlite3).
 */
function writeOne(rows: SQL, rule: ConsecutiveRolePolicy, onConflict: SQL): SQL {
  const appendSeq = rule === 'throw' ? sql`CASE WHEN r.rep THEN NULL ELSE c.last_seq + r.pos END` : sql`c.last_seq + r.pos`;
  return sql`
      WITH v(ord, id, role, content, metadata, ts) AS (VALUES ${rows}),
      c AS (
        SELECT s.pk AS session_pk, a.pk AS agent_pk,
          coalesce((SELECT max(seq) FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk), 0) AS last_seq,
          (SELECT role FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk AND +m.created_at >= ${p('cutoff')}
            ORDER BY seq DESC LIMIT 1) AS last_role
        FROM ${sessions} s, ${agents} a
        WHERE s.user_pk = ${userPk} AND s.id = ${p('sessionId')} AND a.id = ${p('agentId')}
      ),
      r AS (
        SELECT v.*, ${isStored}, 0 AS resent, 1 AS pos,
          ${rule === 'keep' ? sql`0` : sql`role IN ('user', 'assistant') AND role IS c.last_role`} AS rep
        FROM v, c
      )
      ${insertMessages}
      SELECT c.session_pk, c.agent_pk, CASE WHEN r.stored THEN ${NO_SEQ_BOUND} - r.ord ELSE ${appendSeq} END,
        r.id, r.role, r.content, r.metadata, r.ts
      FROM r, c
      WHERE r.resent = 0${rule === 'skip' ? sql` AND NOT (r.stored = 0 AND r.rep)` : sql``}
      ON CONFLICT (session_pk, id) ${onConflict}`;
}

/** The roles the rule compares, as one character each: u(ser), a(ssistant), o(ther). */
const roleChar = (role: SQL) => sql`CASE ${role} WHEN 'user' THEN 'u' WHEN 'assistant' THEN 'a' ELSE 'o' END`;
/** The character at `position` of a BLOB: substr() on a BLOB is O(1), on TEXT it walks UTF-8 from the start. */
const charAt = (blob: SQL, position: SQL) => sql`CAST(substr(${blob}, ${position}, 1) AS TEXT)`;

/**
 * Several messages. The rule is a left-to-right scan, and SQLite's ways of carrying state along rows
 * (window functions, a recursive CTE) each cost ~4 µs per row per pass here, as much as writing the
 * row; a pass of an aggregate costs ~1 µs. So the chunk is decided in two aggregates over strings of
 * one character per message, read back by position:
 * - `states`: one index lookup per message: '#' stored, '=' stored identically (skip only), else the
 *   role's character (fresh, or under skip `resent`: before `last_same`, the last '=').
 * - `decisions`: 's' stored (takes the ON CONFLICT branch), 'k' appended, '-' left out (resent, or
 *   a repeat under skip), 'r' a repeat under throw (a NULL seq). A fresh message's `prev` is the
 *   last fresh character before it: the one just before, or (after stored messages) found by
 *   trimming them off the prefix; the first compares with `last_role`, the conversation's.
 * - a message's `pos` is the number of 'k' and 'r' up to it: its ord while none is left out or
 *   stored (`leading`), else counted on the prefix.
 * `c` is MATERIALIZED: read once, not once per row where the planner would flatten it.
 */
function writeMany(rows: SQL, rule: ConsecutiveRolePolicy, onConflict: SQL): SQL {
  const lastRole =
    rule === 'keep'
      ? sql``
      : sql`,
          coalesce((SELECT ${roleChar(sql`role`)} FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk
            AND +m.created_at >= ${p('cutoff')} ORDER BY seq DESC LIMIT 1), '') AS last_role`;
  const state =
    rule === 'skip'
      ? sql`CASE (SELECT m.agent_pk = c.agent_pk AND m.role = v.role AND m.content = v.content AND m.metadata IS v.metadata
            FROM ${messages} m WHERE m.session_pk = c.session_pk AND m.id = v.id) WHEN 1 THEN '=' WHEN 0 THEN '#' ELSE ${roleChar(sql`v.role`)} END`
      : sql`CASE WHEN EXISTS (SELECT 1 FROM ${messages} m WHERE m.session_pk = c.session_pk AND m.id = v.id) THEN '#' ELSE ${roleChar(sql`v.role`)} END`;
  const lastSame = rule === 'skip' ? sql`length(rtrim(CAST(states AS TEXT), 'uao#'))` : sql`0`;
  const ch = charAt(sql`states`, sql`ord`);
  const prev = sql`coalesce(nullif(CASE WHEN ord - 1 > last_same AND ${charAt(sql`states`, sql`ord - 1`)} <> '#' THEN ${charAt(sql`states`, sql`ord - 1`)}
            ELSE substr(rtrim(CAST(substr(states, last_same + 1, max(ord - 1 - last_same, 0)) AS TEXT), '#'), -1) END, ''), c.last_role)`;
  const decision =
    rule === 'keep'
      ? sql`CASE WHEN ${ch} = '#' THEN 's' ELSE 'k' END`
      : sql`CASE WHEN ${ch} IN ('#', '=') THEN 's'${rule === 'skip' ? sql` WHEN ord < last_same THEN '-'` : sql``}
          WHEN ${ch} IN ('u', 'a') AND ${ch} = ${prev} THEN ${rule === 'skip' ? sql`'-'` : sql`'r'`} ELSE 'k' END`;
  const mine = charAt(sql`decisions`, sql`v.ord`);
  const pos = sql`CASE WHEN v.ord <= leading THEN v.ord
          ELSE length(replace(replace(CAST(substr(decisions, 1, v.ord) AS TEXT), 's', ''), '-', '')) END`;
  return sql`
      WITH v(ord, id, role, content, metadata, ts) AS (VALUES ${rows}),
      c AS MATERIALIZED (
        SELECT s.pk AS session_pk, a.pk AS agent_pk,
          coalesce((SELECT max(seq) FROM ${messages} m WHERE m.session_pk = s.pk AND m.agent_pk = a.pk), 0) AS last_seq${lastRole}
        FROM ${sessions} s, ${agents} a
        WHERE s.user_pk = ${userPk} AND s.id = ${p('sessionId')} AND a.id = ${p('agentId')}
      ),
      t AS MATERIALIZED (SELECT CAST(group_concat(${state}, '' ORDER BY ord) AS BLOB) AS states FROM v, c),
      l AS MATERIALIZED (SELECT states, ${lastSame} AS last_same FROM t),
      d AS MATERIALIZED (
        SELECT CAST(group_concat(${decision}, '' ORDER BY ord) AS BLOB) AS decisions FROM v, l, c
      ),
      k AS MATERIALIZED (SELECT decisions, length(decisions) - length(ltrim(CAST(decisions AS TEXT), 'kr')) AS leading FROM d)
      ${insertMessages}
      SELECT c.session_pk, c.agent_pk, CASE ${mine} WHEN 's' THEN ${NO_SEQ_BOUND} - v.ord WHEN 'r' THEN NULL ELSE c.last_seq + ${pos} END,
        v.id, v.role, v.content, v.metadata, v.ts
      FROM v, k, c
      WHERE ${mine} <> '-'
      ORDER BY ${mine} = 's' DESC, v.ord
      ON CONFLICT (session_pk, id) ${onConflict}`;
}

/**
 * Retention on write: keep the newest `keepLast`; the unique index makes this a range delete. The
 * bound is the seq of the first message beyond the limit, not `max(seq) - keepLast`: deletes and
 * TTL pruning leave gaps in seq, and arithmetic would then delete too many.
 */
export const trimConversation = compile(sql`
  DELETE FROM ${messages} WHERE ${inConversation}
  AND seq <= (SELECT seq FROM ${messages} WHERE ${inConversation} ORDER BY seq DESC LIMIT 1 OFFSET ${p('keepLast')})`);

const messageColumns = sql`id, seq, role, content, metadata, created_at`;

// `+created_at` keeps the TTL filter off convostore_messages_created_at_idx: the planner must never
// trade the conversation's index range for a scan of every message newer than the cutoff.
export const readNewest = compile(sql`
  SELECT ${messageColumns} FROM ${messages} INDEXED BY convostore_messages_conversation_seq_unique
  WHERE ${inConversation} AND seq < ${p('bound')} AND +created_at >= ${p('cutoff')}
  ORDER BY seq DESC LIMIT ${p('limit')}`);

export const readOldest = compile(sql`
  SELECT ${messageColumns} FROM ${messages} INDEXED BY convostore_messages_conversation_seq_unique
  WHERE ${inConversation} AND seq > ${p('bound')} AND +created_at >= ${p('cutoff')}
  ORDER BY seq ASC LIMIT ${p('limit')}`);

/**
 * A window (fetchChat, the window a write returns): only what it returns, role and content (read as
 * tuples, in this column order). Fewer columns is most of a read's cost here: each becomes a JS
 * value per row in the driver. Without a TTL the statement has no
 * `created_at` filter at all (11% of a window read on better-sqlite3, measured): `readWindowLive`
 * is the same read of live messages only.
 */
function windowRead(ttl: boolean): CompiledQuery {
  return compile(sql`
  SELECT role, content AS json FROM ${messages} INDEXED BY convostore_messages_conversation_seq_unique
  WHERE ${inConversation}${ttl ? sql` AND +created_at >= ${p('cutoff')}` : sql``}
  ORDER BY seq DESC LIMIT ${p('limit')}`);
}
export const readWindow = windowRead(false);
export const readWindowLive = windowRead(true);

/** The batch's messages as stored after an upsert (the backend puts them back in batch order). */
export const readConversationIds = compile(sql`
  SELECT ${messageColumns} FROM ${messages} WHERE ${inConversation} AND id IN ${idList('ids')}`);

const sessionMessageColumns = sql`m.pk AS position, a.id AS agent_id, m.id, m.seq, m.role, m.content, m.metadata, m.created_at`;

/**
 * A page of a session across agents in write order (pk). convostore_messages_session_idx holds
 * (session_pk, pk), so a page is a range of it, with no sort; INDEXED BY pins the plan, since with
 * skewed statistics (one big session) SQLite would otherwise scan the whole table. The bound is a
 * cursor's position or, with `after`, the anchor message's pk. With an anchor, a first row marked
 * `anchor = 1` says it exists, so "nothing after it" and "no such message" read differently.
 */
function sessionPage(newest: boolean, anchored: boolean): CompiledQuery {
  const bound = anchored ? byId('afterId') : p('bound');
  const page = sql`
    SELECT 0 AS anchor, ${sessionMessageColumns}
    FROM ${messages} m INDEXED BY convostore_messages_session_idx JOIN ${agents} a ON a.pk = m.agent_pk
    WHERE m.session_pk = ${sessionPk} AND m.pk ${newest ? sql`<` : sql`>`} ${bound} AND +m.created_at >= ${p('cutoff')}
    ORDER BY m.pk ${newest ? sql`DESC` : sql`ASC`} LIMIT ${p('limit')}`;
  if (!anchored) return compile(page);
  return compile(sql`
    SELECT 1 AS anchor, NULL AS position, NULL AS agent_id, NULL AS id, NULL AS seq, NULL AS role, NULL AS content,
      NULL AS metadata, NULL AS created_at
    WHERE ${byId('afterId')} IS NOT NULL
    UNION ALL
    SELECT * FROM (${page})`);
}
export const readSessionNewest = sessionPage(true, false);
export const readSessionOldest = sessionPage(false, false);
export const readSessionNewestAfter = sessionPage(true, true);
export const readSessionOldestAfter = sessionPage(false, true);

/** fetchAllChats: a whole session in write order, with only what it returns (agent, role, content; read as tuples, in this order). */
export const readAllChats = compile(sql`
  SELECT a.id AS agentId, m.role, m.content AS json
  FROM ${messages} m INDEXED BY convostore_messages_session_idx JOIN ${agents} a ON a.pk = m.agent_pk
  WHERE m.session_pk = ${sessionPk} AND +m.created_at >= ${p('cutoff')}
  ORDER BY m.pk`);

export const getMessage = compile(sql`
  SELECT ${sessionMessageColumns} FROM ${messages} m JOIN ${agents} a ON a.pk = m.agent_pk
  WHERE m.session_pk = ${sessionPk} AND m.id = ${p('messageId')} AND +m.created_at >= ${p('cutoff')}`);

/** updateMessage: `content` NULL keeps the content; `setMetadata` 0 keeps the metadata. */
const newContent = sql`coalesce(${p('content')}, content)`;
const newMetadata = sql`CASE WHEN ${p('setMetadata')} THEN ${p('metadata')} ELSE metadata END`;

/** The size limit on content plus metadata, in UTF-8 bytes, checked against what the update leaves. */
export const refuseTooLarge = refuseWhen(
  'too_large',
  sql`EXISTS (SELECT 1 FROM ${messages} WHERE session_pk = ${sessionPk} AND id = ${p('messageId')}
    AND length(CAST(${newContent} AS BLOB)) + coalesce(length(CAST(${newMetadata} AS BLOB)), 0) > ${p('maxBytes')})`,
);

export const updateMessage = compile(sql`
  UPDATE ${messages} SET content = ${newContent}, metadata = ${newMetadata}
  WHERE session_pk = ${sessionPk} AND id = ${p('messageId')} AND +created_at >= ${p('cutoff')}`);

export const deleteSessionIds = compile(sql`DELETE FROM ${messages} WHERE session_pk = ${sessionPk} AND id IN ${idList('ids')}`);

export const refuseUnknownMessage = refuseWhen('not_found', sql`${byId('messageId')} IS NULL`);

/** Everything of the message's conversation from it (inclusive) or after it. */
export const truncateConversation = compile(sql`
  DELETE FROM ${messages}
  WHERE session_pk = ${sessionPk}
  AND agent_pk = (SELECT agent_pk FROM ${messages} WHERE pk = ${byId('messageId')})
  AND seq >= (SELECT seq FROM ${messages} WHERE pk = ${byId('messageId')}) + ${p('after')}`);

/** One page of a user's sessions, or one session, with per-agent counts of live messages. */
function sessionSummaries(page: SQL): CompiledQuery {
  return compile(sql`
    WITH page AS (${page})
    SELECT page.id AS session_id, page.created_at, page.last_activity_at, page.title, page.metadata,
      a.id AS agent_id, count(m.pk) AS message_count, max(m.created_at) AS last_message_at
    FROM page
    LEFT JOIN ${messages} m INDEXED BY convostore_messages_session_idx ON m.session_pk = page.pk AND +m.created_at >= ${p('cutoff')}
    LEFT JOIN ${agents} a ON a.pk = m.agent_pk
    GROUP BY page.pk, m.agent_pk
    ORDER BY page.last_activity_at DESC, page.id DESC, a.id`);
}

const sessionFields = sql`pk, id, created_at, last_activity_at, title, metadata`;

/** The page is cut first (from convostore_sessions_user_activity_idx, walked backwards); only its sessions' messages are counted. */
export const listSessions = sessionSummaries(sql`
  SELECT ${sessionFields} FROM ${sessions}
  WHERE user_pk = ${userPk} AND (last_activity_at, id) < (${p('afterTime')}, ${p('afterId')})
  ORDER BY last_activity_at DESC, id DESC LIMIT ${p('limit')}`);

export const getSession = sessionSummaries(sql`SELECT ${sessionFields} FROM ${sessions} WHERE pk = ${sessionPk}`);

export const readSessionMetadata = compile(sql`SELECT metadata FROM ${sessions} WHERE pk = ${sessionPk}`);

/**
 * updateSession: creates the session, or updates its title (`setTitle`) and metadata. The metadata
 * is merged in JS and written only if nobody changed it since it was read (`WHERE metadata IS
 * previous`): zero changes means a concurrent update won, and the backend merges again.
 */
export const updateSession = compile(sql`
  INSERT INTO ${sessions} (user_pk, id, created_at, last_activity_at, title, metadata)
  SELECT pk, ${p('sessionId')}, ${p('now')}, max(${p('now')}, coalesce(${p('activityAt')}, ${p('now')})), ${p('title')}, ${p('metadata')}
  FROM ${users} WHERE id = ${p('userId')}
  ON CONFLICT (user_pk, id) DO UPDATE SET
    title = CASE WHEN ${p('setTitle')} THEN excluded.title ELSE title END,
    metadata = CASE WHEN ${p('setMetadata')} THEN excluded.metadata ELSE metadata END,
    last_activity_at = max(last_activity_at, coalesce(${p('activityAt')}, last_activity_at))
  WHERE NOT ${p('setMetadata')} OR metadata IS ${p('previous')}`);

const fromSessionPk = sql`(SELECT pk FROM ${sessions} WHERE user_pk = ${userPk} AND id = ${p('fromSessionId')})`;
const toSessionPk = sql`(SELECT pk FROM ${sessions} WHERE user_pk = ${userPk} AND id = ${p('toSessionId')})`;
const forkBound = sql`(SELECT pk FROM ${messages} WHERE session_pk = ${fromSessionPk} AND id = ${p('upToMessageId')})`;

export const refuseForkWithoutSource = refuseWhen(
  'not_found',
  sql`${fromSessionPk} IS NULL OR (${p('upToMessageId')} IS NOT NULL AND ${forkBound} IS NULL)`,
);
export const refuseForkOntoExisting = refuseWhen('conflict', sql`${toSessionPk} IS NOT NULL`);

export const forkSessionRow = compile(sql`
  INSERT INTO ${sessions} (user_pk, id, created_at, last_activity_at, title, metadata)
  SELECT user_pk, ${p('toSessionId')}, ${p('now')}, ${p('now')}, coalesce(${p('title')}, title), metadata
  FROM ${sessions} WHERE pk = ${fromSessionPk}`);

/** Copies in write order, so the fork's pks (its write order) follow the source's. */
export const forkMessages = compile(sql`
  INSERT INTO ${messages} (session_pk, agent_pk, seq, id, role, content, metadata, created_at)
  SELECT ${toSessionPk}, agent_pk, seq, id, role, content, metadata, created_at
  FROM ${messages} INDEXED BY convostore_messages_session_idx
  WHERE session_pk = ${fromSessionPk} AND pk <= coalesce(${forkBound}, ${NO_SEQ_BOUND})
  ORDER BY pk`);

// Deletes name every table explicitly instead of leaning on ON DELETE CASCADE: PRAGMA foreign_keys
// is per connection, and a remote libSQL connection is not ours to configure.

export const deleteConversationMessages = compile(sql`DELETE FROM ${messages} WHERE ${inConversation}`);

/**
 * A session disappears with its last message, as it does in every backend, unless it has a title or
 * metadata (a chat named before its first message, or kept for its sidebar entry).
 */
const sessionLeftBare = sql`pk = ${sessionPk} AND title IS NULL AND metadata IS NULL
  AND NOT EXISTS (SELECT 1 FROM ${messages} WHERE session_pk = ${sessionPk})`;

export const deleteSessionIfEmpty = compile(sql`DELETE FROM ${sessions} WHERE ${sessionLeftBare}`);

/**
 * The same, right after a delete, and only when that delete removed something: changes() is the
 * previous statement's count on this connection, and a batch runs on one connection.
 */
export const deleteSessionIfEmptied = compile(sql`DELETE FROM ${sessions} WHERE changes() > 0 AND ${sessionLeftBare}`);

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

export type { SQL };
