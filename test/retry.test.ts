/**
 * The shared retry loop and keyed mutex (src/core/retry.ts, src/core/mutex.ts) on their own. The
 * backends' use of them is covered with real parts: busy SQLite files (test/reliability/busy.test.ts),
 * transport faults over HTTP (test/libsql-http-faults.test.ts), concurrent DynamoDB writers
 * (test/reliability/concurrent-writers.test.ts). Failures here are plain errors thrown by the test.
 */
import test from 'ava';
import { KeyedMutex } from '../src/core/mutex.js';
import { backoffMs, retry, retrySync } from '../src/core/retry.js';

class Transient extends Error {}
const fast = { baseMs: 1, capMs: 2 };
const transient = (error: unknown) => error instanceof Transient;

test('backoff: full jitter below min(cap, base × 2^(failure − 1))', (t) => {
  for (let i = 0; i < 200; i++) {
    t.true(backoffMs(1, { baseMs: 10, capMs: 1000 }) < 10);
    t.true(backoffMs(4, { baseMs: 10, capMs: 1000 }) < 80);
    t.true(backoffMs(40, { baseMs: 10, capMs: 1000 }) < 1000);
    t.true(backoffMs(3, { baseMs: 10, capMs: 1000 }) >= 0);
  }
  // Full jitter spreads over the range: some waits in its upper half.
  t.true(Array.from({ length: 200 }, () => backoffMs(3, { baseMs: 10, capMs: 1000 })).some((ms) => ms >= 20));
});

test('retry: a retryable failure is tried again until it succeeds', async (t) => {
  let calls = 0;
  const result = await retry(
    async (attempt) => {
      calls++;
      if (attempt < 3) throw new Transient();
      return attempt;
    },
    { ...fast, attempts: 5, retryable: transient },
  );
  t.is(result, 3);
  t.is(calls, 3);
});

test('retry: anything not retryable is given up at once, through giveUp', async (t) => {
  let calls = 0;
  const error = await t.throwsAsync(
    retry(
      async () => {
        calls++;
        throw new TypeError('bad');
      },
      { ...fast, attempts: 5, retryable: transient, giveUp: (e, n) => new Error(`gave up after ${n}: ${(e as Error).message}`) },
    ),
  );
  t.is(error.message, 'gave up after 1: bad');
  t.is(calls, 1);
});

test('retry: stops after `attempts` tries, and onFailure sees every retryable failure, the last one too', async (t) => {
  let failures = 0;
  const error = await t.throwsAsync(
    retry(
      async () => {
        throw new Transient('still');
      },
      { ...fast, attempts: 4, retryable: transient, onFailure: () => void failures++, giveUp: (_e, n) => new Error(`tried ${n} times`) },
    ),
  );
  t.is(error.message, 'tried 4 times');
  t.is(failures, 4);
});

test('retry: no retry starts after the deadline', async (t) => {
  let calls = 0;
  const started = Date.now();
  await t.throwsAsync(
    retry(
      async () => {
        calls++;
        throw new Transient();
      },
      { baseMs: 5, capMs: 5, deadlineMs: 60, retryable: transient },
    ),
    { instanceOf: Transient },
  );
  t.true(Date.now() - started >= 60);
  t.true(calls >= 2, `${calls} calls`);
});

test('retrySync: retries synchronously within the deadline and gives up with the last failure', (t) => {
  let calls = 0;
  t.is(
    retrySync(
      (attempt) => {
        calls++;
        if (attempt < 3) throw new Transient();
        return 'done';
      },
      { ...fast, deadlineMs: 10_000, retryable: transient },
    ),
    'done',
  );
  t.is(calls, 3);
  t.throws(
    () =>
      retrySync(
        () => {
          throw new Transient('last');
        },
        { ...fast, attempts: 2, retryable: transient },
      ),
    { message: 'last' },
  );
});

test('KeyedMutex: one key runs in order, one at a time; other keys run alongside; a failure does not block the queue', async (t) => {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  let running = 0;
  let most = 0;
  const step = (name: string, fail = false) => async () => {
    running++;
    most = Math.max(most, running);
    log.push(`${name} start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push(`${name} end`);
    running--;
    if (fail) throw new Error(name);
    return name;
  };
  const a = [mutex.run('a', step('a1')), mutex.run('a', step('a2', true)), mutex.run('a', step('a3'))];
  const b = mutex.run('b', step('b1'));
  const results = await Promise.allSettled([...a, b]);
  t.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['a1', 'a2', 'a3', 'b1'],
  );
  t.is(results[1]!.status, 'rejected');
  const onA = log.filter((l) => l.startsWith('a'));
  t.deepEqual(onA, ['a1 start', 'a1 end', 'a2 start', 'a2 end', 'a3 start', 'a3 end']);
  // b ran while a1 did: two at once across keys.
  t.is(most, 2);
});

test('KeyedMutex: idle waits for everything queued, failures included', async (t) => {
  const mutex = new KeyedMutex();
  let done = 0;
  const later = (ms: number, fail: boolean) => async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    done++;
    if (fail) throw new Error('x');
  };
  void mutex.run('k', later(10, true)).catch(() => undefined);
  void mutex.run('k', later(5, false));
  void mutex.run('j', later(15, false));
  await mutex.idle();
  t.is(done, 3);
});
