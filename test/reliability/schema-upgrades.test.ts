/**
 * Schema upgrades, with data written by each earlier schema. For every prefix of
 * migrations/meta/_journal.json, and for convostore 0.1 as it was released (its migrations folder,
 * frozen in fixtures/convostore-0.1-migrations: tables `users`, `agents`, `sessions`, `messages`,
 * recorded in drizzle's default journal), a database is built with exactly those migrations and
 * filled with raw SQL the way a store of that version wrote it. Then it is upgraded the ways users
 * upgrade: `npx drizzle-kit migrate` on a file (zero flags, CONVOSTORE_DB_FILE) and over HTTP against
 * the Hrana stand-in (TURSO_DATABASE_URL/TURSO_AUTH_TOKEN), the store's migrate-on-open (better-
 * sqlite3 and libSQL file openers), and `openLibsql(url, { migrate: true })` over HTTP (what
 * `npx convostore migrate` runs). Afterwards: every conversation reads the same (content, order
 * within and across agents, timestamps, counts, titles), every message has an id in write order,
 * every v2 operation works, the schema is a fresh database's, and SQLite's own checks are clean.
 *
 * A new migration cannot land without a fixture writer for its tag below: the harness fails.
 *
 * Coexistence: an application keeping its own `users` and `sessions` tables and its own migrations in
 * drizzle's default journal shares the database; neither side's tables nor journal are touched by the
 * other, and neither side's newer migration stops the other's.
 *
 * Also: migrating twice is a no-op, and two processes opening one new file at once both succeed.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { SqlChatStorage } from '../../src/sql/index.js';
import { LEGACY_MIGRATIONS_TABLE, MIGRATIONS_TABLE, migrationsFolder } from '../../src/sql/migrations.js';
import type { ChatStore } from '../../src/core/store.js';
import type { Metadata, Role, SessionMessage } from '../../src/types.js';
import { sharedBackends } from '../backends/registry.js';
import { drizzleKitMigrate } from '../helpers/hrana.js';
import { tempDir, tempFile } from '../helpers/tmp.js';
import { HranaServer } from '../hrana/server.js';
import { startChild } from './spawn.js';

interface Journal {
  entries: Array<{ idx: number; tag: string; when: number }>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as Journal;
const latestWhen = Math.max(...journal.entries.map((e) => e.when));
/** convostore 0.1's migrations folder, as released. */
const release01 = fileURLToPath(new URL('./fixtures/convostore-0.1-migrations/', import.meta.url));
const dir = tempDir('schema');
const TOKEN = 'upgrade-token';

/** One stored message as the API must show it after the upgrade, in the database's write order. */
interface Written {
  userId: string;
  sessionId: string;
  agentId: string;
  /** Its primary key: the write order. */
  pk: number;
  /** The id the writer stored; absent before ids existed (the migration makes one from the pk). */
  id?: string;
  seq: number;
  role: Role;
  content: Array<Record<string, unknown>>;
  metadata?: Metadata;
  timestamp: number;
}

interface Fixture {
  messages: Written[];
  /** Every session, with its title and metadata where that version had them. */
  sessions: Array<{ userId: string; sessionId: string; title?: string; metadata?: Metadata }>;
  /** The pk of a newest message that was deleted: AUTOINCREMENT must never give it out again. */
  deletedPk?: number;
}

/** The id the v2 migration gives a message written before ids existed: from its pk, so in write order. */
const legacyId = (pk: number) => `00000000-0000-7000-8000-${pk.toString(16).padStart(12, '0')}`;
const idOf = (m: Written) => m.id ?? legacyId(m.pk);

type TableNames = Record<'users' | 'agents' | 'sessions' | 'messages', string>;
const TABLES_0_1: TableNames = { users: 'users', agents: 'agents', sessions: 'sessions', messages: 'messages' };
const TABLES: TableNames = {
  users: 'convostore_users',
  agents: 'convostore_agents',
  sessions: 'convostore_sessions',
  messages: 'convostore_messages',
};

/**
 * The schema of 0000_init (0.1's, under either name set): two agents interleaved in one session with
 * equal and backwards clock values (order is the write order, never the clock's), ids that need
 * quoting, and a deleted last message (its pk is never reused).
 */
