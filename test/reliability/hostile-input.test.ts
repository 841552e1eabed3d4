/**
 * Hostile input on every backend: each bad call gets the contract's typed error and leaves the
 * store exactly as it was; each odd-but-valid value round-trips and stays apart from its look-alikes.
 * A hand-written list first, then fast-check over ids and content.
 */
import { deepStrictEqual, equal } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import { ConvostoreError, type ChatStore, type ErrorCode } from '../../src/index.js';
import { reliabilityBackends as backends, type BackendTarget } from '../backends/registry.js';
import { fcParams, replayHint } from './seed.js';

const quiet = { logger: null, consecutiveRoles: 'keep' as const };

/** Everything the seeded data shows through the API, plus the raw row count where there is one. */
async function snapshot(target: BackendTarget): Promise<unknown> {
  const { store } = target;
  return {
    raw: await target.rawCount?.(),
    users: await store.listUsers({ limit: 1000 }),
    sessions: await Promise.all(['abc', 'a_c', 'a%'].map((u) => store.listSessions(u))),
    chats: await Promise.all(['abc', 'a_c', 'a%'].map((u) => store.fetchAllChats(u, 's'))),
    // Ids, metadata, titles: what v2 adds to a message and a session.
    pages: await Promise.all(['abc', 'a_c', 'a%'].map((u) => store.fetchSessionPage(u, 's', { limit: 1000 }))),
    session: await store.getSession('abc', 's'),
  };
}

async function seed(store: ChatStore): Promise<void> {
  for (const u of ['abc', 'a_c', 'a%']) {
    await store.saveChatMessages(u, 's', 'agent', [
      { id: 'q', role: 'user', content: `question of ${u}`, metadata: { model: 'm' } },
      { id: 'a', role: 'assistant', content: `answer to ${u}` },
    ]);
  }
  await store.updateSession('abc', 's', { title: 'seeded', metadata: { k: 1 } });
}

async function codeOf(call: () => Promise<unknown>): Promise<ErrorCode | 'none' | string> {
  try {
    await call();
    return 'none';
  } catch (error) {
    return error instanceof ConvostoreError ? error.code : `raw ${String(error)}`;
  }
}

function deep(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

const cyclic: Record<string, unknown> = { text: 'loop' };
cyclic.self = cyclic;
const getter = Object.defineProperty({}, 'text', { get: () => 'sometimes', enumerable: true });
const throwingGetter = Object.defineProperty({}, 'text', { get: () => { throw new Error('boom'); }, enumerable: true });
const hostileProxy = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } });
class Block { text = 'instance'; }

type Call = (s: ChatStore) => Promise<unknown>;
const save = (content: unknown, ...role: unknown[]): Call => (s) =>
  s.saveChatMessage('abc', 's', 'agent', { role: role.length ? role[0] : 'user', content } as never);

