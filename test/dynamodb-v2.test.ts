/**
 * DynamoDB-specific tests of the conversation model v2, on DynamoDB Local: tables written by the
 * previous version (v1 items, no message ids) keep working; operations larger than one transaction;
 * concurrent metadata merges; session pages across agents; and the requests and capacity each new
 * operation costs (ReturnConsumedCapacity), which docs/dynamodb.md reports.
 */
import test from 'ava';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SessionMessage } from '../src/index.js';
import { DynamoDbChatStorage } from '../src/dynamodb/index.js';
import { activityKey, messageSk, messagesPk, sessionSk, userPk } from '../src/dynamodb/keys.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { countItems, freshTable, localOptions } from './helpers/dynamodb.js';
import { meteredClient, summarise } from './helpers/dynamodb-meter.js';

const local = await startDynamoDbLocal();
test.after.always(() => local.stop());

const legacyId = (ord: number) => `00000000-0000-7000-8000-${ord.toString(16).padStart(12, '0')}`;
const text = (m: { content: Array<Record<string, unknown>> }) => m.content[0]!.text as string;

/**
 * Items exactly as convostore 0.x (before message ids) wrote them — captured from src/dynamodb
 * (items.ts / append-plan.ts) before this change: a user item, a session item with one head per
 * conversation, and one message item per message with its session write position `ord`, no id.
 */
async function writeV1Session(table: string, userId: string, sessionId: string, messages: Array<{ agent: string; role: 'user' | 'assistant'; text: string }>) {
  const doc = DynamoDBDocumentClient.from(local.client);
  const heads = new Map<string, { a: string; s: number; r: string; n: number; at: number; lo: number; f: number }>();
  const t0 = 1_700_000_000_000;
  let ord = 0;
  for (const m of messages) {
    ord++;
    const head = heads.get(m.agent) ?? { a: m.agent, s: 0, r: m.role, n: 0, at: 0, lo: Number.MAX_SAFE_INTEGER, f: 1 };
    head.s++;
    head.n++;
    head.r = m.role;
    head.at = Math.max(head.at, t0 + ord);
    head.lo = Math.min(head.lo, t0 + ord);
    heads.set(m.agent, head);
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: {
          PK: messagesPk(userId, sessionId),
          SK: messageSk(m.agent, head.s),
          ord,
          a: m.agent,
          q: head.s,
          r: m.role,
          c: JSON.stringify([{ text: m.text }]),
          ts: t0 + ord,
        },
      }),
    );
  }
  const la = t0 + ord;
  await doc.send(
    new PutCommand({
      TableName: table,
      Item: { PK: userPk(userId), SK: sessionSk(sessionId), act: activityKey(la, sessionId), sid: sessionId, v: 'v1-version', o: ord, ca: t0, la, ag: [...heads.values()] },
    }),
  );
  await doc.send(new PutCommand({ TableName: table, Item: { PK: userPk(userId), SK: 'u', gpk: 'users', uid: userId, ns: 1 } }));
}

const V1_DIALOGUE = [
  { agent: 'alpha', role: 'user', text: 'a1' },
  { agent: 'beta', role: 'user', text: 'b1' },
  { agent: 'alpha', role: 'assistant', text: 'a2' },
  { agent: 'beta', role: 'assistant', text: 'b2' },
  { agent: 'alpha', role: 'user', text: 'a3' },
  { agent: 'alpha', role: 'assistant', text: 'a4' },
] as const;

