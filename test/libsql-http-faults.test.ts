/**
 * A remote libSQL server misbehaving over real sockets (the sqld stand-in, test/hrana/server.ts):
 * 5xx answers before or after the work, sockets destroyed before or after it, a crash inside a
 * batch, slow answers, a revoked token. The store must answer with UNAVAILABLE (driver error as
 * cause) or UNAUTHORIZED, retry reads and idempotent writes (appends, upserts without expectLastIds,
 * message updates: their ids are made before the first try) and store them exactly once, never retry
 * the others, and never leave half of a batch behind. "5xx after the work" is injected by the
 * stand-in (a proxy in front of sqld answers so when its upstream answer is lost); sqld itself
 * answers a committed write with its results.
 */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { getTableName } from 'drizzle-orm';
import { agents, messages, sessions } from '../drizzle/schema.js';
import { SqlChatStorage, UnauthorizedError, UnavailableError, type ConversationMessage } from '../src/index.js';
import type { Fault, HranaServer } from './hrana/server.js';
import { standInFor } from './helpers/hrana.js';
import { countRows } from './helpers/sql.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('hrana-faults');
const authToken = 'fault-token';
/** Generous: this machine is shared and loaded; a slow fault sleeps a multiple of it. */
const TIMEOUT_MS = 1_500;

const dialogue = (n: number, prefix: string): ConversationMessage[] =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: [{ text: `${prefix}${i}` }] }));

/** A migrated stand-in holding one conversation of two messages, and a store on it. */
async function setup(t: ExecutionContext, requestTimeoutMs?: number): Promise<{ server: HranaServer; store: SqlChatStorage }> {
  const server = await standInFor(t, dir, { token: authToken });
  await (await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true })).close();
  const store = await SqlChatStorage.openLibsql(server.url, { authToken, logger: null, requestTimeoutMs });
  t.teardown(() => store.close());
  await store.saveChatMessages('u', 's', 'a', dialogue(2, 'seed'));
  server.resetCount();
  return { server, store };
}

const texts = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
/** The first text block of a message as the API returns it, or of a raw row's content JSON. */
const text = (m: { content: unknown }) => {
  const content = (typeof m.content === 'string' ? JSON.parse(m.content) : m.content) as Array<{ text?: string }>;
  return content[0]?.text;
};

interface StoredRow {
  session: string;
  agent: string;
  seq: number;
  id: string;
  role: string;
  content: string;
  metadata: string | null;
}