/** Each call and the error code it must fail with. */
const refused: Array<[string, Call, ErrorCode]> = [
  ...(
    [
      ['empty', ''], ['257 units', 'x'.repeat(257)], ['10 KB', 'x'.repeat(10_240)], ['NUL', 'a\0b'], ['lone high surrogate', 'a\uD800'],
      ['lone low surrogate', '\uDC00b'], ['reversed pair', '\uDC00\uD800'], ['number', 42], ['null', null], ['undefined', undefined],
      ['object', { toString: () => 'abc' }], ['array', ['abc']], ['String object', new String('abc')],
    ] as Array<[string, unknown]>
  ).flatMap(([name, id]): Array<[string, Call, ErrorCode]> => [
    [`userId ${name}`, (s) => s.saveChatMessage(id as string, 's', 'agent', { role: 'user', content: 'x' }), 'VALIDATION'],
    [`sessionId ${name}`, (s) => s.fetchChat('abc', id as string, 'agent'), 'VALIDATION'],
    [`agentId ${name}`, (s) => s.deleteConversation('abc', 's', id as string), 'VALIDATION'],
    [`deleteUser ${name}`, (s) => s.deleteUser(id as string), 'VALIDATION'],
  ]),
  ['content with a cycle', save([cyclic]), 'VALIDATION'],
  ['content with a BigInt', save([{ n: 10n }]), 'VALIDATION'],
  ['content with a function', save([{ f: () => 1 }]), 'VALIDATION'],
  ['content with a toJSON function', save([{ toJSON: () => ({ text: 'x' }) }]), 'VALIDATION'],
  ['content with undefined in an array', save([{ list: [1, undefined] }]), 'VALIDATION'],
  ['content with a hole in an array', save([{ list: [1, , 3] }]), 'VALIDATION'],
  ['content with a Date', save([{ at: new Date(0) }]), 'VALIDATION'],
  ['content with NaN', save([{ n: NaN }]), 'VALIDATION'],
  ['content with Infinity', save([{ n: -Infinity }]), 'VALIDATION'],
  ['content with a Map', save([{ m: new Map() }]), 'VALIDATION'],
  ['content with a class instance', save([new Block()]), 'VALIDATION'],
  ['content with a symbol', save([{ s: Symbol('x') }]), 'VALIDATION'],
  ['content with a getter', save([getter]), 'VALIDATION'],
  ['content with a throwing getter', save([throwingGetter]), 'VALIDATION'],
  ['content with a hostile Proxy', save([hostileProxy]), 'VALIDATION'],
  ['content nested 200 levels deep', save([{ deep: deep(200) }]), 'VALIDATION'],
  ['content nested 100,000 levels deep', save([{ deep: deep(100_000) }]), 'VALIDATION'],
  ['content a number', save(42), 'VALIDATION'],
  ['content null', save(null), 'VALIDATION'],
  ['content of strings', save(['text']), 'VALIDATION'],
  ['role developer', save('x', 'developer'), 'VALIDATION'],
  ['role System', save('x', 'System'), 'VALIDATION'],
  ['role User', save('x', 'User'), 'VALIDATION'],
  ['role empty', save('x', ''), 'VALIDATION'],
  ['role missing', save('x', undefined), 'VALIDATION'],
  ['role an array', save('x', ['user']), 'VALIDATION'],
  ['a bad message inside a batch', (s) => s.saveChatMessages('abc', 's', 'agent', [{ role: 'user', content: 'ok' }, { role: 'bot', content: 'x' } as never]), 'VALIDATION'],
  ['messages not an array', (s) => s.saveChatMessages('abc', 's', 'agent', { 0: { role: 'user', content: 'x' }, length: 1 } as never), 'VALIDATION'],
  ['a timestamp NaN', (s) => s.saveChatMessage('abc', 's', 'agent', { role: 'user', content: 'x', timestamp: NaN }), 'VALIDATION'],
  ['a timestamp negative', (s) => s.saveChatMessage('abc', 's', 'agent', { role: 'user', content: 'x', timestamp: -1 }), 'VALIDATION'],
  ['an invalid Date', (s) => s.saveChatMessage('abc', 's', 'agent', { role: 'user', content: 'x', timestamp: new Date('nope') }), 'VALIDATION'],
  ...([-1, -2, 1.5, NaN, Infinity, -Infinity, '4', null, 2n] as unknown[]).flatMap((w): Array<[string, Call, ErrorCode]> => [
    [`window ${String(w)} on save`, (s) => s.saveChatMessage('abc', 's', 'agent', { role: 'user', content: 'x' }, w as number), 'VALIDATION'],
    [`window ${String(w)} on fetch`, (s) => s.fetchChat('abc', 's', 'agent', w as number), 'VALIDATION'],
  ]),
  ...([0, -1, 1.5, NaN, Infinity, 1001, 1e300, '10'] as unknown[]).flatMap((limit): Array<[string, Call, ErrorCode]> => [
    [`page size ${String(limit)}`, (s) => s.fetchChatPage('abc', 's', 'agent', { limit: limit as number }), 'VALIDATION'],
    [`session page size ${String(limit)}`, (s) => s.listSessions('abc', { limit: limit as number }), 'VALIDATION'],
    [`user page size ${String(limit)}`, (s) => s.listUsers({ limit: limit as number }), 'VALIDATION'],
  ]),
  ['an options getter that throws', (s) => s.fetchChatPage('abc', 's', 'agent', Object.defineProperty({}, 'limit', { get: () => { throw new Error('boom'); }, enumerable: true })), 'VALIDATION'],
  ['a forged cursor', (s) => s.fetchChatPage('abc', 's', 'agent', { cursor: "'; DROP TABLE messages; --" }), 'VALIDATION'],
  ['a 1 MB cursor', (s) => s.listSessions('abc', { cursor: 'x'.repeat(1 << 20) }), 'VALIDATION'],
  ['order sideways', (s) => s.fetchChatPage('abc', 's', 'agent', { order: 'sideways' as never }), 'VALIDATION'],
];

