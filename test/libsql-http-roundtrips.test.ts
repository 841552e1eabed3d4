/**
 * HTTP round trips per operation against a remote libSQL database, counted by the sqld stand-in.
 * Every store operation is one statement or one batch, so each costs exactly one request; these
 * assertions keep it that way. The measured table is logged (`npx ava --verbose`) and quoted in
 * docs/turso.md.
 */
import test from 'ava';
import { SqlChatStorage, type ConversationMessage } from '../src/index.js';
import type { Value } from './hrana/protocol.js';
import { standInFor } from './helpers/hrana.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('hrana-rt');
const authToken = 'rt-token';

function dialogue(n: number): ConversationMessage[] {
  return Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: [{ text: `m${i}` }] }));
}

test('every operation costs one HTTP round trip; opening a migrated database costs one', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  const table: Array<[string, number]> = [];
  const measure = async <T>(label: string, operation: () => Promise<T>): Promise<T> => {
    server.resetCount();
    const result = await operation();
    t.true(server.requests.every((r) => r.method === 'POST' && r.path === '/v2/pipeline'), label);
    table.push([label, server.requests.length]);
    return result;
  };

  const migrating = await measure('openLibsql(url, { migrate: true }) on an empty database', () =>
    SqlChatStorage.openLibsql(server.url, { authToken, migrate: true }),
  );
  await migrating.close();
  const store = await measure('openLibsql(url) on a migrated database', () =>
    SqlChatStorage.openLibsql(server.url, { authToken, logger: null, retention: { maxMessages: 5_000, ttlMs: 86_400_000 } }),
  );
  t.teardown(() => store.close());

  await measure('saveChatMessage (first of a conversation)', () => store.saveChatMessage('u', 's', 'a', dialogue(1)[0]!));
  await measure('saveChatMessage', () => store.saveChatMessage('u', 's', 'a', dialogue(2)[1]!));
  await measure('saveChatMessage with maxHistorySize', () => store.saveChatMessage('u', 's', 'a', dialogue(1)[0]!, 4));
  await measure('saveChatMessage skipped (consecutive role)', () => store.saveChatMessage('u', 's', 'a', dialogue(1)[0]!));
  await measure('saveChatMessages (10)', () => store.saveChatMessages('u', 's', 'b', dialogue(10)));
  const window = await measure('saveChatMessages (1,000)', () => store.saveChatMessages('u', 's2', 'c', dialogue(1_000), 20));
  t.is(window.length, 20);
  t.is((await store.fetchChat('u', 's2', 'c')).length, 1_000);
  await measure('fetchChat', () => store.fetchChat('u', 's', 'a'));
  await measure('fetchChat with maxHistorySize', () => store.fetchChat('u', 's', 'a', 2));
  await measure('fetchAllChats', () => store.fetchAllChats('u', 's'));
  const page = await measure('fetchChatPage', () => store.fetchChatPage('u', 's2', 'c', { limit: 50 }));
  await measure('fetchChatPage (next page, by cursor)', () => store.fetchChatPage('u', 's2', 'c', { limit: 50, cursor: page.nextCursor! }));
  await measure('listSessions', () => store.listSessions('u'));
  const [first] = (await store.fetchSessionPage('u', 's', { order: 'oldest', limit: 1 })).items;
  await measure('fetchSessionPage', () => store.fetchSessionPage('u', 's', { limit: 50 }));
  await measure('fetchSessionPage after a message', () => store.fetchSessionPage('u', 's', { after: first!.id, order: 'oldest' }));
  await measure('getMessage', () => store.getMessage('u', 's', first!.id));
  await measure('updateMessage', () => store.updateMessage('u', 's', first!.id, { metadata: { edited: true } }));
  await measure('upsertMessages (replace, append, deleteIds, expectLastIds)', async () => {
    const last = (await store.fetchChatPage('u', 's', 'a', { limit: 1 })).items[0]!;
    server.resetCount(); // the read above is the caller's, not the upsert's
    return store.upsertMessages('u', 's', 'a', [{ role: 'user', content: 'again' }], { expectLastIds: [last.id], deleteIds: [last.id] });
  });
  await measure('truncateAfter', () => store.truncateAfter('u', 's', first!.id));
  await measure('deleteMessages', () => store.deleteMessages('u', 's', [first!.id]));
  await measure('getSession', () => store.getSession('u', 's'));
  await measure('updateSession (title)', () => store.updateSession('u', 's', { title: 'T' }));
  await measure('updateSession (metadata: read, then a conditioned write)', () => store.updateSession('u', 's', { metadata: { k: 1 } }));
  await measure('forkSession', () => store.forkSession('u', 's2', 's3'));
  await measure('listUsers', () => store.listUsers());
  await measure('deleteConversation', () => store.deleteConversation('u', 's', 'b'));
  await measure('deleteSession', () => store.deleteSession('u', 's2'));
  await measure('prune (TTL and max messages)', () => store.prune());
  await measure('deleteUser', () => store.deleteUser('u'));
  await measure('close', () => store.close());

  t.log(`\n| operation | HTTP round trips |\n| --- | --- |\n${table.map(([label, n]) => `| ${label} | ${n} |`).join('\n')}`);
  for (const [label, n] of table) {
    // Migrating an empty database: the journal check, a look for a 0.1 journal to adopt, drizzle's migrator.
    if (label.startsWith('openLibsql(url, { migrate: true })')) t.true(n <= 5, `${label}: ${n}`);
    else if (label === 'close') t.is(n, 0, label);
    else if (label.startsWith('updateSession (metadata')) t.is(n, 2, label);
    else t.is(n, 1, label);
  }
});

test('integers travel as Hrana integers, never as floats', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  const store = await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true, logger: null });
  t.teardown(() => store.close());
  server.resetCount();
  await store.saveChatMessages('u', 's', 'a', dialogue(3), 2);
  await store.fetchChatPage('u', 's', 'a', { limit: 2, order: 'oldest' });
  await store.listSessions('u', { limit: 5 });
  const values: Value[] = [];
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node !== null && typeof node === 'object') {
      const object = node as Record<string, unknown>;
      if (Array.isArray(object.args)) values.push(...(object.args as Value[]));
      Object.values(object).forEach(collect);
    }
  };
  for (const request of server.requests) collect(JSON.parse(request.body));
  t.true(values.some((v) => v.type === 'integer'), 'timestamps, limits and bounds are sent');
  t.deepEqual(values.filter((v) => v.type === 'float'), []);
  // And what comes back is numbers again (intMode 'number').
  const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
  t.deepEqual(items.map((m) => m.seq), [1, 2, 3]);
  t.is(typeof items[0]!.timestamp, 'number');
});
