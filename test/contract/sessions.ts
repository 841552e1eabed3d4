/** Listing a user's sessions and every user, page by page. */
import { ValidationError } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { user, dialogue, type Declare } from './support.js';

export function sessionsTests(t: Declare): void {
  t('listSessions pages a user’s sessions, most recent activity first, with agents and counts', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    for (let i = 0; i < 5; i++) {
      clock.advance(10);
      await store.saveChatMessages('u', `s${i}`, 'a', dialogue(i + 1));
    }
    clock.advance(10);
    await store.saveChatMessage('u', 's1', 'b', user('s1 again')); // s1 becomes the most recent
    await store.saveChatMessage('v', 'sv', 'a', user('other user'));
    const first = await store.listSessions('u', { limit: 2 });
    tt.deepEqual(first.items.map((s) => s.sessionId), ['s1', 's4']);
    tt.deepEqual(first.items[0], {
      sessionId: 's1',
      createdAt: 1_020,
      lastActivityAt: 1_060,
      messageCount: 3,
      agents: [
        { agentId: 'a', messageCount: 2, lastMessageAt: 1_020 },
        { agentId: 'b', messageCount: 1, lastMessageAt: 1_060 },
      ],
    });
    const second = await store.listSessions('u', { limit: 2, cursor: first.nextCursor });
    tt.deepEqual(second.items.map((s) => s.sessionId), ['s3', 's2']);
    const third = await store.listSessions('u', { limit: 2, cursor: second.nextCursor });
    tt.deepEqual(third.items.map((s) => [s.sessionId, s.messageCount]), [['s0', 1]]);
    tt.is(third.nextCursor, undefined);
    tt.deepEqual(await store.listSessions('nobody'), { items: [] });
    const error = await tt.throwsAsync(() => store.listSessions('v', { cursor: first.nextCursor }), { instanceOf: ValidationError });
    tt.is(error!.code, 'VALIDATION');
  });

  t('listSessions breaks ties in last activity by session id, without skipping or repeating', async (tt, open) => {
    const clock = new TestClock(1_000);
    const { store } = await open({ clock: clock.read });
    const ids = ['b', 'a', 'c#1', 'c', 'é', 'z', 'A'];
    for (const id of ids) await store.saveChatMessage('u', id, 'x', user(id));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listSessions('u', { limit: 3, cursor });
      seen.push(...page.items.map((s) => s.sessionId));
      cursor = page.nextCursor;
    } while (cursor);
    tt.deepEqual(seen, [...ids].sort().reverse());
  });

  t('listUsers pages every user with data in UTF-8 byte order; emptied users disappear', async (tt, open) => {
    const { store } = await open();
    const ids = ['bob', 'alice', 'Zed', 'émile', '🙂 smile', '\uFFFD replacement', 'a#b', 'a'];
    for (const id of ids) await store.saveChatMessage(id, 's', 'x', user(id));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listUsers({ limit: 3, cursor });
      tt.true(page.items.length <= 3);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const byBytes = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    tt.deepEqual(seen, byBytes);
    tt.not(byBytes.join(), [...ids].sort().join(), 'the ids sort differently by UTF-16 units, so the order is tested');
    await store.deleteConversation('bob', 's', 'x');
    await store.deleteUser('alice');
    tt.deepEqual((await store.listUsers()).items, byBytes.filter((id) => id !== 'bob' && id !== 'alice'));
    await tt.throwsAsync(() => store.listUsers({ cursor: 'junk' }), { instanceOf: ValidationError });
    await tt.throwsAsync(() => store.listUsers({ limit: 0 }), { instanceOf: ValidationError });
  });
}
