/**
 * Message metadata (v2) and the shapes reads return: metadata round-trips and is absent when not
 * given; the size limit counts content plus metadata; Agent Squad's calls keep `{ role, content }`.
 */
import { TooLargeError, type Metadata } from '../../src/index.js';
import { bot, jsonBytes, refused, seeded, sessionMessages, user, withId, type Declare } from './support.js';

const usage: Metadata = {
  usage: { inputTokens: 12, outputTokens: 345, cached: null },
  model: 'claude-x',
  finishReason: 'stop',
  tags: ['a', 'ü', '🙂'],
  nested: { deep: [[{ ok: true, n: -1.5e-7 }]] },
  '': 'empty key',
};

export function metadataTests(t: Declare): void {
  t('message metadata round-trips deep-equal on every read; a message without metadata has no metadata field', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', withId('q', user('q')));
    await store.saveChatMessages('u', 's', 'a', [withId('r', bot('r'), usage), withId('e', user('e'), {})]);
    const upserted = await store.upsertMessages('u', 's', 'a', [withId('v', bot('v'), { v: 1 })]);
    tt.deepEqual(upserted.map((m) => m.metadata), [{ v: 1 }]);

    const page = (await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items;
    const session = await sessionMessages(store, 'u', 's');
    for (const items of [page, session]) {
      tt.false('metadata' in items[0]!, 'no metadata, no field');
      tt.deepEqual(items[1]!.metadata, usage);
      tt.deepEqual(items[2]!.metadata, {});
      tt.deepEqual(items[3]!.metadata, { v: 1 });
    }
    tt.deepEqual((await store.getMessage('u', 's', 'r'))!.metadata, usage);
    tt.false('metadata' in (await store.getMessage('u', 's', 'q'))!);
  });

  t('stored-message reads carry id, seq, timestamp and agentId; Agent Squad calls keep { role, content }', async (tt, open) => {
    const { store } = await open({ clock: () => 1_234 });
    const saved = await store.saveChatMessage('u', 's', 'a', withId('q', user('q'), { k: 1 }));
    const savedMany = await store.saveChatMessages('u', 's', 'a', [withId('r', bot('r'), { k: 2 })]);
    const reads = [saved, savedMany, await store.fetchChat('u', 's', 'a'), await store.fetchAllChats('u', 's')];
    for (const messages of reads) for (const m of messages) tt.deepEqual(Object.keys(m).sort(), ['content', 'role']);

    const [stored] = (await store.fetchChatPage('u', 's', 'a', { limit: 1 })).items;
    tt.deepEqual(stored, { id: 'r', role: 'assistant', content: [{ text: 'r' }], metadata: { k: 2 }, seq: 2, timestamp: 1_234 });
    const [first] = (await store.fetchSessionPage('u', 's', { order: 'oldest', limit: 1 })).items;
    tt.deepEqual(first, { agentId: 'a', id: 'q', role: 'user', content: [{ text: 'q' }], metadata: { k: 1 }, seq: 1, timestamp: 1_234 });
    tt.deepEqual(await store.getMessage('u', 's', 'q'), first);
  });

  t('what is read back is a copy: mutating metadata read or written changes nothing stored', async (tt, open) => {
    const { store } = await open();
    const metadata = { usage: { tokens: 1 } };
    await store.saveChatMessage('u', 's', 'a', withId('m', user('m'), metadata));
    metadata.usage.tokens = 2;
    const read = await store.getMessage('u', 's', 'm');
    (read!.metadata!.usage as { tokens: number }).tokens = 3;
    tt.deepEqual((await store.getMessage('u', 's', 'm'))!.metadata, { usage: { tokens: 1 } });
  });

  t('the size limit counts content plus metadata; TooLargeError.size is the sum', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const limit = store.maxMessageBytes;
    // 350 KB of content with small metadata stays accepted.
    const big = 'é'.repeat(175_000);
    await store.saveChatMessage('u1', 's3', 'a1', { role: 'user', content: big, metadata: { model: 'm', usage: { tokens: 350_000 } } });
    tt.is((await store.fetchChat('u1', 's3', 'a1'))[0]!.content[0]!.text, big);

    const content = [{ text: 'c'.repeat(Math.floor(limit / 2)) }];
    const metadata = { note: 'm'.repeat(Math.floor(limit / 2)) };
    const size = jsonBytes(content) + jsonBytes(metadata);
    tt.true(size > limit && jsonBytes(content) < limit && jsonBytes(metadata) < limit, 'each part alone fits');
    const message = { id: 'big', role: 'user' as const, content, metadata };
    await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', message), 'TOO_LARGE', 'content plus metadata');
    await refused(tt, target, () => store.upsertMessages('u1', 's1', 'a1', [message]), 'TOO_LARGE', 'upsert');
    await refused(tt, target, () => store.saveChatMessages('u1', 's1', 'a1', [user('fits'), bot('fits'), message]), 'TOO_LARGE', 'in a batch');
    const error = await tt.throwsAsync(() => store.saveChatMessage('u1', 's1', 'a1', message), { instanceOf: TooLargeError });
    tt.is(error!.size, size);
    tt.is(error!.limit, limit);

    // Exactly at the limit, content plus metadata.
    const meta = { k: 'v' };
    const room = limit - jsonBytes(meta) - jsonBytes([{ text: '' }]);
    await store.saveChatMessage('u1', 's4', 'a1', { id: 'exact', role: 'user', content: 'y'.repeat(room), metadata: meta });
    tt.deepEqual((await store.getMessage('u1', 's4', 'exact'))!.metadata, meta);

    // An update whose result would be over the limit is refused whole.
    await store.saveChatMessage('u1', 's5', 'a1', { id: 'half', role: 'user', content });
    const before = await store.getMessage('u1', 's5', 'half');
    const updateError = await tt.throwsAsync(() => store.updateMessage('u1', 's5', 'half', { metadata }));
    tt.is((updateError as { code?: string }).code, 'TOO_LARGE');
    tt.is((updateError as TooLargeError).size, size);
    tt.deepEqual(await store.getMessage('u1', 's5', 'half'), before);
  });

  t('bad message metadata is refused with a validation error and changes nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    class Meta {
      model = 'x';
    }
    const bad: Array<[string, unknown]> = [
      ['an array', ['model']],
      ['a string', 'model'],
      ['a number', 1],
      ['null', null],
      ['a class instance', new Meta()],
      ['a Map', new Map()],
      ['a cycle', cyclic],
      ['a BigInt', { n: 1n }],
      ['NaN', { n: Number.NaN }],
      ['a Date', { at: new Date(0) }],
      ['a function', { f: () => 1 }],
      ['undefined in an array', { list: [undefined] }],
      ['a getter', Object.defineProperty({}, 'k', { get: () => 'v', enumerable: true })],
    ];
    for (const [what, metadata] of bad) {
      await refused(tt, target, () => store.saveChatMessage('u1', 's1', 'a1', { role: 'user', content: 'x', metadata } as never), 'VALIDATION', what);
      // (updateMessage takes null: it removes the metadata.)
      if (metadata !== null) await refused(tt, target, () => store.updateMessage('u1', 's1', 'x0', { metadata } as never), 'VALIDATION', `update: ${what}`);
    }
  });
}
