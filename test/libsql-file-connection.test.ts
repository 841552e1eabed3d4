/**
 * A libSQL file convostore opens itself runs on a native connection of its own with each statement
 * prepared once (src/sql/libsql-local.ts): @libsql/client prepares every statement on every call,
 * which made an append on a file four times slower than it needs to be (docs/bench.md). Counted on
 * the real `libsql` binding the client uses (its prototype watched, nothing replaced), on real files.
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { createClient } from '@libsql/client';
import { UnavailableError } from '../src/index.js';
import { openLibsql } from '../src/libsql/index.js';
import { startChild } from './reliability/spawn.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('libsql-connection');
const require = createRequire(import.meta.url);

interface NativeDb {
  prepare(sql: string): { all(args: unknown[]): unknown[] };
  exec(sql: string): unknown;
  readonly open: boolean;
}

/** The binding @libsql/client opens local files with (the module the store loads too). */
const Database = createRequire(require.resolve('@libsql/client'))('libsql') as { prototype: NativeDb };

/** Watches the binding's prepare and exec (the originals still run) until `stop`. */
function watchBinding() {
  const proto = Database.prototype;
  const { prepare, exec } = proto;
  const seen = { prepares: 0, connections: new Set<NativeDb>(), settingsFirst: new Map<NativeDb, boolean>() };
  const first = (db: NativeDb, sql: string) => {
    if (!seen.settingsFirst.has(db)) seen.settingsFirst.set(db, sql === 'PRAGMA synchronous = NORMAL');
    seen.connections.add(db);
  };
  proto.prepare = function (this: NativeDb, sql: string) {
    seen.prepares++;
    first(this, sql);
    return prepare.call(this, sql);
  } as NativeDb['prepare'];
  proto.exec = function (this: NativeDb, sql: string) {
    first(this, sql);
    return exec.call(this, sql);
  };
  return { seen, stop: () => Object.assign(proto, { prepare, exec }) };
}

test.serial('a store on a libSQL file prepares its statements once, not on every call', async (t) => {
  const store = await openLibsql(`file:${tempFile(dir)}`, { logger: null });
  const watch = watchBinding();
  try {
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'warm-up' }, 20);
    const before = watch.seen.prepares;
    for (let i = 0; i < 100; i++) {
      await store.saveChatMessage('u', 's', 'a', { role: i % 2 ? 'user' : 'assistant', content: `m${i}` }, 20);
      await store.fetchChat('u', 's', 'a', 20);
    }
    const prepares = watch.seen.prepares - before;
    t.log(`${prepares} statements prepared for 100 appends and 100 window reads`);
    // Through the client it was one prepare per statement per call: 5 per append, 1 per read.
    t.true(prepares < 10, `${prepares} statements prepared for 100 appends and 100 reads`);
    t.is((await store.fetchChat('u', 's', 'a')).length, 101);
  } finally {
    watch.stop();
    await store.close();
  }
});

test.serial('every connection the store opens on a file has synchronous = NORMAL, the fresh one after SQLITE_BUSY too', async (t) => {
  const path = tempFile(dir);
  const watch = watchBinding();
  const store = await openLibsql(`file:${path}`, { logger: null, busyTimeoutMs: 200 });
  try {
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'before' });
    const holder = startChild('lock-holder', [path, 1500]);
    await holder.next('locked');
    await t.throwsAsync(store.saveChatMessage('u', 's', 'a', { role: 'assistant', content: 'during' }), { instanceOf: UnavailableError });
    await holder.next('released');
    await holder.exited;
    await store.saveChatMessage('u', 's', 'a', { role: 'assistant', content: 'after' });
    t.deepEqual((await store.fetchChat('u', 's', 'a')).map((m) => m.content[0]!.text), ['before', 'after']);

    const open = [...watch.seen.connections].filter((db) => db.open);
    // The client's connection (migrations, store.db) and the store's fresh one; the poisoned one is closed.
    t.true(watch.seen.connections.size > open.length, 'the connection that met SQLITE_BUSY was closed');
    // The first is the client's, which @libsql/client opens with a probe query of its own.
    const [, ...stores] = watch.seen.connections;
    t.true(stores.length >= 2, 'the store opened a connection, and a fresh one after SQLITE_BUSY');
    for (const db of stores) t.true(watch.seen.settingsFirst.get(db), 'the setting came before any statement');
    for (const db of open) t.deepEqual(db.prepare('PRAGMA synchronous').all([]), [{ synchronous: 1 }]);
  } finally {
    watch.stop();
    await store.close();
  }
});

test.serial('a client the application created is used as given: no second connection is opened', async (t) => {
  const client = createClient({ url: `file:${tempFile(dir)}` });
  const watch = watchBinding();
  const store = await openLibsql(client, { logger: null });
  try {
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hi' });
    t.is((await store.fetchChat('u', 's', 'a')).length, 1);
    t.is(watch.seen.connections.size, 1);
  } finally {
    watch.stop();
    await store.close();
    client.close();
  }
});
