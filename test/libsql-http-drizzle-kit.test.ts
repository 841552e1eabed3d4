/**
 * The contract suite over HTTP on a database migrated the way the docs tell users to migrate Turso:
 * `TURSO_DATABASE_URL=… TURSO_AUTH_TOKEN=… npx drizzle-kit migrate` (drizzle.config.ts, dialect
 * `turso`), here against the loopback sqld stand-in. drizzle-kit runs once, on a template database
 * (the registry's `libsql-http-kit` entry); each test serves a copy of it.
 */
import test from 'ava';
import { SqlChatStorage } from '../src/index.js';
import { HTTP_TOKEN, backend, drizzleKitTemplate, servedKitCopy } from './backends/registry.js';
import { contractSuite } from './contract/suite.js';
import { drizzleKitMigrate, standInFor } from './helpers/hrana.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('hrana-kit');

test.before(async (t) => {
  const template = await drizzleKitTemplate();
  t.regex(template.output, /migrations applied successfully/);
  t.true(template.pipelines > 0, 'drizzle-kit spoke Hrana to the stand-in');
});

test('drizzle-kit migrate over HTTP leaves a database openLibsql accepts without migrating', async (t) => {
  const server = await servedKitCopy();
  t.teardown(() => server.close());
  const store = await SqlChatStorage.openLibsql(server.url, { authToken: HTTP_TOKEN });
  t.is(server.pipelineCount, 1, 'only the migration check, no DDL');
  await store.close();
});

test('drizzle-kit migrate with a wrong token fails and changes nothing', async (t) => {
  const server = await standInFor(t, dir, { token: HTTP_TOKEN });
  const error = await t.throwsAsync(drizzleKitMigrate(server.url, 'wrong-token'));
  t.is((error as { code?: unknown }).code, 1, 'drizzle-kit exits with status 1 (it prints no reason)');
  t.deepEqual(
    server.requests.map((r) => r.status),
    [401],
    'the stand-in refused its first request and drizzle-kit stopped there',
  );
  await t.throwsAsync(SqlChatStorage.openLibsql(server.url, { authToken: HTTP_TOKEN }), { code: 'NOT_MIGRATED' } as never);
});

const kit = backend('libsql-http-kit');
contractSuite(kit.label, (options) => kit.open(options));
