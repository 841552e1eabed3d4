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

test('a migrated file has convostore’s tables and its own migration journal', async (t) => {
  const db = open(await migratedFile());
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all();
  t.deepEqual(tables, [
    '__convostore_migrations',
    'convostore_agents',
    'convostore_messages',
    'convostore_refusals',
    'convostore_sessions',
    'convostore_users',
  ]);
  t.is(db.prepare('SELECT count(*) FROM __convostore_migrations').pluck().get(), 2);
  t.is(db.prepare('SELECT count(*) FROM convostore_refusals').pluck().get(), 0, 'the refusals table stays empty');
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('foreign keys: sessions → users, messages → sessions and agents, all ON DELETE CASCADE', async (t) => {
  const db = open(await migratedFile());
  const fks = (table: string) =>
    (db.pragma(`foreign_key_list(${table})`) as Array<{ table: string; from: string; to: string; on_delete: string }>)
      .map((fk) => `${fk.from}->${fk.table}.${fk.to} ${fk.on_delete}`)
      .sort();
  t.deepEqual(fks('convostore_sessions'), ['user_pk->convostore_users.pk CASCADE']);
  t.deepEqual(fks('convostore_messages'), ['agent_pk->convostore_agents.pk CASCADE', 'session_pk->convostore_sessions.pk CASCADE']);
  t.deepEqual(fks('convostore_users'), []);
  t.deepEqual(db.pragma('foreign_key_check'), []);
  db.close();
});

test('indexes serve the reads: conversation window, session order, message by id, listing, TTL', async (t) => {
  const db = open(await migratedFile());
  const indexes = db
    .prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all();
  t.deepEqual(indexes, [
    { name: 'convostore_agents_id_unique', tbl_name: 'convostore_agents' },
    { name: 'convostore_messages_conversation_seq_unique', tbl_name: 'convostore_messages' },
    { name: 'convostore_messages_created_at_idx', tbl_name: 'convostore_messages' },
    { name: 'convostore_messages_session_id_unique', tbl_name: 'convostore_messages' },
    { name: 'convostore_messages_session_idx', tbl_name: 'convostore_messages' },
    { name: 'convostore_sessions_user_activity_idx', tbl_name: 'convostore_sessions' },
    { name: 'convostore_sessions_user_id_unique', tbl_name: 'convostore_sessions' },
    { name: 'convostore_users_id_unique', tbl_name: 'convostore_users' },
  ]);
  // The store's own statements: index searches, no table scan, no sort.
  const plan = (query: { sql: string; params: readonly unknown[] }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(query.params.map(() => 1)) as Array<{ detail: string }>)
      .map((p) => p.detail)
      .join('\n');
  const window = plan(q.readNewest);
  t.regex(
    window,
    /SEARCH convostore_messages USING (COVERING )?INDEX convostore_messages_conversation_seq_unique \(session_pk=\? AND agent_pk=\? AND seq<\?\)/,
  );
  t.regex(plan(q.readOldest), /SEARCH convostore_messages USING (COVERING )?INDEX convostore_messages_conversation_seq_unique/);
  for (const page of [q.readSessionOldest, q.readSessionNewest, q.readSessionOldestAfter, q.readSessionNewestAfter]) {
    t.regex(plan(page), /SEARCH m USING INDEX convostore_messages_session_idx \(session_pk=\? AND rowid[<>]\?\)/);
    t.notRegex(plan(page), /TEMP B-TREE/, page.sql);
  }
  t.regex(plan(q.getMessage), /SEARCH m USING INDEX convostore_messages_session_id_unique \(session_pk=\? AND id=\?\)/);
  t.regex(plan(q.listSessions), /SEARCH convostore_sessions USING (COVERING )?INDEX convostore_sessions_user_activity_idx/);
  t.regex(plan(q.writeMessages(3, 'skip', 'append')), /SEARCH m USING (COVERING )?INDEX convostore_messages_session_id_unique/);
  // Every statement of the store: index searches only, never a scan of messages or sessions. (A
  // whole-table scan is what prune is for; its statements are left out.)
  const statements = [
    q.readNewest,
    q.readOldest,
    q.readSessionOldest,
    q.readSessionNewest,
    q.readSessionOldestAfter,
    q.readSessionNewestAfter,
    q.getMessage,
    q.listSessions,
    q.getSession,
    q.trimConversation,
    q.refuseUnexpectedLast,
    q.deleteConversationIds,
    q.countStoredIds,
    q.readConversationIds,
    q.refuseTooLarge,
    q.updateMessage,
    q.deleteSessionIds,
    q.refuseUnknownMessage,
    q.truncateConversation,
    q.readSessionMetadata,
    q.updateSession,
    q.refuseForkWithoutSource,
    q.refuseForkOntoExisting,
    q.forkSessionRow,
    q.forkMessages,
    q.deleteConversationMessages,
    q.deleteSessionIfEmpty,
    q.writeMessages(3, 'keep', 'upsert'),
    q.writeMessages(3, 'throw', 'append'),
  ];
  for (const query of statements) {
    t.notRegex(plan(query), /SCAN (convostore_messages|convostore_sessions|m|s)\b/, query.sql);
  }
  t.notRegex(window, /TEMP B-TREE/);
  db.close();
});

test('deleting a user cascades to sessions and messages, and leaves other users alone', async (t) => {
  const db = open(await migratedFile());
  const count = (table: string) => db.prepare(`SELECT count(*) FROM convostore_${table}`).pluck().get();
  t.deepEqual([count('users'), count('sessions'), count('messages')], [2, 3, 4]);
  db.prepare('DELETE FROM convostore_users WHERE id = ?').run('alice');
  t.deepEqual([count('users'), count('sessions'), count('messages')], [1, 1, 1]);
  t.is(db.prepare('SELECT content FROM convostore_messages').pluck().get(), JSON.stringify([{ text: 'bob' }]));
  db.close();
});

test('constraints refuse a bad role, a duplicate position or id and an orphan message', async (t) => {
  const db = open(await migratedFile());
  const insert = db.prepare(
    'INSERT INTO convostore_messages (session_pk, agent_pk, seq, id, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let n = 0;
  const run = (sessionPk: number, seq: number, role: string, id = `fresh-${n++}`) => insert.run(sessionPk, 1, seq, id, role, '[]', 0);
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
  t.regex(failure(() => run(1, 99, 'developer')), /CHECK constraint failed: convostore_messages_role_check/);
  t.is(failure(() => run(1, 99, 'system')), 'did not throw', 'system and tool are roles now');
  t.is(failure(() => run(1, 100, 'tool')), 'did not throw');
  t.regex(failure(() => run(1, 1, 'user')), /UNIQUE constraint failed: convostore_messages\.session_pk, convostore_messages\.agent_pk/);
  const taken = db.prepare('SELECT id FROM convostore_messages WHERE session_pk = 1 LIMIT 1').pluck().get() as string;
  t.regex(failure(() => run(1, 101, 'user', taken)), /UNIQUE constraint failed: convostore_messages\.session_pk, convostore_messages\.id/);
  t.is(failure(() => run(2, 101, 'user', taken)), 'did not throw', 'ids are unique per session, not store-wide');
  t.regex(failure(() => run(999, 1, 'user')), /FOREIGN KEY constraint failed/);
  t.regex(failure(() => run(1, 0, 'user')), /CHECK constraint failed: convostore_messages_seq_check/);
  t.regex(
    failure(() => db.prepare('INSERT INTO convostore_sessions (user_pk, id, created_at, last_activity_at) VALUES (1, ?, 0, 0)').run('s1')),
    /UNIQUE constraint failed/,
  );
  t.regex(failure(() => db.prepare('INSERT INTO convostore_refusals (conflict) VALUES (1)').run()), /CHECK constraint failed: convostore_refused_conflict/);
  db.close();
});

test('at 100,000 messages in one session, with statistics gathered, every statement is still an index search', async (t) => {
  // The planner chooses by statistics: with one huge session among small ones, a plan that was an
  // index search on a small file could turn into a scan. So: a large, skewed file, ANALYZEd.
  const path = await migratedFile();
  const db = open(path);
  const session = db.prepare("SELECT pk FROM convostore_sessions WHERE id = 's1' ORDER BY pk LIMIT 1").pluck().get() as number;
  const insert = db.prepare(
    'INSERT INTO convostore_messages (session_pk, agent_pk, seq, id, role, content, created_at) VALUES (?, 1, ?, ?, ?, ?, ?)',
  );
  db.transaction(() => {
    for (let i = 0; i < 100_000; i++) insert.run(session, 1000 + i, `bulk-${i}`, i % 2 ? 'assistant' : 'user', '[{"text":"x"}]', i);
  })();
  db.exec('ANALYZE');
  const plan = (query: { sql: string; params: readonly unknown[] }) =>
    (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(query.params.map(() => 1)) as Array<{ detail: string }>)
      .map((p) => p.detail)
      .join('\n');
  const statements = {
    readNewest: q.readNewest,
    readSessionOldest: q.readSessionOldest,
    readSessionNewestAfter: q.readSessionNewestAfter,
    getMessage: q.getMessage,
    getSession: q.getSession,
    listSessions: q.listSessions,
    refuseUnexpectedLast: q.refuseUnexpectedLast,
    countStoredIds: q.countStoredIds,
    deleteSessionIds: q.deleteSessionIds,
    truncateConversation: q.truncateConversation,
    forkMessages: q.forkMessages,
    updateMessage: q.updateMessage,
    writeMessages: q.writeMessages(2, 'skip', 'upsert'),
  };
  for (const [name, query] of Object.entries(statements)) {
    t.notRegex(plan(query), /SCAN (convostore_messages|convostore_sessions|m|s)\b/, `${name}:\n${plan(query)}`);
  }
  db.close();
});
