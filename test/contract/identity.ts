/** Identity: (userId, sessionId, agentId) triples never collide; any valid id works. */
import { user, texts, dialogue, type Declare } from './support.js';

export function identityTests(t: Declare): void {
  t('ids with separators never collide: ("a#b","c") and ("a","b#c") are different', async (tt, open) => {
    const { store } = await open();
    const triples: Array<[string, string, string]> = [
      ['a#b', 'c', 'd'],
      ['a', 'b#c', 'd'],
      ['a', 'b', 'c#d'],
      ['a#b#c', 'd', 'x'],
      ['a:b', 'c', 'd'],
      ['a', 'b:c', 'd'],
      ['a/b', 'c', 'd'],
      ['a', 'b/c', 'd'],
      ['a%', 'c', 'd'],
      ['a_', 'c', 'd'],
      ['a', 'c', 'd'],
    ];
    for (const [i, [u, s, a]] of triples.entries()) await store.saveChatMessage(u, s, a, user(`#${i}`));
    for (const [i, [u, s, a]] of triples.entries()) {
      tt.deepEqual(texts(await store.fetchChat(u, s, a)), [`#${i}`], JSON.stringify([u, s, a]));
    }
    tt.deepEqual((await store.listSessions('a')).items.map((s) => s.sessionId).sort(), ['b', 'b#c', 'b/c', 'b:c', 'c'].sort());
    // LIKE wildcards in ids are plain characters.
    tt.deepEqual(texts(await store.fetchAllChats('a%', 'c')), ['#8']);
    tt.deepEqual(await store.fetchAllChats('%', '%'), []);
    tt.deepEqual(await store.fetchAllChats('a_', '_'), []);
  });

  t('ids may hold quotes, spaces, SQL, unicode, and be 256 units long', async (tt, open) => {
    const { store } = await open();
    const ids = [
      "O'Brien",
      'say "hi"',
      "'; DROP TABLE messages; --",
      '  spaced  ',
      'ünïcødé-用户-🙂',
      'x'.repeat(256),
      '🙂'.repeat(128),
      '\\back\\slash',
      'tab\tnew\nline',
    ];
    for (const id of ids) await store.saveChatMessage(id, id, id, user(id));
    for (const id of ids) {
      tt.deepEqual(texts(await store.fetchChat(id, id, id)), [id]);
      tt.deepEqual((await store.listSessions(id)).items.map((s) => s.sessionId), [id]);
    }
    tt.deepEqual(texts(await store.fetchChat(' spaced ', '  spaced  ', '  spaced  ')), [], 'no trimming');
  });

  t('users and sessions are isolated: same session id under two users', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('alice', 's1', 'a', dialogue(2, 'alice'));
    await store.saveChatMessages('bob', 's1', 'a', dialogue(4, 'bob'));
    await store.saveChatMessage('alice', 's2', 'a', user('alice-s2'));
    tt.deepEqual(texts(await store.fetchChat('alice', 's1', 'a')), ['alice0', 'alice1']);
    tt.is((await store.fetchAllChats('bob', 's1')).length, 4);
    tt.deepEqual((await store.listSessions('bob')).items.map((s) => [s.sessionId, s.messageCount]), [['s1', 4]]);
    await store.deleteUser('alice');
    tt.is((await store.fetchChat('bob', 's1', 'a')).length, 4);
    tt.deepEqual(await store.fetchChat('alice', 's1', 'a'), []);
    await store.deleteSession('bob', 's2');
    await store.deleteConversation('alice', 's1', 'a');
    tt.is((await store.fetchChat('bob', 's1', 'a')).length, 4);
  });
}
