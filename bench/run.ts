/**
 * `npm run bench`: every backend on the same workloads, each beside a hand-written baseline on the
 * raw driver measured in the same run. Prints medians and ratios, writes bench/results/latest.json.
 * Benchmarks are not tests: nothing here fails on a number. Machines are noisy; read ratios.
 *
 *   BENCH_QUICK=1 npm run bench          # smaller histories and shorter runs, for a smoke check
 *   BENCH_ONLY=memory,sqlite npm run bench  # subjects whose name contains one of the strings (dynamodb too)
 *   BENCH_DYNAMODB_HISTORIES=100,10000   # DynamoDB Local history sizes (prefill is slow there)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore } from '../src/index.js';
import { betterSqlite3Baseline, libsqlBaseline, mapBaseline, type Baseline } from './baselines.js';
import { DYNAMODB_HISTORIES, benchDynamoDb, type DynamoRow } from './dynamodb.js';
import { QUICK, content, measure, message, round2, type MeasureOptions } from './measure.js';

const HISTORIES = QUICK ? [100, 2_000] : [100, 10_000, 100_000];
const BULK = 10_000;
const SESSIONS = 1_000;

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
        await b.window('bench', 'base-h100', 'agent', 20);
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
        await b.window('bench', 'base-h100', 'agent', 20);
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

async function prefill(store: ChatStore, baseline: Baseline, sessionId: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 10_000) {
    const count = Math.min(10_000, n - start);
    const batch = Array.from({ length: count }, (_, i) => message(start + i));
    await store.saveChatMessages('bench', sessionId, 'agent', batch);
    await baseline.bulk('bench', `base-${sessionId}`, 'agent', batch.map((m, i) => [m.role, content(start + i)]));
  }
}

/** A store-vs-baseline comparison: both sides' median rates, and the median of the rounds' ratios. */
async function compare(
  backend: string,
  workload: string,
  tasks: { store: () => Promise<unknown>; baseline: () => Promise<unknown> },
  options: MeasureOptions & { perOp?: number; unit?: string } = {},
): Promise<Row & { storeMs: number }> {
  const m = await measure(tasks, options);
  const perOp = options.perOp ?? 1;
  return {
    backend,
    workload,
    unit: options.unit ?? 'ops/s',
    convostore: Math.round((perOp * 1000) / m.latency.store!),
    baseline: Math.round((perOp * 1000) / m.latency.baseline!),
    ratio: round2(m.ratio),
    storeMs: m.latency.store!,
  };
}

async function benchSubject(subject: Subject, dir: string): Promise<{ rows: Row[]; latency: Record<string, number> }> {
  const path = join(dir, `${subject.name.replace(/\W+/g, '-')}.db`);
  const store = await subject.open(path);
  const baseline = subject.baseline(path);
  const rows: Row[] = [];
  const latency: Record<string, number> = {};
  const add = (key: string | undefined, r: Row & { storeMs: number }) => {
    const { storeMs, ...plain } = r;
    rows.push(plain);
    if (key) latency[key] = storeMs;
  };
  try {
    // Append and window read at each history size. The append conversation starts at the stated
    // size and grows by the number of iterations measured.
    for (const n of [0, ...HISTORIES]) {
      if (n > 0) await prefill(store, baseline, `h${n}`, n);
      let i = n;
      let j = n;
      add(
        `append@${n}`,
        await compare(subject.name, `append @ history ${n}`, {
          store: () => store.saveChatMessage('bench', `h${n}`, 'agent', message(i++), 20),
          baseline: () => baseline.append('bench', `base-h${n}`, 'agent', j % 2 === 0 ? 'user' : 'assistant', content(j++), 20),
        }),
      );
      if (n === 0) continue;
      add(
        `window@${n}`,
        await compare(subject.name, `window read (20) @ history ${n}`, {
          store: () => store.fetchChat('bench', `h${n}`, 'agent', 20),
          baseline: () => baseline.window('bench', `base-h${n}`, 'agent', 20),
        }),
      );
    }

    // A session of 5 agents × 200 messages, read across agents.
    for (let a = 0; a < 5; a++) {
      const batch = Array.from({ length: 200 }, (_, i) => message(i));
      await store.saveChatMessages('bench', 'five-agents', `agent-${a}`, batch);
      await baseline.bulk('bench', 'five-agents-base', `agent-${a}`, batch.map((m, i) => [m.role, content(i)]));
    }
    add(
      undefined,
      await compare(subject.name, 'fetchAllChats (5 agents × 200)', {
        store: () => store.fetchAllChats('bench', 'five-agents'),
        baseline: () => baseline.session('bench', 'five-agents-base'),
      }),
    );

    // Bulk insert of 10,000 messages into a new conversation each time.
    const batch = Array.from({ length: BULK }, (_, i) => message(i));
    const rowsForBaseline = batch.map((m, i): [string, string] => [m.role, content(i)]);
    let k = 0;
    let l = 0;
    add(
      undefined,
      await compare(
        subject.name,
        `saveChatMessages of ${BULK}`,
        {
          store: () => store.saveChatMessages('bench', 'bulk', `agent-${k++}`, batch),
          baseline: () => baseline.bulk('bench', 'bulk-base', `agent-${l++}`, rowsForBaseline),
        },
        { time: 0, iterations: QUICK ? 1 : 2, rounds: QUICK ? 3 : 5, warmupIterations: 1, perOp: BULK, unit: 'messages/s' },
      ),
    );

    // listSessions, first page, for a user with 1,000 sessions.
    for (let i = 0; i < SESSIONS; i++) {
      await store.saveChatMessage('many', `session-${i}`, 'agent', message(0));
      await baseline.bulk('many-base', `session-${i}`, 'agent', [['user', content(0)]]);
    }
    add(
      undefined,
      await compare(subject.name, `listSessions (${SESSIONS} sessions, first 50)`, {
        store: () => store.listSessions('many', { limit: 50 }),
        baseline: () => baseline.sessions('many-base', 50),
      }),
    );
  } finally {
    await store.close();
    await baseline.close();
  }

  if (subject.coldStart) {
    const cold = subject.coldStart;
    add(
      undefined,
      await compare(subject.name, 'cold start: open a migrated file + first window read', {
        store: () => cold.store(path),
        baseline: () => cold.baseline(path),
      }),
    );
  }
  return { rows, latency };
}