test('a session written by the previous version (no message ids) works with every v2 operation, without a rewrite', async (t) => {
  const table = await freshTable(local, 'v1');
  await writeV1Session(table, 'u', 's', [...V1_DIALOGUE]);
  const store = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null });

  // Reads: ids derived from the stored write position, in the session's write order.
  const page = await store.fetchSessionPage('u', 's', { order: 'oldest' });
  t.deepEqual(page.items.map((m) => [m.id, m.agentId, m.seq, text(m)]), V1_DIALOGUE.map((m, i) => [legacyId(i + 1), m.agent, [1, 1, 2, 2, 3, 4][i], m.text]));
  t.deepEqual((await store.fetchAllChats('u', 's')).map(text), ['a1', 'b1', '[alpha] a2', '[beta] b2', 'a3', '[alpha] a4']);
  const got = await store.getMessage('u', 's', legacyId(3));
  t.is(got?.agentId, 'alpha');
  t.is(text(got!), 'a2');
  t.is(await store.getMessage('u', 's', legacyId(99)), null);
  t.deepEqual((await store.fetchSessionPage('u', 's', { after: legacyId(2), order: 'oldest', limit: 2 })).items.map(text), ['a2', 'b2']);

  // Uniqueness against the derived ids: another agent taking one is a conflict, a retry is not.
  await t.throwsAsync(() => store.saveChatMessage('u', 's', 'beta', { id: legacyId(5), role: 'user', content: 'x' }), { code: 'CONFLICT' } as never);
  await store.saveChatMessage('u', 's', 'alpha', { id: legacyId(6), role: 'assistant', content: 'a4' });
  t.is((await store.fetchChat('u', 's', 'alpha')).length, 4, 'the same message again is a retry');

  // Writes continue the conversations and the session order.
  await store.saveChatMessage('u', 's', 'alpha', { id: 'new-1', role: 'user', content: 'a5' });
  const newest = (await store.fetchSessionPage('u', 's', { limit: 1 })).items[0]!;
  t.deepEqual([newest.id, newest.seq, text(newest)], ['new-1', 5, 'a5']);
  t.true((await store.fetchSessionPage('u', 's', { limit: 2 })).items[1]!.id === legacyId(6));

  // Edits on old messages.
  t.is(text(await store.updateMessage('u', 's', legacyId(1), { content: 'a1 edited', metadata: { edited: true } })), 'a1 edited');
  const replaced = await store.upsertMessages('u', 's', 'beta', [{ id: legacyId(4), role: 'assistant', content: 'b2 again' }], { expectLastIds: [legacyId(2), legacyId(4)] });
  t.deepEqual(replaced.map((m) => [m.id, m.seq, text(m)]), [[legacyId(4), 2, 'b2 again']]);
  const forked = await store.forkSession('u', 's', 'fork', { upToMessageId: legacyId(4) });
  t.is(forked.messageCount, 4);
  t.deepEqual((await store.fetchSessionPage('u', 'fork', { order: 'oldest' })).items.map((m) => m.id), [1, 2, 3, 4].map(legacyId));
  t.is(await store.deleteMessages('u', 's', [legacyId(2), 'unknown']), 1);
  t.is(await store.truncateAfter('u', 's', legacyId(3)), 3, 'a3, a4 and a5 follow a2 in alpha');
  t.deepEqual((await store.fetchAllChats('u', 's')).map(text), ['a1 edited', '[alpha] a2', '[beta] b2 again']);
  t.deepEqual((await store.getMessage('u', 's', legacyId(1)))?.metadata, { edited: true });
  await store.updateSession('u', 's', { title: 'Old chat', metadata: { k: 1 } });
  t.is((await store.listSessions('u')).items.find((s) => s.sessionId === 's')?.title, 'Old chat');
  t.deepEqual(await store.deleteSession('u', 's'), { messages: 3, sessions: 1 });
  t.deepEqual(await store.deleteSession('u', 'fork'), { messages: 4, sessions: 1 });
  t.is(await countItems(local.client, table), 0, 'id items go with their messages');
  await store.close();
});

test('backfillMessageIds fills in the id items of every old session, resumably', async (t) => {
  const table = await freshTable(local, 'v1b');
  await writeV1Session(table, 'u1', 's1', [...V1_DIALOGUE]);
  await writeV1Session(table, 'u2', 's2', [...V1_DIALOGUE].slice(0, 3));
  const before = await countItems(local.client, table);
  const store = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null });
  t.is(await store.backfillMessageIds(), 2);
  t.is(await countItems(local.client, table), before + 6 + 3, 'one id item per old message');
  t.is(await store.backfillMessageIds(), 0, 'a second run has nothing left to do');
  t.is(text((await store.getMessage('u2', 's2', legacyId(3)))!), 'a2');
  await store.close();
});

