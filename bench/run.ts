/**
 * `npm run bench`: every backend on the same workloads, each beside a hand-written baseline on the
 * raw driver measured in the same run. Prints medians and ratios, writes bench/results/latest.json.
 * Benchmarks are not tests: nothing here fails on a number. Machines are noisy; read ratios.
 *
 *   BENCH_QUICK=1 npm run bench   # smaller histories and shorter runs, for a smoke check
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore } from '../src/index.js';
import { betterSqlite3Baseline, libsqlBaseline, mapBaseline, type Baseline } from './baselines.js';

const QUICK = process.env.BENCH_QUICK === '1';
const HISTORIES = QUICK ? [100, 2_000] : [100, 10_000, 100_000];
const BULK = 10_000;
const SESSIONS = 1_000;
const TIME_MS = QUICK ? 200 : 1_000;

interface Subject {
  name: string;
  open(path: string): Promise<ChatStore>;
  baseline(path: string): Baseline;
  coldStart?: { store(path: string): Promise<void>; baseline(path: string): Promise<void> };
}

const subjects: Subject[] = [
  {
    name: 'sqlite (better-sqlite3)',
    open: (path) => SqlChatStorage.openSqlite(path, { logger: null }),
    baseline: betterSqlite3Baseline,
    coldStart: {
      async store(path) {
        const s = await SqlChatStorage.openSqlite(path, { logger: null });
        await s.fetchChat('bench', 'h100', 'agent', 20);
        await s.close();
      },
      async baseline(path) {
        const b = betterSqlite3Baseline(path);
        await b.window('bench', 'h100', 'agent', 20);
        await b.close();
      },
    },
  },
  {
    name: 'libsql (file:)',
    open: (path) => SqlChatStorage.openLibsql(`file:${path}`, { logger: null }),
    baseline: (path) => libsqlBaseline(`file:${path}`),
    coldStart: {
      async store(path) {
        const s = await SqlChatStorage.openLibsql(`file:${path}`, { logger: null });
        await s.fetchChat('bench', 'h100', 'agent', 20);
        await s.close();
      },
      async baseline(path) {
        const b = libsqlBaseline(`file:${path}`);
        await b.window('bench', 'h100', 'agent', 20);
        await b.close();
      },
    },
  },
  { name: 'memory', open: async () => new InMemoryChatStorage({ logger: null }), baseline: () => mapBaseline() },
];

interface Row {
  backend: string;
  workload: string;
  unit: string;
  convostore: number;
  baseline: number;
  /** convostore's median latency over the baseline's: 1.0 is as fast as the raw driver. */
  ratio: number;
}

const content = (i: number) => JSON.stringify([{ text: `message ${i} ${'lorem ipsum '.repeat(8)}` }]);
const message = (i: number) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: [{ text: `message ${i} ${'lorem ipsum '.repeat(8)}` }] });

async function prefill(store: ChatStore, baseline: Baseline, sessionId: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 10_000) {
    const count = Math.min(10_000, n - start);
    const batch = Array.from({ length: count }, (_, i) => message(start + i));
    await store.saveChatMessages('bench', sessionId, 'agent', batch);
    await baseline.bulk('bench', `base-${sessionId}`, 'agent', batch.map((m, i) => [m.role, content(start + i)]));
  }
}

