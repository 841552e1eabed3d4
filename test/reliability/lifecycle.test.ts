/**
 * Lifecycle on every backend: every call after close() fails with ClosedError (whatever its
 * arguments), close() twice or concurrently is one close, and closing with writes in flight lets them
 * finish: none is half-done, and a reopened database holds exactly the writes that resolved.
 */
import test from 'ava';
import { ClosedError, ConvostoreError, type ChatStore } from '../../src/index.js';
import { reliabilityBackends as backends } from '../backends/registry.js';

const quiet = { logger: null };
const batch = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: `${tag}:${i}` }));

function everyCall(store: ChatStore): Array<[string, () => Promise<unknown>]> {
  return [
    ['saveChatMessage', () => store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'x' })],
    ['saveChatMessages', () => store.saveChatMessages('u', 's', 'a', batch('late', 4))],
    ['saveChatMessages with bad input', () => store.saveChatMessages('', 's', 'a', 'nope' as never)],
    ['fetchChat', () => store.fetchChat('u', 's', 'a', 2)],
    ['fetchAllChats', () => store.fetchAllChats('u', 's')],
    ['fetchChatPage', () => store.fetchChatPage('u', 's', 'a', { limit: 1 })],
    ['listSessions', () => store.listSessions('u')],
    ['listUsers', () => store.listUsers()],
    ['deleteConversation', () => store.deleteConversation('u', 's', 'a')],
    ['deleteSession', () => store.deleteSession('u', 's')],
    ['deleteUser', () => store.deleteUser('u')],
    ['prune', () => store.prune()],
    ['getMessage', () => store.getMessage('u', 's', 'm')],
    ['updateMessage', () => store.updateMessage('u', 's', 'm', { content: 'y' })],
    ['upsertMessages', () => store.upsertMessages('u', 's', 'a', batch('upsert', 2), { deleteIds: ['m'] })],
    ['deleteMessages', () => store.deleteMessages('u', 's', ['m'])],
    ['truncateAfter', () => store.truncateAfter('u', 's', 'm')],
    ['fetchSessionPage', () => store.fetchSessionPage('u', 's', { limit: 1 })],
    ['getSession', () => store.getSession('u', 's')],
    ['updateSession', () => store.updateSession('u', 's', { title: 't', metadata: { k: 1 } })],
    ['forkSession', () => store.forkSession('u', 's', 'fork')],
    ['importSession', () => store.importSession('u', 'imported', { messages: [{ agentId: 'a', id: 'i', role: 'user', content: 'x', timestamp: 1 }] })],
  ];
}

for (const backend of backends) {
  test(`${backend.label}: after close() every call fails with ClosedError; double and concurrent close are one close`, async (t) => {
    const { store, dispose } = await backend.open(quiet);
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'x' });
    const closes = [store.close(), store.close()];
    await Promise.all(closes);
    await store.close();
    t.true(store.closed);
    for (const [name, call] of everyCall(store)) {
      const error = await t.throwsAsync(call, { instanceOf: ClosedError }, name);
      t.is(error?.code, 'CLOSED', name);
    }
    await dispose?.();
  });

  test(`${backend.label}: closing with writes in flight lets them finish, none half-done`, async (t) => {
    const target = await backend.open(quiet);
    const { store } = target;
    const BATCHES = 12;
    const SIZE = 300;
    const writes = Array.from({ length: BATCHES }, (_, i) =>
      i % 3 === 2
        ? store.saveChatMessage(`u${i}`, 's', 'a', { role: 'user', content: `single ${i}` })
        : store.saveChatMessages(`u${i}`, 's', 'a', batch(`b${i}`, SIZE)),
    );
    const reads = [store.fetchAllChats('u0', 's'), store.listUsers(), store.prune()];
    const closing = store.close();
    const late = everyCall(store).map(([, call]) => call());
    const settled = await Promise.allSettled(writes);
    await Promise.allSettled(reads);
    await closing;
    for (const [i, outcome] of settled.entries()) {
      t.is(outcome.status, 'fulfilled', `write ${i} started before close() completed: ${String((outcome as PromiseRejectedResult).reason)}`);
    }
    for (const [i, outcome] of (await Promise.allSettled(late)).entries()) {
      t.true(outcome.status === 'rejected' && outcome.reason instanceof ConvostoreError && outcome.reason.code === 'CLOSED', `call ${i} after close()`);
    }
    if (target.reopen) {
      const again = await target.reopen(quiet);
      try {
        for (let i = 0; i < BATCHES; i++) {
          const stored = await again.fetchChat(`u${i}`, 's', 'a');
          t.is(stored.length, i % 3 === 2 ? 1 : SIZE, `write ${i} is whole in the reopened database`);
        }
      } finally {
        await again.close();
      }
    }
    await target.dispose?.();
  });
}