test('openStorage(dynamodb://…, { migrate: true }), as `convostore migrate` opens it, fills in the id items of old sessions', async (t) => {
  const table = await freshTable(local, 'v1m');
  await writeV1Session(table, 'u1', 's1', [...V1_DIALOGUE]);
  const before = await countItems(local.client, table);
  const { openStorage } = await import('../src/index.js');
  const url = `dynamodb://${table}?region=${local.region}&endpoint=${encodeURIComponent(local.endpoint)}`;
  const store = await openStorage(url, { migrate: true, logger: null, dynamodb: { credentials: local.credentials } });
  t.is(await countItems(local.client, table), before + V1_DIALOGUE.length, 'one id item per old message, written on open');
  t.is(text((await store.getMessage('u1', 's1', legacyId(1)))!), 'a1');
  await store.close();
  const again = await openStorage(url, { migrate: true, logger: null, dynamodb: { credentials: local.credentials } });
  t.is(await countItems(local.client, table), before + V1_DIALOGUE.length, 'a second migrate writes nothing');
  await again.close();
});

test('deletes and truncations larger than one transaction: counts exact, a prefix stays, the conversation goes on', async (t) => {
  const table = await freshTable(local);
  const store = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null, consecutiveRoles: 'keep' });
  const ids = Array.from({ length: 150 }, (_, i) => `m${String(i).padStart(3, '0')}`);
  await store.saveChatMessages('u', 's', 'a', ids.map((id) => ({ id, role: 'user', content: id })), 0);
  t.is(await store.deleteMessages('u', 's', ids.filter((_, i) => i % 2 === 1)), 75);
  t.is(await store.truncateAfter('u', 's', 'm010'), 69, 'm012 … m148');
  const left = await store.fetchChat('u', 's', 'a');
  t.deepEqual(left.map(text), ['m000', 'm002', 'm004', 'm006', 'm008', 'm010']);
  await store.saveChatMessage('u', 's', 'a', { id: 'next', role: 'user', content: 'next' });
  t.is((await store.getMessage('u', 's', 'next'))?.seq, 12, 'numbering goes on after the last stored message');
  t.is((await store.getSession('u', 's'))?.messageCount, 7);
  t.is(await store.deleteMessages('u', 's', ['m000', 'm002', 'm004', 'm006', 'm008', 'm010', 'next']), 7);
  t.is(await store.getSession('u', 's'), null, 'a session without title or metadata goes with its last message');
  t.is(await countItems(local.client, table), 0);
  await store.close();
});

test('concurrent metadata updates of different keys from several clients all survive', async (t) => {
  const table = await freshTable(local);
  const stores = Array.from({ length: 3 }, () => new DynamoDbChatStorage(table, { ...localOptions(local), logger: null }));
  await Promise.all(stores.flatMap((store, w) => Array.from({ length: 5 }, (_, i) => store.updateSession('u', 's', { metadata: { [`w${w}k${i}`]: i } }))));
  const metadata = (await stores[0]!.getSession('u', 's'))?.metadata ?? {};
  t.is(Object.keys(metadata).length, 15);
  await stores[1]!.updateSession('u', 's', { metadata: { w0k0: null, '': 'empty key', 'a.b': { deep: [1e300] } } });
  const after = (await stores[2]!.getSession('u', 's'))?.metadata ?? {};
  t.false('w0k0' in after);
  t.is(after[''], 'empty key');
  t.deepEqual(after['a.b'], { deep: [1e300] });
  for (const store of stores) await store.close();
});

