/**
 * The floors convostore is measured against, each the same logical operations written by hand on the
 * raw driver (prepared statements, one transaction, content parsed back with JSON.parse):
 * - relational: convostore's own schema and writes (users, agents, sessions, messages with their
 *   indexes; a random UUID per message), so the difference is convostore's code, not its schema;
 * - flat: the minimal design a developer would write by hand (issue 13): one `flat_messages` table
 *   keyed by user, session, agent and a rowid, one index; an append is INSERT one row + SELECT the
 *   newest N in one transaction. The difference to it is convostore's code and its schema together.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { createClient, type Client } from '@libsql/client';

export interface Baseline {
  append(userId: string, sessionId: string, agentId: string, role: string, json: string, window: number): Promise<unknown[]>;
  window(userId: string, sessionId: string, agentId: string, window: number): Promise<unknown[]>;
  session(userId: string, sessionId: string): Promise<unknown[]>;
  /** Appends in one transaction and, like saveChatMessages without a window, reads the history back (unless readBack is false). */
  bulk(userId: string, sessionId: string, agentId: string, rows: Array<[string, string]>, readBack?: boolean): Promise<unknown[]>;
  /** A session's newest `limit` messages across agents, newest first (fetchSessionPage's first page). */
  page(userId: string, sessionId: string, limit: number): Promise<unknown[]>;
  /** First page of a user's sessions, most recent first, as listSessions returns it (per-agent counts and last message times, title, metadata). */
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
    FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk, convostore_agents a WHERE u.id = ? AND s.id = ? AND a.id = ?`,
  windowByPk: 'SELECT seq, role, content, created_at FROM convostore_messages WHERE session_pk = ? AND agent_pk = ? ORDER BY seq DESC LIMIT ?',
  session_: `SELECT a.id AS agent_id, m.role, m.content FROM convostore_messages m JOIN convostore_agents a ON a.pk = m.agent_pk
    WHERE m.session_pk = (SELECT s.pk FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk WHERE u.id = ? AND s.id = ?) ORDER BY m.pk`,
  page: `SELECT m.pk AS position, a.id AS agent_id, m.id, m.seq, m.role, m.content, m.metadata, m.created_at
    FROM convostore_messages m JOIN convostore_agents a ON a.pk = m.agent_pk
    WHERE m.session_pk = (SELECT s.pk FROM convostore_sessions s JOIN convostore_users u ON u.pk = s.user_pk WHERE u.id = ? AND s.id = ?)
    ORDER BY m.pk DESC LIMIT ?`,
  // What listSessions returns, by hand: the page of sessions (times, title, metadata) with each
  // agent's message count and last message time. (Until 2026-11-29 this returned counts only, which
  // is less than the store answers; docs/bench.md gives both ratios.)
  sessions: `WITH page AS (SELECT pk, id, created_at, last_activity_at, title, metadata FROM convostore_sessions
      WHERE user_pk = (SELECT pk FROM convostore_users WHERE id = ?) ORDER BY last_activity_at DESC, id DESC LIMIT ?)
    SELECT page.id, page.created_at, page.last_activity_at, page.title, page.metadata, a.id AS agent_id, count(m.pk) AS n,
      max(m.created_at) AS last_message_at
    FROM page LEFT JOIN convostore_messages m ON m.session_pk = page.pk LEFT JOIN convostore_agents a ON a.pk = m.agent_pk
    GROUP BY page.pk, m.agent_pk ORDER BY page.last_activity_at DESC, page.id DESC, a.id`,
};

type Row = { content: string; role: string };
type SessionRow = {
  id: string;
  created_at: number;
  last_activity_at: number;
  title: string | null;
  metadata: string | null;
  agent_id: string | null;
  n: number;
  last_message_at: number | null;
};
/** One summary per session (rows come in page order, one per agent), as listSessions returns them. */
const summaries = (rows: unknown[]) => {
  const out: Array<Record<string, unknown> & { agents: unknown[] }> = [];
  for (const r of rows as SessionRow[]) {
    let last = out[out.length - 1];
    if (last?.sessionId !== r.id) {
      last = { sessionId: r.id, createdAt: r.created_at, lastActivityAt: r.last_activity_at, messageCount: 0, agents: [] };
      if (r.title !== null) last.title = r.title;
      if (r.metadata !== null) last.metadata = JSON.parse(r.metadata) as unknown;
      out.push(last);
    }
    if (r.agent_id !== null) {
      last.agents.push({ agentId: r.agent_id, messageCount: r.n, lastMessageAt: r.last_message_at });
      (last.messageCount as number) += r.n;
    }
  }
  return out;
};
const parse = (rows: unknown[]) => (rows as Row[]).map((r) => ({ role: r.role, content: JSON.parse(r.content) as unknown }));
type PageRow = Row & { id: string; seq: number; position: number; agent_id: string; metadata: string | null; created_at: number };
/** A session page's rows as fetchSessionPage returns them (content and metadata parsed). */
const parsePage = (rows: unknown[]) =>
  (rows as PageRow[]).map((r) => ({
    id: r.id,
    agentId: r.agent_id,
    role: r.role,
    content: JSON.parse(r.content) as unknown,
    seq: Number(r.seq),
    timestamp: Number(r.created_at),
    ...(r.metadata === null ? {} : { metadata: JSON.parse(r.metadata) as unknown }),
  }));

export function betterSqlite3Baseline(path: string): Baseline {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The schema's foreign keys enforced, as convostore's SQLite opener enforces them: same schema, same work.
  db.pragma('foreign_keys = ON');
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
  const bulk = db.transaction((userId: string, sessionId: string, agentId: string, rows: Array<[string, string]>, readBack = true) => {
    const now = Date.now();
    const c = ensure(userId, sessionId, agentId, now);
    rows.forEach(([role, json], i) => s.insert.run(c.sessionPk, c.agentPk, c.seq + i + 1, randomUUID(), role, json, now));
    return readBack ? parse(s.windowByPk.all(c.sessionPk, c.agentPk, -1)).reverse() : [];
  });
  return {
    append: async (...args) => append.immediate(...args),
    window: async (u, se, a, n) => parse(s.window.all(u, se, a, n)).reverse(),
    session: async (u, se) => parse(s.session_.all(u, se)),
    bulk: async (...args) => bulk.immediate(...args),
    page: async (u, se, n) => parsePage(s.page.all(u, se, n)),
    sessions: async (u, n) => summaries(s.sessions.all(u, n)),
    close: async () => void db.close(),
  };
}

/**
 * A local file as convostore opens it (src/libsql/connect.ts): one connection, synchronous = NORMAL
 * (libSQL's default FULL fsyncs every commit). `ready` settles once the setting is applied.
 */
function libsqlClient(url: string, ...setup: string[]): { client: Client; ready: Promise<unknown> } {
  const client = createClient({ url, intMode: 'number', concurrency: 1 });
  // The pragma outside any transaction (a batch is one, and SQLite refuses it there).
  const ready = client.execute('PRAGMA synchronous = NORMAL').then(() => (setup.length ? client.batch(setup, 'write') : undefined));
  return { client, ready };
}

export function libsqlBaseline(url: string): Baseline {
  const { client, ready } = libsqlClient(url);
  return {
    async append(userId, sessionId, agentId, role, json, window) {
      await ready;
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
      await ready;
      return parse((await client.execute({ sql: SQL.window, args: [u, se, a, n] })).rows as unknown[]).reverse();
    },
    async session(u, se) {
      return parse((await client.execute({ sql: SQL.session_, args: [u, se] })).rows as unknown[]);
    },
    async bulk(userId, sessionId, agentId, rows, readBack = true) {
      await ready;
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
          ...(readBack ? [{ sql: SQL.window, args: [userId, sessionId, agentId, -1] }] : []),
        ],
        'write',
      );
      return readBack ? parse(results[results.length - 1]!.rows as unknown[]).reverse() : [];
    },
    page: async (u, se, n) => parsePage((await client.execute({ sql: SQL.page, args: [u, se, n] })).rows as unknown[]),
    sessions: async (u, n) => summaries((await client.execute({ sql: SQL.sessions, args: [u, n] })).rows as unknown[]),
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
    bulk: async (u, s, a, rows, readBack = true) => {
      rows.forEach(([role, json]) => push(u, s, a, role, json));
      return readBack ? window(u, s, a, Number.MAX_SAFE_INTEGER) : [];
    },
    page: async (u, s, n) =>
      (sessions.get(JSON.stringify([u, s])) ?? [])
        .slice(-n)
        .reverse()
        .map((m) => ({ agentId: m.agentId, role: m.role, content: JSON.parse(m.json) as unknown })),
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

/** The flat floor's schema: one table, one index (user, session, agent; SQLite appends the rowid). */
const FLAT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS flat_messages (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, session_id TEXT NOT NULL,
    agent_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS flat_messages_conversation ON flat_messages (user_id, session_id, agent_id)',
];

const FLAT = {
  insert: 'INSERT INTO flat_messages (user_id, session_id, agent_id, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  window: 'SELECT role, content FROM flat_messages WHERE user_id = ? AND session_id = ? AND agent_id = ? ORDER BY id DESC LIMIT ?',
  session: 'SELECT agent_id, role, content FROM flat_messages WHERE user_id = ? AND session_id = ? ORDER BY id',
  page: 'SELECT id, agent_id, role, content, created_at FROM flat_messages WHERE user_id = ? AND session_id = ? ORDER BY id DESC LIMIT ?',
  sessions: `SELECT session_id, max(id) AS last, count(*) AS n FROM flat_messages WHERE user_id = ?
    GROUP BY session_id ORDER BY last DESC LIMIT ?`,
};

type FlatPageRow = Row & { id: number; agent_id: string; created_at: number };
const parseFlatPage = (rows: unknown[]) =>
  (rows as FlatPageRow[]).map((r) => ({ id: r.id, agentId: r.agent_id, role: r.role, content: JSON.parse(r.content) as unknown, timestamp: r.created_at }));

export function betterSqlite3Flat(path: string): Baseline {
  const db = new Database(path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const ddl of FLAT_SCHEMA) db.exec(ddl);
  const s = Object.fromEntries(Object.entries(FLAT).map(([k, v]) => [k, db.prepare(v)])) as Record<keyof typeof FLAT, Database.Statement>;
  const append = db.transaction((u: string, se: string, a: string, role: string, json: string, window: number) => {
    s.insert.run(u, se, a, role, json, Date.now());
    return parse(s.window.all(u, se, a, window)).reverse();
  });
  const bulk = db.transaction((u: string, se: string, a: string, rows: Array<[string, string]>, readBack = true) => {
    const now = Date.now();
    for (const [role, json] of rows) s.insert.run(u, se, a, role, json, now);
    return readBack ? parse(s.window.all(u, se, a, -1)).reverse() : [];
  });
  return {
    append: async (...args) => append.immediate(...args),
    window: async (u, se, a, n) => parse(s.window.all(u, se, a, n)).reverse(),
    session: async (u, se) => parse(s.session.all(u, se)),
    bulk: async (...args) => bulk.immediate(...args),
    page: async (u, se, n) => parseFlatPage(s.page.all(u, se, n)),
    sessions: async (u, n) => s.sessions.all(u, n),
    close: async () => void db.close(),
  };
}

export function libsqlFlat(url: string): Baseline {
  const { client, ready } = libsqlClient(url, ...FLAT_SCHEMA);
  const rowsOf = async (sql: string, args: Array<string | number>) => (await client.execute({ sql, args })).rows as unknown[];
  return {
    async append(u, se, a, role, json, window) {
      await ready;
      const results = await client.batch(
        [
          { sql: FLAT.insert, args: [u, se, a, role, json, Date.now()] },
          { sql: FLAT.window, args: [u, se, a, window] },
        ],
        'write',
      );
      return parse(results[1]!.rows as unknown[]).reverse();
    },
    window: async (u, se, a, n) => parse(await rowsOf(FLAT.window, [u, se, a, n])).reverse(),
    session: async (u, se) => parse(await rowsOf(FLAT.session, [u, se])),
    async bulk(u, se, a, rows, readBack = true) {
      await ready;
      const now = Date.now();
      const results = await client.batch(
        [
          ...rows.map(([role, json]) => ({ sql: FLAT.insert, args: [u, se, a, role, json, now] })),
          ...(readBack ? [{ sql: FLAT.window, args: [u, se, a, -1] }] : []),
        ],
        'write',
      );
      return readBack ? parse(results[results.length - 1]!.rows as unknown[]).reverse() : [];
    },
    page: async (u, se, n) => parseFlatPage(await rowsOf(FLAT.page, [u, se, n])),
    sessions: async (u, n) => rowsOf(FLAT.sessions, [u, n]),
    close: async () => client.close(),
  };
}
