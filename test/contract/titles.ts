/**
 * Session titles and metadata (v2): getSession, updateSession (creates, replaces the title, merges
 * metadata key by key, atomically), and which sessions outlive their last message.
 */
import type { ChatStore } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { bot, codeOf, refused, seeded, user, withId, type Declare } from './support.js';

/** Ways an explicit delete can take a session's last message. */
const emptyings: Array<[string, (store: ChatStore, sessionId: string) => Promise<unknown>]> = [
  ['deleteConversation', (store, s) => store.deleteConversation('u', s, 'a')],
  ['deleteMessages', (store, s) => store.deleteMessages('u', s, [`${s}-q`, `${s}-r`])],
  ['truncateAfter inclusive', (store, s) => store.truncateAfter('u', s, `${s}-q`, { inclusive: true })],
  ['upsertMessages deleteIds', (store, s) => store.upsertMessages('u', s, 'a', [], { deleteIds: [`${s}-q`, `${s}-r`] })],
];

export function titlesTests(t: Declare): void {
  t('updateSession names a session before its first message; its last activity is its creation, and updates never move it', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    const created = await store.updateSession('u', 's', { title: 'Trip to Zürich 🙂' });
    tt.deepEqual(created, { sessionId: 's', createdAt: 1_000, lastActivityAt: 1_000, messageCount: 0, agents: [], title: 'Trip to Zürich 🙂' });
    tt.deepEqual(await store.getSession('u', 's'), created);
    tt.deepEqual((await store.listSessions('u')).items, [created]);
    tt.deepEqual((await store.listUsers()).items, ['u']);
    clock.advance(500);
    tt.deepEqual(await store.updateSession('u', 's', { metadata: { pinned: true } }), { ...created, metadata: { pinned: true } });
    await store.saveChatMessage('u', 's', 'a', user('hello'));
    clock.advance(500);
    const renamed = await store.updateSession('u', 's', { title: 'Renamed' });
    tt.like(renamed, { createdAt: 1_000, lastActivityAt: 1_500, messageCount: 1, title: 'Renamed', metadata: { pinned: true } });
    tt.deepEqual(renamed.agents.map((a) => a.agentId), ['a']);
  });

  t('title: replaced, or removed by null; metadata: merged key by key, a key set to null removed', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', user('hello'));
    tt.false('title' in (await store.getSession('u', 's'))!, 'no title, no field');
    tt.false('metadata' in (await store.getSession('u', 's'))!, 'no metadata, no field');
    await store.updateSession('u', 's', { title: 'one', metadata: { a: 1, b: { deep: [1, 2] } } });
    await store.updateSession('u', 's', { title: 'two', metadata: { c: 'x', a: 2 } });
    tt.like(await store.getSession('u', 's'), { title: 'two', metadata: { a: 2, b: { deep: [1, 2] }, c: 'x' } });
    await store.updateSession('u', 's', { metadata: { b: null, zz: null } });
    tt.deepEqual((await store.getSession('u', 's'))!.metadata, { a: 2, c: 'x' });
    await store.updateSession('u', 's', { title: null });
    const summary = (await store.getSession('u', 's'))!;
    tt.false('title' in summary);
    tt.deepEqual(summary.metadata, { a: 2, c: 'x' });
    await store.updateSession('u', 's', { metadata: { a: null, c: null } });
    tt.false('metadata' in (await store.getSession('u', 's'))!, 'every key removed: no metadata field');
    tt.is(await store.getSession('u', 'nowhere'), null);
    tt.is(await store.getSession('nobody', 's'), null);
  });

  t('a session with a title or metadata outlives its last message; one with neither goes with it; prune removes no session', async (tt, open) => {
    const clock = new TestClock(10_000);
    const { store } = await open({ clock: clock.read, retention: { ttlMs: 1_000 } });
    for (const [what, empty] of emptyings) {
      for (const kind of ['titled', 'tagged', 'plain']) {
        const s = `${what}-${kind}`;
        await store.saveChatMessages('u', s, 'a', [withId(`${s}-q`, user('q')), withId(`${s}-r`, bot('r'))]);
        if (kind === 'titled') await store.updateSession('u', s, { title: 'kept' });
        if (kind === 'tagged') await store.updateSession('u', s, { metadata: { k: 1 } });
        await empty(store, s);
        const summary = await store.getSession('u', s);
        if (kind === 'plain') {
          tt.is(summary, null, `${what}: a plain session went with its last message`);
        } else {
          tt.like(summary, { sessionId: s, messageCount: 0, agents: [] }, `${what}: a ${kind} session stays`);
          tt.true((await store.listSessions('u', { limit: 1000 })).items.some((i) => i.sessionId === s), `${what}: listed`);
        }
      }
    }
    tt.deepEqual(await store.deleteConversation('u', 'deleteConversation-titled', 'a'), { messages: 0, sessions: 0 });
    tt.deepEqual(await store.deleteSession('u', 'deleteMessages-titled'), { messages: 0, sessions: 1 });
    tt.is(await store.getSession('u', 'deleteMessages-titled'), null);
    // prune empties conversations but never removes a session, titled or not.
    await store.saveChatMessage('u', 'expiring', 'a', user('soon old'));
    clock.advance(2_000);
    tt.is(await store.prune(), 1);
    tt.like(await store.getSession('u', 'expiring'), { messageCount: 0 });
    tt.deepEqual(await store.deleteUser('u'), { messages: 0, sessions: 8 }, 'seven kept sessions and the pruned one');
    tt.deepEqual(await store.listSessions('u'), { items: [] });
  });

  t('two concurrent updateSession calls of different metadata keys both survive', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'a', user('hello'));
    await Promise.all(Array.from({ length: 8 }, (_, i) => store.updateSession('u', 's', { metadata: { [`k${i}`]: i } })));
    tt.deepEqual((await store.getSession('u', 's'))!.metadata, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, i])));
    // Also on a session the updates create.
    await Promise.all([store.updateSession('u', 'new', { metadata: { a: 1 } }), store.updateSession('u', 'new', { metadata: { b: 2 } }), store.updateSession('u', 'new', { title: 't' })]);
    tt.like(await store.getSession('u', 'new'), { title: 't', metadata: { a: 1, b: 2 }, messageCount: 0 });
  });

  t('titles follow the id rules with up to 1,000 units; session metadata holds at most 16 KB', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    for (const title of ["quotes ' \" and #/:% spaces", 'ünï 🙂', 'x'.repeat(1000), '🙂'.repeat(500)]) {
      tt.is((await store.updateSession('u1', 's1', { title })).title, title);
    }
    for (const title of ['', 'x'.repeat(1001), 'nul\0', 'lone\uD800', 42, {}, ['t']] as unknown[]) {
      await refused(tt, target, () => store.updateSession('u1', 's1', { title } as never), 'VALIDATION', `title ${JSON.stringify(title)}`);
      await refused(tt, target, () => store.updateSession('u1', 'new', { title } as never), 'VALIDATION', `new session, title ${JSON.stringify(title)}`);
    }
    const frame = Buffer.byteLength(JSON.stringify({ k: '' }));
    const exactly16k = { k: 'é'.repeat((16 * 1024 - frame) / 2) };
    tt.is(Buffer.byteLength(JSON.stringify(exactly16k)), 16 * 1024);
    tt.deepEqual((await store.updateSession('u1', 's2', { metadata: exactly16k })).metadata, exactly16k);
    const over = { k: `${exactly16k.k}x` };
    for (const [what, metadata] of [
      ['over 16 KB', over],
      ['an array', ['x']],
      ['a string', 'x'],
      ['null', null],
      ['NaN inside', { n: Number.NaN }],
      ['a Date inside', { d: new Date(0) }],
    ] as Array<[string, unknown]>) {
      await refused(tt, target, () => store.updateSession('u1', 's1', { metadata } as never), 'VALIDATION', `metadata ${what}`);
    }
    await refused(tt, target, () => store.updateSession('u1', 's1', 'x' as never), 'VALIDATION', 'update a string');
    // The limit holds for the merged metadata too: two halves that fit alone do not fit together.
    const half = { a: 'x'.repeat(10_000) };
    await store.updateSession('u1', 's1', { metadata: half });
    const before = await store.getSession('u1', 's1');
    const code = await codeOf(() => store.updateSession('u1', 's1', { metadata: { b: 'y'.repeat(10_000) } }));
    tt.true(code === 'VALIDATION' || code === 'TOO_LARGE', `a merge over 16 KB is refused (got ${code})`);
    tt.deepEqual(await store.getSession('u1', 's1'), before, 'and changes nothing');
  });
}
