/**
 * Four processes append to one database at once: to one shared conversation and each to its own.
 * Nothing may be lost, duplicated or reordered, and no writer may see an error: a busy database is
 * waited for, not reported.
 */
import test from 'ava';
import type { ChatStore } from '../../src/index.js';
import { openShared, sharedBackends } from '../backends/registry.js';
import { startChild } from './spawn.js';

const WRITERS = 4;
const PER_WRITER_DEFAULT = 500;

async function readAll(store: ChatStore, userId: string): Promise<string[]> {
  return (await store.fetchChat(userId, 's', 'a')).map((m) => m.content[0]!.text as string);
}

for (const backend of sharedBackends) {
  const PER_WRITER = backend.perWriter ?? PER_WRITER_DEFAULT;
  test(`${backend.label}: ${WRITERS} processes × ${PER_WRITER} messages, shared and own conversations`, async (t) => {
    const database = await backend.create();
    try {
      const children = Array.from({ length: WRITERS }, (_, w) => startChild('writer', [database.url, w, PER_WRITER], database.env));
      await Promise.all(children.map((c) => c.next('ready')));
      const started = Date.now();
      for (const c of children) c.go();
      const results = await Promise.all(children.map((c) => c.next('done')));
      const exits = await Promise.all(children.map((c) => c.exited));
      t.log(`${WRITERS} writers finished in ${Date.now() - started} ms`);
      for (const [w, exit] of exits.entries()) t.is(exit.code, 0, `writer ${w} exited cleanly: ${exit.stderr}`);
      for (const [w, r] of results.entries()) t.deepEqual(r.errors, [], `writer ${w} saw no error`);

      const store = await openShared(database, { logger: null });
      try {
        const shared = await readAll(store, 'shared');
        t.is(shared.length, WRITERS * PER_WRITER, 'every shared message is there');
        t.is(new Set(shared).size, shared.length, 'no duplicates in the shared conversation');
        const first = Math.min(1000, WRITERS * PER_WRITER);
        const page = await store.fetchChatPage('shared', 's', 'a', { order: 'oldest', limit: first });
        t.deepEqual(page.items.map((m) => m.seq), Array.from({ length: first }, (_, i) => i + 1), 'positions from 1 without gaps');
        for (let w = 0; w < WRITERS; w++) {
          const mine = shared.filter((text) => text.startsWith(`w${w}:`));
          t.deepEqual(mine, Array.from({ length: PER_WRITER }, (_, n) => `w${w}:${n}`), `writer ${w}'s shared messages in its order`);
          const own = await readAll(store, `own-${w}`);
          t.deepEqual(own, Array.from({ length: PER_WRITER }, (_, n) => `w${w}:${n}`), `writer ${w}'s own conversation`);
        }
        t.is((await store.listUsers()).items.length, WRITERS + 1);
      } finally {
        await store.close();
      }
      if (database.integrity) t.is(await database.integrity(), 'ok', 'integrity_check');
    } finally {
      await database.dispose?.();
    }
  });
}
