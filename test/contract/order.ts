/** Order is the order of writes, never the clock's; timestamps and positions. */
import { TestClock } from '../helpers/clock.js';
import { user, bot, texts, type Declare } from './support.js';

export function orderTests(t: Declare): void {
  t('order is the order of writes under an equal clock and a clock going backwards', async (tt, open) => {
    const clock = new TestClock();
    const { store } = await open({ clock: clock.read });
    for (let i = 0; i < 6; i++) {
      await store.saveChatMessage('u', 's', i % 2 ? 'b' : 'a', i % 4 < 2 ? user(`m${i}`) : bot(`m${i}`));
      if (i >= 3) clock.advance(-1000); // backwards
    }
    for (let i = 0; i < 4; i++) await store.saveChatMessage('u', 's', 'c', i % 2 ? bot(`c${i}`) : user(`c${i}`)); // equal times
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'c')), ['c0', 'c1', 'c2', 'c3']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['m0', 'm2', 'm4']);
    tt.deepEqual(
      texts(await store.fetchAllChats('u', 's')).map((text) => text!.replace(/^\[\w\] /, '')),
      ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'c0', 'c1', 'c2', 'c3'],
    );
    const page = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(page.items.map((m) => m.timestamp), [clock.now + 3000, clock.now + 3000, clock.now + 2000]);
  });

  t('timestamps come from the injected clock or the message, positions count from 1', async (tt, open) => {
    const clock = new TestClock(5_000);
    const { store } = await open({ clock: clock.read });
    await store.saveChatMessage('u', 's', 'a', user('clocked'));
    await store.saveChatMessage('u', 's', 'a', { ...bot('given'), timestamp: 42 });
    await store.saveChatMessage('u', 's', 'a', { ...user('date'), timestamp: new Date(77) });
    const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest' });
    tt.deepEqual(items.map((m) => [m.seq, m.timestamp, m.content[0]!.text]), [[1, 5_000, 'clocked'], [2, 42, 'given'], [3, 77, 'date']]);
  });

  t('concurrent appends to one conversation all land, each at its own position', async (tt, open) => {
    const { store } = await open({ consecutiveRoles: 'keep' });
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.saveChatMessage('u', 's', 'a', user(`m${i}`))));
    const { items } = await store.fetchChatPage('u', 's', 'a', { order: 'oldest', limit: 100 });
    tt.deepEqual(items.map((m) => m.seq), Array.from({ length: 40 }, (_, i) => i + 1));
    tt.deepEqual(new Set(items.map((m) => m.content[0]!.text)).size, 40);
  });
}
