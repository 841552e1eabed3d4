/**
 * `convostore import-agent-squad` on a table made by Agent Squad's own DDL and written the way its
 * SqlChatStorage writes (awslabs/agent-squad, typescript/src/storage/sqlChatStorage.ts).
 */
import test from 'ava';
import { createClient, type Client } from '@libsql/client';
import { openStorage, type ChatStore, type ConversationMessage } from '../src/index.js';
import { cli, ensureBuilt } from './helpers/cli.js';
import { allMessages } from './helpers/snapshot.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('cli-agent-squad');

test.before(ensureBuilt);

/** Agent Squad's initializeDatabase, verbatim. */
async function agentSquadTable(client: Client): Promise<void> {
  await client.execute(/*sql*/ `
        CREATE TABLE IF NOT EXISTS conversations (
          user_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          agent_id TEXT NOT NULL,
          message_index INTEGER NOT NULL,
          role TEXT NOT NULL,
          content TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          PRIMARY KEY (user_id, session_id, agent_id, message_index)
        );
      `);
  await client.execute(/*sql*/ `
        CREATE INDEX IF NOT EXISTS idx_conversations_lookup
        ON conversations(user_id, session_id, agent_id);
      `);
}

/** Agent Squad's saveChatMessage: next index, content as JSON text, then its maxHistorySize trim. */
async function agentSquadSave(client: Client, ids: [string, string, string], message: ConversationMessage, timestamp: number, maxHistorySize?: number) {
  const tx = await client.transaction('write');
  const next = await tx.execute({
    sql: 'SELECT COALESCE(MAX(message_index) + 1, 0) as next_index FROM conversations WHERE user_id = ? AND session_id = ? AND agent_id = ?',
    args: ids,
  });
  await tx.execute({
    sql: 'INSERT INTO conversations (user_id, session_id, agent_id, message_index, role, content, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?)',
    args: [...ids, next.rows[0]!.next_index as number, message.role, JSON.stringify(message.content), timestamp],
  });
  if (maxHistorySize !== undefined) {
    await tx.execute({
      sql: `DELETE FROM conversations WHERE user_id = ? AND session_id = ? AND agent_id = ?
            AND message_index <= (SELECT MAX(message_index) - ? FROM conversations WHERE user_id = ? AND session_id = ? AND agent_id = ?)`,
      args: [...ids, maxHistorySize, ...ids],
    });
  }
  await tx.commit();
}

/** Agent Squad's fetchAllChats, for comparison. */
async function agentSquadFetchAllChats(client: Client, userId: string, sessionId: string): Promise<ConversationMessage[]> {
  const { rows } = await client.execute({
    sql: 'SELECT role, content, timestamp, agent_id FROM conversations WHERE user_id = ? AND session_id = ? ORDER BY timestamp ASC',
    args: [userId, sessionId],
  });
  return rows.map((r) => ({
    role: r.role as ConversationMessage['role'],
    content:
      r.role === 'assistant'
        ? [{ text: `[${String(r.agent_id)}] ${JSON.parse(r.content as string)[0]?.text || ''}` }]
        : JSON.parse(r.content as string),
  }));
}

const say = (role: 'user' | 'assistant', text: string): ConversationMessage => ({ role, content: [{ text }] });

async function agentSquadDatabase(): Promise<{ url: string; client: Client }> {
  const url = `file:${tempFile(dir)}`;
  const client = createClient({ url });
  await agentSquadTable(client);
  let t = 1_710_000_000_000;
  const tick = () => (t += 250);
  // A classifier routing one user's turns between two agents, as Agent Squad does.
  for (let turn = 0; turn < 6; turn++) {
    const agent = turn % 3 === 2 ? 'billing-agent' : 'tech-agent';
    await agentSquadSave(client, ['user-1', 'session-1', agent], say('user', `question ${turn}`), tick());
    await agentSquadSave(client, ['user-1', 'session-1', agent], say('assistant', `answer ${turn}`), tick());
  }
  await agentSquadSave(client, ['user-1', 'session-2', 'tech-agent'], {
    role: 'user',
    content: [{ text: 'look' }, { image: { format: 'png', source: { bytes: 'aGk=' } } }],
  }, tick());
  await agentSquadSave(client, ['user-1', 'session-2', 'tech-agent'], {
    role: 'assistant',
    content: [{ toolUse: { toolUseId: 'x', name: 'describe', input: {} } }],
  }, tick());
  // maxHistorySize 4: Agent Squad deleted the oldest rows, so this conversation starts at index 6.
  for (let i = 0; i < 10; i++) {
    await agentSquadSave(client, ['user-2', 'sé/ssion#1', 'tech-agent'], say(i % 2 ? 'assistant' : 'user', `m${i}`), tick(), 4);
  }
  return { url, client };
}

async function rowsOf(client: Client, ids: [string, string, string]) {
  const { rows } = await client.execute({
    sql: 'SELECT role, content, timestamp FROM conversations WHERE user_id = ? AND session_id = ? AND agent_id = ? ORDER BY message_index',
    args: ids,
  });
  return rows.map((r) => ({ role: r.role, content: JSON.parse(r.content as string), timestamp: Number(r.timestamp) }));
}

