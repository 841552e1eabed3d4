/**
 * The package as users get it: `npm pack` holds only what they need, and the tarball installed into a
 * fresh project beside one driver (better-sqlite3, taken from this repository's node_modules so the
 * install needs no compiler and works offline; everything else comes from npm's cache first) runs the
 * README's quickstart and `convostore --help`. The other drivers are optional peers: not installed.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, root } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Bytes under a folder, symbolic links not followed (a linked package is not part of the install). */
function size(path: string): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  return readdirSync(path, { withFileTypes: true }).reduce((sum, e) => sum + (e.isSymbolicLink() ? 0 : size(join(path, e.name))), 0);
}

test('npm pack holds dist, migrations, drizzle, docs and README only; prepack builds', async (t) => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.is(manifest.scripts.prepack, 'npm run build', 'a pack from a fresh clone builds dist first');
  await ensureBuilt();
  // --ignore-scripts: other test files use dist while this runs; ensureBuilt made it fresh.
  const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  const outside = files.filter((f) => !/^(dist\/(src|drizzle)\/.+\.(js|d\.ts)|migrations\/.+|drizzle\/schema\.ts|docs\/[^/]+\.md|README\.md|package\.json)$/.test(f));
  t.deepEqual(outside, [], 'nothing beyond what users need');
  for (const needed of ['dist/src/index.js', 'dist/src/cli/main.js', 'dist/src/libsql/web.js', 'migrations/meta/_journal.json', 'drizzle/schema.ts', 'README.md']) {
    t.true(files.includes(needed), needed);
  }
});

test('the packed tarball with only better-sqlite3 beside it runs the quickstart and convostore --help', async (t) => {
  await ensureBuilt();
  const dir = tempDir('pack');
  const { stdout: packed } = await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root });
  const tarball = join(dir, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename);
  const app = join(dir, 'app');
  await run('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, join(root, 'node_modules/better-sqlite3')], {
    cwd: app,
    timeout: 300_000,
  });
  const modules = join(app, 'node_modules');
  for (const absent of ['@libsql/client', 'libsql', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']) {
    t.false(existsSync(join(modules, absent)), `${absent} is an optional peer: not installed`);
  }
  t.log(`tarball ${statSync(tarball).size} bytes; installed ${(size(modules) / 1e6).toFixed(1)} MB besides the linked better-sqlite3`);

  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const quickstart = /```ts\n(import \{ openStorage \} from 'convostore';[\s\S]*?)```/.exec(readme)![1]!;
  writeFileSync(join(app, 'quickstart.mjs'), `${quickstart}\nconsole.log(JSON.stringify({ window, everyAgent, sessions: sessions.map((s) => s.sessionId) }));\n`);
  const { stdout } = await run(process.execPath, ['quickstart.mjs'], { cwd: app, env: { ...process.env, CONVOSTORE_URL: join(app, 'data/app.db') } });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { window: unknown[]; everyAgent: unknown[]; sessions: string[] };
  t.is(result.window.length, 2);
  t.deepEqual(result.sessions, ['support-1']);

  const help = await run(join(modules, '.bin/convostore'), ['--help'], { cwd: app });
  t.regex(help.stdout, /^Usage: convostore COMMAND/);
  const sessions = await run(join(modules, '.bin/convostore'), ['sessions', 'ada', '--url', join(app, 'data/app.db')], { cwd: app });
  t.regex(sessions.stdout, /support-1/);
  const missing = await run(join(modules, '.bin/convostore'), ['sessions', 'ada', '--url', 'file:x.db'], { cwd: app }).catch((e: { stderr: string }) => e);
  t.regex(missing.stderr, /npm install @libsql\/client/, 'a backend whose driver is missing names its npm install');
});
