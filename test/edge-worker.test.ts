/**
 * The remote libSQL path on an edge runtime, for real: examples/edge-worker.ts is bundled by esbuild
 * for workerd (no Node built-ins to fall back on: any `node:` import fails the build) and run in
 * workerd, Cloudflare's runtime (the npm package ships its binary), against the Hrana stand-in on
 * loopback: it appends, reads a window and lists sessions. The bundle holds no `node:` import and no
 * native addon. workerd's default network refuses loopback; the config's network service allows it.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { SqlChatStorage } from '../src/index.js';
import { ensureBuilt, root } from './helpers/cli.js';
import { standInFor } from './helpers/hrana.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('edge');
/** The runtime binary the `workerd` package ships (through its platform package). */
const workerdBinary = ['node_modules/@cloudflare/workerd-linux-64/bin/workerd', 'node_modules/workerd/bin/workerd'].map((p) => join(root, p)).find(existsSync)!;
const CONDITIONS = ['workerd', 'worker', 'browser'];
const NODE_IMPORT = /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](?:node:|fs["'/]|path["'/]|crypto["'/])/;
const NATIVE = /\.node["']|require\(["']bindings["']\)|node-gyp-build|prebuild/;

async function bundle(entry: { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string } }) {
  const result = await build({
    ...entry,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: CONDITIONS,
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

test("'convostore/libsql' resolves to the web entry under edge conditions, with no node: import and no native addon", async (t) => {
  await ensureBuilt();
  const { code, inputs } = await bundle({ stdin: { contents: "export { openLibsql } from 'convostore/libsql';", resolveDir: root } });
  t.true(inputs.includes('dist/src/libsql/web.js'), 'the workerd condition picked dist/src/libsql/web.js');
  t.false(inputs.some((i) => i.includes('better-sqlite3') || /@libsql\/client\/lib-esm\/node/.test(i) || i.startsWith('node_modules/libsql/')), inputs.join('\n'));
  t.false(NODE_IMPORT.test(code), 'no node: import in the bundle');
  t.false(NATIVE.test(code), 'no native addon in the bundle');
});

test('the example worker runs in workerd against the Hrana stand-in: append, window read, listSessions', async (t) => {
  const token = 'edge-token';
  const server = await standInFor(t, dir, { token });
  await (await SqlChatStorage.openLibsql(server.url, { authToken: token, migrate: true })).close();

  const { code, inputs } = await bundle({ entryPoints: [join(root, 'examples/edge-worker.ts')] });
  t.false(inputs.some((i) => i.includes('better-sqlite3') || i.startsWith('node_modules/libsql/')), 'no native driver bundled');
  t.false(NODE_IMPORT.test(code), 'no node: import in the bundle');
  t.false(NATIVE.test(code), 'no native addon in the bundle');
  writeFileSync(join(dir, 'worker.js'), code);

  const port = await freePort();
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
  bindings = [(name = "LIBSQL_URL", text = "${server.url}"), (name = "LIBSQL_TOKEN", text = "${token}")],
  globalOutbound = "loopback",
);
`,
  );
  const workerd = spawn(workerdBinary, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  workerd.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  workerd.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => workerd.once('exit', resolve));
  t.teardown(async () => {
    workerd.kill('SIGTERM');
    await exited;
  });

  // workerd says nothing when it is ready: poll its socket (bounded: 30 s).
  let response: Response | undefined;
  for (let tries = 0; tries < 150 && !response && workerd.exitCode === null; tries++) {
    response = await fetch(`http://127.0.0.1:${port}/?user=ada`).catch(async () => void (await sleep(200)));
  }
  t.truthy(response, `workerd answered (its output: ${output})`);
  const body = (await response!.json()) as Record<string, unknown>;
  t.is(response!.status, 200, JSON.stringify(body));
  t.regex(String(body.runtime), /Cloudflare-Workers/);
  t.deepEqual(body.window, [
    { role: 'user', content: [{ text: 'Does this run at the edge?' }] },
    { role: 'assistant', content: [{ text: 'Yes: no native module, no node: import.' }] },
  ]);
  t.is((body.history as unknown[]).length, 2);
  const sessions = body.sessions as { items: Array<{ sessionId: string; messageCount: number }> };
  t.like(sessions.items[0], { sessionId: 'edge-1', messageCount: 2 });
  t.true(server.requests.length > 0 && server.requests.every((r) => r.status === 200), 'every Hrana request from workerd succeeded');
});
