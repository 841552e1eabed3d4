/**
 * The contract suite over HTTP on a database migrated the way the docs tell users to migrate Turso:
 * `TURSO_DATABASE_URL=… TURSO_AUTH_TOKEN=… npx drizzle-kit migrate` (drizzle.config.ts, dialect
 * `turso`), here against the loopback sqld stand-in. drizzle-kit runs once, on a template database;
 * each test serves a copy of it.
 */
import test from 'ava';
import { HranaServer } from './hrana/server.js';
import { SqlChatStorage } from '../src/index.js';
import { contractSuite } from './contract/suite.js';
import { copyDatabase, drizzleKitMigrate, standInFor, startStandIn } from './helpers/hrana.js';
import { countRows } from './helpers/sql.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('hrana-kit');
const authToken = 'kit-token';
let template = '';

test.before(async (t) => {
  const server = await startStandIn(dir, { token: authToken });
  try {
    const output = await drizzleKitMigrate(server.url, authToken);
    t.regex(output, /migrations applied successfully/);
    t.true(server.pipelineCount > 0, 'drizzle-kit spoke Hrana to the stand-in');
    template = tempFile(dir);
    copyDatabase(server.file, template);
  } finally {
    await server.close();
  }
});

test('drizzle-kit migrate over HTTP leaves a database openLibsql accepts without migrating', async (t) => {
  const server = await HranaServer.start({ file: servedCopy(), token: authToken });
  t.teardown(() => server.close());
  const store = await SqlChatStorage.openLibsql(server.url, { authToken });
  t.is(server.pipelineCount, 1, 'only the migration check, no DDL');
  await store.close();
});

test('drizzle-kit migrate with a wrong token fails and changes nothing', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  const error = await t.throwsAsync(drizzleKitMigrate(server.url, 'wrong-token'));
  t.is((error as { code?: unknown }).code, 1, 'drizzle-kit exits with status 1 (it prints no reason)');
  t.deepEqual(
    server.requests.map((r) => r.status),
    [401],
    'the stand-in refused its first request and drizzle-kit stopped there',
  );
  await t.throwsAsync(SqlChatStorage.openLibsql(server.url, { authToken }), { code: 'NOT_MIGRATED' } as never);
});

contractSuite('libsql over HTTP (migrated by drizzle-kit)', async (options) => {
  const server = await HranaServer.start({ file: servedCopy(), token: authToken });
  try {
    const store = await SqlChatStorage.openLibsql(server.url, { ...options, authToken });
    return { store, rawCount: () => countRows(store), dispose: () => server.close() };
  } catch (error) {
    await server.close();
    throw error;
  }
});

function servedCopy(): string {
  const file = tempFile(dir);
  copyDatabase(template, file);
  return file;
}
