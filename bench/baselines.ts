/**
 * The floors convostore is measured against: the same logical operations written by hand on the raw
 * drivers, as a developer would without convostore (prepared statements, one transaction, content
 * parsed back from JSON). The schema is convostore's own, so both sides do the same work (message
 * ids included: the hand-written side makes a random UUID per message).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { createClient, type Client } from '@libsql/client';

export interface Baseline {
  append(userId: string, sessionId: string, agentId: string, role: string, json: string, window: number): Promise<unknown[]>;
  window(userId: string, sessionId: string, agentId: string, window: number): Promise<unknown[]>;
  session(userId: string, sessionId: string): Promise<unknown[]>;
  /** Appends in one transaction and, like saveChatMessages without a window, reads the history back. */
  bulk(userId: string, sessionId: string, agentId: string, rows: Array<[string, string]>): Promise<unknown[]>;
  /** First page of a user's sessions, most recent first, with per-agent message counts. */
  sessions(userId: string, limit: number): Promise<unknown[]>;
  close(): Promise<void>;
}

const SQL = {
  user: 'INSERT INTO convostore_users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
  agent: 'INSERT INTO convostore_agents (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
  session: `INSERT INTO convostore_sessions (user_pk, id, created_at, last_activity_at) SELECT pk, ?, ?, ? FROM convostore_users WHERE id = ?
    ON CONFLICT (user_pk, id) DO UPDATE SET last_activity_at = max(last_activity_at, excluded.last_activity_at) RETURNING pk`,
  agentPk: 'SELECT pk FROM convostore_agents WHERE id = ?',
  last: 'SELECT seq, role FROM convostore_messages WHERE session_pk = ? AND agent_pk = ? ORDER BY seq DESC LIMIT 1',
  insert: 'INSERT INTO convostore_messages (session_pk, agent_pk, seq, id, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  window: `SELECT seq, role, content, created_at FROM convostore_messages
    WHERE session_pk = (SELECT s.pk FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk WHERE u.id = ? AND s.id = ?)
    AND agent_pk = (SELECT pk FROM convostore_agents WHERE id = ?) ORDER BY seq DESC LIMIT ?`,
  /** For libSQL, where a batch cannot read the last seq first: each row takes the next one itself. */
  insertNext: `INSERT INTO convostore_messages (session_pk, agent_pk, seq, id, role, content, created_at)
    SELECT s.pk, a.pk, coalesce((SELECT max(seq) FROM convostore_messages WHERE session_pk = s.pk AND agent_pk = a.pk), 0) + 1, ?, ?, ?, ?
    FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk, agents a WHERE u.id = ? AND s.id = ? AND a.id = ?`,
  windowByPk: 'SELECT seq, role, content, created_at FROM convostore_messages WHERE session_pk = ? AND agent_pk = ? ORDER BY seq DESC LIMIT ?',
  session_: `SELECT a.id AS agent_id, m.role, m.content FROM convostore_messages m JOIN convostore_agents a ON a.pk = m.agent_pk
    WHERE m.session_pk = (SELECT s.pk FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk WHERE u.id = ? AND s.id = ?) ORDER BY m.pk`,
  sessions: `WITH page AS (SELECT pk, id, last_activity_at FROM convostore_sessions WHERE user_pk = (SELECT pk FROM convostore_users WHERE id = ?)
      ORDER BY last_activity_at DESC, id DESC LIMIT ?)
    SELECT page.id, page.last_activity_at, m.agent_pk, count(*) AS n FROM page JOIN convostore_messages m ON m.session_pk = page.pk
    GROUP BY page.pk, m.agent_pk ORDER BY page.last_activity_at DESC, page.id DESC`,
};

type Row = { content: string; role: string };
const parse = (rows: unknown[]) => (rows as Row[]).map((r) => ({ role: r.role, content: JSON.parse(r.content) as unknown }));

export function betterSqlite3Baseline(path: string): Baseline {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const s = Object.fromEntries(Object.entries(SQL).map(([k, v]) => [k, db.prepare(v)])) as Record<keyof typeof SQL, Database.Statement>;
  const ensure = (userId: string, sessionId: string, agentId: string, now: number) => {
    s.user.run(userId, now);
    s.agent.run(agentId, now);
    const sessionPk = (s.session.get(sessionId, now, now, userId) as { pk: number }).pk;
    const agentPk = (s.agentPk.get(agentId) as { pk: number }).pk;
    const last = s.last.get(sessionPk, agentPk) as { seq: number; role: string } | undefined;
    return { sessionPk, agentPk, seq: last?.seq ?? 0 };
  };
  const append = db.transaction((userId: string, sessionId: string, agentId: string, role: string, json: string, window: number) => {
    const now = Date.now();
    const c = ensure(userId, sessionId, agentId, now);
    s.insert.run(c.sessionPk, c.agentPk, c.seq + 1, randomUUID(), role, json, now);
    return parse(s.windowByPk.all(c.sessionPk, c.agentPk, window)).reverse();
  });
  const bulk = db.transaction((userId: string, sessionId: string, agentId: string, rows: Array<[string, string]>) => {
    const now = Date.now();
    const c = ensure(userId, sessionId, agentId, now);
    rows.forEach(([role, json], i) => s.insert.run(c.sessionPk, c.agentPk, c.seq + i + 1, randomUUID(), role, json, now));
    return parse(s.windowByPk.all(c.sessionPk, c.agentPk, -1)).reverse();
  });
  return {
    append: async (...args) => append.immediate(...args),
    window: async (u, se, a, n) => parse(s.window.all(u, se, a, n)).reverse(),
    session: async (u, se) => parse(s.session_.all(u, se)),
    bulk: async (...args) => bulk.immediate(...args),
    sessions: async (u, n) => s.sessions.all(u, n),
    close: async () => void db.close(),
  };
}

export function libsqlBaseline(url: string): Baseline {
  const client: Client = createClient({ url, intMode: 'number' });
  return {
    async append(userId, sessionId, agentId, role, json, window) {
      const now = Date.now();
      // One batch (one transaction); the message's seq comes from a subquery as it cannot be read first.
      const results = await client.batch(
        [
          { sql: SQL.user, args: [userId, now] },
          { sql: SQL.agent, args: [agentId, now] },
          { sql: SQL.session, args: [sessionId, now, now, userId] },
          { sql: SQL.insertNext, args: [randomUUID(), role, json, now, userId, sessionId, agentId] },
          { sql: SQL.window, args: [userId, sessionId, agentId, window] },
        ],
        'write',
      );
      return parse(results[4]!.rows as unknown[]).reverse();
    },
    async window(u, se, a, n) {
      return parse((await client.execute({ sql: SQL.window, args: [u, se, a, n] })).rows as unknown[]).reverse();
    },
    async session(u, se) {
      return parse((await client.execute({ sql: SQL.session_, args: [u, se] })).rows as unknown[]);
    },
    async bulk(userId, sessionId, agentId, rows) {
      const now = Date.now();
      const results = await client.batch(
        [
          { sql: SQL.user, args: [userId, now] },
          { sql: SQL.agent, args: [agentId, now] },
          { sql: SQL.session, args: [sessionId, now, now, userId] },
          ...rows.map(([role, json]) => ({
            sql: SQL.insertNext,
            args: [randomUUID(), role, json, now, userId, sessionId, agentId],
          })),
          { sql: SQL.window, args: [userId, sessionId, agentId, -1] },
        ],
        'write',
      );
      return parse(results[results.length - 1]!.rows as unknown[]).reverse();
    },
    sessions: async (u, n) => (await client.execute({ sql: SQL.sessions, args: [u, n] })).rows as unknown[],
    close: async () => client.close(),
  };
}

/** A Map of arrays keyed by the JSON of the id triple. */
export function mapBaseline(): Baseline {
  const conversations = new Map<string, Array<{ role: string; json: string; agentId: string }>>();
  const sessions = new Map<string, Array<{ role: string; json: string; agentId: string }>>();
  const push = (u: string, s: string, a: string, role: string, json: string) => {
    const key = JSON.stringify([u, s, a]);
    let list = conversations.get(key);
    if (!list) conversations.set(key, (list = []));
    const m = { role, json, agentId: a };
    list.push(m);
    const sk = JSON.stringify([u, s]);
    let sl = sessions.get(sk);
    if (!sl) sessions.set(sk, (sl = []));
    sl.push(m);
  };
  const window = (u: string, s: string, a: string, n: number) =>
    (conversations.get(JSON.stringify([u, s, a])) ?? []).slice(-n).map((m) => ({ role: m.role, content: JSON.parse(m.json) as unknown }));
  return {
    async append(u, s, a, role, json, n) {
      push(u, s, a, role, json);
      return window(u, s, a, n);
    },
    window: async (u, s, a, n) => window(u, s, a, n),
    session: async (u, s) => (sessions.get(JSON.stringify([u, s])) ?? []).map((m) => ({ role: m.role, content: JSON.parse(m.json) as unknown })),
    bulk: async (u, s, a, rows) => {
      rows.forEach(([role, json]) => push(u, s, a, role, json));
      return window(u, s, a, Number.MAX_SAFE_INTEGER);
    },
    sessions: async (u, n) => {
      const prefix = JSON.stringify([u]).slice(0, -1) + ',';
      const mine = [...sessions].filter(([k]) => k.startsWith(prefix));
      return mine
        .map(([k, list]) => ({ id: k, count: list.length }))
        .sort((a, b) => (a.id < b.id ? 1 : -1))
        .slice(0, n);
    },
    close: async () => conversations.clear(),
  };
}
