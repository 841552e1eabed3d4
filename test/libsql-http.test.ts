/**
 * The contract suite through @libsql/client's remote (HTTP) code path, against the loopback sqld
 * stand-in (test/hrana/): every database is created empty, migrated over HTTP by
 * `openLibsql(url, { migrate: true })`, then opened as an application opens Turso (the registry's
 * `libsql-http` entry). Below it, what opening a remote database checks.
 */
import test from 'ava';
import { NotMigratedError, SqlChatStorage, UnauthorizedError } from '../src/index.js';
import { backend } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';
import { standInFor } from './helpers/hrana.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('hrana');
const authToken = 'test-token';

const http = backend('libsql-http');
contractSuite(http.label, (options) => http.open(options));

test('a remote database that is not migrated is refused with NotMigratedError, and nothing is created', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  const error = await t.throwsAsync(SqlChatStorage.openLibsql(server.url, { authToken }), { instanceOf: NotMigratedError });
  t.is(error?.code, 'NOT_MIGRATED');
  t.regex(error?.message ?? '', /drizzle-kit migrate/);
  t.is(server.pipelineCount, 1, 'one round trip to find out');
  // Opening did not create tables behind the user's back.
  const again = await t.throwsAsync(SqlChatStorage.openLibsql(server.url, { authToken }));
  t.true(again instanceof NotMigratedError);
});

test('migrating over HTTP twice is a no-op the second time', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  await (await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true })).close();
  server.resetCount();
  const store = await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true });
  t.is(server.pipelineCount, 1, 'an up-to-date database costs one check');
  await store.close();
});

test('a wrong or missing token is refused on open with UnauthorizedError carrying the driver error', async (t) => {
  const server = await standInFor(t, dir, { token: authToken });
  await (await SqlChatStorage.openLibsql(server.url, { authToken, migrate: true })).close();
  server.resetCount();
  for (const token of ['wrong', undefined]) {
    const error = await t.throwsAsync(SqlChatStorage.openLibsql(server.url, { authToken: token }), { instanceOf: UnauthorizedError });
    t.is(error?.code, 'UNAUTHORIZED');
    t.truthy(error?.cause, 'the driver error is the cause');
    t.regex(String((error?.cause as Error).message), /401/);
  }
  t.is(server.pipelineCount, 2, 'a refused token costs one round trip: it is not retried');
});
