/**
 * The relational model on a migrated file: tables, keys, checks and cascades, read straight from
 * SQLite's catalogue rather than trusted from the Drizzle schema.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { SqlChatStorage } from '../src/index.js';
import * as q from '../src/sql/queries.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('schema');

async function migratedFile(): Promise<string> {
  const path = tempFile(dir);
  const store = await SqlChatStorage.openSqlite(path, { logger: null });
  await store.saveChatMessages('alice', 's1', 'tech', [
    { role: 'user', content: 'q' },
    { role: 'assistant', content: 'a' },
  ]);
  await store.saveChatMessage('alice', 's2', 'billing', { role: 'user', content: 'q2' });
  await store.saveChatMessage('bob', 's1', 'tech', { role: 'user', content: 'bob' });
  await store.close();
  return path;
}

function open(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('foreign_keys = ON');
  return db;
}

test('a migrated file has the four tables and drizzle’s journal', async (t) => {
  const db = open(await migratedFile());
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all();
  t.deepEqual(tables, ['__drizzle_migrations', 'agents', 'messages', 'sessions', 'users']);
  t.is(db.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get(), 1);
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('foreign keys: sessions → users, messages → sessions and agents, all ON DELETE CASCADE', async (t) => {
  const db = open(await migratedFile());
  const fks = (table: string) =>
    (db.pragma(`foreign_key_list(${table})`) as Array<{ table: string; from: string; to: string; on_delete: string }>)
      .map((fk) => `${fk.from}->${fk.table}.${fk.to} ${fk.on_delete}`)
      .sort();
  t.deepEqual(fks('sessions'), ['user_pk->users.pk CASCADE']);
  t.deepEqual(fks('messages'), ['agent_pk->agents.pk CASCADE', 'session_pk->sessions.pk CASCADE']);
  t.deepEqual(fks('users'), []);
  t.deepEqual(db.pragma('foreign_key_check'), []);
  db.close();
});

test('indexes serve the reads: conversation window, session order, listing, TTL', async (t) => {
  const db = open(await migratedFile());
  const indexes = db
    .prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all();
  t.deepEqual(indexes, [
    { name: 'agents_id_unique', tbl_name: 'agents' },
    { name: 'messages_conversation_seq_unique', tbl_name: 'messages' },
    { name: 'messages_created_at_idx', tbl_name: 'messages' },
    { name: 'messages_session_idx', tbl_name: 'messages' },
    { name: 'sessions_user_activity_idx', tbl_name: 'sessions' },
    { name: 'sessions_user_id_unique', tbl_name: 'sessions' },
    { name: 'users_id_unique', tbl_name: 'users' },
  ]);
  // The store's own statements: index searches, no table scan, no sort.
  const plan = (query: { sql: string; params: readonly unknown[] }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(query.params.map(() => 1)) as Array<{ detail: string }>)
      .map((p) => p.detail)
      .join('\n');
  const window = plan(q.readNewest);
  t.regex(window, /SEARCH messages USING (COVERING )?INDEX messages_conversation_seq_unique \(session_pk=\? AND agent_pk=\? AND seq<\?\)/);
  t.regex(plan(q.readOldest), /SEARCH messages USING (COVERING )?INDEX messages_conversation_seq_unique/);
  t.regex(plan(q.readSession), /SEARCH m USING INDEX messages_session_idx/);
  t.regex(plan(q.listSessions), /SEARCH sessions USING (COVERING )?INDEX sessions_user_activity_idx/);
  for (const query of [q.readNewest, q.readOldest, q.readSession, q.listSessions, q.trimConversation]) {
    t.notRegex(plan(query), /SCAN (messages|sessions|m)\b/, query.sql);
  }
  t.notRegex(window, /TEMP B-TREE/);
  t.notRegex(plan(q.readSession), /TEMP B-TREE/);
  db.close();
});

test('deleting a user cascades to sessions and messages, and leaves other users alone', async (t) => {
  const db = open(await migratedFile());
  const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
  t.deepEqual([count('users'), count('sessions'), count('messages')], [2, 3, 4]);
  db.prepare('DELETE FROM users WHERE id = ?').run('alice');
  t.deepEqual([count('users'), count('sessions'), count('messages')], [1, 1, 1]);
  t.is(db.prepare('SELECT content FROM messages').pluck().get(), JSON.stringify([{ text: 'bob' }]));
  db.close();
});

test('constraints refuse a bad role, a duplicate position and an orphan message', async (t) => {
  const db = open(await migratedFile());
  const insert = db.prepare(
    'INSERT INTO messages (session_pk, agent_pk, seq, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  // better-sqlite3's SqliteError fails ava's `instanceof Error` check under the tsx loader, so the
  // message is read directly.
  const failure = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      return String((error as Error).message);
    }
    return 'did not throw';
  };
  t.regex(failure(() => insert.run(1, 1, 99, 'system', '[]', 0)), /CHECK constraint failed: messages_role_check/);
  t.regex(failure(() => insert.run(1, 1, 1, 'user', '[]', 0)), /UNIQUE constraint failed/);
  t.regex(failure(() => insert.run(999, 1, 1, 'user', '[]', 0)), /FOREIGN KEY constraint failed/);
  t.regex(failure(() => insert.run(1, 1, 0, 'user', '[]', 0)), /CHECK constraint failed: messages_seq_check/);
  t.regex(
    failure(() => db.prepare('INSERT INTO sessions (user_pk, id, created_at, last_activity_at) VALUES (1, ?, 0, 0)').run('s1')),
    /UNIQUE constraint failed/,
  );
  db.close();
});
