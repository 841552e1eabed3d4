/**
 * The sqld stand-in itself (test/hrana/): the parts of Hrana over HTTP the store's own calls do not
 * reach — interactive transactions held across requests by batons, stored SQL, sequences, stream
 * expiry, Hrana 3's get_autocommit and is_autocommit — through @libsql/client where it can reach
 * them and through raw HTTP where it cannot (@libsql/client 0.18 posts /v2 JSON without probing;
 * asked for version 3, its Hrana client would probe /v3-protobuf alone, never /v3 JSON).
 */
import test, { type ExecutionContext } from 'ava';
import { createClient, type Client } from '@libsql/client';
import type { PipelineResponse, StreamRequest } from './hrana/protocol.js';
import type { HranaServer } from './hrana/server.js';
import { standInFor } from './helpers/hrana.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('hrana-standin');

async function pipeline(server: HranaServer, version: 2 | 3, requests: StreamRequest[], baton: string | null = null) {
  const response = await fetch(`${server.url}/v${version}/pipeline`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ baton, requests }),
  });
  return { status: response.status, body: (await response.json()) as PipelineResponse };
}

/** @libsql/client on a fresh stand-in, both closed after the test. */
async function clientFor(t: ExecutionContext): Promise<{ server: HranaServer; client: Client }> {
  const server = await standInFor(t, dir);
  const client = createClient({ url: server.url });
  t.teardown(() => client.close());
  return { server, client };
}

const exec = (sql: string): StreamRequest => ({ type: 'execute', stmt: { sql, want_rows: true } });

test('version probes: /v2 and /v3 answer 200, /v3-protobuf 404 (so clients fall back to JSON)', async (t) => {
  const server = await standInFor(t, dir);
  for (const [path, status] of [['/v2', 200], ['/v3', 200], ['/v3-protobuf', 404]] as const) {
    t.is((await fetch(`${server.url}${path}`)).status, status, path);
  }
});

test('an interactive transaction spans requests through batons; others see it only after COMMIT', async (t) => {
  const { server, client } = await clientFor(t);
  await client.execute('CREATE TABLE t (x INTEGER)');
  const tx = await client.transaction('write');
  await tx.execute({ sql: 'INSERT INTO t VALUES (?)', args: [1n] });
  await tx.execute({ sql: 'INSERT INTO t VALUES (?)', args: [2n] });
  t.is((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 0, 'not visible before COMMIT');
  t.is((await tx.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 2, 'visible inside');
  await tx.commit();
  t.is((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 2);
  const rolledBack = await client.transaction('write');
  await rolledBack.execute('DELETE FROM t');
  await rolledBack.rollback();
  t.is((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 2);
  const batons = server.requests.filter((r) => r.method === 'POST').map((r) => (JSON.parse(r.body) as { baton?: string | null }).baton ?? null);
  t.true(batons.filter((b) => b !== null).length >= 3, 'later requests of a transaction carry the baton');
  t.is(new Set(batons.filter((b) => b !== null)).size, batons.filter((b) => b !== null).length, 'each baton is used once');
});

test('executeMultiple (sequence) and a batch with repeated SQL (store_sql) work; SQL errors keep their text and code', async (t) => {
  const { server, client } = await clientFor(t);
  await client.executeMultiple('CREATE TABLE t (x INTEGER NOT NULL); INSERT INTO t VALUES (1);');
  const statements = Array.from({ length: 5 }, (_, i) => ({ sql: 'INSERT INTO t VALUES (?)', args: [BigInt(i)] }));
  await client.batch(statements, 'write');
  t.true(server.requests.some((r) => r.body.includes('"store_sql"')), 'the client stored the repeated SQL once');
  t.is((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 6);
  const error = await t.throwsAsync(client.batch([{ sql: 'INSERT INTO t VALUES (?)', args: [7n] }, { sql: 'INSERT INTO t VALUES (NULL)', args: [] }], 'write'));
  t.regex(error?.message ?? '', /NOT NULL constraint failed: t\.x/);
  t.is((error as { code?: string }).code, 'SQLITE_CONSTRAINT_NOTNULL');
  t.is((await client.execute('SELECT count(*) AS n FROM t')).rows[0]!.n, 6, 'the failed batch rolled back whole');
});

test('Hrana 3 over /v3: get_autocommit and the is_autocommit condition; /v2 refuses them', async (t) => {
  const server = await standInFor(t, dir);
  const first = await pipeline(server, 3, [exec('CREATE TABLE t (x)'), { type: 'get_autocommit' }, exec('BEGIN'), { type: 'get_autocommit' }]);
  t.deepEqual(
    first.body.results.map((r) => (r.type === 'ok' && r.response.type === 'get_autocommit' ? r.response.is_autocommit : r.type)),
    ['ok', true, 'ok', false],
  );
  t.truthy(first.body.baton);
  const batch: StreamRequest = {
    type: 'batch',
    batch: {
      steps: [
        { stmt: { sql: 'INSERT INTO t VALUES (1)' } },
        { condition: { type: 'not', cond: { type: 'is_autocommit' } }, stmt: { sql: 'INSERT INTO t VALUES (2)' } },
        { condition: { type: 'error', step: 0 }, stmt: { sql: 'INSERT INTO t VALUES (3)' } },
        { condition: { type: 'and', conds: [{ type: 'ok', step: 0 }, { type: 'ok', step: 1 }] }, stmt: { sql: 'COMMIT' } },
        { condition: { type: 'or', conds: [{ type: 'is_autocommit' }, { type: 'error', step: 3 }] }, stmt: { sql: 'SELECT x FROM t ORDER BY x' } },
      ],
    },
  };
  const second = await pipeline(server, 3, [batch, { type: 'close' }], first.body.baton);
  t.is(second.body.baton, null, 'closed');
  const result = second.body.results[0];
  if (result?.type !== 'ok' || result.response.type !== 'batch') return t.fail(JSON.stringify(result));
  const { step_results, step_errors } = result.response.result;
  t.deepEqual(step_results.map((r) => r !== null), [true, true, false, true, true]);
  t.deepEqual(step_errors, [null, null, null, null, null]);
  t.deepEqual(step_results[4]!.rows, [[{ type: 'integer', value: '1' }], [{ type: 'integer', value: '2' }]]);
  const v2 = await pipeline(server, 2, [{ type: 'get_autocommit' }, { type: 'close' }]);
  t.is(v2.body.results[0]!.type, 'error');
});

test('a stream left idle expires and its open transaction rolls back; its baton is then refused', async (t) => {
  const server = await standInFor(t, dir, { streamIdleMs: 200 });
  await pipeline(server, 2, [exec('CREATE TABLE t (x)'), { type: 'close' }]);
  const open = await pipeline(server, 2, [exec('BEGIN'), exec('INSERT INTO t VALUES (1)')]);
  t.is(server.openStreams, 1);
  await new Promise((resolve) => setTimeout(resolve, 600));
  t.is(server.openStreams, 0);
  const stale = await pipeline(server, 2, [exec('COMMIT')], open.body.baton);
  t.is(stale.status, 400);
  const count = await pipeline(server, 2, [exec('SELECT count(*) FROM t'), { type: 'close' }]);
  const first = count.body.results[0];
  t.deepEqual(first?.type === 'ok' && first.response.type === 'execute' ? first.response.result.rows : first, [[{ type: 'integer', value: '0' }]]);
});