function write0000(db: Database.Database, t: TableNames, ids?: (n: number) => string): Fixture {
  const keys = [
    { userId: 'u1', sessionId: 's1', agentId: 'a1' },
    { userId: 'u1', sessionId: 's1', agentId: 'a2' },
    { userId: "o'brien \"#%_\"", sessionId: 's#1', agentId: 'ägent 😀' },
  ];
  const user = db.prepare(`INSERT INTO ${t.users} (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`);
  const agent = db.prepare(`INSERT INTO ${t.agents} (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`);
  const session = db.prepare(
    `INSERT INTO ${t.sessions} (user_pk, id, created_at, last_activity_at) SELECT pk, ?, ?, ? FROM ${t.users} WHERE id = ?
     ON CONFLICT (user_pk, id) DO UPDATE SET last_activity_at = max(last_activity_at, excluded.last_activity_at)`,
  );
  // From 0001 on, every message has an id, made by the store before the write.
  const insert = db.prepare(
    `INSERT INTO ${t.messages} (session_pk, agent_pk, seq, role, content, created_at${ids ? ', id' : ''})
     SELECT s.pk, a.pk, ?, ?, ?, ?${ids ? ', ?' : ''} FROM ${t.sessions} s JOIN ${t.users} u ON u.pk = s.user_pk, ${t.agents} a
     WHERE u.id = ? AND s.id = ? AND a.id = ?`,
  );
  let made = 0;
  const message = {
    run: (seq: number, role: string, content: string, time: number, ...key: string[]) =>
      ids ? insert.run(seq, role, content, time, ids(++made), ...key) : insert.run(seq, role, content, time, ...key),
  };
  const messages: Written[] = [];
  const clock = [1000, 1000, 1000, 2000, 1500, 1500, 3000, 3000, 2500, 4000, 4000, 4000, 5000, 5000, 5000];
  db.transaction(() => {
    for (let round = 0; round < 5; round++) {
      keys.forEach((k, i) => {
        const timestamp = 1_700_000_000_000 + clock[round * keys.length + i]!;
        const role: Role = round % 2 === 0 ? 'user' : 'assistant';
        const content = [{ text: `${k.agentId} round ${round}` }, { toolUse: { name: 't', input: { round, nested: [round, null, true] } } }];
        user.run(k.userId, timestamp);
        agent.run(k.agentId, timestamp);
        session.run(k.sessionId, timestamp, timestamp, k.userId);
        const pk = Number(message.run(round + 1, role, JSON.stringify(content), timestamp, k.userId, k.sessionId, k.agentId).lastInsertRowid);
        messages.push({ ...k, pk, ...(ids ? { id: ids(made) } : {}), seq: round + 1, role, content, timestamp });
      });
    }
  })();
  // The newest message goes (0.1's deleteConversation of a conversation with one message, or a trim):
  // its pk must not come back for a later message.
  const extra = { userId: 'u2', sessionId: 's2', agentId: 'a1' };
  user.run(extra.userId, 1_700_000_009_000);
  session.run(extra.sessionId, 1_700_000_009_000, 1_700_000_009_000, extra.userId);
  const gone = Number(message.run(1, 'user', '[{"text":"gone"}]', 1_700_000_009_000, extra.userId, extra.sessionId, extra.agentId).lastInsertRowid);
  db.prepare(`DELETE FROM ${t.messages} WHERE pk = ?`).run(gone);
  db.prepare(`DELETE FROM ${t.sessions} WHERE id = 's2'`).run();
  db.prepare(`DELETE FROM ${t.users} WHERE id = 'u2'`).run();
  return { messages, sessions: [{ userId: 'u1', sessionId: 's1' }, { userId: keys[2]!.userId, sessionId: keys[2]!.sessionId }], deletedPk: gone };
}

/**
 * Per schema version (keyed by the tag of the last migration applied), a writer that fills a
 * database of exactly that version with raw SQL, as a store of that version would have, and returns
 * what it wrote. Write one for every new migration.
 */
const fixtureWriters: Record<string, (db: Database.Database) => Fixture> = {
  '0000_init': (db) => write0000(db, TABLES),
  '0001_conversation_model_v2': (db) => {
    const fixture = write0000(db, TABLES, (n) => `019a0000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`);
    // As a v2 store writes: ids made on the client (or given), metadata, system and tool roles,
    // titles and session metadata, a titled session with no message.
    const session = db.prepare(`UPDATE ${TABLES.sessions} SET title = ?, metadata = ? WHERE id = ?`);
    session.run('First chat', JSON.stringify({ pinned: true, tags: ['a', 'b'] }), 's1');
    fixture.sessions[0] = { ...fixture.sessions[0]!, title: 'First chat', metadata: { pinned: true, tags: ['a', 'b'] } };
    db.prepare(`INSERT INTO ${TABLES.sessions} (user_pk, id, created_at, last_activity_at, title) SELECT pk, 'named', 5, 5, 'Named, empty' FROM ${TABLES.users} WHERE id = 'u1'`).run();
    fixture.sessions.push({ userId: 'u1', sessionId: 'named', title: 'Named, empty' });
    const insert = db.prepare(
      `INSERT INTO ${TABLES.messages} (session_pk, agent_pk, seq, id, role, content, metadata, created_at)
       SELECT s.pk, a.pk, ?, ?, ?, ?, ?, ? FROM ${TABLES.sessions} s JOIN ${TABLES.users} u ON u.pk = s.user_pk, ${TABLES.agents} a
       WHERE u.id = 'u1' AND s.id = 's1' AND a.id = 'a1'`,
    );
    const v2: Array<Omit<Written, 'pk' | 'userId' | 'sessionId' | 'agentId' | 'seq' | 'timestamp'>> = [
      { id: '019b0000-0000-7000-8000-000000000001', role: 'system', content: [{ text: 'be brief' }] },
      { id: 'call#1 / "quoted"', role: 'tool', content: [{ toolResult: { id: 'c1', ok: true } }], metadata: { latencyMs: 12 } },
      { id: '019b0000-0000-7000-8000-000000000002', role: 'tool', content: [{ toolResult: { id: 'c2' } }] },
      { id: '019b0000-0000-7000-8000-000000000003', role: 'assistant', content: [{ text: 'done' }], metadata: { usage: { in: 3, out: 1 }, model: 'm' } },
    ];
    v2.forEach((m, i) => {
      const seq = 6 + i;
      const timestamp = 1_700_000_010_000 + i;
      const pk = Number(insert.run(seq, m.id, m.role, JSON.stringify(m.content), m.metadata ? JSON.stringify(m.metadata) : null, timestamp).lastInsertRowid);
      fixture.messages.push({ ...m, userId: 'u1', sessionId: 's1', agentId: 'a1', pk, seq, timestamp });
    });
    db.prepare(`UPDATE ${TABLES.sessions} SET last_activity_at = ? WHERE id = 's1'`).run(1_700_000_010_000 + v2.length - 1);
    delete fixture.deletedPk; // v2 messages were written after it
    return fixture;
  },
};

