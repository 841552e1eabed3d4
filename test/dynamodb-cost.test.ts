/**
 * What an append costs on DynamoDB Local, asserted (ReturnConsumedCapacity is deterministic there,
 * so these are real assertions, not timings), and listSessions' exact order over the byActivity
 * index whose key holds the last activity rounded down to ACTIVITY_STEP_MS (keys.ts).
 */
import test from 'ava';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbChatStorage } from '../src/dynamodb/index.js';
import { ACTIVITY_STEP_MS, activityBound, sessionSk, userPk } from '../src/dynamodb/keys.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { freshTable } from './helpers/dynamodb.js';
import { meteredClient, summarise, type Call } from './helpers/dynamodb-meter.js';
import { TestClock } from './helpers/clock.js';

const local = await startDynamoDbLocal();
test.after.always(() => local.stop());

const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
const bot = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
/** The start of an index step, so a test knows which appends stay inside one. */
const STEP_START = Math.ceil(1_700_000_000_000 / ACTIVITY_STEP_MS) * ACTIVITY_STEP_MS;

async function openMetered(clock: TestClock) {
  const table = await freshTable(local);
  const meter = meteredClient(local);
  const store = new DynamoDbChatStorage(table, { logger: null, client: meter.client, clock: clock.read });
  return { table, meter, store, close: async () => (await store.close(), meter.client.destroy()) };
}

/** Units one TransactWriteItems consumed on the table and on the byActivity index. */
function transactionUnits(calls: Call[]): { table: number; index: number } {
  const tx = calls.filter((c) => c.command === 'TransactWriteItems');
  const detail = tx.flatMap((c) => c.detail);
  return {
    table: detail.reduce((n, d) => n + (d.Table?.CapacityUnits ?? 0), 0),
    index: detail.reduce((n, d) => n + (d.LocalSecondaryIndexes?.byActivity?.CapacityUnits ?? 0), 0),
  };
}

test('an append of one message (~0.5 KB) to an existing session: 3 requests with its window, 6 write units', async (t) => {
  const clock = new TestClock(STEP_START + 1_000);
  const { meter, store, close } = await openMetered(clock);
  const text = 'x'.repeat(500);
  for (let i = 0; i < 20; i++) {
    clock.advance(100);
    await store.saveChatMessage('u', 's', 'a', i % 2 ? bot(text) : user(text), 0);
  }
  meter.reset();
  clock.advance(100);
  const stored = await store.saveChatMessage('u', 's', 'a', user(text), 20);
  const calls = meter.reset();
  const append = summarise(calls);
  t.log(`append, window 20: ${append.requests}; ${append.read} RCU, ${append.write} WCU`, transactionUnits(calls));
  t.is(append.requests, '1 BatchGetItem + 1 TransactWriteItems + 1 Query');
  t.is(append.write, 6);
  t.deepEqual(transactionUnits(calls), { table: 4, index: 2 }, 'the index entry is updated in place, not moved');
  t.is(stored.length, 20);
  t.deepEqual(stored.at(-1), user(text));

  clock.advance(100);
  await store.saveChatMessage('u', 's', 'a', bot(text), 0);
  const noWindow = summarise(meter.reset());
  t.is(noWindow.requests, '1 BatchGetItem + 1 TransactWriteItems');
  t.is(noWindow.write, 6);

  // The first append after the step boundary moves the index entry (a delete and a put): 2 more.
  clock.now = STEP_START + ACTIVITY_STEP_MS + 5;
  await store.saveChatMessage('u', 's', 'a', user(text), 0);
  const crossing = meter.reset();
  t.is(summarise(crossing).write, 8);
  t.deepEqual(transactionUnits(crossing), { table: 4, index: 4 });
  // …and the ones after it in the same step are back to 6.
  clock.advance(30_000);
  await store.saveChatMessage('u', 's', 'a', bot(text), 0);
  t.is(summarise(meter.reset()).write, 6);
  await close();
});

test('a retried append (same id, same content) writes nothing but the moved activity', async (t) => {
  const clock = new TestClock(STEP_START + 1_000);
  const { meter, store, close } = await openMetered(clock);
  await store.saveChatMessage('u', 's', 'a', user('hello'), 0);
  const reply = { ...bot('hi'), id: 'reply-1', timestamp: clock.now };
  await store.saveChatMessage('u', 's', 'a', reply, 0);
  meter.reset();
  clock.advance(100);
  await store.saveChatMessage('u', 's', 'a', reply, 0);
  const retry = summarise(meter.reset());
  t.log(`retried append: ${retry.requests}; ${retry.read} RCU, ${retry.write} WCU`);
  t.is(retry.requests, '2 BatchGetItem + 1 TransactWriteItems');
  t.true(retry.write <= 4, `${retry.write} WCU`);
  t.is((await store.fetchChat('u', 's', 'a')).length, 2);
  await close();
});