test('session pages across interleaved agents, with cursors and anchors, match the write order both ways', async (t) => {
  const table = await freshTable(local);
  const store = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null, consecutiveRoles: 'keep' });
  const agents = ['a', 'b', 'c'];
  for (let i = 0; i < 40; i++) await store.saveChatMessage('u', 's', agents[(i * 7) % 3 === 0 ? 0 : i % 3]!, { id: `id${i}`, role: 'user', content: `t${i}` }, 0);
  await store.deleteMessages('u', 's', ['id5', 'id6', 'id20']); // gaps in the lanes
  const all: string[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.fetchSessionPage('u', 's', { order: 'oldest', limit: 7, cursor });
    all.push(...page.items.map((m: SessionMessage) => m.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const expected = Array.from({ length: 40 }, (_, i) => `id${i}`).filter((id) => !['id5', 'id6', 'id20'].includes(id));
  t.deepEqual(all, expected);
  const back: string[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.fetchSessionPage('u', 's', { order: 'newest', limit: 6, cursor });
    back.push(...page.items.map((m) => m.id));
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  t.deepEqual(back, [...expected].reverse());
  t.deepEqual((await store.fetchSessionPage('u', 's', { after: 'id21', order: 'oldest', limit: 3 })).items.map((m) => m.id), ['id22', 'id23', 'id24']);
  t.deepEqual((await store.fetchSessionPage('u', 's', { after: 'id21', order: 'newest', limit: 3 })).items.map((m) => m.id), ['id19', 'id18', 'id17']);
  t.deepEqual((await store.fetchSessionPage('u', 's', { after: 'id39', order: 'oldest' })).items, [], 'polling past the newest: nothing');
  await store.close();
});

test('requests and consumed capacity of the v2 operations, as DynamoDB Local reports them', async (t) => {
  const table = await freshTable(local);
  const meter = meteredClient(local);
  const store = new DynamoDbChatStorage(table, { client: meter.client, logger: null });
  const measure = async (label: string, operation: () => Promise<unknown>) => {
    meter.reset();
    await operation();
    const calls = meter.reset();
    const s = summarise(calls);
    const parts = calls.flatMap((c) => c.detail).flatMap((d) => [
      ...(d.Table?.CapacityUnits ? [`table ${d.Table.CapacityUnits}`] : []),
      ...Object.entries(d.LocalSecondaryIndexes ?? {}).map(([name, c]) => `${name} ${c.CapacityUnits}`),
      ...Object.entries(d.GlobalSecondaryIndexes ?? {}).map(([name, c]) => `${name} ${c.CapacityUnits}`),
    ]);
    t.log(`${label}: ${s.requests}; ${s.read} RCU, ${s.write} WCU (${parts.join(', ')})`);
    return s;
  };
  const small = 'x'.repeat(500);
  for (let i = 0; i < 20; i++) await store.saveChatMessage('u', 's', 'a', { id: `m${i}`, role: i % 2 ? 'assistant' : 'user', content: small }, 0);
  const append = await measure('append 1 message (~0.5 KB), window 20', () => store.saveChatMessage('u', 's', 'a', { role: 'user', content: small }, 20));
  t.is(append.requests, '1 BatchGetItem + 1 TransactWriteItems + 1 Query', 'three requests, the id check folded into the session read');
  await measure('append retried (same id, same content)', () => store.saveChatMessage('u', 's', 'a', { id: 'm19', role: 'assistant', content: small }, 0));
  await measure('getMessage', () => store.getMessage('u', 's', 'm10'));
  await measure('updateMessage', () => store.updateMessage('u', 's', 'm10', { metadata: { model: 'x' } }));
  await measure('upsertMessages: replace the last message', () => store.upsertMessages('u', 's', 'a', [{ id: 'm19', role: 'assistant', content: 'changed' }]));
  await store.saveChatMessage('u', 's', 'a', { id: 'm20', role: 'assistant', content: small }, 0);
  await measure('upsertMessages: regenerate (expectLastIds + deleteIds + new message)', () =>
    store.upsertMessages('u', 's', 'a', [{ id: 'r1', role: 'assistant', content: small }], { deleteIds: ['m20'], expectLastIds: ['m20'] }),
  );
  await measure('fetchSessionPage of 10 (1 agent)', () => store.fetchSessionPage('u', 's', { limit: 10 }));
  await measure('fetchSessionPage of 10 after an anchor', () => store.fetchSessionPage('u', 's', { limit: 10, after: 'm5', order: 'oldest' }));
  await measure('deleteMessages of 2', () => store.deleteMessages('u', 's', ['m3', 'm4']));
  await measure('truncateAfter (5 removed)', () => store.truncateAfter('u', 's', 'm14'));
  await measure('getSession', () => store.getSession('u', 's'));
  const update = await measure('updateSession (title and a metadata key)', () => store.updateSession('u', 's', { title: 'T', metadata: { k: 1 } }));
  // No Query: the deletions above took the newest messages of a conversation whose timestamps are in
  // order, so its head stayed exact (a head marked inexact would add one Query, as in getSession).
  t.is(update.requests, '1 GetItem + 1 UpdateItem', 'the summary comes from the UpdateItem (ALL_NEW), not a second GetItem');
  const fork = await measure('forkSession of 14 messages', () => store.forkSession('u', 's', 'f'));
  t.is(fork.requests, '1 GetItem + 1 Query + 1 TransactWriteItems', 'a fork of up to 49 messages is one transaction, its summary computed');
  await measure('deleteSession of 14 messages', () => store.deleteSession('u', 'f'));
  await store.saveChatMessages('u', 'big', 'a', Array.from({ length: 100 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: small })), 0);
  const exact = await measure('updateSession (title and a metadata key; no deletions)', () => store.updateSession('u', 'big', { title: 'T', metadata: { k: 1 } }));
  t.is(exact.requests, '1 GetItem + 1 UpdateItem');
  const bigFork = await measure('forkSession of 100 messages', () => store.forkSession('u', 'big', 'big-fork'));
  t.is(bigFork.requests, '1 GetItem + 1 Query + 3 TransactWriteItems', 'claim with 49, renew with 49, publish with 2');
  await store.close();
  meter.client.destroy();
});

/**
 * forkSession racing writers of the target session id, each on its own client (as other processes
 * would be). Whatever the interleaving, either the fork wins whole — the target holds exactly the
 * copy, and the writes that succeeded come after it — or the fork is a ConflictError and the target
 * holds exactly the writes: never a mix, never a lost or overwritten message.
 */
test('forkSession racing writers of the target: the fork wins whole or fails with ConflictError, and no write is lost', async (t) => {
  const table = await freshTable(local);
  const options = { ...localOptions(local), logger: null, consecutiveRoles: 'keep' as const };
  const forker = new DynamoDbChatStorage(table, options);
  const writers = [new DynamoDbChatStorage(table, options), new DynamoDbChatStorage(table, options)];
  // 130 messages over two agents: the copy takes several requests (more than one transaction's worth).
  const source = Array.from({ length: 130 }, (_, i) => ({ id: `src${i}`, role: i % 2 ? ('assistant' as const) : ('user' as const), content: `s${i}` }));
  const byAgent = (agent: string) => source.filter((_, i) => (i % 3 === 0 ? 'b' : 'a') === agent).map((m) => m.id);
  for (const [i, m] of source.entries()) await forker.saveChatMessage('u', 'src', i % 3 === 0 ? 'b' : 'a', m, 0);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const outcomes = { forked: 0, conflict: 0, writesDuringWonForks: 0 };
  for (let round = 0; round < 8; round++) {
    const target = `fork${round}`;
    const written = new Map<string, string[]>([['a', []], ['b', []]]);
    let forkRunning = true;
    let writesDuringFork = 0;
    const fork = forker.forkSession('u', 'src', target).then(
      () => ((forkRunning = false), 'forked' as const),
      (error: unknown) => {
        if ((error as { code?: string }).code === 'CONFLICT') return 'conflict' as const;
        throw error;
      },
    );
    const writes = writers.map(async (store, w) => {
      // Even rounds: the writers start with the fork; odd rounds: at some point while it copies.
      await sleep(round % 2 ? Math.random() * 20 * round : 0);
      for (let k = 0; k < 3; k++) {
        const agent = k % 2 ? 'b' : 'a';
        const id = `w${round}-${w}-${k}`;
        if (forkRunning) writesDuringFork++;
        await store.saveChatMessage('u', target, agent, { id, role: 'user', content: id }, 0);
        written.get(agent)!.push(id);
        await sleep(Math.random() * 15);
      }
    });
    const [outcome] = await Promise.all([fork, ...writes]);
    outcomes[outcome]++;
    if (outcome === 'forked') outcomes.writesDuringWonForks += writesDuringFork;
    for (const agent of ['a', 'b']) {
      const ids = (await forker.fetchChatPage('u', target, agent, { order: 'oldest', limit: 1000 })).items.map((m) => m.id);
      const copy = outcome === 'forked' ? byAgent(agent) : [];
      t.deepEqual(ids.slice(0, copy.length), copy, `round ${round} (${outcome}), agent ${agent}: the copy whole, first`);
      const rest = ids.slice(copy.length);
      t.deepEqual([...rest].sort(), [...written.get(agent)!].sort(), `round ${round} (${outcome}), agent ${agent}: every write, after the copy, none lost`);
      for (const id of written.get(agent)!) t.is((await forker.getMessage('u', target, id))?.content[0]?.text, id);
    }
    const summary = await forker.getSession('u', target);
    const total = (outcome === 'forked' ? source.length : 0) + 6;
    t.is(summary?.messageCount, total, `round ${round}: the session counts what it holds`);
    t.is((await forker.fetchSessionPage('u', target, { order: 'oldest', limit: 1000 })).items.length, total);
  }
  t.log(`outcomes over 8 rounds: ${JSON.stringify(outcomes)}`);
  for (const store of [forker, ...writers]) await store.close();
});

test('a claim left by a fork that died: readers see no session; a writer waits out the lease, removes it and what it copied, and writes', async (t) => {
  const table = await freshTable(local);
  const doc = DynamoDBDocumentClient.from(local.client);
  const t0 = 1_700_000_000_000;
  // What a fork that died after its first transaction leaves: the claim (no activity key) and a copied message with its id item.
  await doc.send(new PutCommand({ TableName: table, Item: { PK: userPk('u'), SK: sessionSk('s'), sid: 's', v: 'claim', o: 1, ca: t0, la: t0, ag: [], iv: 2, fk: { t: 'dead', n: 2 } } }));
  await doc.send(new PutCommand({ TableName: table, Item: { PK: messagesPk('u', 's'), SK: messageSk('a', 1), i: 'copied', a: 'a', q: 1, ord: 1, r: 'user', c: '[{"text":"copied"}]', ts: t0 } }));
  await doc.send(new PutCommand({ TableName: table, Item: { PK: messagesPk('u', 's'), SK: 'i6:copied', a: 'a', q: 1, r: 'user' } }));
  const store = new DynamoDbChatStorage(table, { ...localOptions(local), logger: null });
  t.is(await store.getSession('u', 's'), null);
  t.deepEqual((await store.listSessions('u')).items, []);
  t.deepEqual((await store.fetchSessionPage('u', 's')).items, []);
  await store.saveChatMessage('u', 'src', 'a', { id: 'x', role: 'user', content: 'x' });
  await t.throwsAsync(store.forkSession('u', 's', 'other'), { code: 'NOT_FOUND' }, 'a claim is no source');
  await t.throwsAsync(store.forkSession('u', 'src', 's'), { code: 'CONFLICT' }, 'nor a free target');
  const started = Date.now();
  await store.saveChatMessage('u', 's', 'a', { id: 'mine', role: 'user', content: 'mine' });
  t.true(Date.now() - started >= 30_000, 'the writer waited for the lease');
  t.deepEqual((await store.fetchChat('u', 's', 'a')).map(text), ['mine']);
  t.is(await store.getMessage('u', 's', 'copied'), null);
  t.is((await store.getSession('u', 's'))?.messageCount, 1);
  t.is(await countItems(local.client, table), 7, "user, two sessions' message and id items: nothing of the dead fork");
  await store.close();
});
