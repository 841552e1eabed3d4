/** Deleting a conversation, a session, a user; what each reports. */
import { user, bot, dialogue, seeded, type Declare } from './support.js';

export function deletionTests(t: Declare): void {
  t('deleteConversation removes one agent’s messages; the session goes with its last conversation', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(3));
    await store.saveChatMessages('u', 's', 'b', dialogue(2));
    tt.deepEqual(await store.deleteConversation('u', 's', 'a'), { messages: 3, sessions: 0 });
    tt.deepEqual(await store.fetchChat('u', 's', 'a'), []);
    tt.is((await store.fetchChat('u', 's', 'b')).length, 2);
    tt.deepEqual((await store.listSessions('u')).items.map((s) => s.agents.map((a) => a.agentId)), [['b']]);
    tt.deepEqual(await store.deleteConversation('u', 's', 'b'), { messages: 2, sessions: 1 });
    tt.deepEqual(await store.listSessions('u'), { items: [] });
    tt.deepEqual(await store.deleteConversation('u', 's', 'b'), { messages: 0, sessions: 0 });
    // The conversation starts afresh.
    await store.saveChatMessage('u', 's', 'a', bot('new'));
    tt.deepEqual((await store.fetchChatPage('u', 's', 'a')).items.map((m) => [m.seq, m.role]), [[1, 'assistant']]);
  });

  t('deleteSession and deleteUser report what they removed; erasure leaves nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    tt.deepEqual(await store.deleteSession('u1', 's2'), { messages: 3, sessions: 1 });
    tt.deepEqual(await store.fetchAllChats('u1', 's2'), []);
    tt.is((await store.fetchAllChats('u1', 's1')).length, 6);
    tt.deepEqual(await store.deleteSession('u1', 's2'), { messages: 0, sessions: 0 });
    await store.saveChatMessage('u1', 's3', 'a1', user('more'));
    tt.deepEqual(await store.deleteUser('u1'), { messages: 7, sessions: 2 });
    tt.deepEqual(await store.listSessions('u1'), { items: [] });
    tt.deepEqual(await store.fetchAllChats('u1', 's1'), []);
    tt.deepEqual(await store.deleteUser('u1'), { messages: 0, sessions: 0 });
    tt.is((await store.fetchChat('u2', 's1', 'a1')).length, 1, 'other users keep their data');
    if (target.rawCount) {
      await store.deleteUser('u2');
      // Only agent rows, shared by all users and holding no user data, may remain.
      tt.true((await target.rawCount()) <= 2, `rows left after erasing everyone: ${await target.rawCount()}`);
    }
  });
}
