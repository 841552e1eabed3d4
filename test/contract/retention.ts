/** Retention: maxMessages on write, TTL hidden at once and removed by prune(). */
import { ValidationError } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { user, texts, dialogue, type Declare } from './support.js';

export function retentionTests(t: Declare): void {
  t('retention.maxMessages keeps the newest N per conversation on write', async (tt, open) => {
    const { store } = await open({ retention: { maxMessages: 4 } });
    for (const m of dialogue(9)) await store.saveChatMessage('u', 's', 'a', m);
    await store.saveChatMessages('u', 's', 'b', dialogue(7));
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['5', '6', '7', '8']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'b')), ['3', '4', '5', '6']);
    tt.deepEqual((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.map((m) => m.seq), [6, 7, 8, 9]);
    tt.is((await store.listSessions('u')).items[0]!.messageCount, 8);
    tt.is(await store.prune(), 0);
  });

  t('retention.ttlMs hides expired messages at once and prune() removes them', async (tt, open) => {
    const clock = new TestClock(10_000);
    const { store } = await open({ clock: clock.read, retention: { ttlMs: 1_000 } });
    await store.saveChatMessages('u', 's', 'a', dialogue(2, 'old'));
    await store.saveChatMessage('u', 's', 'b', user('old-b'));
    clock.advance(600);
    await store.saveChatMessages('u', 's', 'a', dialogue(2, 'new'));
    clock.advance(600); // the first three are now 1,200 ms old
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['new0', 'new1']);
    tt.deepEqual(texts(await store.fetchAllChats('u', 's')), ['new0', '[a] new1']);
    tt.deepEqual((await store.listSessions('u')).items[0]!.agents.map((a) => [a.agentId, a.messageCount]), [['a', 2]]);
    tt.is((await store.fetchChatPage('u', 's', 'a', { order: 'oldest' })).items.length, 2);
    tt.is(await store.prune(), 3);
    tt.is(await store.prune(), 0);
    clock.advance(-5_000); // with the clock back, pruned messages stay gone
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['new0', 'new1']);
  });

  t('retention options are validated', async (tt, open) => {
    for (const retention of [{ maxMessages: 0 }, { maxMessages: -1 }, { maxMessages: 1.5 }, { ttlMs: 0 }, { ttlMs: Number.NaN }, 'x']) {
      await tt.throwsAsync(() => open({ retention: retention as never }), { instanceOf: ValidationError }, JSON.stringify(retention));
    }
    await tt.throwsAsync(() => open({ consecutiveRoles: 'maybe' as never }), { instanceOf: ValidationError });
    await tt.throwsAsync(() => open({ clock: 5 as never }), { instanceOf: ValidationError });
  });
}