/** A copy of the migrations folder whose journal stops after `count` entries. */
function migrationsUpTo(count: number): string {
  const folder = join(dir, `migrations-${count}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(folder, { recursive: true });
  cpSync(migrationsFolder, folder, { recursive: true });
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, count) }));
  return folder;
}

/** A file with exactly those migrations (drizzle's own migrator) and its fixture written. */
function buildDatabase(version: SchemaVersion): { path: string; fixture: Fixture } {
  const path = tempFile(dir);
  const raw = new Database(path);
  try {
    raw.pragma('journal_mode = WAL');
    raw.pragma('foreign_keys = ON');
    if (version.count === 0) migrate(drizzle({ client: raw }), { migrationsFolder: release01 });
    else migrate(drizzle({ client: raw }), { migrationsFolder: migrationsUpTo(version.count), migrationsTable: MIGRATIONS_TABLE });
    return { path, fixture: version.write(raw) };
  } finally {
    raw.close();
  }
}

interface SchemaVersion {
  label: string;
  /** Entries of today's journal applied; 0: convostore 0.1's release instead. */
  count: number;
  write: (db: Database.Database) => Fixture;
}

const VERSION_0_1: SchemaVersion = { label: 'convostore 0.1 (as released)', count: 0, write: (db) => write0000(db, TABLES_0_1) };
const versions: SchemaVersion[] = [
  VERSION_0_1,
  ...journal.entries.map((e, i) => ({ label: e.tag, count: i + 1, write: (db: Database.Database) => fixtureWriters[e.tag]!(db) })),
];

/** An upgraded database, opened without migrating (a database that is not up to date fails to open). */
interface Upgraded {
  open(): Promise<SqlChatStorage>;
  output?: string;
  close(): Promise<void>;
}

const run = promisify(execFile);
const drizzleKit = join(root, 'node_modules', '.bin', 'drizzle-kit');

/** The ways a user upgrades a database. */
const upgraders: Array<[string, (path: string) => Promise<Upgraded>]> = [
  [
    'npx drizzle-kit migrate (file)',
    async (path) => {
      const { stdout, stderr } = await run(drizzleKit, ['migrate'], { cwd: root, env: { ...process.env, CONVOSTORE_DB_FILE: path, TURSO_DATABASE_URL: '' } });
      return { output: stdout + stderr, open: () => SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null }), close: async () => {} };
    },
  ],
  [
    'npx drizzle-kit migrate (HTTP, stand-in)',
    async (path) => {
      const server = await HranaServer.start({ file: path, token: TOKEN });
      try {
        const output = await drizzleKitMigrate(server.url, TOKEN);
        return { output, open: () => SqlChatStorage.openLibsql(server.url, { authToken: TOKEN, logger: null }), close: () => server.close() };
      } catch (error) {
        await server.close();
        throw error;
      }
    },
  ],
  [
    'openSqlite (migrate on open)',
    async (path) => {
      await (await SqlChatStorage.openSqlite(path, { logger: null })).close();
      return { open: () => SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null }), close: async () => {} };
    },
  ],
  [
    'openLibsql file: (migrate on open)',
    async (path) => {
      await (await SqlChatStorage.openLibsql(`file:${path}`, { logger: null })).close();
      return { open: () => SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null }), close: async () => {} };
    },
  ],
  [
    'openLibsql over HTTP with migrate: true (as npx convostore migrate)',
    async (path) => {
      const server = await HranaServer.start({ file: path, token: TOKEN });
      try {
        await (await SqlChatStorage.openLibsql(server.url, { authToken: TOKEN, migrate: true, logger: null })).close();
        return { open: () => SqlChatStorage.openLibsql(server.url, { authToken: TOKEN, logger: null }), close: () => server.close() };
      } catch (error) {
        await server.close();
        throw error;
      }
    },
  ],
];
const [kitFile, kitHttp, onOpenSqlite, onOpenLibsql, onOpenHttp] = upgraders;

const withTag = (agentId: string, role: Role, content: Array<Record<string, unknown>>) => {
  if (role !== 'assistant') return { role, content };
  const i = content.findIndex((b) => typeof b.text === 'string');
  return { role, content: content.map((b, j) => (j === i ? { ...b, text: `[${agentId}] ${b.text as string}` } : b)) };
};

const asSessionMessage = (m: Written): SessionMessage => ({
  agentId: m.agentId,
  id: idOf(m),
  seq: m.seq,
  role: m.role,
  content: m.content as SessionMessage['content'],
  timestamp: m.timestamp,
  ...(m.metadata ? { metadata: m.metadata } : {}),
});

const withoutAgent = ({ agentId: _, ...message }: SessionMessage) => message;

async function allSessionMessages(store: ChatStore, userId: string, sessionId: string, order: 'oldest' | 'newest' = 'oldest'): Promise<SessionMessage[]> {
  const items: SessionMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchSessionPage(userId, sessionId, { order, limit: 4, cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** Everything the fixture wrote reads the same through the API. */
async function expectSame(t: ExecutionContext, store: ChatStore, fixture: Fixture): Promise<void> {
  for (const { userId, sessionId, title, metadata } of fixture.sessions) {
    const written = fixture.messages.filter((m) => m.userId === userId && m.sessionId === sessionId).sort((a, b) => a.pk - b.pk);
    const where = `${userId}/${sessionId}`;
    // Across agents: the session's write order, by fetchAllChats and by session pages both ways.
    t.deepEqual(await store.fetchAllChats(userId, sessionId), written.map((m) => withTag(m.agentId, m.role, m.content)), `${where}: fetchAllChats`);
    t.deepEqual(await allSessionMessages(store, userId, sessionId), written.map(asSessionMessage), `${where}: session pages, oldest first`);
    t.deepEqual(await allSessionMessages(store, userId, sessionId, 'newest'), written.map(asSessionMessage).reverse(), `${where}: newest first`);
    for (const agentId of [...new Set(written.map((m) => m.agentId))]) {
      const conversation = written.filter((m) => m.agentId === agentId);
      t.deepEqual(await store.fetchChat(userId, sessionId, agentId), conversation.map((m) => ({ role: m.role, content: m.content })), `${where}/${agentId}`);
      const page = await store.fetchChatPage(userId, sessionId, agentId, { order: 'oldest', limit: 1000 });
      t.deepEqual(page.items, conversation.map((m) => withoutAgent(asSessionMessage(m))), `${where}/${agentId}: page`);
    }
    const summary = await store.getSession(userId, sessionId);
    t.is(summary?.messageCount, written.length, `${where}: count`);
    t.is(summary?.title, title, `${where}: title`);
    t.deepEqual(summary?.metadata, metadata, `${where}: metadata`);
    if (written.length > 0) t.is(summary?.lastActivityAt, Math.max(...written.map((m) => m.timestamp)), `${where}: last activity`);
  }
  const users = [...new Set(fixture.sessions.map((s) => s.userId))].sort();
  t.deepEqual((await store.listUsers()).items.sort(), users);
}

/** Every v2 operation on the upgraded data. */
async function exerciseV2(t: ExecutionContext, store: ChatStore, fixture: Fixture): Promise<void> {
  const s1 = fixture.messages.filter((m) => m.sessionId === 's1').sort((a, b) => a.pk - b.pk);
  const a2 = s1.filter((m) => m.agentId === 'a2');
  const first = s1[0]!;

  t.deepEqual(await store.getMessage('u1', 's1', idOf(first)), asSessionMessage(first), 'getMessage of a migrated message');
  const updated = await store.updateMessage('u1', 's1', idOf(first), { metadata: { edited: true } });
  t.deepEqual(updated, { ...asSessionMessage(first), metadata: { edited: true } }, 'updateMessage keeps id, seq and timestamp');

  // upsert: replace the last message of a1 in place, append after it; ids made now sort after migrated ones.
  const a1 = s1.filter((m) => m.agentId === 'a1');
  const last = a1[a1.length - 1]!;
  const stored = await store.upsertMessages(
    'u1',
    's1',
    'a1',
    [
      { id: idOf(last), role: last.role, content: 'replaced in place' },
      { role: 'user', content: 'appended after the upgrade' },
    ],
    { consecutiveRoles: 'keep' },
  );
  t.deepEqual(stored.map((m) => [m.id, m.seq, m.timestamp]).slice(0, 1), [[idOf(last), last.seq, last.timestamp]]);
  t.is(stored[1]!.seq, last.seq + 1);
  const migratedIds = fixture.messages.map(idOf).filter((id) => id.startsWith('00000000-'));
  t.true(migratedIds.every((id) => stored[1]!.id > id), 'an id made now sorts after every migrated one');
  if (fixture.deletedPk !== undefined) {
    t.true(stored.every((m) => m.id !== legacyId(fixture.deletedPk!)), "a deleted message's pk is not reused");
  }

  await store.updateSession('u1', 's1', { title: 'Renamed after the upgrade', metadata: { upgraded: 1 } });
  const session = await store.getSession('u1', 's1');
  t.is(session?.title, 'Renamed after the upgrade');
  t.like(session?.metadata ?? {}, { upgraded: 1 });

  const before = await allSessionMessages(store, 'u1', 's1');
  const fork = await store.forkSession('u1', 's1', 'forked', { upToMessageId: idOf(a2[2]!) });
  const upTo = before.findIndex((m) => m.id === idOf(a2[2]!));
  t.is(fork.messageCount, upTo + 1);
  t.deepEqual(await allSessionMessages(store, 'u1', 'forked'), before.slice(0, upTo + 1), 'the fork copies ids, order and timestamps');
  t.is((await store.getSession('u1', 'forked'))?.title, 'Renamed after the upgrade');

  const after = await store.fetchSessionPage('u1', 's1', { after: idOf(a2[0]!), order: 'oldest', limit: 2 });
  t.deepEqual(after.items.map((m) => m.id), before.slice(before.findIndex((m) => m.id === idOf(a2[0]!)) + 1).slice(0, 2).map((m) => m.id));

  t.is(await store.truncateAfter('u1', 's1', idOf(a2[1]!)), a2.length - 2, 'truncateAfter removes what a2 wrote after its second message');
  t.is(await store.deleteMessages('u1', 's1', [idOf(a2[0]!), 'no such id']), 1);
  t.deepEqual((await store.fetchChat('u1', 's1', 'a2')).map((m) => m.content), [a2[1]!.content]);
  t.is((await store.saveChatMessage('u1', 's1', 'a2', { role: 'user', content: 'a2 again' })).length, 2);
  t.is((await store.fetchSessionPage('u1', 'forked', { limit: 1000 })).items.length, upTo + 1, 'the fork is untouched by edits of its source');
}

/** Schema objects with their SQL, quoting and spacing aside (a renamed table's text is requoted by SQLite). */
function schemaOf(db: Database.Database): Array<[string, string, string]> {
  const rows = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'convostore_%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string | null }>;
  return rows.map((r) => [r.type, r.name, (r.sql ?? '').replace(/["`\s]/g, '')]);
}

