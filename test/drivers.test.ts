/**
 * Drivers are optional peer dependencies: each backend's entry loads its own driver and no other, a
 * missing one is a MissingDriverError, and a driver the application created is used as given and
 * left open by close() unless `closeDriver: true`.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createClient } from '@libsql/client';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../src/index.js';
import { openSqlite } from '../src/sqlite/index.js';
import { openLibsql } from '../src/libsql/index.js';
import { DynamoDbChatStorage } from '../src/dynamodb/index.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { dropTable, freshTable } from './helpers/dynamodb.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const blocker = join(root, 'test/helpers/block-packages.mjs');
const dir = tempDir('drivers');
const local = await startDynamoDbLocal();
test.after.always(() => local.stop());

const ALL = ['better-sqlite3', '@libsql/client', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];

/** Runs `body` (an async module body with `open` in scope) with every driver but `keep` blocked. */
async function withOnly(keep: string[], entry: string, body: string, args: string[]): Promise<unknown> {
  const script = `
    const entry = await import(${JSON.stringify(join(root, entry))});
    ${body}
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', blocker, '--input-type=module', '-e', script, ...args], {
    cwd: root,
    env: { ...process.env, BLOCK_PACKAGES: ALL.filter((p) => !keep.includes(p)).join(',') },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const roundTrip = `
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hi' });
  console.log(JSON.stringify({ backend: store.backend, chat: await store.fetchChat('u', 's', 'a') }));
  await store.close();
`;
const expected = (backend: string) => ({ backend, chat: [{ role: 'user', content: [{ text: 'hi' }] }] });

test('convostore/sqlite works with only better-sqlite3 installed', async (t) => {
  const out = await withOnly(['better-sqlite3'], 'src/sqlite/index.ts', `const store = await entry.openSqlite(process.argv[1], { logger: null }); ${roundTrip}`, [tempFile(dir)]);
  t.deepEqual(out, expected('sqlite'));
});

test('convostore/libsql works with only @libsql/client installed', async (t) => {
  const out = await withOnly(['@libsql/client'], 'src/libsql/index.ts', `const store = await entry.openLibsql('file:' + process.argv[1], { logger: null }); ${roundTrip}`, [tempFile(dir)]);
  t.deepEqual(out, expected('libsql'));
});

test('convostore/dynamodb works with only the AWS SDK installed (DynamoDB Local)', async (t) => {
  const table = await freshTable(local, 'only');
  t.teardown(() => dropTable(local, table));
  const body = `
    const store = await entry.DynamoDbChatStorage.open(process.argv[1], { logger: null, region: ${JSON.stringify(local.region)}, endpoint: process.argv[2], credentials: ${JSON.stringify(local.credentials)} });
    ${roundTrip}
  `;
  const out = await withOnly(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'], 'src/dynamodb/index.ts', body, [table, local.endpoint]);
  t.deepEqual(out, expected('dynamodb'));
});

test('openStorage with only better-sqlite3 installed: a path opens, a libSQL URL names its npm install', async (t) => {
  const body = `
    const store = await entry.openStorage(process.argv[1], { logger: null });
    await store.close();
    const error = await entry.openStorage('file:' + process.argv[1]).catch((e) => e);
    console.log(JSON.stringify({ backend: store.backend, error: { name: error.name, code: error.code, packages: error.packages, command: error.command, cause: error.cause?.code } }));
  `;
  const out = await withOnly(['better-sqlite3'], 'src/index.ts', body, [tempFile(dir)]);
  t.deepEqual(out, {
    backend: 'sqlite',
    error: { name: 'MissingDriverError', code: 'MISSING_DRIVER', packages: ['@libsql/client'], command: 'npm install @libsql/client', cause: 'ERR_MODULE_NOT_FOUND' },
  });
});

test('a better-sqlite3 Database you opened is used as given and stays open after close()', async (t) => {
  const file = tempFile(dir);
  const db = new Database(file);
  const store = await openSqlite(db, { logger: null });
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'byo' });
  await store.close();
  t.true(db.open, 'close() left the database open');
  t.deepEqual(db.prepare('SELECT 1 AS one').get(), { one: 1 }, 'and usable');
  const owned = await openSqlite(db, { logger: null, closeDriver: true });
  t.is((await owned.fetchChat('u', 's', 'a')).length, 1);
  await owned.close();
  t.false(db.open, 'closeDriver: true closes it');
});

test('a libSQL Client you created is used as given and stays open after close()', async (t) => {
  const client = createClient({ url: `file:${tempFile(dir)}` });
  const store = await openLibsql(client, { logger: null });
  t.is(store.backend, 'libsql');
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'byo' });
  await store.close();
  t.false(client.closed, 'close() left the client open');
  t.is((await client.execute('SELECT 1 AS one')).rows[0]!.one, 1, 'and usable');
  const owned = await openLibsql(client, { logger: null, closeDriver: true });
  t.is((await owned.fetchChat('u', 's', 'a')).length, 1, 'the first store wrote through this client');
  await owned.close();
  t.true(client.closed, 'closeDriver: true closes it');
});

test('a DynamoDBClient or DynamoDBDocumentClient you created is used as given and not destroyed by close()', async (t) => {
  const table = await freshTable(local, 'byo');
  t.teardown(() => dropTable(local, table));
  const client = new DynamoDBClient({ region: local.region, endpoint: local.endpoint, credentials: local.credentials });
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: local.region, endpoint: local.endpoint, credentials: local.credentials }));
  t.teardown(() => {
    client.destroy();
    documents.destroy();
  });
  for (const given of [client, documents]) {
    const store = await DynamoDbChatStorage.open(table, { client: given, logger: null, consecutiveRoles: 'keep' });
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: given.constructor.name });
    await store.close();
    t.truthy(await (given as DynamoDBClient).send(new ListTablesCommand({})), `${given.constructor.name} still sends after close()`);
  }
  const store = await DynamoDbChatStorage.open(table, { client, logger: null });
  t.deepEqual(
    (await store.fetchChat('u', 's', 'a')).map((m) => m.content[0]!.text),
    ['DynamoDBClient', 'DynamoDBDocumentClient'],
  );
  await store.close();
});

test('a DynamoDB store whose options are refused destroys the client it made (no leaked client)', (t) => {
  const destroyed: unknown[] = [];
  const destroy = DynamoDBClient.prototype.destroy;
  DynamoDBClient.prototype.destroy = function (this: DynamoDBClient) {
    destroyed.push(this);
    destroy.call(this);
  };
  t.teardown(() => void (DynamoDBClient.prototype.destroy = destroy));
  const region = local.region;
  t.throws(() => new DynamoDbChatStorage('table', { region, retention: { maxMessages: -1 } }), { instanceOf: ValidationError });
  t.throws(() => new DynamoDbChatStorage('table', { region, consecutiveRoles: 'never' as never }), { instanceOf: ValidationError });
  t.is(destroyed.length, 2, 'each client made before the store options were refused was destroyed');
  t.throws(() => new DynamoDbChatStorage('table', { region, maxMessageBytes: -1 }), { instanceOf: ValidationError });
  t.throws(() => new DynamoDbChatStorage('t', { region }), { instanceOf: ValidationError });
  t.is(destroyed.length, 2, 'options checked before a client exists make none');
  const given = new DynamoDBClient({ region });
  t.throws(() => new DynamoDbChatStorage('table', { client: given, retention: { ttlMs: -5 } }), { instanceOf: ValidationError });
  t.is(destroyed.length, 2, 'a client you gave is yours, even when the options are refused');
  given.destroy();
});
