/**
 * fetchSessionPage (v2): every agent's messages of a session in the session's write order (the order
 * fetchAllChats uses), paged both ways with an opaque cursor or from a message (`after`).
 */
import type { ChatStore, SessionMessage } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { bot, idsOf, refused, seeded, sessionMessages, tool, user, withId, type Declare } from './support.js';

/** Every page of a walk, with the ids of each page. */
async function walk(store: ChatStore, order: 'newest' | 'oldest', limit: number, after?: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  let first = true;
  do {
    const page = await store.fetchSessionPage('u', 's', first && after !== undefined ? { order, limit, after } : { order, limit, cursor });
    first = false;
    pages.push(idsOf(page.items));
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

/** 23 messages over three agents, written in the order of their ids m00..m22, under a clock stuck or going back. */
async function interleaved(store: ChatStore, clock: TestClock): Promise<string[]> {
  const written: string[] = [];
  for (let i = 0; i < 23; i++) {
    const id = `m${String(i).padStart(2, '0')}`;
    const agent = ['a', 'b', 'c'][(i * 7) % 3]!;
    const message = Math.floor(i / 3) % 2 === 0 ? user(id) : bot(id);
    await store.saveChatMessage('u', 's', agent, withId(id, message));
    written.push(id);
    if (i % 5 === 4) clock.advance(-1_000);
  }
  return written;
}

export function sessionPagesTests(t: Declare): void {
  t('fetchSessionPage reads the session in write order across agents, the order of fetchAllChats, whatever the timestamps', async (tt, open) => {
    const clock = new TestClock(50_000);
    const { store } = await open({ clock: clock.read, consecutiveRoles: 'keep' });
    await store.saveChatMessage('u', 's', 'alpha', withId('1', user('alpha q')));
    await store.saveChatMessage('u', 's', 'beta', withId('2', user('beta q')));
    await store.saveChatMessage('u', 's', 'alpha', { ...withId('3', bot('alpha a'), { m: 1 }), timestamp: 10 });
    clock.advance(-20_000);
    await store.saveChatMessages('u', 's', 'beta', [withId('4', bot('beta a')), withId('5', tool('t'))]);
    await store.saveChatMessage('u', 'other', 'alpha', withId('6', user('elsewhere')));
    const items = await sessionMessages(store, 'u', 's');
    tt.deepEqual(
      items.map((m) => [m.agentId, m.id, m.seq, m.role, m.timestamp]),
      [
        ['alpha', '1', 1, 'user', 50_000],
        ['beta', '2', 1, 'user', 50_000],
        ['alpha', '3', 2, 'assistant', 10],
        ['beta', '4', 2, 'assistant', 30_000],
        ['beta', '5', 3, 'tool', 30_000],
      ],
    );
    tt.deepEqual(items[2]!.metadata, { m: 1 });
    const tagged = (m: SessionMessage) =>
      m.role === 'assistant' ? { role: m.role, content: [{ text: `[${m.agentId}] ${m.content[0]!.text as string}` }] } : { role: m.role, content: m.content };
    tt.deepEqual(items.map(tagged), await store.fetchAllChats('u', 's'));
    tt.deepEqual(await store.fetchSessionPage('u', 'nowhere'), { items: [] });
  });

  t('fetchSessionPage pages both ways with a cursor, without gaps, repeats or an empty last page', async (tt, open) => {
    const clock = new TestClock();
    const { store } = await open({ clock: clock.read });
    const written = await interleaved(store, clock);
    const oldest = await walk(store, 'oldest', 5);
    tt.deepEqual(oldest.map((p) => p.length), [5, 5, 5, 5, 3]);
    tt.deepEqual(oldest.flat(), written);
    const newest = await walk(store, 'newest', 4);
    tt.deepEqual(newest.flat(), [...written].reverse());
    tt.deepEqual(newest.map((p) => p.length), [4, 4, 4, 4, 4, 3]);
    tt.is((await walk(store, 'oldest', 23)).length, 1, 'an exact fit ends without an empty page');
    tt.deepEqual(idsOf((await store.fetchSessionPage('u', 's', { limit: 2 })).items), ['m22', 'm21'], 'newest first by default');
    tt.is((await store.fetchSessionPage('u', 's')).items.length, 23, 'default page size covers 23');
    // A message written during a walk newest-first does not show up in it.
    const first = await store.fetchSessionPage('u', 's', { limit: 20 });
    await store.saveChatMessage('u', 's', 'a', withId('late', bot('late')));
    const rest = await store.fetchSessionPage('u', 's', { limit: 20, cursor: first.nextCursor });
    tt.deepEqual([...idsOf(first.items), ...idsOf(rest.items)], [...written].reverse());
  });

  t('after: a page starts right after a message in either order; polling from the last message sees new ones', async (tt, open) => {
    const clock = new TestClock();
    const { store } = await open({ clock: clock.read });
    const written = await interleaved(store, clock);
    tt.deepEqual(await walk(store, 'oldest', 4, 'm10'), [['m11', 'm12', 'm13', 'm14'], ['m15', 'm16', 'm17', 'm18'], ['m19', 'm20', 'm21', 'm22']]);
    tt.deepEqual((await walk(store, 'newest', 6, 'm10')).flat(), written.slice(0, 10).reverse());
    tt.deepEqual(await store.fetchSessionPage('u', 's', { order: 'oldest', after: 'm22' }), { items: [] });
    tt.deepEqual(await store.fetchSessionPage('u', 's', { order: 'newest', after: 'm00' }), { items: [] });
    await store.saveChatMessage('u', 's', 'b', withId('new', user('new')));
    tt.deepEqual(idsOf((await store.fetchSessionPage('u', 's', { order: 'oldest', after: 'm22' })).items), ['new']);
  });

  t('fetchSessionPage refuses after with a cursor, an unknown after, and foreign or forged cursors', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const page = await store.fetchSessionPage('u1', 's1', { limit: 1 });
    const cursor = page.nextCursor!;
    tt.truthy(cursor);
    const chatCursor = (await store.fetchChatPage('u1', 's1', 'a1', { limit: 1 })).nextCursor!;
    await refused(tt, target, () => store.fetchSessionPage('u1', 's1', { after: 'nope' }), 'NOT_FOUND', 'unknown after');
    await refused(tt, target, () => store.fetchSessionPage('u1', 's1', { after: 'z0' }), 'NOT_FOUND', 'after a message of another session');
    await refused(tt, target, () => store.fetchSessionPage('u1', 's1', { after: 'x0', cursor }), 'VALIDATION', 'after and cursor');
    for (const [what, call] of [
      ['other session', () => store.fetchSessionPage('u1', 's2', { cursor })],
      ['other user', () => store.fetchSessionPage('u2', 's1', { cursor })],
      ['other order', () => store.fetchSessionPage('u1', 's1', { cursor, order: 'oldest' })],
      ['a conversation cursor', () => store.fetchSessionPage('u1', 's1', { cursor: chatCursor })],
      ['a session cursor in a conversation', () => store.fetchChatPage('u1', 's1', 'a1', { cursor })],
      ['garbage', () => store.fetchSessionPage('u1', 's1', { cursor: 'not-a-cursor' })],
      ['limit 0', () => store.fetchSessionPage('u1', 's1', { limit: 0 })],
      ['limit 1001', () => store.fetchSessionPage('u1', 's1', { limit: 1001 })],
      ['order sideways', () => store.fetchSessionPage('u1', 's1', { order: 'sideways' as never })],
      ['after empty', () => store.fetchSessionPage('u1', 's1', { after: '' })],
      ['options a string', () => store.fetchSessionPage('u1', 's1', 'x' as never)],
    ] as const) {
      await refused(tt, target, call, 'VALIDATION', what);
    }
  });

  t('fetchSessionPage hides TTL-expired messages', async (tt, open) => {
    const clock = new TestClock(10_000);
    const { store } = await open({ clock: clock.read, retention: { ttlMs: 1_000 } });
    await store.saveChatMessage('u', 's', 'a', withId('old', user('old')));
    clock.advance(2_000);
    await store.saveChatMessage('u', 's', 'b', withId('new', user('new')));
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 's')), ['new']);
    tt.is(await store.getMessage('u', 's', 'old'), null);
  });
}
