/**
 * Schema upgrades. For every prefix of migrations/meta/_journal.json: build a database with exactly
 * those migrations (drizzle's own migrator over a truncated copy of the folder), fill it with data
 * the way that schema version stores it, then open it with the store's own open path (which migrates
 * to the latest) and check every row is still there and readable through the API.
 *
 * A new migration cannot land without a fixture writer for its tag below: the harness fails.
 * Also: migrating twice is a no-op, and two processes opening one new file at once both succeed.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { SqlChatStorage, type ChatStore, type ConversationMessage } from '../../src/index.js';
import { migrationsFolder } from '../../src/sql/migrations.js';
import { integrityCheck, sharedBackends } from '../backends/registry.js';
import { startChild } from './spawn.js';
import { tempDir, tempFile } from '../helpers/tmp.js';

interface Journal {
  entries: Array<{ idx: number; tag: string; when: number }>;
}

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as Journal;
const dir = tempDir('schema');

/** What a fixture wrote, as the API must show it after the upgrade. */
interface Conversation {
  userId: string;
  sessionId: string;
  agentId: string;
  messages: ConversationMessage[];
  timestamps: number[];
}

/**
 * Per schema version (keyed by the tag of the last migration applied), a writer that fills a
 * database of exactly that version with raw SQL, as a store of that version would have, and returns
 * what it wrote. Write one for every new migration.
 */
const fixtureWriters: Record<string, (db: Database.Database) => Conversation[]> = {
  '0000_init': (db) => {
    const conversations: Conversation[] = [
      { userId: 'u1', sessionId: 's1', agentId: 'a1', messages: [], timestamps: [] },
      { userId: 'u1', sessionId: 's1', agentId: 'a2', messages: [], timestamps: [] },
      { userId: "o'brien \"#%_\"", sessionId: 's#1', agentId: 'ägent 😀', messages: [], timestamps: [] },
    ];
    const user = db.prepare('INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
    const agent = db.prepare('INSERT INTO agents (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING');
    const session = db.prepare(
      `INSERT INTO sessions (user_pk, id, created_at, last_activity_at) SELECT pk, ?, ?, ? FROM users WHERE id = ?
       ON CONFLICT (user_pk, id) DO UPDATE SET last_activity_at = excluded.last_activity_at`,
    );
    const message = db.prepare(
      `INSERT INTO messages (session_pk, agent_pk, seq, role, content, created_at)
       SELECT s.pk, a.pk, ?, ?, ?, ? FROM sessions s JOIN users u ON u.pk = s.user_pk, agents a
       WHERE u.id = ? AND s.id = ? AND a.id = ?`,
    );
    let time = 1_700_000_000_000;
    db.transaction(() => {
      for (let round = 0; round < 5; round++) {
        for (const c of conversations) {
          time += 1000;
          const m: ConversationMessage = {
            role: round % 2 === 0 ? 'user' : 'assistant',
            content: [{ text: `${c.agentId} round ${round}` }, { toolUse: { name: 't', input: { round, nested: [round, null, true] } } }],
          };
          user.run(c.userId, time);
          agent.run(c.agentId, time);
          session.run(c.sessionId, time, time, c.userId);
          message.run(round + 1, m.role, JSON.stringify(m.content), time, c.userId, c.sessionId, c.agentId);
          c.messages.push(m);
          c.timestamps.push(time);
        }
      }
    })();
    return conversations;
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

async function expectReadable(t: import('ava').ExecutionContext, store: ChatStore, conversations: Conversation[]): Promise<void> {
  for (const c of conversations) {
    t.deepEqual(await store.fetchChat(c.userId, c.sessionId, c.agentId), c.messages, `${c.userId}/${c.sessionId}/${c.agentId}`);
    const page = await store.fetchChatPage(c.userId, c.sessionId, c.agentId, { order: 'oldest', limit: 1000 });
    t.deepEqual(page.items.map((m) => [m.seq, m.timestamp]), c.timestamps.map((ts, i) => [i + 1, ts]));
  }
  const users = [...new Set(conversations.map((c) => c.userId))].sort();
  t.deepEqual((await store.listUsers()).items.sort(), users);
  for (const userId of users) {
    const sessions = (await store.listSessions(userId)).items;
    const expected = conversations.filter((c) => c.userId === userId);
    t.is(sessions.reduce((n, s) => n + s.messageCount, 0), expected.reduce((n, c) => n + c.messages.length, 0), `${userId}'s counts`);
  }
}

test('every migration in the journal has a fixture writer', (t) => {
  t.true(journal.entries.length > 0);
  for (const { tag } of journal.entries) {
    t.truthy(fixtureWriters[tag], `migration ${tag} has no fixture writer in test/reliability/schema-upgrades.test.ts: add one`);
  }
});

const openers: Array<[string, (path: string) => Promise<SqlChatStorage>]> = [
  ['sqlite', (path) => SqlChatStorage.openSqlite(path, { logger: null })],
  ['libsql', (path) => SqlChatStorage.openLibsql(`file:${path}`, { logger: null })],
];

for (let count = 1; count <= journal.entries.length; count++) {
  const tag = journal.entries[count - 1]!.tag;
  for (const [driver, open] of openers) {
    test(`${driver}: a database at ${tag} upgrades to the latest schema with every row readable`, async (t) => {
      const writer = fixtureWriters[tag];
      if (!writer) return t.fail(`no fixture writer for ${tag}`);
      const path = tempFile(dir);
      const raw = new Database(path);
      migrate(drizzle({ client: raw }), { migrationsFolder: migrationsUpTo(count) });
      t.is((raw.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n, count);
      const written = writer(raw);
      raw.close();

      const store = await open(path);
      try {
        await expectReadable(t, store, written);
        // The upgraded database takes new writes after the old rows.
        const c = written[0]!;
        const role = c.messages[c.messages.length - 1]!.role === 'user' ? 'assistant' : 'user';
        await store.saveChatMessage(c.userId, c.sessionId, c.agentId, { role, content: 'after upgrade' });
        const newest = await store.fetchChatPage(c.userId, c.sessionId, c.agentId, { limit: 1 });
        t.is(newest.items[0]!.seq, c.messages.length + 1);
      } finally {
        await store.close();
      }
      const check = new Database(path, { readonly: true });
      t.is((check.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n, journal.entries.length);
      check.close();
      t.is(await integrityCheck(path), 'ok');
    });
  }
}

for (const [driver, open] of openers) {
  test(`${driver}: migrating an up-to-date database again is a no-op`, async (t) => {
    const path = tempFile(dir);
    const first = await open(path);
    await first.saveChatMessage('u', 's', 'a', { role: 'user', content: 'kept' });
    await first.close();
    const count = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare('SELECT count(*) AS n, max(created_at) AS last FROM __drizzle_migrations').get();
      } finally {
        db.close();
      }
    };
    const before = count();
    // Once through the store's open path, once through drizzle's migrator directly.
    const second = await open(path);
    await second.close();
    const raw = new Database(path);
    migrate(drizzle({ client: raw }), { migrationsFolder });
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
