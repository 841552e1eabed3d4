/**
 * forkSession (v2): a copy of a session (whole, or up to a message by session write order) under a new
 * session id, keeping ids, roles, content, metadata, timestamps and order; the source untouched.
 */
import type { ChatStore } from '../../src/index.js';
import { TestClock } from '../helpers/clock.js';
import { bot, idsOf, refused, seeded, sessionMessages, system, tool, user, withId, type Declare } from './support.js';

/** A session over two agents with every kind of message, a title and metadata. */
async function source(store: ChatStore, clock: TestClock): Promise<void> {
  await store.saveChatMessage('u', 'src', 'alpha', withId('1', system('be kind'), { v: 1 }));
  await store.saveChatMessage('u', 'src', 'alpha', withId('2', user('q')));
  await store.saveChatMessage('u', 'src', 'beta', withId('3', user('q to beta')));
  clock.advance(-500); // timestamps going back must not reorder the copy
  await store.saveChatMessages('u', 'src', 'alpha', [withId('4', bot('call')), withId('5', tool('t')), withId('6', bot('answer'), { usage: { tokens: 9 } })]);
  await store.saveChatMessage('u', 'src', 'beta', withId('7', bot('beta answer')));
  await store.updateSession('u', 'src', { title: 'Source', metadata: { project: 'p', n: [1, 2] } });
}

/** A message as a copy must keep it (everything but the session it is in). */
const copyOf = (m: { agentId: string; id: string; seq: number; role: string; content: unknown; timestamp: number; metadata?: unknown }) => m;

export function forksTests(t: Declare): void {
  t('forkSession copies every conversation with ids, roles, content, metadata, timestamps and order; the source is untouched', async (tt, open) => {
    const clock = new TestClock(100_000);
    const { store } = await open({ clock: clock.read });
    await source(store, clock);
    const sourceBefore = { messages: await sessionMessages(store, 'u', 'src'), summary: await store.getSession('u', 'src'), all: await store.fetchAllChats('u', 'src') };
    clock.advance(10_000);
    const fork = await store.forkSession('u', 'src', 'fork');
    tt.deepEqual(fork, {
      sessionId: 'fork',
      createdAt: 109_500,
      lastActivityAt: 109_500,
      messageCount: 7,
      agents: sourceBefore.summary!.agents,
      title: 'Source',
      metadata: { project: 'p', n: [1, 2] },
    });
    tt.deepEqual(await store.getSession('u', 'fork'), fork);
    tt.deepEqual((await sessionMessages(store, 'u', 'fork')).map(copyOf), sourceBefore.messages.map(copyOf));
    tt.deepEqual(await store.fetchAllChats('u', 'fork'), sourceBefore.all);
    tt.deepEqual(await store.fetchChat('u', 'fork', 'alpha', 2), await store.fetchChat('u', 'src', 'alpha', 2));
    tt.deepEqual(
      { messages: await sessionMessages(store, 'u', 'src'), summary: await store.getSession('u', 'src'), all: await store.fetchAllChats('u', 'src') },
      sourceBefore,
      'the source is untouched',
    );
    tt.deepEqual((await store.listSessions('u')).items.map((s) => s.sessionId), ['fork', 'src']);
  });

  t('forkSession up to a message copies the session’s prefix by write order, across agents', async (tt, open) => {
    const clock = new TestClock(100_000);
    const { store } = await open({ clock: clock.read });
    await source(store, clock);
    await store.forkSession('u', 'src', 'upTo4', { upToMessageId: '4' });
    tt.deepEqual(idsOf(await sessionMessages(store, 'u', 'upTo4')), ['1', '2', '3', '4']);
    await store.forkSession('u', 'src', 'upTo3', { upToMessageId: '3', title: 'Branch' });
    tt.like(await store.getSession('u', 'upTo3'), { title: 'Branch', messageCount: 3, metadata: { project: 'p', n: [1, 2] } });
    tt.deepEqual((await store.getSession('u', 'upTo3'))!.agents.map((a) => [a.agentId, a.messageCount]), [['alpha', 2], ['beta', 1]]);
    await store.forkSession('u', 'src', 'upTo7', { upToMessageId: '7' });
    tt.is((await sessionMessages(store, 'u', 'upTo7')).length, 7);
  });

  t('a fork is independent: writes and edits to one never show in the other', async (tt, open) => {
    const clock = new TestClock(100_000);
    const { store } = await open({ clock: clock.read });
    await source(store, clock);
    await store.forkSession('u', 'src', 'fork');
    await store.updateMessage('u', 'fork', '2', { content: 'edited in the fork' });
    await store.deleteMessages('u', 'src', ['6']);
    await store.saveChatMessage('u', 'fork', 'beta', withId('8', user('only in the fork')));
    await store.updateSession('u', 'src', { title: 'Source renamed', metadata: { n: null } });
    tt.is((await store.getMessage('u', 'src', '2'))!.content[0]!.text, 'q');
    tt.truthy(await store.getMessage('u', 'fork', '6'));
    tt.is(await store.getMessage('u', 'src', '8'), null);
    tt.like(await store.getSession('u', 'fork'), { title: 'Source', metadata: { project: 'p', n: [1, 2] }, messageCount: 8 });
    // The fork continues its conversations after the copied positions.
    tt.deepEqual((await store.fetchChatPage('u', 'fork', 'beta', { order: 'oldest' })).items.map((m) => m.seq), [1, 2, 3]);
  });

  t('forking a titled session without messages copies its title and metadata', async (tt, open) => {
    const { store } = await open();
    await store.updateSession('u', 'empty', { title: 'Named', metadata: { k: 1 } });
    tt.like(await store.forkSession('u', 'empty', 'copy'), { sessionId: 'copy', title: 'Named', metadata: { k: 1 }, messageCount: 0 });
  });

  t('forkSession refuses an unknown source or message and an existing target, writing nothing', async (tt, open) => {
    const target = await seeded(open);
    const { store } = target;
    await store.updateSession('u1', 'named', { title: 'only a title' });
    await refused(tt, target, () => store.forkSession('u1', 'nowhere', 'f'), 'NOT_FOUND', 'unknown source');
    await refused(tt, target, () => store.forkSession('u2', 's2', 'f'), 'NOT_FOUND', "another user's session id");
    await refused(tt, target, () => store.forkSession('u1', 's1', 'f', { upToMessageId: 'nope' }), 'NOT_FOUND', 'unknown upToMessageId');
    await refused(tt, target, () => store.forkSession('u1', 's1', 'f', { upToMessageId: 'z0' }), 'NOT_FOUND', 'upToMessageId of another session');
    await refused(tt, target, () => store.forkSession('u1', 's1', 's2'), 'CONFLICT', 'target exists');
    await refused(tt, target, () => store.forkSession('u1', 's1', 's1'), 'CONFLICT', 'onto itself');
    await refused(tt, target, () => store.forkSession('u1', 's1', 'named'), 'CONFLICT', 'target exists with only a title');
    await refused(tt, target, () => store.forkSession('u1', 's1', 'f', { title: '' }), 'VALIDATION', 'empty title');
    await refused(tt, target, () => store.forkSession('u1', 's1', ''), 'VALIDATION', 'empty target id');
    await refused(tt, target, () => store.forkSession('u1', 's1', 'f', { upToMessageId: 7 } as never), 'VALIDATION', 'upToMessageId a number');
    tt.is(await store.getSession('u1', 'f'), null);
  });
}
