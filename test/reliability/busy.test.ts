/**
 * Another process holding the write lock: a store waits for it within its busy timeout, reports
 * UNAVAILABLE (with SQLite's error as the cause) only past it, and works normally once the lock is
 * free. Regression for libSQL's poisoned connections: after one SQLITE_BUSY every later write on the
 * same pooled connection failed at once ("database is locked", "cannot commit transaction - SQL
 * statements in progress").
 */
import test from 'ava';
import { openStorage, UnavailableError } from '../../src/index.js';
import { startChild } from './spawn.js';
import { tempDir, tempFile } from '../helpers/tmp.js';

const dir = tempDir('busy');
const urls: Array<[string, (path: string) => string]> = [
  ['sqlite file', (path) => `sqlite:${path}`],
  ['libsql file', (path) => `file:${path}`],
];

for (const [label, url] of urls) {
  test(`${label}: a lock held past the busy timeout is reported once, and the store recovers`, async (t) => {
    const path = tempFile(dir);
    const store = await openStorage(url(path), { logger: null, consecutiveRoles: 'keep', busyTimeoutMs: 200 });
    try {
      const holder = startChild('lock-holder', [path, 1500]);
      await holder.next('locked');
      const error = await t.throwsAsync(store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'during' }), { instanceOf: UnavailableError });
      t.regex(String((error?.cause as Error | undefined)?.message), /busy|locked/i);
      await holder.next('released');
      await holder.exited;
      for (let i = 0; i < 5; i++) await store.saveChatMessage('u', 's', 'a', { role: 'user', content: `after ${i}` });
      await store.saveChatMessages('u', 's', 'a', [{ role: 'user', content: 'batch' }, { role: 'assistant', content: 'batch' }]);
      t.deepEqual((await store.fetchChat('u', 's', 'a')).map((m) => m.content[0]!.text), ['after 0', 'after 1', 'after 2', 'after 3', 'after 4', 'batch', 'batch']);
    } finally {
      await store.close();
    }
  });

  test(`${label}: a lock held within the busy timeout is waited for`, async (t) => {
    const path = tempFile(dir);
    const store = await openStorage(url(path), { logger: null, busyTimeoutMs: 10_000 });
    try {
      const holder = startChild('lock-holder', [path, 500]);
      await holder.next('locked');
      const started = Date.now();
      await store.saveChatMessages('u', 's', 'a', [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]);
      t.log(`waited ${Date.now() - started} ms for the lock`);
      t.is((await store.fetchChat('u', 's', 'a')).length, 2);
      await holder.exited;
    } finally {
      await store.close();
    }
  });
}
