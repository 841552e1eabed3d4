/**
 * DynamoDB-specific tests beyond the shared contract, on AWS's DynamoDB Local: long histories,
 * injective keys, writers on several clients, 1 MB pages, TTL, the table definition, and the request
 * counts and capacity each operation costs (measured with ReturnConsumedCapacity).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { CreateTableCommand, DescribeTimeToLiveCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { UnavailableError, ValidationError, openStorage, parseStorageUrl, type ConversationMessage } from '../src/index.js';
import { DynamoDbChatStorage, dynamoDbTableDefinition } from '../src/dynamodb/index.js';
import { enc, messageSk, messagesPk, sessionSk, userPk } from '../src/dynamodb/keys.js';
import { TX_MAX_ITEMS } from '../src/dynamodb/write-plan.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { countItems, freshTable, localOptions } from './helpers/dynamodb.js';
import { meteredClient, summarise } from './helpers/dynamodb-meter.js';
import { TestClock } from './helpers/clock.js';

const local = await startDynamoDbLocal();
test.after.always(() => local.stop());

const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
const bot = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
const texts = (messages: ConversationMessage[]) => messages.map((m) => m.content[0]?.text as string);
const dialogue = (n: number, prefix = '') => Array.from({ length: n }, (_, i) => (i % 2 ? bot(`${prefix}${i}`) : user(`${prefix}${i}`)));

async function openMetered(options: ConstructorParameters<typeof DynamoDbChatStorage>[1] = {}) {
  const table = await freshTable(local);
  const meter = meteredClient(local);
  const store = new DynamoDbChatStorage(table, { logger: null, ...options, client: meter.client });
  return { table, meter, store, close: async () => (await store.close(), meter.client.destroy()) };
}

test('a 5,000-message conversation: appends cost the same as on an empty one; a window read is one Query', async (t) => {
  const { table, meter, store, close } = await openMetered();
  await store.saveChatMessage('u', 's', 'a', user('first'));
  meter.reset();
  await store.saveChatMessage('u', 's', 'a', bot('early reply'), 20);
  const early = summarise(meter.reset());

  // 4,998 more, in batches as large as one transaction takes.
  for (let written = 2; written < 5_000; ) {
    const n = Math.min(96, 5_000 - written);
    await store.saveChatMessages('u', 's', 'a', dialogue(n, `m${written}-`).map((m, i) => ((written + i) % 2 ? bot(m.content[0]!.text as string) : user(m.content[0]!.text as string))), 0);
    written += n;
  }
  meter.reset();
  const window = await store.saveChatMessage('u', 's', 'a', user('late question'), 20);
  const late = summarise(meter.reset());
  t.is(window.length, 20);
  t.is(texts(window).at(-1), 'late question');
  t.deepEqual(late, early, 'an append costs the same requests and units after 5,000 messages');
  t.is(late.requests, '1 BatchGetItem + 1 TransactWriteItems + 1 Query');

  const read = await store.fetchChat('u', 's', 'a', 20);
  const windowRead = summarise(meter.reset());
  t.deepEqual(read, window);
  t.is(windowRead.requests, '1 Query', 'a window is one Query however long the history');
  t.log('append after 5,000 messages:', late, 'window of 20:', windowRead);

  // Two items per message (the message and its id item), plus the session and user items; every page of the history is reachable.
  t.is(await countItems(local.client, table), 2 * 5_001 + 2);
  const page = await store.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 1000 });
  t.deepEqual(page.items.map((m) => m.seq), Array.from({ length: 1000 }, (_, i) => i + 1));
  t.is((await store.fetchChat('u', 's', 'a')).length, 5_001);
  t.deepEqual(await store.deleteConversation('u', 's', 'a'), { messages: 5_001, sessions: 1 });
  t.is(await countItems(local.client, table), 0);
  await close();
});

test('ids built to collide under the length-prefix encoding stay apart', async (t) => {
  // Distinct tuples whose naive concatenations (with or without separators) coincide.
  const tuples = (
    [
      '1:a|1:b|x', '1|:a1:b|x', '1:a1|:b|x', 'a|b|1:x', 'a|b|x', 'a|b|x1',
      'a|b|x0000000000000001', 'a#b|c|m1:x', 'a|b#c|m1:x', 'S1:a|b|x', 'U1:a|b|x', 'u|s|m',
    ] as const
  ).map((spec) => spec.split('|') as [string, string, string]);
  const keys = new Set(tuples.map(([u, s, a]) => messagesPk(u, s) + '\u0000' + messageSk(a, 1)));
  t.is(keys.size, tuples.length, 'message keys are distinct');
  const sessionKeys = new Set(tuples.map(([u, s]) => userPk(u) + '\u0000' + sessionSk(s)));
  t.is(sessionKeys.size, new Set(tuples.map(([u, s]) => JSON.stringify([u, s]))).size, 'session keys are distinct');
  // Prefix-freeness: no agent's message keys start with another agent's prefix.
  for (const [, , a] of tuples) for (const [, , b] of tuples) if (a !== b) t.false(messageSk(b, 7).startsWith(`m${enc(a)}`), `${a} / ${b}`);

  const { store, close } = await openMetered();
  for (const [i, [u, s, a]] of tuples.entries()) await store.saveChatMessage(u, s, a, user(`#${i}`));
  for (const [i, [u, s, a]] of tuples.entries()) t.deepEqual(texts(await store.fetchChat(u, s, a)), [`#${i}`], JSON.stringify([u, s, a]));
  t.deepEqual(texts(await store.fetchAllChats('a', 'b')), ['#3', '#4', '#5', '#6']);
  await store.deleteConversation('a', 'b', 'x');
  t.deepEqual(texts(await store.fetchAllChats('a', 'b')), ['#3', '#5', '#6'], 'deleting agent x leaves x1 and 1:x');
  t.deepEqual((await store.listUsers()).items.length, new Set(tuples.map(([u]) => u)).size);
  await close();
});

test('a message at the limit fits one item even with the longest ids; one byte more is refused', async (t) => {
  const { store, close } = await openMetered();
  const id = '用'.repeat(256); // 768 bytes of UTF-8: the largest keys there are
  const overhead = JSON.stringify([{ text: '' }]).length;
  const content = 'z'.repeat(store.maxMessageBytes - overhead);
  await store.saveChatMessage(id, id, id, { role: 'user', content });
  t.is((await store.fetchChat(id, id, id))[0]!.content[0]!.text, content);
  await t.throwsAsync(() => store.saveChatMessage(id, id, id, { role: 'assistant', content: content + 'z' }), { code: 'TOO_LARGE' } as never);
  t.true(store.maxMessageBytes >= 350_000);
  await close();
});

test('writers on several clients append to one conversation: nothing lost, duplicated or reordered', async (t) => {
  const table = await freshTable(local);
  const writers = Array.from({ length: 4 }, () => new DynamoDbChatStorage(table, { ...localOptions(local), consecutiveRoles: 'keep', logger: null }));
  const perWriter = 12;
  await Promise.all(
    writers.map(async (store, w) => {
      for (let i = 0; i < perWriter; i++) {
        if (i % 3 === 2) await store.saveChatMessages('u', 's', 'a', [user(`w${w}-${i}a`), user(`w${w}-${i}b`)]);
        else await store.saveChatMessage('u', 's', 'a', user(`w${w}-${i}`));
        // A second agent in the same session, written concurrently, shares the session's order.
        await store.saveChatMessage('u', 's', `agent-${w % 2}`, user(`w${w}-${i}`));
      }
    }),
  );
  const reader = writers[0]!;
  const { items } = await reader.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 1000 });
  const expected = writers.length * (perWriter + perWriter / 3);
  t.deepEqual(items.map((m) => m.seq), Array.from({ length: expected }, (_, i) => i + 1), 'positions 1..n, no gaps');
  const seen = items.map((m) => m.content[0]!.text as string);
  t.is(new Set(seen).size, expected, 'no duplicates');
  for (let w = 0; w < writers.length; w++) {
    const mine = seen.filter((s) => s.startsWith(`w${w}-`));
    const order = mine.map((s) => Number(/^w\d+-(\d+)/.exec(s)![1]) * 2 + (s.endsWith('b') ? 1 : 0));
    t.deepEqual(order, [...order].sort((x, y) => x - y), `writer ${w}'s messages keep their order`);
    const pair = seen.indexOf(`w${w}-2a`);
    t.is(seen[pair + 1], `w${w}-2b`, 'a batch stays contiguous');
  }
  const all = await reader.fetchAllChats('u', 's');
  t.is(all.length, expected + writers.length * perWriter);
  const summary = (await reader.listSessions('u')).items[0]!;
  t.is(summary.messageCount, all.length);
  t.deepEqual(summary.agents.map((a) => [a.agentId, a.messageCount]), [['a', expected], ['agent-0', 24], ['agent-1', 24]]);
  for (const store of writers) await store.close();
});

test('appenders in several processes: every message lands once, at its own position, in each writer\'s order', async (t) => {
  const table = await freshTable(local);
  const perWriter = 20;
  const script = fileURLToPath(new URL('./helpers/dynamodb-appender.ts', import.meta.url));
  const children = ['p1', 'p2', 'p3'].map((writer) =>
    spawn(process.execPath, ['--import=tsx', script, local.endpoint, table, writer, String(perWriter)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const exits = children.map((child) => new Promise<number | null>((resolve, reject) => child.on('error', reject).on('exit', resolve)));
  await Promise.all(children.map((child) => once(child.stdout!, 'data')));
  const here = new DynamoDbChatStorage(table, { ...localOptions(local), consecutiveRoles: 'keep', logger: null });
  for (const child of children) child.stdin!.end('go\n');
  const [codes] = await Promise.all([
    Promise.all(exits),
    (async () => {
      for (let i = 0; i < perWriter; i++) await here.saveChatMessage('u', 's', 'a', user(`p0-${i}`), 0);
    })(),
  ]);
  t.deepEqual(codes, [0, 0, 0]);
  const { items } = await here.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 1000 });
  t.deepEqual(items.map((m) => m.seq), Array.from({ length: 4 * perWriter }, (_, i) => i + 1));
  const seen = items.map((m) => m.content[0]!.text as string);
  t.is(new Set(seen).size, 4 * perWriter);
  for (const w of ['p0', 'p1', 'p2', 'p3']) {
    t.deepEqual(seen.filter((s) => s.startsWith(`${w}-`)), Array.from({ length: perWriter }, (_, i) => `${w}-${i}`), w);
  }
  const switches = seen.filter((s, i) => i > 0 && s.slice(0, 2) !== seen[i - 1]!.slice(0, 2)).length;
  t.log(`writer switches along the conversation: ${switches}`);
  t.true(switches >= 8, 'the processes really wrote at the same time');
  await here.close();
});

test('reads follow LastEvaluatedKey past 1 MB: nothing is cut', async (t) => {
  const { meter, store, close } = await openMetered({ consecutiveRoles: 'keep' });
  const big = (i: number) => user(`${i}:`.padEnd(300_000, 'x'));
  for (let i = 0; i < 10; i++) await store.saveChatMessage('u', 's', i % 2 ? 'a' : 'b', big(i), 0); // 3 MB in one session
  await store.saveChatMessages('u', 's', 'a', [big(10), big(11), big(12), big(13)], 0);
  meter.reset();
  const history = await store.fetchChat('u', 's', 'a');
  t.deepEqual(history.map((m) => (m.content[0]!.text as string).split(':')[0]), ['1', '3', '5', '7', '9', '10', '11', '12', '13']);
  const reads = summarise(meter.reset());
  const all = await store.fetchAllChats('u', 's');
  t.deepEqual(all.map((m) => (m.content[0]!.text as string).replace(/^\[\w+\] /, '').split(':')[0]), Array.from({ length: 14 }, (_, i) => String(i)));
  const allReads = summarise(meter.reset());
  t.log(`fetchChat of 2.7 MB: ${reads.requests}; fetchAllChats of 4.2 MB: ${allReads.requests}`);
  const queries = (requests: string) => Number(/(\d+) Query/.exec(requests)?.[1] ?? 0);
  t.true(queries(reads.requests) >= 3 && queries(allReads.requests) >= 3, 'several 1 MB pages were followed');
  const page = await store.fetchChatPage('u', 's', 'b', { limit: 5 });
  t.is(page.items.length, 5);
  t.deepEqual(await store.deleteSession('u', 's'), { messages: 14, sessions: 1 });
  await close();
});

test('with a TTL, message items carry the TTL attribute (epoch seconds) and the table has TTL enabled', async (t) => {
  const clock = new TestClock(1_700_000_000_123);
  const { table, store, close } = await openMetered({ retention: { ttlMs: 86_400_000 }, clock: clock.read });
  await store.saveChatMessage('u', 's', 'a', user('expiring'));
  const item = await local.client.send(
    new GetItemCommand({ TableName: table, Key: { PK: { S: messagesPk('u', 's') }, SK: { S: messageSk('a', 1) } } }),
  );
  t.is(item.Item?.exp?.N, String(Math.ceil((1_700_000_000_123 + 86_400_000) / 1000)));
  const ttl = await local.client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  t.is(ttl.TimeToLiveDescription?.AttributeName, 'exp');
  t.is(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');
  await close();

  const plain = await openMetered();
  await plain.store.saveChatMessage('u', 's', 'a', user('kept'));
  const kept = await local.client.send(
    new GetItemCommand({ TableName: plain.table, Key: { PK: { S: messagesPk('u', 's') }, SK: { S: messageSk('a', 1) } } }),
  );
  t.is(kept.Item?.exp, undefined, 'no TTL configured, no TTL attribute');
  t.is(kept.Item?.c?.S, JSON.stringify([{ text: 'kept' }]), 'one item holds one message');
  await plain.close();
});

test('the exported table definition creates a working table; a missing or foreign table is refused clearly', async (t) => {
  const name = `defined-${process.pid}`;
  const definition = dynamoDbTableDefinition(name);
  t.is(definition.BillingMode, 'PAY_PER_REQUEST');
  await local.client.send(new CreateTableCommand(definition));
  const store = await DynamoDbChatStorage.open(name, localOptions(local));
  await store.saveChatMessages('u', 's', 'a', dialogue(3));
  t.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['0', '1', '2']);
  await store.close();

  const viaUrl = await openStorage(`dynamodb://${name}?region=${local.region}&endpoint=${encodeURIComponent(local.endpoint)}`, {
    credentials: local.credentials,
    logger: null,
  });
  t.is(viaUrl.backend, 'dynamodb');
  t.is((await viaUrl.fetchChat('u', 's', 'a')).length, 3);
  await viaUrl.close();

  const missing = await t.throwsAsync(() => DynamoDbChatStorage.open('no-such-table', localOptions(local)), { instanceOf: UnavailableError });
  t.regex(missing!.message, /does not exist; create it with createDynamoDbTable/);
  await local.client.send(
    new CreateTableCommand({
      TableName: `foreign-${process.pid}`,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  const foreign = await t.throwsAsync(() => DynamoDbChatStorage.open(`foreign-${process.pid}`, localOptions(local)), { instanceOf: UnavailableError });
  t.regex(foreign!.message, /does not have convostore's key schema/);
  const created = await DynamoDbChatStorage.open(`created-${process.pid}`, { ...localOptions(local), createTable: true });
  await created.saveChatMessage('u', 's', 'a', user('x'));
  t.is((await created.fetchChat('u', 's', 'a')).length, 1);
  await created.close();
});

test('dynamodb:// URLs are parsed in one place and bad ones refused', (t) => {
  t.deepEqual(parseStorageUrl('dynamodb://Chat.History-1?region=eu-west-1&endpoint=http://127.0.0.1:8000'), {
    kind: 'dynamodb',
    tableName: 'Chat.History-1',
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:8000',
  });
  t.deepEqual(parseStorageUrl('dynamodb://chats'), { kind: 'dynamodb', tableName: 'chats' });
  for (const bad of ['dynamodb://', 'dynamodb://ab', 'dynamodb://a b c', 'dynamodb://t/x', 'dynamodb://chats?regoin=x', 'dynamodb://chats?endpoint=ftp://x']) {
    t.throws(() => parseStorageUrl(bad), { instanceOf: ValidationError }, bad);
  }
});

test('a batch larger than one transaction is stored whole and in order', async (t) => {
  const { meter, store, close } = await openMetered();
  await store.saveChatMessage('u', 's', 'a', user('before'));
  meter.reset();
  const batch = dialogue(250, 'b').map((m, i) => (i % 2 ? user(m.content[0]!.text as string) : bot(m.content[0]!.text as string)));
  const window = await store.saveChatMessages('u', 's', 'a', batch, 4);
  t.deepEqual(texts(window), ['b246', 'b247', 'b248', 'b249']);
  const { requests } = summarise(meter.reset());
  // Each message takes two items of a transaction (message and id item) besides the session item.
  const perTransaction = Math.floor((TX_MAX_ITEMS - 1) / 2);
  // The session item and the batch's 250 id items are read first, 100 keys per BatchGetItem.
  t.is(requests, `${Math.ceil(251 / 100)} BatchGetItem + ${Math.ceil(250 / perTransaction)} TransactWriteItems + 1 Query`, `${TX_MAX_ITEMS}-item transactions`);
  const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 1000 });
  t.deepEqual(items.map((m) => m.seq), Array.from({ length: 251 }, (_, i) => i + 1));
  await close();
});

test('a batch that fits one transaction is all or none; a larger one keeps a gap-free prefix if a later transaction fails', async (t) => {
  // DynamoDB Local cannot be made to fail one particular transaction, so this test injects the fault
  // (a mock, for exactly that): the client refuses the Nth TransactWriteItems it is asked to send.
  const { meter, store, close } = await openMetered();
  let failAt = 0;
  let seen = 0;
  meter.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && ++seen === failAt) {
        throw Object.assign(new Error('injected failure'), { name: 'InternalServerError' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  await store.saveChatMessage('u', 's', 'a', user('before'));
  seen = 0;
  failAt = 1;
  const small = await t.throwsAsync(() => store.saveChatMessages('u', 's', 'a', dialogue(40, 'x').map((m, i) => (i % 2 ? user(`x${i}`) : bot(`x${i}`)))));
  t.is((small as { code?: string }).code, 'UNAVAILABLE');
  t.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['before'], 'a one-transaction batch left nothing behind');

  seen = 0;
  failAt = 2;
  const batch = dialogue(150, 'y').map((m, i) => (i % 2 ? user(`y${i}`) : bot(`y${i}`)));
  await t.throwsAsync(() => store.saveChatMessages('u', 's', 'a', batch));
  const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 1000 });
  const first = Math.floor((TX_MAX_ITEMS - 1) / 2);
  t.deepEqual(items.map((m) => m.seq), Array.from({ length: first + 1 }, (_, i) => i + 1), `the first transaction (${first} messages) stayed, gap-free`);
  t.deepEqual(items.slice(1).map((m) => m.content[0]!.text), batch.slice(0, first).map((m) => m.content[0]!.text));
  failAt = 0;
  await store.saveChatMessage('u', 's', 'a', user('after'));
  t.is((await store.fetchChatPage('u', 's', 'a', { limit: 1 })).items[0]!.seq, first + 2, 'the conversation carries on after the prefix');
  await close();
});

test('keep-at-most-N trims a long history on the next write, over several transactions', async (t) => {
  const table = await freshTable(local);
  const unlimited = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null });
  for (let i = 0; i < 3; i++) await unlimited.saveChatMessages('u', 's', 'a', dialogue(96, `r${i}-`), 0);
  await unlimited.close();
  t.is(await countItems(local.client, table), 2 * 288 + 2);

  const limited = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null, retention: { maxMessages: 10 } });
  await limited.saveChatMessage('u', 's', 'a', user('new'));
  t.deepEqual(texts(await limited.fetchChat('u', 's', 'a')).at(-1), 'new');
  const { items } = await limited.fetchChatPage('u', 's', 'a', { order: 'oldest' });
  t.deepEqual(items.map((m) => m.seq), Array.from({ length: 10 }, (_, i) => 280 + i));
  t.is(await countItems(local.client, table), 2 * 10 + 2, 'trimmed items (and their id items) are deleted, not hidden');
  t.is((await limited.listSessions('u')).items[0]!.messageCount, 10);
  // A steady append then deletes exactly what it adds, in the same transaction.
  await limited.saveChatMessage('u', 's', 'a', bot('steady'));
  t.is(await countItems(local.client, table), 2 * 10 + 2);
  await limited.close();
});

test('request counts and consumed capacity per operation, as DynamoDB Local reports them', async (t) => {
  const { meter, store, close } = await openMetered();
  const measure = async (label: string, operation: () => Promise<unknown>) => {
    meter.reset();
    await operation();
    const s = summarise(meter.reset());
    t.log(`${label}: ${s.requests}; ${s.read} RCU, ${s.write} WCU`);
    return s;
  };
  const small = 'x'.repeat(500);
  const first = await measure('first append (new session)', () => store.saveChatMessage('u', 's', 'a', user(small)));
  t.is(first.requests, '1 BatchGetItem + 1 TransactWriteItems + 1 Query');
  for (let i = 1; i < 20; i++) await store.saveChatMessage('u', 's', 'a', i % 2 ? bot(small) : user(small));
  const append = await measure('append 1 message (~0.5 KB), window 20', () => store.saveChatMessage('u', 's', 'a', user(small), 20));
  t.is(append.requests, '1 BatchGetItem + 1 TransactWriteItems + 1 Query');
  t.true(append.write > 0);
  await measure('append, window 0 (no read back)', () => store.saveChatMessage('u', 's', 'a', bot(small), 0));
  const window = await measure('window read of 20 (~0.5 KB each)', () => store.fetchChat('u', 's', 'a', 20));
  t.is(window.requests, '1 Query');
  for (let i = 0; i < 9; i++) await store.saveChatMessage('u', `s${i}`, 'a', user(small));
  const list = await measure('listSessions page of 10', () => store.listSessions('u', { limit: 10 }));
  t.is(list.requests, '1 Query');
  const all = await measure('fetchAllChats (22 messages)', () => store.fetchAllChats('u', 's'));
  t.is(all.requests, '1 GetItem + 1 Query', 'the session item (its conversations), then one Query per conversation');
  await measure('listUsers', () => store.listUsers());
  await measure('deleteSession (22 messages)', () => store.deleteSession('u', 's'));
  await close();
});