let freshSchema: Array<[string, string, string]> | undefined;
function expectedSchema(): Array<[string, string, string]> {
  if (!freshSchema) {
    const db = new Database(':memory:');
    migrate(drizzle({ client: db }), { migrationsFolder, migrationsTable: MIGRATIONS_TABLE });
    freshSchema = schemaOf(db);
    db.close();
  }
  return freshSchema;
}

/** Around the store: ids, schema, journals and SQLite's own checks. */
function expectSound(t: ExecutionContext, path: string, fixture: Fixture): void {
  const db = new Database(path, { readonly: true });
  try {
    t.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
    t.deepEqual(db.pragma('foreign_key_check'), []);
    t.deepEqual(schemaOf(db), expectedSchema(), 'the same tables, columns, constraints and indexes as a fresh database');
    const applied = db.prepare(`SELECT created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at`).pluck().all().map(Number);
    t.deepEqual(applied, journal.entries.map((e) => e.when), "every migration recorded once, in convostore's journal");
    const legacyTables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'agents', 'sessions', 'messages')").pluck().all();
    t.deepEqual(legacyTables, [], "0.1's table names are free for the application");
    const ids = db.prepare(`SELECT pk, id FROM ${TABLES.messages} ORDER BY pk`).all() as Array<{ pk: number; id: string }>;
    const written = new Map(fixture.messages.map((m) => [m.pk, m]));
    const migrated = ids.filter((r) => written.has(r.pk) && written.get(r.pk)!.id === undefined);
    t.deepEqual(migrated.map((r) => r.id), migrated.map((r) => legacyId(r.pk)), 'each message written before ids got one from its pk');
    t.deepEqual([...migrated].sort((a, b) => (a.id < b.id ? -1 : 1)).map((r) => r.pk), migrated.map((r) => r.pk), 'ids follow the write order');
  } finally {
    db.close();
  }
}

