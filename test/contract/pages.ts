/** Reading one conversation page by page with an opaque cursor. */
import { user, bot, texts, dialogue, seeded, refused, type Declare } from './support.js';

export function pagesTests(t: Declare): void {
  t('fetchChatPage walks a conversation newest first across page boundaries', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(25));
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.fetchChatPage('u', 's', 'a', { limit: 10, cursor });
      seen.push(...page.items.map((m) => m.seq));
      cursor = page.nextCursor;
      pages++;
      if (pages === 1) await store.saveChatMessage('u', 's', 'a', bot('late')); // newer than the walk
    } while (cursor);
    tt.is(pages, 3);
    tt.deepEqual(seen, Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  t('fetchChatPage walks oldest first; an exact multiple ends without an empty page', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(20));
    const first = await store.fetchChatPage('u', 's', 'a', { limit: 10, order: 'oldest' });
    tt.deepEqual(texts(first.items), dialogue(10).map((m) => m.content[0]!.text));
    tt.truthy(first.nextCursor);
    const second = await store.fetchChatPage('u', 's', 'a', { limit: 10, order: 'oldest', cursor: first.nextCursor });
    tt.deepEqual(second.items.map((m) => m.seq), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    tt.is(second.nextCursor, undefined);
    tt.deepEqual(await store.fetchChatPage('u', 's', 'none'), { items: [] });
    tt.is((await store.fetchChatPage('u', 's', 'a')).items.length, 20, 'default page size covers 20');
  });

  t('cursors are refused for another conversation, another order, or when forged', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    const page = await store.fetchChatPage('u1', 's1', 'a1', { limit: 1 });
    tt.truthy(page.nextCursor);
    const cursor = page.nextCursor!;
    for (const [what, call] of [
      ['other agent', () => store.fetchChatPage('u1', 's1', 'a2', { cursor })],
      ['other user', () => store.fetchChatPage('u2', 's1', 'a1', { cursor })],
      ['other order', () => store.fetchChatPage('u1', 's1', 'a1', { cursor, order: 'oldest' })],
      ['garbage', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: 'not-a-cursor' })],
      ['empty', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: '' })],
      ['number', () => store.fetchChatPage('u1', 's1', 'a1', { cursor: 7 as never })],
      ['session cursor', () => store.listSessions('u1', { cursor })],
    ] as const) {
      await refused(tt, target, call, 'VALIDATION', what);
    }
  });
}
