/**
 * `npm run bench:cold-start`: how long a fresh process takes to use convostore, beside bare Node.
 * A benchmark, not a test: nothing fails on a number. Each case runs as its own `node` process, the
 * cases interleaved round after round (ROUNDS, default 21) so that load from elsewhere hits them alike;
 * the median and the minimum wall time per case are reported, and for the library cases each over
 * bare `node -e ''`'s. On a machine shared with other work, the minimum is the better estimate of
 * the cost itself: load only ever adds time. Uses the built package (dist/, through the package's own exports: `npm run build`).
 *
 *   memory:       import('convostore') + openStorage('memory:') + one append + close
 *   sqlite file:  the same on a migrated SQLite file (better-sqlite3)
 *   libsql file:  the same on a migrated file: URL (@libsql/client)
 *   CLI sessions: `convostore sessions USER --url FILE`, whole process
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.ROUNDS ?? 21);
const cli = join(root, 'dist/src/cli/main.js');
if (!existsSync(cli)) throw new Error('build first: npm run build');

const dir = mkdtempSync(join(tmpdir(), 'convostore-cold-'));
const file = join(dir, 'app.db');
const append = (url: string) =>
  `const { openStorage } = await import('convostore');
   const store = await openStorage(${JSON.stringify(url)}, { logger: null });
   await store.saveChatMessage('ada', 's-' + process.pid, 'agent', { role: 'user', content: 'hi' });
   await store.close();`;

const cases: Array<{ name: string; args: string[]; overBare: boolean }> = [
  { name: "bare node -e ''", args: ['-e', ''], overBare: false },
  { name: 'memory: import + open + append', args: ['--input-type=module', '-e', append('memory:')], overBare: true },
  { name: 'sqlite file: import + open + append', args: ['--input-type=module', '-e', append(file)], overBare: true },
  { name: 'libsql file: import + open + append', args: ['--input-type=module', '-e', append(`file:${file}`)], overBare: true },
  { name: 'convostore sessions USER --url FILE', args: [cli, 'sessions', 'ada', '--url', file], overBare: false },
];

function time(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${result.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// The file exists and is migrated before the first timed run: the cases measure opening, not creating.
time(['--input-type=module', '-e', append(file)]);
const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 ? [...cases].reverse() : cases) samples.get(c.name)!.push(time(c.args));
}

const bare = samples.get(cases[0]!.name)!;
const rows = cases.map((c) => {
  const xs = samples.get(c.name)!;
  const over = (f: (v: number[]) => number) => (c.overBare ? Math.round(f(xs) - f(bare)) : undefined);
  return { case: c.name, medianMs: Math.round(median(xs)), minMs: Math.round(Math.min(...xs)), medianOverBareMs: over(median), minOverBareMs: over((v) => Math.min(...v)) };
});
const load = loadavg()[0]!.toFixed(1);
console.log(`Node ${process.version}, ${ROUNDS} rounds, load average ${load} on ${cpus().length} cores\n`);
console.log('| case | median | min | median over bare | min over bare |\n| --- | --- | --- | --- | --- |');
const ms = (v: number | undefined) => (v === undefined ? '' : `${v} ms`);
for (const r of rows) console.log(`| ${r.case} | ${ms(r.medianMs)} | ${ms(r.minMs)} | ${ms(r.medianOverBareMs)} | ${ms(r.minOverBareMs)} |`);
// A new file per run, as bench/run.ts does: a run never overwrites a tracked result (`wx` refuses to).
const stamp = new Date().toISOString().replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
const out = join(root, `bench/results/cold-start-${stamp}.json`);
writeFileSync(out, `${JSON.stringify({ node: process.version, rounds: ROUNDS, load, rows }, null, 2)}\n`, { flag: 'wx' });
console.log(`\nwritten to ${out.slice(root.length)}`);