/** Median latency (ms) of each task, run one after the other in one Bench. */
async function measure(tasks: Record<string, () => Promise<unknown>>, options: { time?: number; iterations?: number } = {}) {
  const bench = new Bench({ time: options.time ?? TIME_MS, iterations: options.iterations ?? 10, warmup: true });
  for (const [name, fn] of Object.entries(tasks)) bench.add(name, fn);
  await bench.run();
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state} ${'error' in result ? String(result.error) : ''}`);
    out[task.name] = result.latency.p50;
  }
  return out;
}

function row(backend: string, workload: string, store: number, base: number, perOp = 1, unit = 'ops/s'): Row {
  return {
    backend,
    workload,
    unit,
    convostore: Math.round((perOp * 1000) / store),
    baseline: Math.round((perOp * 1000) / base),
    ratio: Math.round((store / base) * 100) / 100,
  };
}

async function benchSubject(subject: Subject, dir: string): Promise<{ rows: Row[]; latency: Record<string, number> }> {
  const path = join(dir, `${subject.name.replace(/\W+/g, '-')}.db`);
  const store = await subject.open(path);
  const baseline = subject.baseline(path);
  const rows: Row[] = [];
  const latency: Record<string, number> = {};
  try {
    // Append and window read at each history size. The append conversation starts at the stated
    // size and grows by the number of iterations measured.
    for (const n of [0, ...HISTORIES]) {
      if (n > 0) await prefill(store, baseline, `h${n}`, n);
      let i = n;
      let j = n;
      const m = await measure({
        store: () => store.saveChatMessage('bench', `h${n}`, 'agent', message(i++), 20),
        baseline: () => baseline.append('bench', `base-h${n}`, 'agent', j % 2 === 0 ? 'user' : 'assistant', content(j++), 20),
      });
      rows.push(row(subject.name, `append @ history ${n}`, m.store!, m.baseline!));
      latency[`append@${n}`] = m.store!;
      if (n === 0) continue;
      const w = await measure({
        store: () => store.fetchChat('bench', `h${n}`, 'agent', 20),
        baseline: () => baseline.window('bench', `h${n}`, 'agent', 20),
      });
      rows.push(row(subject.name, `window read (20) @ history ${n}`, w.store!, w.baseline!));
      latency[`window@${n}`] = w.store!;
    }

    // A session of 5 agents × 200 messages, read across agents.
    for (let a = 0; a < 5; a++) {
      const batch = Array.from({ length: 200 }, (_, i) => message(i));
      await store.saveChatMessages('bench', 'five-agents', `agent-${a}`, batch);
      await baseline.bulk('bench', 'five-agents-base', `agent-${a}`, batch.map((m, i) => [m.role, content(i)]));
    }
    const s = await measure({
      store: () => store.fetchAllChats('bench', 'five-agents'),
      baseline: () => baseline.session('bench', 'five-agents-base'),
    });
    rows.push(row(subject.name, 'fetchAllChats (5 agents × 200)', s.store!, s.baseline!));

    // Bulk insert of 10,000 messages into a new conversation each time.
    const batch = Array.from({ length: BULK }, (_, i) => message(i));
    const rowsForBaseline = batch.map((m, i): [string, string] => [m.role, content(i)]);
    let k = 0;
    let l = 0;
    const b = await measure(
      {
        store: () => store.saveChatMessages('bench', 'bulk', `agent-${k++}`, batch),
        baseline: () => baseline.bulk('bench', 'bulk-base', `agent-${l++}`, rowsForBaseline),
      },
      { time: 0, iterations: QUICK ? 3 : 8 },
    );
    rows.push(row(subject.name, `saveChatMessages of ${BULK}`, b.store!, b.baseline!, BULK, 'messages/s'));

    // listSessions, first page, for a user with 1,000 sessions.
    for (let i = 0; i < SESSIONS; i++) {
      await store.saveChatMessage('many', `session-${i}`, 'agent', message(0));
      await baseline.bulk('many-base', `session-${i}`, 'agent', [['user', content(0)]]);
    }
    const ls = await measure({
      store: () => store.listSessions('many', { limit: 50 }),
      baseline: () => baseline.sessions('many-base', 50),
    });
    rows.push(row(subject.name, `listSessions (${SESSIONS} sessions, first 50)`, ls.store!, ls.baseline!));
  } finally {
    await store.close();
    await baseline.close();
  }

  if (subject.coldStart) {
    const cold = subject.coldStart;
    const c = await measure({ store: () => cold.store(path), baseline: () => cold.baseline(path) }, { time: TIME_MS });
    rows.push(row(subject.name, 'cold start: open a migrated file + first window read', c.store!, c.baseline!));
  }
  return { rows, latency };
}

function flatness(latency: Record<string, number>): Record<string, number> {
  const top = HISTORIES[HISTORIES.length - 1]!;
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    [`append ${top} / append 0`]: round(latency[`append@${top}`]! / latency['append@0']!),
    [`append ${top} / append ${HISTORIES[0]}`]: round(latency[`append@${top}`]! / latency[`append@${HISTORIES[0]}`]!),
    [`window ${top} / window ${HISTORIES[0]}`]: round(latency[`window@${top}`]! / latency[`window@${HISTORIES[0]}`]!),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'convostore-bench-'));
const results: { date: string; node: string; quick: boolean; rows: Row[]; flatness: Record<string, Record<string, number>> } = {
  date: new Date().toISOString(),
  node: process.version,
  quick: QUICK,
  rows: [],
  flatness: {},
};
try {
  for (const subject of subjects) {
    if (process.env.BENCH_ONLY && !subject.name.includes(process.env.BENCH_ONLY)) continue;
    console.error(`benchmarking ${subject.name} …`);
    const { rows, latency } = await benchSubject(subject, dir);
    results.rows.push(...rows);
    results.flatness[subject.name] = flatness(latency);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log('\n| backend | workload | convostore (median) | baseline (median) | ratio |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const r of results.rows) {
  console.log(`| ${r.backend} | ${r.workload} | ${r.convostore.toLocaleString('en')} ${r.unit} | ${r.baseline.toLocaleString('en')} ${r.unit} | ${r.ratio.toFixed(2)} |`);
}
console.log('\nCost against history size (median latency ratios; 1.0 is flat):');
for (const [backend, f] of Object.entries(results.flatness)) {
  console.log(`  ${backend}: ${Object.entries(f).map(([k, v]) => `${k} = ${v}`).join(', ')}`);
}
const out = new URL('./results/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL(QUICK ? 'quick.json' : 'latest.json', out), `${JSON.stringify(results, null, 2)}\n`);
