import test from 'ava';
import {
  InMemoryChatStorage,
  NotMigratedError,
  SqlChatStorage,
  UnavailableError,
  ValidationError,
  openStorage,
  parseStorageUrl,
} from '../src/index.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('open');

test('the URL picks the backend', (t) => {
  t.deepEqual(parseStorageUrl('memory:'), { kind: 'memory' });
  t.deepEqual(parseStorageUrl('./data/app.db'), { kind: 'sqlite', path: './data/app.db' });
  t.deepEqual(parseStorageUrl('/abs/app.db'), { kind: 'sqlite', path: '/abs/app.db' });
  t.deepEqual(parseStorageUrl('sqlite:./x.db'), { kind: 'sqlite', path: './x.db' });
  t.deepEqual(parseStorageUrl('C:\\data\\x.db'), { kind: 'sqlite', path: 'C:\\data\\x.db' });
  t.deepEqual(parseStorageUrl('file:./x.db'), { kind: 'libsql', transport: 'file', url: 'file:./x.db', path: './x.db' });
  t.deepEqual(parseStorageUrl('file:///abs/x.db?mode=rwc'), { kind: 'libsql', transport: 'file', url: 'file:///abs/x.db?mode=rwc', path: '/abs/x.db' });
  t.deepEqual(parseStorageUrl(':memory:'), { kind: 'libsql', transport: 'memory', url: ':memory:' });
  for (const url of ['libsql://db-org.turso.io', 'https://db.example', 'http://127.0.0.1:8080', 'wss://db', 'ws://db']) {
    t.deepEqual(parseStorageUrl(url), { kind: 'libsql', transport: 'remote', url });
  }
  t.throws(() => parseStorageUrl('memory:x'), { instanceOf: ValidationError });
  t.throws(() => parseStorageUrl('postgres://x'), { instanceOf: ValidationError, message: /unsupported scheme 'postgres:'/ });
  t.throws(() => parseStorageUrl(''), { instanceOf: ValidationError });
});

test('schemes are case-insensitive: the target is the same as for the lower-case URL', (t) => {
  t.deepEqual(parseStorageUrl('FILE:./x.db'), parseStorageUrl('file:./x.db'));
  t.deepEqual(parseStorageUrl('File:///abs/x.db'), parseStorageUrl('file:///abs/x.db'));
  t.deepEqual(parseStorageUrl('MEMORY:'), { kind: 'memory' });
  t.deepEqual(parseStorageUrl('SQLite:./x.db'), { kind: 'sqlite', path: './x.db' });
  t.deepEqual(parseStorageUrl('LIBSQL://db-org.turso.io'), { kind: 'libsql', transport: 'remote', url: 'libsql://db-org.turso.io' });
  t.deepEqual(parseStorageUrl('DynamoDB://Chats?region=eu-west-1'), { kind: 'dynamodb', tableName: 'Chats', region: 'eu-west-1' });
});

test('a remote URL\'s authToken parameter becomes the target\'s token, out of the URL the client is given', (t) => {
  const target = parseStorageUrl('libsql://db.example?authToken=s3cret&tls=0');
  t.like(target, { transport: 'remote', url: 'libsql://db.example?tls=0', authToken: 's3cret' });
  t.deepEqual(parseStorageUrl('https://db.example/?authToken=s3cret'), { kind: 'libsql', transport: 'remote', url: 'https://db.example/', authToken: 's3cret' });
});

test('FILE: URLs open as local libSQL files, migrated on open (not refused as remote)', async (t) => {
  const file = tempFile(dir);
  const store = await openStorage(`FILE:${file}`, { logger: null });
  t.is(store.backend, 'libsql');
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'upper' });
  await store.close();
  const again = await openStorage(`file:${file}`, { logger: null });
  t.is((await again.fetchChat('u', 's', 'a')).length, 1, 'the same file');
  await again.close();
});

test('openStorage opens each local kind and the stores work', async (t) => {
  const cases = [
    ['memory:', 'memory', InMemoryChatStorage],
    [tempFile(dir), 'sqlite', SqlChatStorage],
    [`file:${tempFile(dir)}`, 'libsql', SqlChatStorage],
    [':memory:', 'libsql', SqlChatStorage],
  ] as const;
  for (const [url, backend, type] of cases) {
    const store = await openStorage(url, { logger: null });
    t.true(store instanceof type, url);
    t.is(store.backend, backend);
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: url });
    t.is((await store.fetchChat('u', 's', 'a'))[0]!.content[0]!.text, url);
    await store.close();
  }
});

test('openStorage with no URL uses CONVOSTORE_URL', async (t) => {
  const file = tempFile(dir);
  const previous = process.env.CONVOSTORE_URL;
  process.env.CONVOSTORE_URL = file;
  try {
    const store = await openStorage(undefined, { logger: null });
    t.is(store.backend, 'sqlite');
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'env' });
    await store.close();
    const again = await SqlChatStorage.openSqlite(file, { logger: null });
    t.is((await again.fetchChat('u', 's', 'a')).length, 1, 'the data went to the file CONVOSTORE_URL named');
    await again.close();
  } finally {
    if (previous === undefined) delete process.env.CONVOSTORE_URL;
    else process.env.CONVOSTORE_URL = previous;
  }
});

test('a database that is not migrated is refused when migrations are not applied on open', async (t) => {
  const error = await t.throwsAsync(() => SqlChatStorage.openLibsql(`file:${tempFile(dir)}`, { migrate: false }), {
    instanceOf: NotMigratedError,
  });
  t.is(error!.code, 'NOT_MIGRATED');
  t.regex(error!.message, /npx drizzle-kit migrate/);
});

test('a file that cannot be opened is UNAVAILABLE with the driver error as cause', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const notADirectory = tempFile(dir, '.txt');
  writeFileSync(notADirectory, 'a file where a directory should be');
  const error = await t.throwsAsync(() => SqlChatStorage.openSqlite(`${notADirectory}/sub/x.db`), { instanceOf: UnavailableError });
  t.is(error!.code, 'UNAVAILABLE');
  t.truthy(error!.cause);
});

test('a file that is not a database is UNAVAILABLE, not a raw driver error', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const file = tempFile(dir);
  writeFileSync(file, 'this is not a sqlite database, just text that is long enough to be read as a header.....');
  const e1 = await t.throwsAsync(() => SqlChatStorage.openSqlite(file));
  t.is((e1 as { code?: string }).code, 'UNAVAILABLE', String(e1));
  const e2 = await t.throwsAsync(() => SqlChatStorage.openLibsql(`file:${file}`));
  t.is((e2 as { code?: string }).code, 'UNAVAILABLE', String(e2));
});