async function withStore<T>(url: string, body: (store: ChatStore) => Promise<T>): Promise<T> {
  const store = await openStorage(url, { logger: null });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

test('every Agent Squad row arrives in its conversation, in order, with its content and timestamp', async (t) => {
  const { url, client } = await agentSquadDatabase();
  const dest = tempFile(dir);
  const run = await cli(['import-agent-squad', '--from', url, '--to', dest]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /: 18 messages, 0 already present \(18 read in 3 sessions, 4 conversations\) .*; verified: 4 conversations, 18 messages at the destination\n$/);

  await withStore(dest, async (store) => {
    const conversations: Array<[string, string, string]> = [
      ['user-1', 'session-1', 'tech-agent'],
      ['user-1', 'session-1', 'billing-agent'],
      ['user-1', 'session-2', 'tech-agent'],
      ['user-2', 'sé/ssion#1', 'tech-agent'],
    ];
    for (const ids of conversations) {
      const stored = (await allMessages(store, ...ids)).map(({ role, content, timestamp }) => ({ role, content, timestamp }));
      t.deepEqual(stored, await rowsOf(client, ids), ids.join(' '));
    }
    t.is((await rowsOf(client, ['user-2', 'sé/ssion#1', 'tech-agent'])).length, 4);
    // The session reads back as Agent Squad itself would show it.
    t.deepEqual(await store.fetchAllChats('user-1', 'session-1'), await agentSquadFetchAllChats(client, 'user-1', 'session-1'));
    const { rows } = await client.execute("SELECT min(timestamp) AS first, max(timestamp) AS last FROM conversations WHERE session_id = 'session-1'");
    t.like((await store.listSessions('user-1')).items.find((s) => s.sessionId === 'session-1'), {
      createdAt: Number(rows[0]!.first),
      lastActivityAt: Number(rows[0]!.last),
      messageCount: 12,
    });
  });

  const again = await cli(['import-agent-squad', '--from', url, '--to', dest]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /: 0 messages, 18 already present/);
  client.close();
});

test('--user narrows the import; rows Agent Squad could not have written are reported and stop their session', async (t) => {
  const { url, client } = await agentSquadDatabase();
  await client.execute({
    sql: 'INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?)',
    args: ['user-2', 'sé/ssion#1', 'tech-agent', 100, 'user', 'not json', 1_720_000_000_000],
  });
  const dest = tempFile(dir);
  const one = await cli(['import-agent-squad', '--from', url, '--to', dest, '--user', 'user-1']);
  t.is(one.code, 0, one.stderr);
  t.regex(one.stderr, /: 14 messages, 0 already present/);

  const all = await cli(['import-agent-squad', '--from', url, '--to', dest]);
  t.is(all.code, 1);
  t.regex(all.stderr, /convostore: conversations row \(user_id "user-2", session_id "sé\/ssion#1", agent_id "tech-agent", message_index 100\): content: is not JSON; the rest of this session is not imported/);
  // The bad row fails the write it would have joined: user-2's four good rows were in it.
  // v2: a session is written in its order across agents, so a bad row stops its session.
  t.regex(all.stderr, /: 0 messages, 14 already present .*1 problem, 1 session incomplete/);
  await withStore(dest, async (store) => t.is((await store.fetchChat('user-2', 'sé/ssion#1', 'tech-agent')).length, 0));

  // With smaller writes, those before the bad row's are made; the conversation stops there.
  const small = await cli(['import-agent-squad', '--from', url, '--to', dest, '--batch-size', '2']);
  t.is(small.code, 1);
  t.regex(small.stderr, /: 4 messages, 14 already present .*1 problem, 1 session incomplete/);
  await withStore(dest, async (store) => t.is((await store.fetchChat('user-2', 'sé/ssion#1', 'tech-agent')).length, 4));
  client.close();
});

test('rows get ids derived from (user, session, agent, message_index): the same in every import, so a second one finds the first', async (t) => {
  const { url, client } = await agentSquadDatabase();
  const views: unknown[] = [];
  for (const dest of [tempFile(dir), `file:${tempFile(dir)}`]) {
    const run = await cli(['import-agent-squad', '--from', url, '--to', dest]);
    t.is(run.code, 0, run.stderr);
    views.push(
      await withStore(dest, async (store) => {
        const page = await store.fetchSessionPage('user-1', 'session-1', { order: 'oldest', limit: 100 });
        return page.items;
      }),
    );
  }
  const [first, second] = views as Array<Array<{ id: string; agentId: string; role: string }>>;
  t.deepEqual(first, second);
  t.is(new Set(first!.map((m) => m.id)).size, 12);
  for (const m of first!) t.regex(m.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  // The session order is Agent Squad's own (by timestamp): the classifier's routing, turn by turn.
  t.deepEqual(first!.map((m) => m.agentId), ['tech-agent', 'tech-agent', 'tech-agent', 'tech-agent', 'billing-agent', 'billing-agent', 'tech-agent', 'tech-agent', 'tech-agent', 'tech-agent', 'billing-agent', 'billing-agent']);
  client.close();
});

test('a database without Agent Squad\'s table is refused in one line', async (t) => {
  const url = `file:${tempFile(dir)}`;
  const client = createClient({ url });
  await client.execute('CREATE TABLE conversations (user_id TEXT, session_id TEXT)');
  client.close();
  const run = await cli(['import-agent-squad', '--from', url, '--to', 'memory:']);
  t.is(run.code, 1);
  t.is(run.stderr, `convostore: the 'conversations' table at ${url} lacks Agent Squad's column(s) agent_id, message_index, role, content, timestamp\n`);
  const empty = await cli(['import-agent-squad', '--from', tempFile(dir), '--to', 'memory:']);
  t.regex(empty.stderr, /^convostore: .* has no 'conversations' table \(the table Agent Squad's SqlChatStorage creates\)\n$/);
  t.is((await cli(['import-agent-squad', '--to', 'memory:'])).code, 2);
});