/** The fixture deleted its newest message: the messages written after the upgrade took pks past it. */
function expectNoPkReuse(t: ExecutionContext, path: string, fixture: Fixture): void {
  if (fixture.deletedPk === undefined) return;
  const db = new Database(path, { readonly: true });
  try {
    const written = new Set(fixture.messages.map((m) => m.pk));
    const added = db.prepare(`SELECT pk FROM ${TABLES.messages} ORDER BY pk`).pluck().all().map(Number).filter((pk) => !written.has(pk));
    t.true(added.length > 0);
    t.true(added.every((pk) => pk > fixture.deletedPk!), `pks after the upgrade (${added.join(', ')}) are past the deleted ${fixture.deletedPk}`);
  } finally {
    db.close();
  }
}

test('every migration in the journal has a fixture writer', (t) => {
  t.true(journal.entries.length > 0);
  for (const { tag } of journal.entries) {
    t.truthy(fixtureWriters[tag], `migration ${tag} has no fixture writer in test/reliability/schema-upgrades.test.ts: add one`);
  }
});

/** drizzle-kit is slow to start: its two ways run on 0.1's release (what users have); the openers on every version. */
const cases: Array<[SchemaVersion, (typeof upgraders)[number]]> = [
  [VERSION_0_1, kitFile!],
  [VERSION_0_1, kitHttp!],
  [VERSION_0_1, onOpenHttp!],
  ...versions.flatMap((v): Array<[SchemaVersion, (typeof upgraders)[number]]> => [[v, onOpenSqlite!], [v, onOpenLibsql!]]),
];