/** Latency at the largest history over latency at the smallest: 1.0 is flat. */
function flatness(latency: Record<string, number>, histories: number[]): Record<string, number> {
  const top = histories[histories.length - 1]!;
  const low = histories[0]!;
  return {
    [`append ${top} / append 0`]: round2(latency[`append@${top}`]! / latency['append@0']!),
    [`append ${top} / append ${low}`]: round2(latency[`append@${top}`]! / latency[`append@${low}`]!),
    [`window ${top} / window ${low}`]: round2(latency[`window@${top}`]! / latency[`window@${low}`]!),
  };
}

/** Comma-separated substrings of subject names. */
const only = process.env.BENCH_ONLY?.split(',');
const picked = (name: string) => !only || only.some((part) => name.includes(part));
const dir = mkdtempSync(join(tmpdir(), 'convostore-bench-'));
const results: {
  date: string;
  node: string;
  quick: boolean;
  /** 1-minute load averages at start and end: the machine's noise. */
  load: number[];
  rows: Row[];
  flatness: Record<string, Record<string, number>>;
  dynamodb?: { histories: number[]; prefillSeconds: Record<string, number>; rows: DynamoRow[] };
} = {
  date: new Date().toISOString(),
  node: process.version,
  quick: QUICK,
  load: [round2(loadavg()[0]!)],
  rows: [],
  flatness: {},
};
try {
  for (const subject of subjects) {
    if (!picked(subject.name)) continue;
    console.error(`benchmarking ${subject.name} …`);
    const { rows, latency } = await benchSubject(subject, dir);
    results.rows.push(...rows);
    results.flatness[subject.name] = flatness(latency, HISTORIES);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (picked('dynamodb (DynamoDB Local)')) {
  console.error('benchmarking dynamodb (DynamoDB Local) …');
  const { rows, latency, prefillSeconds } = await benchDynamoDb((line) => console.error(line));
  results.dynamodb = { histories: DYNAMODB_HISTORIES, prefillSeconds, rows };
  results.flatness['dynamodb (DynamoDB Local)'] = flatness(latency, DYNAMODB_HISTORIES);
}
results.load.push(round2(loadavg()[0]!));

console.log('\n| backend | workload | convostore (median) | baseline (median) | ratio |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const r of results.rows) {
  console.log(`| ${r.backend} | ${r.workload} | ${r.convostore.toLocaleString('en')} ${r.unit} | ${r.baseline.toLocaleString('en')} ${r.unit} | ${r.ratio.toFixed(2)} |`);
}
if (results.dynamodb) {
  console.log('\n| DynamoDB workload | requests per operation | write requests | RCU | WCU | constant | median (DynamoDB Local) |');
  console.log('| --- | --- | ---: | ---: | ---: | --- | ---: |');
  for (const r of results.dynamodb.rows) {
    const rate = r.perOp > 1 ? `${r.opsPerSec.toLocaleString('en')} items/s` : `${r.medianMs} ms`;
    console.log(`| ${r.workload} | ${r.requests} | ${r.writeRequests} | ${r.readUnits} | ${r.writeUnits} | ${r.constant ? `yes (${r.repetitions}×)` : 'NO'} | ${rate} |`);
  }
}
console.log('\nCost against history size (median latency ratios; 1.0 is flat):');
for (const [backend, f] of Object.entries(results.flatness)) {
  console.log(`  ${backend}: ${Object.entries(f).map(([k, v]) => `${k} = ${v}`).join(', ')}`);
}
console.log(`\nload average (1 min) at start and end: ${results.load.join(', ')}`);
const out = new URL('./results/', import.meta.url);
mkdirSync(out, { recursive: true });
const name = process.env.BENCH_OUT ?? (QUICK ? 'quick.json' : 'latest.json');
writeFileSync(new URL(name, out), `${JSON.stringify(results, null, 2)}\n`);