test('listSessions is in exact activity order inside one index step, across pages, with keys written before the rounding', async (t) => {
  const clock = new TestClock(STEP_START);
  const { table, meter, store, close } = await openMetered(clock);
  // Ten sessions, last active at scrambled times within one step, two of them at the same time.
  const offsets = [40_000, 5_000, 59_999, 12_000, 12_000, 33_000, 1, 47_000, 20_000, 0];
  for (const [i, offset] of offsets.entries()) {
    clock.now = STEP_START + offset;
    await store.saveChatMessage('u', `s${i}`, 'a', user(`m${i}`), 0);
  }
  // Older sessions, one per earlier step.
  for (let i = 0; i < 3; i++) {
    clock.now = STEP_START - (i + 1) * ACTIVITY_STEP_MS + 30_000;
    await store.saveChatMessage('u', `old${i}`, 'a', user('old'), 0);
  }
  // Three session items keep an exact key, as the version before the rounding wrote them.
  for (const i of [2, 5, 9]) {
    await local.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { PK: { S: userPk('u') }, SK: { S: sessionSk(`s${i}`) } },
        UpdateExpression: 'SET act = :act',
        ExpressionAttributeValues: { ':act': { S: activityBound(STEP_START + offsets[i]!, `s${i}`) } },
      }),
    );
  }
  const expected = [
    ...offsets.map((offset, i) => ({ at: STEP_START + offset, id: `s${i}` })),
    ...[0, 1, 2].map((i) => ({ at: STEP_START - (i + 1) * ACTIVITY_STEP_MS + 30_000, id: `old${i}` })),
  ]
    .sort((x, y) => y.at - x.at || (x.id < y.id ? 1 : -1))
    .map((s) => s.id);

  t.deepEqual((await store.listSessions('u', { limit: 100 })).items.map((s) => s.sessionId), expected);
  for (const limit of [1, 2, 3, 4, 7]) {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listSessions('u', { limit, cursor });
      seen.push(...page.items.map((s) => s.sessionId));
      cursor = page.nextCursor;
    } while (cursor);
    t.deepEqual(seen, expected, `pages of ${limit}`);
  }

  // Past the busy step, a page is one Query of limit + 1 items.
  const { nextCursor } = await store.listSessions('u', { limit: 11 });
  meter.reset();
  const page = await store.listSessions('u', { limit: 1, cursor: nextCursor });
  t.deepEqual(page.items.map((s) => s.sessionId), ['old1']);
  t.is(summarise(meter.reset()).requests, '1 Query');
  await close();
});

test('listSessions over many sessions active within one step: exact order, a few Queries of growing size', async (t) => {
  const clock = new TestClock(STEP_START);
  const { meter, store, close } = await openMetered(clock);
  const ids = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
  // Activity times scrambled over the step (a permutation of 0..29 seconds).
  const at = (i: number) => STEP_START + ((i * 7) % 30) * 1_000;
  for (const [i, id] of ids.entries()) {
    clock.now = at(i);
    await store.saveChatMessage('u', id, 'a', user(id), 0);
  }
  const expected = ids.map((id, i) => ({ id, at: at(i) })).sort((x, y) => y.at - x.at).map((s) => s.id);
  meter.reset();
  const page = await store.listSessions('u', { limit: 3 });
  const calls = meter.reset();
  t.deepEqual(page.items.map((s) => s.sessionId), expected.slice(0, 3));
  // Limit 5 (4 asked + 1 to see past the page), then 10, then 20: every session of the step is read.
  t.is(summarise(calls).requests, '3 Query');
  const seen = [...page.items.map((s) => s.sessionId)];
  let cursor = page.nextCursor;
  while (cursor) {
    const next = await store.listSessions('u', { limit: 3, cursor });
    seen.push(...next.items.map((s) => s.sessionId));
    cursor = next.nextCursor;
  }
  t.deepEqual(seen, expected);
  await close();
});

test('after deleting the newest message, listings stay one Query and lastMessageAt exact (timestamps in order, or not)', async (t) => {
  const clock = new TestClock(STEP_START + 1_000);
  const { meter, store, close } = await openMetered(clock);
  const at = (i: number) => STEP_START + 1_000 + i * 10;
  await store.saveChatMessages('u', 'ordered', 'a', Array.from({ length: 6 }, (_, i) => ({ ...(i % 2 ? bot(`m${i}`) : user(`m${i}`)), id: `o${i}`, timestamp: at(i) })), 0);
  // Out of order: the newest timestamp is held by a middle message.
  const shuffled = [3, 5, 0, 4, 1, 2];
  await store.saveChatMessages('u', 'shuffled', 'a', shuffled.map((k, i) => ({ ...(i % 2 ? bot(`m${i}`) : user(`m${i}`)), id: `x${i}`, timestamp: at(k) })), 0);

  t.is(await store.deleteMessages('u', 'ordered', ['o5']), 1);
  t.is(await store.upsertMessages('u', 'ordered', 'a', [], { deleteIds: ['o4'] }).then(() => 1), 1);
  t.is(await store.deleteMessages('u', 'ordered', ['o1']), 1);
  t.is(await store.deleteMessages('u', 'shuffled', ['x1']), 1);
  meter.reset();
  const sessions = new Map((await store.listSessions('u')).items.map((s) => [s.sessionId, s]));
  const calls = summarise(meter.reset());
  t.is(sessions.get('ordered')!.agents[0]!.lastMessageAt, at(3));
  t.is(sessions.get('ordered')!.messageCount, 3);
  t.is(sessions.get('shuffled')!.agents[0]!.lastMessageAt, at(4), 'the middle message holding the newest timestamp went');
  // The ordered conversation's head stays exact; the shuffled one's is read (one keys-only Query).
  t.is(calls.requests, '2 Query');
  t.is((await store.getSession('u', 'ordered'))!.agents[0]!.lastMessageAt, at(3));

  // An append after the deletions keeps the head exact.
  clock.now = at(9);
  await store.saveChatMessage('u', 'ordered', 'a', user('after'), 0);
  meter.reset();
  t.is((await store.getSession('u', 'ordered'))!.agents[0]!.lastMessageAt, at(9));
  t.is(summarise(meter.reset()).requests, '1 GetItem');
  await close();
});