for (const [version, [how, upgrade]] of cases) {
  test(`${how}: a database at ${version.label} upgrades with every conversation intact and every v2 operation working`, async (t) => {
    const { path, fixture } = buildDatabase(version);
    const upgraded = await upgrade(path);
    try {
      if (upgraded.output !== undefined) t.regex(upgraded.output, /migrations applied successfully/);
      const store = await upgraded.open();
      try {
        await expectSame(t, store, fixture);
        await exerciseV2(t, store, fixture);
      } finally {
        await store.close();
      }
    } finally {
      await upgraded.close();
    }
    expectSound(t, path, fixture);
    expectNoPkReuse(t, path, fixture);
  });
}

test("a 0.1 database's record leaves drizzle's default journal; the rest of that journal is the application's and stays", async (t) => {
  const { path } = buildDatabase(VERSION_0_1);
  const db = new Database(path);
  db.prepare(`INSERT INTO ${LEGACY_MIGRATIONS_TABLE} (hash, created_at) VALUES ('app-1', 1000), ('app-2', 4102444800000)`).run();
  db.close();
  await (await SqlChatStorage.openSqlite(path, { logger: null })).close();
  const check = new Database(path, { readonly: true });
  t.deepEqual(check.prepare(`SELECT hash, created_at FROM ${LEGACY_MIGRATIONS_TABLE} ORDER BY created_at`).raw().all(), [
    ['app-1', 1000],
    ['app-2', 4102444800000],
  ]);
  check.close();
});

// ---------------------------------------------------------------------------------------------
// One database, two drizzle schemas: an application's and convostore's.

/** An application's own drizzle migrations folder (drizzle's default journal), one migration per entry. */
function appMigrations(entries: Array<{ when: number; sql: string }>): string {
  const folder = join(dir, `app-migrations-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(folder, 'meta'), { recursive: true });
  const tags = entries.map((_, i) => `${String(i).padStart(4, '0')}_app`);
  entries.forEach((e, i) => writeFileSync(join(folder, `${tags[i]}.sql`), e.sql));
  writeFileSync(
    join(folder, 'meta/_journal.json'),
    JSON.stringify({ version: '7', dialect: 'sqlite', entries: entries.map((e, i) => ({ idx: i, version: '6', when: e.when, tag: tags[i], breakpoints: true })) }),
  );
  return folder;
}

const APP_USERS = {
  when: 1000,
  sql: "CREATE TABLE `users` (`id` integer PRIMARY KEY, `email` text NOT NULL UNIQUE);--> statement-breakpoint\nINSERT INTO `users` (`email`) VALUES ('ada@example.com'), ('alan@example.com');",
};
/** Newer than every convostore migration: in a shared journal it would hide them. */
const APP_SESSIONS = {
  when: 4102444800000,
  sql: "CREATE TABLE `sessions` (`token` text PRIMARY KEY, `user_id` integer NOT NULL REFERENCES `users`(`id`) ON DELETE CASCADE);--> statement-breakpoint\nINSERT INTO `sessions` VALUES ('t1', 1), ('t2', 2);",
};
/** Older than convostore's newest migration: in a shared journal it would be skipped. */
const APP_LATER_BUT_OLDER = {
  when: 1500,
  sql: "CREATE TABLE `messages` (`id` integer PRIMARY KEY, `body` text);--> statement-breakpoint\nINSERT INTO `messages` (`body`) VALUES ('the app''s own message');",
};

const APP_0_1_ERA = [
  { when: journal.entries[0]!.when + 1000, sql: 'CREATE TABLE `app_notes` (`id` integer PRIMARY KEY, `note` text);' },
  { when: 4102444800000, sql: "INSERT INTO `app_notes` (`note`) VALUES ('kept');" },
];

function applyApp(path: string, folder: string): void {
  const db = new Database(path);
  try {
    migrate(drizzle({ client: db }), { migrationsFolder: folder });
  } finally {
    db.close();
  }
}

/** The application's side of the database: its tables' schema and rows, and its journal. */
function appState(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'sessions', 'messages') ORDER BY name").all() as Array<{ name: string; sql: string }>;
    return {
      tables: tables.map((table) => ({ ...table, rows: db.prepare(`SELECT * FROM "${table.name}" ORDER BY 1`).all() })),
      journal: db.prepare(`SELECT hash, created_at FROM ${LEGACY_MIGRATIONS_TABLE} ORDER BY created_at`).all(),
    };
  } finally {
    db.close();
  }
}

for (const [how, upgrade] of upgraders) {
  test(`${how}: convostore migrates a new database holding an application's own users and sessions tables and journal, and leaves them untouched`, async (t) => {
    const path = tempFile(dir);
    applyApp(path, appMigrations([APP_USERS, APP_SESSIONS]));
    const app = appState(path);
    const upgraded = await upgrade(path);
    try {
      if (upgraded.output !== undefined) t.regex(upgraded.output, /migrations applied successfully/);
      const store = await upgraded.open();
      try {
        await store.saveChatMessage('ada', 'chat', 'bot', { role: 'user', content: 'hello' });
        t.is((await store.getSession('ada', 'chat'))?.messageCount, 1);
      } finally {
        await store.close();
      }
    } finally {
      await upgraded.close();
    }
    t.deepEqual(appState(path), app, "the application's tables, rows and journal are as it left them");
    const db = new Database(path, { readonly: true });
    t.deepEqual(db.prepare(`SELECT created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at`).pluck().all().map(Number), journal.entries.map((e) => e.when));
    t.deepEqual(db.pragma('foreign_key_check'), []);
    db.close();
  });
}