const throwingOptions = (key: string) => Object.defineProperty({}, key, { get: () => { throw new Error('boom'); }, enumerable: true });
const revoked = Proxy.revocable({}, {});
revoked.revoke();
const metadataProxy = new Proxy({ model: 'x' }, { ownKeys: () => { throw new Error('trap'); } });
const saveMeta = (metadata: unknown): Call => (s) => s.saveChatMessage('abc', 's', 'agent', { role: 'user', content: 'x', metadata } as never);

/** Version 2's fields: message ids, message and session metadata, titles, and the new options. */
const refusedV2: Array<[string, Call, ErrorCode]> = [
  ...(
    [
      ['empty', ''], ['257 units', 'x'.repeat(257)], ['1 MB', 'x'.repeat(1 << 20)], ['NUL', 'a\0b'], ['lone high surrogate', 'a\uD800'],
      ['lone low surrogate', '\uDC00b'], ['reversed pair', '\uDC00\uD800'], ['number', 42], ['null', null],
      ['object', { toString: () => 'm' }], ['String object', new String('m')], ['a Proxy', new Proxy({}, {})],
    ] as Array<[string, unknown]>
  ).flatMap(([name, id]): Array<[string, Call, ErrorCode]> => [
    [`message id ${name}`, (s) => s.saveChatMessage('abc', 's', 'agent', { id, role: 'user', content: 'x' } as never), 'VALIDATION'],
    [`upsert id ${name}`, (s) => s.upsertMessages('abc', 's', 'agent', [{ id, role: 'user', content: 'x' } as never]), 'VALIDATION'],
    [`getMessage ${name}`, (s) => s.getMessage('abc', 's', id as string), 'VALIDATION'],
    [`updateMessage ${name}`, (s) => s.updateMessage('abc', 's', id as string, { content: 'x' }), 'VALIDATION'],
    [`deleteMessages ${name}`, (s) => s.deleteMessages('abc', 's', ['q', id as string]), 'VALIDATION'],
    [`deleteIds ${name}`, (s) => s.upsertMessages('abc', 's', 'agent', [], { deleteIds: ['q', id as string] }), 'VALIDATION'],
    [`expectLastIds ${name}`, (s) => s.upsertMessages('abc', 's', 'agent', [], { expectLastIds: [id as string] }), 'VALIDATION'],
    [`truncateAfter ${name}`, (s) => s.truncateAfter('abc', 's', id as string), 'VALIDATION'],
    [`after ${name}`, (s) => s.fetchSessionPage('abc', 's', { after: id as string }), 'VALIDATION'],
    [`upToMessageId ${name}`, (s) => s.forkSession('abc', 's', 'fork', { upToMessageId: id as string }), 'VALIDATION'],
    // A title may be up to 1,000 units, and `title: null` removes one: those two are no refusals.
    ...(name === '257 units' || name === 'null'
      ? []
      : [[`title ${name}`, (s: ChatStore) => s.updateSession('abc', 's', { title: id as string }), 'VALIDATION'] as [string, Call, ErrorCode]]),
    ...(name === '257 units'
      ? []
      : [[`fork title ${name}`, (s: ChatStore) => s.forkSession('abc', 's', 'fork', { title: id as string }), 'VALIDATION'] as [string, Call, ErrorCode]]),
  ]),
  ['title of 1,001 units', (s) => s.updateSession('abc', 's', { title: 'x'.repeat(1001) }), 'VALIDATION'],
  ['title of 501 astral characters', (s) => s.updateSession('abc', 's', { title: '🙂'.repeat(501) }), 'VALIDATION'],
  ['a title getter that throws', (s) => s.updateSession('abc', 's', throwingOptions('title') as never), 'VALIDATION'],
  ['metadata with a cycle', saveMeta(cyclic), 'VALIDATION'],
  ['metadata with a getter', saveMeta(getter), 'VALIDATION'],
  ['metadata with a throwing getter', saveMeta(throwingGetter), 'VALIDATION'],
  ['metadata a hostile Proxy', saveMeta(hostileProxy), 'VALIDATION'],
  ['metadata a Proxy whose keys trap throws', saveMeta(metadataProxy), 'VALIDATION'],
  ['metadata a revoked Proxy', saveMeta(revoked.proxy), 'VALIDATION'],
  ['metadata nested 200 levels deep', saveMeta({ deep: deep(200) }), 'VALIDATION'],
  ['metadata nested 100,000 levels deep', saveMeta({ deep: deep(100_000) }), 'VALIDATION'],
  ['metadata with a toJSON function', saveMeta({ toJSON: () => ({}) }), 'VALIDATION'],
  ['metadata with a lone surrogate key and a BigInt', saveMeta({ '\uD800': 1n }), 'VALIDATION'],
  ['metadata an array', saveMeta([]), 'VALIDATION'],
  ['metadata a class instance', saveMeta(new Block()), 'VALIDATION'],
  ['metadata of 2 MB', saveMeta({ big: 'x'.repeat(2 << 20) }), 'TOO_LARGE'],
  ['update metadata with a getter', (s) => s.updateMessage('abc', 's', 'q', { metadata: getter as never }), 'VALIDATION'],
  ['update metadata of 2 MB', (s) => s.updateMessage('abc', 's', 'q', { metadata: { big: 'x'.repeat(2 << 20) } }), 'TOO_LARGE'],
  ['session metadata over 16 KB', (s) => s.updateSession('abc', 's', { metadata: { big: 'x'.repeat(16 * 1024) } }), 'VALIDATION'],
  ['session metadata nested 100,000 deep', (s) => s.updateSession('abc', 's', { metadata: { deep: deep(100_000) } as never }), 'VALIDATION'],
  ['session metadata a hostile Proxy', (s) => s.updateSession('abc', 's', { metadata: hostileProxy as never }), 'VALIDATION'],
  ['session metadata with a throwing getter', (s) => s.updateSession('abc', 's', { metadata: throwingGetter as never }), 'VALIDATION'],
  ['upsert options with a throwing getter', (s) => s.upsertMessages('abc', 's', 'agent', [], throwingOptions('deleteIds') as never), 'VALIDATION'],
  ['deleteIds a Proxy of an array', (s) => s.upsertMessages('abc', 's', 'agent', [], { deleteIds: new Proxy(['q'], { get: () => { throw new Error('trap'); } }) }), 'VALIDATION'],
  ['fork options with a throwing getter', (s) => s.forkSession('abc', 's', 'fork', throwingOptions('upToMessageId') as never), 'VALIDATION'],
  ['update with a throwing getter', (s) => s.updateMessage('abc', 's', 'q', throwingOptions('content') as never), 'VALIDATION'],
  ['session page options with a throwing getter', (s) => s.fetchSessionPage('abc', 's', throwingOptions('after') as never), 'VALIDATION'],
  ['import messages a Proxy that throws', (s) => s.importSession('abc', 'imported', { messages: new Proxy([], { get: () => { throw new Error('trap'); } }) }), 'VALIDATION'],
  ['import with a hostile message id', (s) => s.importSession('abc', 'imported', { messages: [{ agentId: 'agent', id: '\uD800', role: 'user', content: 'x', timestamp: 1 }] }), 'VALIDATION'],
];