/** Every stored message, read from the served file around the store (SQLite itself), in write order. */
function storedRows(server: HranaServer): StoredRow[] {
  const db = new Database(server.file, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT s.id AS session, a.id AS agent, m.seq, m.id, m.role, m.content, m.metadata FROM "${getTableName(messages)}" m
         JOIN "${getTableName(sessions)}" s ON s.pk = m.session_pk JOIN "${getTableName(agents)}" a ON a.pk = m.agent_pk ORDER BY m.pk`,
      )
      .all() as StoredRow[];
  } finally {
    db.close();
  }
}

/** The conversation u/s/a holds exactly these messages, each once, in write order, with distinct ids. */
function expectStoredOnce(t: ExecutionContext, server: HranaServer, expected: string[], message = 'stored exactly once'): StoredRow[] {
  const rows = storedRows(server);
  t.deepEqual(rows.map((r) => [r.session, r.agent, text(r)]), expected.map((x) => ['s', 'a', x]), message);
  t.true(rows.every((r, i) => i === 0 || r.seq > rows[i - 1]!.seq), 'positions in write order');
  t.is(new Set(rows.map((r) => r.id)).size, rows.length);
  return rows;
}

function inject(server: HranaServer, ...faults: Fault[]): void {
  server.faults.push(...faults);
}

/** The error's cause chain as "name: message" lines, to show the driver's error came along. */
function causes(error: unknown): string[] {
  const out: string[] = [];
  for (let e = (error as Error | undefined)?.cause; e instanceof Error; e = e.cause) out.push(`${e.name}: ${e.message}`);
  return out;
}

test('a read answered 503 once is retried and succeeds', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'status', status: 503 });
  t.is((await store.fetchChat('u', 's', 'a')).length, 2);
  t.deepEqual(server.requests.map((r) => r.status), [503, 200]);
});

test('a read answered 500 on every try fails with UNAVAILABLE after 3 tries, the HTTP error as cause', async (t) => {
  const { server, store } = await setup(t);
  inject(server, ...Array.from({ length: 3 }, () => ({ kind: 'status', status: 500 }) as const));
  const error = await t.throwsAsync(store.fetchAllChats('u', 's'), { instanceOf: UnavailableError });
  t.is(error?.code, 'UNAVAILABLE');
  t.regex(error?.message ?? '', /failed 3 times/);
  t.true(causes(error).some((line) => /HTTP status 500/.test(line)), causes(error).join(' <- '));
  t.is(server.pipelineCount, 3);
  t.is((await store.fetchChat('u', 's', 'a')).length, 2, 'the store works again once the server does');
});

test('a read whose socket is destroyed is retried and succeeds', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'reset-before' });
  t.is((await store.listSessions('u')).items.length, 1);
  t.is(server.pipelineCount, 2);
});

test('a read slower than requestTimeoutMs is abandoned and retried', async (t) => {
  const { server, store } = await setup(t, TIMEOUT_MS);
  inject(server, { kind: 'slow', delayMs: TIMEOUT_MS * 3 });
  t.is((await store.fetchChatPage('u', 's', 'a')).items.length, 2);
  t.is(server.pipelineCount, 2);
});

test('a read that times out on every try fails with UNAVAILABLE, the timeout as cause', async (t) => {
  const { server, store } = await setup(t, TIMEOUT_MS);
  inject(server, ...Array.from({ length: 3 }, () => ({ kind: 'slow', delayMs: TIMEOUT_MS * 3 }) as const));
  const error = await t.throwsAsync(store.fetchChat('u', 's', 'a'), { instanceOf: UnavailableError });
  t.true(causes(error).some((line) => /TimeoutError/.test(line)), causes(error).join(' <- '));
});

// Writes. An append or an upsert without expectLastIds carries ids made before it was sent, and so
// does updateMessage: sent again after a lost answer, it finds its ids stored identically and stores
// nothing twice, so the driver retries it like a read. A fork, a counted delete and an upsert
// conditioned on expectLastIds would answer differently the second time: never retried.

test('saveChatMessages whose answer is lost after the commit (socket destroyed) is retried and stored exactly once', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'reset-after' });
  const window = await store.saveChatMessages('u', 's', 'a', dialogue(10, 'x'));
  t.is(server.pipelineCount, 2, 'the first try committed, its answer was lost, the second found the ids stored');
  t.deepEqual(window.map(text), [...texts(2, 'seed'), ...texts(10, 'x')]);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(10, 'x')]);
});

test('saveChatMessages answered 502 after the commit is retried and stored exactly once', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'status-after', status: 502 });
  await store.saveChatMessages('u', 's', 'a', dialogue(10, 'x'));
  t.deepEqual(server.requests.map((r) => r.status), [502, 200]);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(10, 'x')]);
});

test('a batch whose first message the skip rule dropped, answered 502 after the commit, is retried and that message stays dropped', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'status-after', status: 502 });
  // The seed ends with an assistant message: this one repeats it and is skipped on the first try.
  // On the retry the last stored message is the batch's own x2 (a user's), which the dropped message
  // does not repeat: only the retry rule keeps it from landing after x2.
  const window = await store.saveChatMessages('u', 's', 'a', [{ role: 'assistant', content: 'dropped' }, ...dialogue(3, 'x')]);
  t.deepEqual(server.requests.map((r) => r.status), [502, 200]);
  t.deepEqual(window.map(text), [...texts(2, 'seed'), ...texts(3, 'x')]);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(3, 'x')]);
});

test('a write answered 503 before it ran is retried and stored once', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'status', status: 503 });
  await store.saveChatMessages('u', 's', 'a', dialogue(10, 'x'));
  t.deepEqual(server.requests.map((r) => r.status), [503, 200]);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(10, 'x')]);
});

test('a write whose socket is destroyed before it ran is retried and stored once', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'reset-before' });
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'once' });
  t.is(server.pipelineCount, 2);
  expectStoredOnce(t, server, [...texts(2, 'seed'), 'once']);
});

test('upsertMessages without expectLastIds whose answer is lost after the commit is retried: replaced, deleted and appended exactly once', async (t) => {
  const { server, store } = await setup(t);
  const [seed0, seed1] = (await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items;
  server.resetCount();
  inject(server, { kind: 'reset-after' });
  const stored = await store.upsertMessages(
    'u',
    's',
    'a',
    [
      { id: seed1!.id, role: 'assistant', content: 'rewritten' },
      { role: 'user', content: 'appended' },
      { id: 'given-id', role: 'assistant', content: 'appended with its own id', metadata: { model: 'm' } },
    ],
    { deleteIds: [seed0!.id] },
  );
  t.is(server.pipelineCount, 2);
  t.deepEqual(stored.map((m) => [m.seq, text(m)]), [
    [2, 'rewritten'],
    [3, 'appended'],
    [4, 'appended with its own id'],
  ]);
  const rows = expectStoredOnce(t, server, ['rewritten', 'appended', 'appended with its own id']);
  t.deepEqual(rows.map((r) => r.id), stored.map((m) => m.id), 'the ids made before the first try are the ones stored');
  t.deepEqual(rows.map((r) => r.metadata), [null, null, '{"model":"m"}']);
});

test('updateMessage whose answer is lost after the commit is retried and answers with the updated message', async (t) => {
  const { server, store } = await setup(t);
  const [, seed1] = (await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items;
  server.resetCount();
  inject(server, { kind: 'status-after', status: 500 });
  const updated = await store.updateMessage('u', 's', seed1!.id, { content: 'edited', metadata: { edits: 1 } });
  t.is(server.pipelineCount, 2);
  t.deepEqual([updated.id, updated.seq, updated.timestamp, text(updated), updated.metadata], [seed1!.id, 2, seed1!.timestamp, 'edited', { edits: 1 }]);
  expectStoredOnce(t, server, ['seed0', 'edited']);
});

test('an append whose answer is lost on every try fails with UNAVAILABLE after 3 tries, and is stored exactly once', async (t) => {
  const { server, store } = await setup(t);
  inject(server, ...Array.from({ length: 3 }, () => ({ kind: 'reset-after' }) as const));
  const error = await t.throwsAsync(store.saveChatMessages('u', 's', 'a', dialogue(4, 'x')), { instanceOf: UnavailableError });
  t.regex(error?.message ?? '', /failed 3 times/);
  t.is(server.pipelineCount, 3);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(4, 'x')], 'every try committed; the first stored the messages, the others nothing');
});

/** The writes that are never retried: what each changes, to check it happened whole or not at all. */
const unretried: Array<{ name: string; call: (store: SqlChatStorage, ids: string[]) => Promise<unknown>; applied: string[] }> = [
  {
    name: 'forkSession',
    call: (store) => store.forkSession('u', 's', 'fork'),
    applied: ['seed0', 'seed1', 'seed0', 'seed1'],
  },
  {
    name: 'deleteMessages',
    call: (store, ids) => store.deleteMessages('u', 's', ids),
    applied: [],
  },
  {
    name: 'upsertMessages with expectLastIds',
    call: (store, ids) =>
      store.upsertMessages('u', 's', 'a', [{ role: 'assistant', content: 'regenerated' }, { role: 'user', content: 'next' }], {
        expectLastIds: ids,
        deleteIds: [ids[1]!],
      }),
    applied: ['seed0', 'regenerated', 'next'],
  },
];

for (const { name, call, applied } of unretried) {
  test(`${name} whose answer is lost after the commit is not retried: UNAVAILABLE, and it was applied whole`, async (t) => {
    const { server, store } = await setup(t);
    const ids = (await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.map((m) => m.id);
    server.resetCount();
    inject(server, { kind: 'reset-after' });
    const error = await t.throwsAsync(call(store, ids), { instanceOf: UnavailableError });
    t.regex(error?.message ?? '', /applied entirely or not at all, and the client cannot tell which/);
    t.is(server.pipelineCount, 1, 'a repeat would answer differently (a conflict, a count of 0)');
    t.deepEqual(storedRows(server).map((r) => text(r)), applied, 'all of it');
  });

  test(`${name} answered 503 before it ran is not retried: UNAVAILABLE, and nothing of it was applied`, async (t) => {
    const { server, store } = await setup(t);
    const ids = (await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.map((m) => m.id);
    server.resetCount();
    inject(server, { kind: 'status', status: 503 });
    const error = await t.throwsAsync(call(store, ids), { instanceOf: UnavailableError });
    t.true(causes(error).some((line) => /HTTP status 503/.test(line)), causes(error).join(' <- '));
    t.is(server.pipelineCount, 1);
    t.deepEqual(storedRows(server).map((r) => text(r)), ['seed0', 'seed1'], 'none of it');
  });
}

test('a server crash in the middle of a batch leaves none of it; an append is retried and stored once', async (t) => {
  const { server, store } = await setup(t);
  const before = await countRows(store);
  for (const afterSteps of [1, 3, 5]) {
    // Steps: BEGIN IMMEDIATE, user, agent, session, insert chunk(s), window read, COMMIT, ROLLBACK.
    // Crashing on every try: the append fails, and nothing of it is left.
    inject(server, ...Array.from({ length: 3 }, () => ({ kind: 'crash-mid-batch', afterSteps }) as const));
    await t.throwsAsync(store.saveChatMessages('u2', 's9', 'new-agent', dialogue(150, 'x')), { code: 'UNAVAILABLE' } as never);
    t.is(await countRows(store), before, `crashes after ${afterSteps} steps left nothing`);
  }
  t.is(server.openStreams, 0);
  server.resetCount();
  inject(server, { kind: 'crash-mid-batch', afterSteps: 3 });
  t.is((await store.saveChatMessages('u2', 's9', 'new-agent', dialogue(150, 'x'))).length, 150, 'retried after one crash; no lock was left behind');
  t.is(server.pipelineCount, 2);
  t.is(storedRows(server).filter((r) => r.session === 's9').length, 150);
});

test('an append slower than requestTimeoutMs is retried; the late first try finds its ids stored and stores nothing', async (t) => {
  const { server, store } = await setup(t, TIMEOUT_MS);
  inject(server, { kind: 'slow', delayMs: TIMEOUT_MS * 2 });
  t.is((await store.saveChatMessages('u', 's', 'a', dialogue(4, 'late'))).length, 6);
  // The stand-in sleeps, then runs the first try for a client that has gone: wait for it to finish.
  await server.whenIdle();
  t.is(server.pipelineCount, 2);
  expectStoredOnce(t, server, [...texts(2, 'seed'), ...texts(4, 'late')]);
});

test('a fork slower than requestTimeoutMs fails with UNAVAILABLE, is not retried; the server may still apply it, whole', async (t) => {
  const { server, store } = await setup(t, TIMEOUT_MS);
  inject(server, { kind: 'slow', delayMs: TIMEOUT_MS * 2 });
  await t.throwsAsync(store.forkSession('u', 's', 'fork'), { code: 'UNAVAILABLE' } as never);
  await server.whenIdle();
  t.is(server.pipelineCount, 1);
  t.deepEqual(storedRows(server).map((r) => [r.session, text(r)]), [
    ['s', 'seed0'],
    ['s', 'seed1'],
    ['fork', 'seed0'],
    ['fork', 'seed1'],
  ], 'the server did not notice the client leaving and committed the whole fork');
});

test('a revoked token gives UNAUTHORIZED on reads and writes, never retried, the 401 as cause', async (t) => {
  const { server, store } = await setup(t);
  server.token = 'rotated';
  for (const call of [() => store.fetchChat('u', 's', 'a'), () => store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'x' })]) {
    const error = await t.throwsAsync(call(), { instanceOf: UnauthorizedError });
    t.is(error?.code, 'UNAUTHORIZED');
    t.true(causes(error).some((line) => /401/.test(line)), causes(error).join(' <- '));
  }
  t.is(server.pipelineCount, 2);
  server.token = authToken;
  t.is((await store.fetchChat('u', 's', 'a')).length, 2, 'nothing was written while refused');
});

test('an SQL error over HTTP keeps its meaning: consecutiveRoles "throw" gives CONSECUTIVE_ROLE', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  const store = await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true, consecutiveRoles: 'throw' });
  t.teardown(() => store.close());
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'one' });
  server.resetCount();
  await t.throwsAsync(store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'two' }), { code: 'CONSECUTIVE_ROLE' } as never);
  t.is(server.pipelineCount, 1, 'refused in the same round trip, not retried');
});

test('a server that is gone: reads and appends fail with UNAVAILABLE after their retries, a fork at once, the refused connection as cause', async (t) => {
  const { server, store } = await setup(t);
  await server.close();
  const calls: Array<[() => Promise<unknown>, RegExp]> = [
    [() => store.fetchChat('u', 's', 'a'), /failed 3 times/],
    [() => store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'x' }), /failed 3 times/],
    [() => store.forkSession('u', 's', 'fork'), /applied entirely or not at all/],
  ];
  for (const [call, message] of calls) {
    const error = await t.throwsAsync(call(), { instanceOf: UnavailableError });
    t.regex(error?.message ?? '', message);
    t.true(causes(error).some((line) => /fetch failed|ECONNREFUSED/.test(line)), causes(error).join(' <- '));
  }
});

test('requestTimeoutMs is validated', async (t) => {
  for (const requestTimeoutMs of [0, -1, 1.5, Number.NaN, '100' as never]) {
    await t.throwsAsync(SqlChatStorage.openLibsql('http://127.0.0.1:9', { requestTimeoutMs }), { code: 'VALIDATION' } as never);
  }
});