test("an application's migration older than convostore's newest still applies after convostore migrated", async (t) => {
  const path = tempFile(dir);
  applyApp(path, appMigrations([APP_USERS]));
  await (await SqlChatStorage.openSqlite(path, { logger: null })).close();
  t.true(APP_LATER_BUT_OLDER.when < latestWhen);
  applyApp(path, appMigrations([APP_USERS, APP_LATER_BUT_OLDER]));
  const db = new Database(path, { readonly: true });
  t.deepEqual(db.prepare('SELECT body FROM messages').pluck().all(), ["the app's own message"]);
  t.deepEqual(db.prepare(`SELECT created_at FROM ${LEGACY_MIGRATIONS_TABLE} ORDER BY created_at`).pluck().all().map(Number), [1000, 1500]);
  db.close();
});

for (const [how, upgrade] of [kitFile!, onOpenSqlite!]) {
  test(`${how}: a 0.1 database shared with an application upgrades; then the application can take the names users, sessions and messages`, async (t) => {
    const { path, fixture } = buildDatabase(VERSION_0_1);
    // In 0.1 both recorded their migrations in drizzle's default journal (so the application's had to
    // be newer than 0.1's 0000_init to run at all); its newest is newer than every convostore migration.
    applyApp(path, appMigrations(APP_0_1_ERA));
    const upgraded = await upgrade(path);
    try {
      const store = await upgraded.open();
      try {
        await expectSame(t, store, fixture);
      } finally {
        await store.close();
      }
    } finally {
      await upgraded.close();
    }
    expectSound(t, path, fixture);
    applyApp(
      path,
      appMigrations([
        ...APP_0_1_ERA,
        { when: 4102444900000, sql: [APP_USERS.sql, APP_SESSIONS.sql, APP_LATER_BUT_OLDER.sql].join('--> statement-breakpoint\n') },
      ]),
    );
    const db = new Database(path, { readonly: true });
    t.deepEqual(db.prepare(`SELECT created_at FROM ${LEGACY_MIGRATIONS_TABLE} ORDER BY created_at`).pluck().all().map(Number), [...APP_0_1_ERA.map((m) => m.when), 4102444900000]);
    t.deepEqual(db.prepare('SELECT count(*) FROM users').pluck().get(), 2);
    t.deepEqual(db.prepare('SELECT note FROM app_notes').pluck().all(), ['kept']);
    db.close();
    const store = await SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null });
    t.is((await store.fetchAllChats('u1', 's1')).length, 10, "convostore's data is where it was");
    await store.close();
  });
}

/**
 * The docs' second drizzle config: an application migrates convostore's migrations itself
 * (`out` = convostore's migrations folder, `migrations.table` = convostore's journal). It never
 * adopts a 0.1 database: 0000_init refuses one (a CHECK named after the way out) and changes nothing.
 */