/** A message whose content JSON is exactly `bytes` long in UTF-8, built from 3-byte characters. */
function contentOfBytes(bytes: number): Array<{ text: string }> {
  const frame = Buffer.byteLength(JSON.stringify([{ text: '' }]));
  const room = bytes - frame;
  return [{ text: '€'.repeat(Math.floor(room / 3)) + 'x'.repeat(room % 3) }];
}

for (const backend of backends) {
  test(`${backend.label}: every hostile call gets its typed error and changes nothing`, async (t) => {
    const target = await backend.open(quiet);
    try {
      await seed(target.store);
      const before = await snapshot(target);
      for (const [name, call, code] of refused) {
        t.is(await codeOf(() => call(target.store)), code, name);
        t.deepEqual(await snapshot(target), before, `${name}: the store is unchanged`);
      }
      for (const [name, call, code] of refusedV2) {
        t.is(await codeOf(() => call(target.store)), code, name);
        t.deepEqual(await snapshot(target), before, `${name}: the store is unchanged`);
      }
      // Around the backend's own size limit, counted in UTF-8 bytes of multi-byte text.
      const limit = target.store.maxMessageBytes;
      t.is(await codeOf(() => save(contentOfBytes(limit + 1))(target.store)), 'TOO_LARGE', 'one byte over the limit');
      t.is(await codeOf(() => target.store.saveChatMessages('abc', 's', 'agent', [{ role: 'user', content: 'ok' }, { role: 'assistant', content: contentOfBytes(limit + 1) }])), 'TOO_LARGE', 'over the limit inside a batch');
      t.deepEqual(await snapshot(target), before, 'too large: the store is unchanged');
      const exact = contentOfBytes(limit);
      await target.store.saveChatMessage('big', 's', 'agent', { role: 'user', content: exact });
      t.deepEqual((await target.store.fetchChat('big', 's', 'agent'))[0]!.content, exact, 'exactly at the limit round-trips');
    } finally {
      await target.store.close();
      await target.dispose?.();
    }
  });

  test(`${backend.label}: huge windows mean everything; LIKE characters and SQL in ids never widen a query`, async (t) => {
    const target = await backend.open(quiet);
    try {
      await seed(target.store);
      for (const window of [Number.MAX_SAFE_INTEGER, 2 ** 53, 1e300, Number.MAX_VALUE]) {
        t.is((await target.store.fetchChat('abc', 's', 'agent', window)).length, 2, `fetch window ${window}`);
        t.is((await target.store.saveChatMessages('abc', 's', 'agent', [], window)).length, 2, `save window ${window}`);
      }
      for (const u of ['a_c', 'a%', '%', '_', 'a__', "abc' OR '1'='1", 'ABC', 'abc ']) {
        const own = ['a_c', 'a%'].includes(u) ? 2 : 0;
        t.is((await target.store.fetchChat(u, 's', 'agent')).length, own, `fetchChat(${u})`);
        t.is((await target.store.fetchAllChats(u, 's')).length, own, `fetchAllChats(${u})`);
        t.is((await target.store.listSessions(u)).items.length, own ? 1 : 0, `listSessions(${u})`);
      }
      const before = await snapshot(target);
      for (const u of ['%', '_', 'a__', '%%', "abc' OR '1'='1", 'ABC']) t.deepEqual(await target.store.deleteUser(u), { messages: 0, sessions: 0 }, `deleteUser(${u})`);
      t.deepEqual(await target.store.deleteSession('abc', '%'), { messages: 0, sessions: 0 });
      t.deepEqual(await target.store.deleteConversation('abc', 's', '%'), { messages: 0, sessions: 0 });
      t.deepEqual(await snapshot(target), before, 'pattern-like deletes removed nothing');
      t.deepEqual(await target.store.deleteUser('a_c'), { messages: 2, sessions: 1 });
      t.is((await target.store.fetchChat('abc', 's', 'agent')).length, 2, "deleting 'a_c' left 'abc'");
    } finally {
      await target.store.close();
      await target.dispose?.();
    }
  });

  test(`${backend.label}: any id string is either refused before writing or stored apart (fast-check)`, async (t) => {
    t.log(replayHint);
    const target = await backend.open(quiet);
    try {
      await seed(target.store);
      // UTF-16 units of every kind: NUL, surrogates alone or paired, LIKE and SQL characters.
      const unit = fc.oneof(
        fc.constantFrom('\0', '\uD800', '\uDFFF', '%', '_', '#', "'", '"', '\\', ';', ' ', '😀'),
        fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('a', 'b', 'c'),
      );
      const id = fc.oneof(fc.string({ unit, maxLength: 8 }), fc.string({ unit, minLength: 250, maxLength: 260 }));
      const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
      const valid = (s: string) => s.length > 0 && s.length <= 256 && !s.includes('\0') && !loneSurrogate.test(s);
      let stored = 0;
      await fc.assert(
        fc.asyncProperty(id, id, async (userId, sessionId) => {
          const before = await snapshot(target);
          const message = { role: 'user', content: [{ text: JSON.stringify([userId, sessionId]) }] };
          const code = await codeOf(() => target.store.saveChatMessage(userId, sessionId, 'agent', message));
          if (!valid(userId) || !valid(sessionId)) {
            equal(code, 'VALIDATION', `refused: ${JSON.stringify([userId, sessionId])}`);
            deepStrictEqual(await snapshot(target), before);
            return;
          }
          equal(code, 'none');
          stored++;
          deepStrictEqual(await target.store.fetchChat(userId, sessionId, 'agent'), [message], 'reads back alone');
          const sessions = (await target.store.listSessions(userId)).items;
          equal(sessions.length, 1);
          equal(sessions[0]!.sessionId, sessionId);
          deepStrictEqual(await target.store.deleteUser(userId), { messages: 1, sessions: 1 });
          deepStrictEqual(await snapshot(target), before, 'the seeded users are untouched');
        }),
        fcParams(150),
      );
      t.log(`${stored} valid id pairs stored, read and erased`);
      t.true(stored > 0);
    } finally {
      await target.store.close();
      await target.dispose?.();
    }
  });

  test(`${backend.label}: any JSON content round-trips exactly (fast-check)`, async (t) => {
    t.log(replayHint);
    const target = await backend.open(quiet);
    try {
      let n = 0;
      // -0 is left out: JSON has no negative zero, so it reads back as 0 (documented).
      const json = fc.jsonValue({ maxDepth: 6, noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
      const content = fc.array(fc.dictionary(fc.string(), json, { maxKeys: 4, noNullPrototype: true }), { maxLength: 4 });
      await fc.assert(
        fc.asyncProperty(content, async (blocks) => {
          const agent = `a${n++}`;
          await target.store.saveChatMessage('json', 's', agent, { role: 'assistant', content: blocks as never });
          deepStrictEqual((await target.store.fetchChat('json', 's', agent))[0]!.content, blocks);
        }),
        fcParams(100),
      );
      t.pass();
    } finally {
      await target.store.close();
      await target.dispose?.();
    }
  });
}
