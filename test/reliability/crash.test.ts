/**
 * A process killed with SIGKILL in the middle of `saveChatMessages` of 10,000 messages, again and
 * again at seeded random moments: each batch is afterwards what the backend promises — wholly there
 * or wholly absent (`atomic`: the SQL backend writes a batch as many INSERT statements; only the
 * transaction makes it atomic, which is what this proves), or a gap-free prefix of the batch in
 * order (`prefix`: DynamoDB, whose batch is several transactions) — and the database opens and works.
 */
import test from 'ava';
import type { ChatStore } from '../../src/index.js';
import { openShared, sharedBackends } from '../backends/registry.js';
import { prng, replayHint, seed } from './seed.js';
import { startChild, type Child } from './spawn.js';

const DEFAULT_BATCH = 10_000;
const DEFAULT_KILLS = 8;

/** Messages stored for a victim, from the session listing (cheaper than reading 10,000 back). */
async function stored(store: ChatStore, userId: string): Promise<number> {
  const { items } = await store.listSessions(userId);
  return items.reduce((n, s) => n + s.messageCount, 0);
}

/** The victim's messages, in order, are the batch's first `count`: positions 1..count, its texts. */
async function isPrefix(store: ChatStore, userId: string, count: number): Promise<boolean> {
  const read: Array<[number, string]> = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(userId, 's', 'a', { order: 'oldest', limit: 500, cursor });
    read.push(...page.items.map((m) => [m.seq, m.content[0]!.text as string] as [number, string]));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return read.length === count && read.every(([seq, text], i) => seq === i + 1 && text === `${userId}:${i}`);
}

for (const [index, backend] of sharedBackends.entries()) {
  const BATCH = backend.crashBatch ?? DEFAULT_BATCH;
  const KILLS = Number(process.env.CRASH_KILLS ?? backend.crashKills ?? DEFAULT_KILLS);
  test(`${backend.label}: SIGKILL during saveChatMessages of ${BATCH} messages, ${KILLS} times`, async (t) => {
    t.log(replayHint);
    const random = prng(seed + index);
    const database = await backend.create();
    const expected = new Map<string, number>();
    const spawnSaver = (userId: string) => startChild('saver', [database.url, userId, BATCH], database.env);
    try {
      // Calibrate: how long one whole batch takes here, so kill times spread over it.
      const calibration = spawnSaver('calibration');
      await calibration.next('ready');
      calibration.go();
      const { ms } = (await calibration.next('saved')) as { ms: number };
      t.is((await calibration.exited).code, 0);
      expected.set('calibration', BATCH);
      t.log(`one batch of ${BATCH} takes ${Math.round(ms)} ms`);

      // Kill moments are stratified over [0, 1.2 × batch time] and shuffled, so one kill always falls in
      // the first fifth of a batch or earlier: pure random moments let every kill land after a batch
      // finished when the calibration run was slow (a cold DynamoDB Local) and later batches were fast.
      const slots = Array.from({ length: KILLS }, (_, i) => (i + random()) / KILLS);
      for (let i = slots.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [slots[i], slots[j]] = [slots[j]!, slots[i]!];
      }
      let batchMs = ms;
      let next: Child = spawnSaver('victim-0');
      let midBatch = 0;
      for (let i = 0; i < KILLS; i++) {
        const victim = next;
        const userId = `victim-${i}`;
        await victim.next('ready');
        // The next victim loads while this one runs; it waits for its own `go`.
        if (i + 1 < KILLS) next = spawnSaver(`victim-${i + 1}`);
        victim.go();
        await victim.next('saving');
        const delay = slots[i]! * batchMs * 1.2;
        await new Promise((resolve) => setTimeout(resolve, delay));
        victim.process.kill('SIGKILL');
        const exit = await victim.exited;
        const report = (await victim.next('saved').catch(() => null)) as { ms: number } | null;
        const saved = report !== null;
        if (saved) batchMs = Math.min(batchMs, report.ms);
        else midBatch++;
        t.is(exit.signal === 'SIGKILL' || exit.code === 0, true, `victim ${i} was killed or finished`);

        const store = await openShared(database, { logger: null });
        try {
          const count = await stored(store, userId);
          if (backend.largeBatch === 'atomic') {
            t.true(count === 0 || count === BATCH, `kill ${i} after ${Math.round(delay)} ms: ${count} of ${BATCH} messages stored`);
          } else {
            t.true(await isPrefix(store, userId, count), `kill ${i} after ${Math.round(delay)} ms: ${count} of ${BATCH} stored, a gap-free prefix in order`);
          }
          if (saved) t.is(count, BATCH, `kill ${i}: a batch reported saved is there`);
          expected.set(userId, count);
          // The store still works after the crash.
          const window = await store.saveChatMessage('survivor', 's', 'a', { role: i % 2 === 0 ? 'user' : 'assistant', content: `after ${i}` });
          t.is(window.length, i + 1);
        } finally {
          await store.close();
        }
      }
      t.log(`${midBatch} of ${KILLS} kills landed before the batch reported saved`);
      t.true(midBatch > 0, `at least one kill interrupted a batch (${replayHint})`);
      const store = await openShared(database, { logger: null });
      t.is((await store.fetchChat('survivor', 's', 'a')).length, KILLS);
      // Nothing stored earlier changed, and the whole batches read back in order.
      for (const [u, n] of expected) {
        t.is(await stored(store, u), n, `${u} unchanged`);
        const last = await store.fetchChatPage(u, 's', 'a', { limit: 1 });
        t.deepEqual(last.items.map((m) => [m.seq, m.content[0]!.text]), n ? [[n, `${u}:${n - 1}`]] : []);
      }
      await store.close();
      if (database.integrity) t.is(await database.integrity(), 'ok', 'integrity_check');
    } finally {
      await database.dispose?.();
    }
  });
}
