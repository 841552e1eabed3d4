/**
 * A remote libSQL server misbehaving over real sockets (the sqld stand-in, test/hrana/server.ts):
 * 5xx answers, sockets destroyed before or after the work, a crash inside a batch, slow answers, a
 * revoked token. The store must answer with UNAVAILABLE (driver error as cause) or UNAUTHORIZED,
 * retry only reads, and never leave half of a batch behind.
 */
import test, { type ExecutionContext } from 'ava';
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

test('a write answered 503 fails with UNAVAILABLE at once, is not retried, and wrote nothing', async (t) => {
  const { server, store } = await setup(t);
  const before = await countRows(store);
  server.resetCount();
  inject(server, { kind: 'status', status: 503 });
  const error = await t.throwsAsync(store.saveChatMessages('u', 's', 'a', dialogue(10, 'x')), { instanceOf: UnavailableError });
  t.regex(error?.message ?? '', /applied entirely or not at all/);
  t.true(causes(error).some((line) => /HTTP status 503/.test(line)), causes(error).join(' <- '));
  t.is(server.pipelineCount, 1, 'a write is never retried');
  t.is(await countRows(store), before);
});

test('a write whose socket is destroyed before it ran fails with UNAVAILABLE and wrote nothing', async (t) => {
  const { server, store } = await setup(t);
  const before = await countRows(store);
  inject(server, { kind: 'reset-before' });
  await t.throwsAsync(store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'lost' }), { code: 'UNAVAILABLE' } as never);
  t.is(await countRows(store), before);
  t.deepEqual((await store.fetchChat('u', 's', 'a')).length, 2);
});

test('a write whose answer is lost after the server committed fails with UNAVAILABLE, yet is stored whole', async (t) => {
  const { server, store } = await setup(t);
  inject(server, { kind: 'reset-after' });
  const error = await t.throwsAsync(store.saveChatMessages('u', 's', 'a', dialogue(10, 'x')), { instanceOf: UnavailableError });
  t.regex(error?.message ?? '', /the client cannot tell which/);
  t.is(server.pipelineCount, 1, 'not retried: a second append would store the messages twice');
  t.is((await store.fetchChat('u', 's', 'a')).length, 12, 'all ten landed: the batch committed as one');
});

test('a server crash in the middle of a batch leaves none of it, and the next write goes through', async (t) => {
  const { server, store } = await setup(t);
  const before = await countRows(store);
  for (const afterSteps of [1, 3, 5]) {
    // Steps: BEGIN IMMEDIATE, user, agent, session, insert chunk(s), window read, COMMIT, ROLLBACK.
    inject(server, { kind: 'crash-mid-batch', afterSteps });
    await t.throwsAsync(store.saveChatMessages('u2', 's9', 'new-agent', dialogue(150, 'x')), { code: 'UNAVAILABLE' } as never);
    t.is(await countRows(store), before, `crash after ${afterSteps} steps left nothing`);
  }
  t.is(server.openStreams, 0);
  t.is((await store.saveChatMessages('u2', 's9', 'new-agent', dialogue(150, 'x'))).length, 150, 'no lock was left behind');
});

test('a write slower than requestTimeoutMs fails with UNAVAILABLE; the server may still apply it, whole', async (t) => {
  const { server, store } = await setup(t, TIMEOUT_MS);
  inject(server, { kind: 'slow', delayMs: TIMEOUT_MS * 2 });
  await t.throwsAsync(store.saveChatMessages('u', 's', 'a', dialogue(4, 'late')), { code: 'UNAVAILABLE' } as never);
  t.is(server.pipelineCount, 1);
  // The stand-in sleeps, then runs the batch for a client that has gone: wait for it to finish.
  const deadline = Date.now() + 20_000;
  let stored = 2;
  while (stored === 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stored = (await store.fetchChat('u', 's', 'a')).length;
  }
  t.is(stored, 6, 'the server did not notice the client leaving and committed all four');
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

test('a server that is gone: reads fail with UNAVAILABLE after their retries, writes at once, the refused connection as cause', async (t) => {
  const { server, store } = await setup(t);
  await server.close();
  for (const call of [() => store.fetchChat('u', 's', 'a'), () => store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'x' })]) {
    const error = await t.throwsAsync(call(), { instanceOf: UnavailableError });
    t.true(causes(error).some((line) => /fetch failed|ECONNREFUSED/.test(line)), causes(error).join(' <- '));
  }
});

test('requestTimeoutMs is validated', async (t) => {
  for (const requestTimeoutMs of [0, -1, 1.5, Number.NaN, '100' as never]) {
    await t.throwsAsync(SqlChatStorage.openLibsql('http://127.0.0.1:9', { requestTimeoutMs }), { code: 'VALIDATION' } as never);
  }
});