test("an application's own drizzle config for convostore's migrations works on a new database and refuses a 0.1 database until it is adopted", async (t) => {
  const configDir = join(dir, `app-config-${Math.random().toString(36).slice(2)}`);
  mkdirSync(configDir, { recursive: true });
  const config = (file: string) => {
    const path = join(configDir, `drizzle.convostore.${Math.random().toString(36).slice(2)}.config.ts`);
    writeFileSync(
      path,
      `export default ${JSON.stringify({
        dialect: 'sqlite',
        out: migrationsFolder,
        migrations: { table: '__convostore_migrations' },
        tablesFilter: ['convostore_*'],
        dbCredentials: { url: file },
      })};\n`,
    );
    return path;
  };
  const kit = (file: string) => run(drizzleKit, ['migrate', '--config', config(file)], { cwd: configDir, env: { ...process.env, TURSO_DATABASE_URL: '' } });

  const fresh = tempFile(dir);
  applyApp(fresh, appMigrations([APP_USERS, APP_SESSIONS]));
  const app = appState(fresh);
  t.regex((await kit(fresh)).stdout, /migrations applied successfully/);
  t.deepEqual(appState(fresh), app);
  await (await SqlChatStorage.openLibsql(`file:${fresh}`, { migrate: false, logger: null })).close();

  const { path, fixture } = buildDatabase(VERSION_0_1);
  await t.throwsAsync(kit(path));
  const db = new Database(path, { readonly: true });
  t.is(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'convostore_%'`).pluck().get(), 0, 'no convostore table was made beside the 0.1 ones');
  t.is(db.prepare('SELECT count(*) FROM messages').pluck().get(), fixture.messages.length);
  t.is(db.prepare(`SELECT count(*) FROM ${LEGACY_MIGRATIONS_TABLE}`).pluck().get(), 1, "0.1's record is still where 0.1 put it");
  db.close();
  // Adopted by the store's migrate-on-open (or `npx convostore migrate`), the same config is then a no-op.
  await (await SqlChatStorage.openSqlite(path, { logger: null })).close();
  await kit(path);
  const store = await SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null });
  await expectSame(t, store, fixture);
  await store.close();
});

/**
 * The docs' drizzle config of an application sharing the database: its own schema (tables `users`
 * and `sessions`), and a tablesFilter that leaves convostore's tables and journal out, so
 * `drizzle-kit push` (which drops what the schema does not name) neither drops nor renames them.
 */
test("an application's drizzle-kit push with tablesFilter ['!convostore_*', '!__convostore_migrations'] creates its users and sessions and leaves convostore's alone", async (t) => {
  const appDir = join(dir, `app-push-${Math.random().toString(36).slice(2)}`);
  mkdirSync(appDir, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(appDir, 'node_modules'));
  const path = join(appDir, 'app.db');
  writeFileSync(
    join(appDir, 'schema.ts'),
    `import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
export const users = sqliteTable('users', { id: integer('id').primaryKey(), email: text('email').notNull() });
export const sessions = sqliteTable('sessions', { token: text('token').primaryKey(), userId: integer('user_id').notNull().references(() => users.id) });
`,
  );
  writeFileSync(
    join(appDir, 'drizzle.config.ts'),
    `export default ${JSON.stringify({ dialect: 'sqlite', schema: './schema.ts', out: './drizzle', tablesFilter: ['!convostore_*', '!__convostore_migrations'], dbCredentials: { url: path } })};\n`,
  );
  const store = await SqlChatStorage.openSqlite(path, { logger: null });
  await store.saveChatMessages('ada', 'chat', 'bot', [
    { role: 'user', content: 'hello' },
    { role: 'assistant', content: 'hi' },
  ]);
  await store.close();
  const before = (() => {
    const db = new Database(path, { readonly: true });
    try {
      return { schema: schemaOf(db), journal: db.prepare(`SELECT * FROM ${MIGRATIONS_TABLE}`).all() };
    } finally {
      db.close();
    }
  })();
  const push = () => run(drizzleKit, ['push', '--force'], { cwd: appDir, env: { ...process.env, TURSO_DATABASE_URL: '' } });
  t.regex((await push()).stdout, /Changes applied/);
  t.regex((await push()).stdout, /No changes detected/);
  const db = new Database(path, { readonly: true });
  t.deepEqual({ schema: schemaOf(db), journal: db.prepare(`SELECT * FROM ${MIGRATIONS_TABLE}`).all() }, before);
  t.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'sessions') ORDER BY name").pluck().all(), ['sessions', 'users']);
  db.close();
  const reopened = await SqlChatStorage.openLibsql(`file:${path}`, { migrate: false, logger: null });
  t.is((await reopened.fetchChat('ada', 'chat', 'bot')).length, 2);
  await reopened.close();
});

for (const [driver, open] of [
  ['sqlite', (path: string) => SqlChatStorage.openSqlite(path, { logger: null })],
  ['libsql', (path: string) => SqlChatStorage.openLibsql(`file:${path}`, { logger: null })],
] as const) {
  test(`${driver}: migrating an up-to-date database again is a no-op`, async (t) => {
    const path = tempFile(dir);
    const first = await open(path);
    await first.saveChatMessage('u', 's', 'a', { role: 'user', content: 'kept' });
    await first.close();
    const count = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT count(*) AS n, max(created_at) AS last FROM ${MIGRATIONS_TABLE}`).get();
      } finally {
        db.close();
      }
    };
    const before = count();
    // Once through the store's open path, once through drizzle's migrator directly.
    const second = await open(path);
    await second.close();
    const raw = new Database(path);
    migrate(drizzle({ client: raw }), { migrationsFolder, migrationsTable: MIGRATIONS_TABLE });
    raw.close();
    t.deepEqual(count(), before);
    const third = await open(path);
    t.deepEqual(await third.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'kept' }] }]);
    await third.close();
  });
}

const ROUNDS = 8;
for (const backend of sharedBackends) {
  test(`${backend.label}: two processes opening one new database at once both migrate and work (${ROUNDS} rounds)`, async (t) => {
    // The first database is created before the children start: they need its environment (credentials).
    let database = await backend.create();
    const children = ['first', 'second'].map((name) => startChild('opener', [name], database.env));
    try {
      await Promise.all(children.map((c) => c.next('ready')));
      for (let round = 0; round < ROUNDS; round++) {
        if (round > 0) database = await backend.create();
        for (const c of children) c.send(database.url);
        const results = await Promise.all(children.map((c) => c.next(`done-${round}`)));
        t.deepEqual(results.map((r) => r.error ?? r.read), [1, 1], `round ${round}: both processes opened, wrote and read`);
        if (database.integrity) t.is(await database.integrity(), 'ok');
        await database.dispose?.();
      }
    } finally {
      for (const c of children) c.process.stdin!.end();
      await Promise.all(children.map((c) => c.exited));
    }
  });
}
