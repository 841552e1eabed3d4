/** The built CLI against DynamoDB Local: migrate creates the table; copy SQLite → DynamoDB → libSQL file. */
import test from 'ava';
import { openStorage, type ChatStore } from '../src/index.js';
import { cli, ensureBuilt, seedRepro, sessionsView } from './helpers/cli.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { seed, tickingClock } from './helpers/seed.js';
import { snapshot } from './helpers/snapshot.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('cli-dynamodb');
const local = await startDynamoDbLocal();
test.after.always(() => local.stop());
test.before(ensureBuilt);

/**
 * DynamoDB Local takes any credentials; the child process finds these through the SDK's chain. These
 * tests read the CLI's stderr line by line, so the SDK's notice that it will drop Node 20 is turned
 * off in these children only (on Node 24 it is not printed at all).
 */
const env = {
  AWS_ACCESS_KEY_ID: local.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: local.credentials.secretAccessKey,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
const tableUrl = (name: string) => `dynamodb://${name}?region=${local.region}&endpoint=${encodeURIComponent(local.endpoint)}`;

async function withStore<T>(url: string, body: (store: ChatStore) => Promise<T>): Promise<T> {
  const store: ChatStore = await openStorage(url, { logger: null, ...(url.startsWith('dynamodb:') ? { credentials: local.credentials } : {}) });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const snapshotOf = (url: string) => withStore(url, snapshot);
const viewOf = (url: string) => withStore(url, sessionsView);

test('migrate creates the DynamoDB table; copy SQLite → DynamoDB → libSQL file keeps everything; a second copy writes nothing', async (t) => {
  const url = tableUrl(`cli-copy-${process.pid}`);
  const missing = await cli(['copy', '--from', tempFile(dir), '--to', url], { env });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^convostore: [^\n]*\n$/, 'a missing table is one line');

  const migrated = await cli(['migrate', '--url', url], { env });
  t.is(migrated.code, 0, migrated.stderr);
  t.regex(migrated.stdout, /ready \(dynamodb: its table exists/);

  const source = tempFile(dir);
  const sourceStore = await openStorage(source, { logger: null, clock: tickingClock() });
  const messages = await seed(sourceStore, { long: 450 });
  await sourceStore.close();
  const expected = await snapshotOf(source);

  const first = await cli(['copy', '--from', source, '--to', url], { env });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, new RegExp(`: ${messages} messages, 0 already present .*; verified: 6 conversations, ${messages} messages at the destination\\n$`));
  t.deepEqual(await snapshotOf(url), expected);

  const second = await cli(['copy', '--from', source, '--to', url], { env });
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, new RegExp(`: 0 messages, ${messages} already present`));

  const back = `file:${tempFile(dir)}`;
  const third = await cli(['copy', '--from', url, '--to', back], { env });
  t.is(third.code, 0, third.stderr);
  t.deepEqual(await snapshotOf(back), expected);
});

test("issue 10 on DynamoDB: copy and export → import keep ids, metadata, titles and a session's write order within one millisecond", async (t) => {
  const source = tempFile(dir);
  await seedRepro(source);
  const expected = await viewOf(source);
  const url = tableUrl(`cli-repro-${process.pid}`);
  t.is((await cli(['migrate', '--url', url], { env })).code, 0);

  const there = await cli(['copy', '--from', source, '--to', url], { env });
  t.is(there.code, 0, there.stderr);
  t.regex(there.stderr, /: 7 messages, 0 already present .*; verified: 3 conversations, 7 messages at the destination\n$/);
  t.deepEqual(await viewOf(url), expected);
  const back = `file:${tempFile(dir)}`;
  const home = await cli(['copy', '--from', url, '--to', back], { env });
  t.is(home.code, 0, home.stderr);
  t.deepEqual(await viewOf(back), expected);

  const file = tempFile(dir, '.jsonl');
  t.is((await cli(['export', '--from', source, '-o', file])).code, 0);
  const other = tableUrl(`cli-repro-import-${process.pid}`);
  t.is((await cli(['migrate', '--url', other], { env })).code, 0);
  const imported = await cli(['import', '--to', other, file], { env });
  t.is(imported.code, 0, imported.stderr);
  t.deepEqual(await viewOf(other), expected);
  const again = await cli(['import', '--to', other, file], { env });
  t.regex(again.stderr, /^imported 0 messages, 7 already present/);
});
