/** History windows (maxHistorySize) and fetchAllChats, as Agent Squad reads them. */
import { type ConversationMessage } from '../../src/index.js';
import { user, bot, texts, dialogue, type Declare } from './support.js';

export function windowsTests(t: Declare): void {
  t('saveChatMessage resolves to the window after the append, oldest first', async (tt, open) => {
    const { store } = await open();
    let window: ConversationMessage[] = [];
    for (const m of dialogue(7)) window = await store.saveChatMessage('u', 's', 'a', m, 4);
    tt.deepEqual(texts(window), ['3', '4', '5', '6']);
    tt.deepEqual(texts(await store.saveChatMessage('u', 's', 'a', bot('7'))), ['0', '1', '2', '3', '4', '5', '6', '7']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a')), ['0', '1', '2', '3', '4', '5', '6', '7']);
  });

  t('maxHistorySize: odd rounds down to even, 0 and 1 give an empty window, absent gives all', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessages('u', 's', 'a', dialogue(9));
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a', 3)), ['7', '8']);
    tt.deepEqual(texts(await store.fetchChat('u', 's', 'a', 4)), ['5', '6', '7', '8']);
    tt.deepEqual(await store.fetchChat('u', 's', 'a', 0), []);
    tt.deepEqual(await store.fetchChat('u', 's', 'a', 1), []);
    tt.deepEqual(await store.saveChatMessage('u', 's', 'a', bot('9'), 1), []);
    tt.is((await store.fetchChat('u', 's', 'a')).length, 10);
    tt.is((await store.fetchChat('u', 's', 'a', 1000)).length, 10);
    tt.deepEqual(texts(await store.saveChatMessages('u', 's', 'a', dialogue(2, 'n'), 3)), ['n0', 'n1']);
    tt.is((await store.fetchChat('u', 's', 'a')).length, 12, 'a window is a view: nothing was deleted');
  });

  t('fetchAllChats: every agent of the session in write order, assistant text tagged [agentId]', async (tt, open) => {
    const { store } = await open();
    await store.saveChatMessage('u', 's', 'tech', user('q1'));
    await store.saveChatMessage('u', 's', 'billing', user('q2'));
    await store.saveChatMessage('u', 's', 'tech', { role: 'assistant', content: [{ image: 'img' }, { text: 'a1' }, { text: 'more' }] });
    await store.saveChatMessage('u', 's', 'billing', { role: 'assistant', content: [{ toolUse: { name: 't' } }] });
    await store.saveChatMessage('u', 'other', 'tech', user('elsewhere'));
    tt.deepEqual(await store.fetchAllChats('u', 's'), [
      user('q1'),
      user('q2'),
      { role: 'assistant', content: [{ image: 'img' }, { text: '[tech] a1' }, { text: 'more' }] },
      { role: 'assistant', content: [{ text: '[billing] ' }, { toolUse: { name: 't' } }] },
    ]);
    tt.deepEqual(await store.fetchAllChats('u', 'none'), []);
    tt.deepEqual(await store.fetchChat('u', 's', 'tech', 2), [
      user('q1'),
      { role: 'assistant', content: [{ image: 'img' }, { text: 'a1' }, { text: 'more' }] },
    ], 'the tag is added on read, not stored');
  });
}
