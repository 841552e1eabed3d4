/**
 * `npm run bench`: every backend on the same workloads, each beside two floors measured in the same
 * run on the raw driver (bench/baselines.ts): the relational baseline (convostore's schema and
 * writes, by hand) and the flat floor (one table, one index: the minimal design). Prints medians,
 * throughput ratios, pages written per append, and issue 13's targets as met / missed; writes the run
 * to a new file under bench/results/ (never over an existing one).
 * Benchmarks are not tests: nothing here fails on a number. Machines are noisy; read ratios.
 *
 *   BENCH_QUICK=1 npm run bench          # smaller histories and shorter runs, for a smoke check
 *   BENCH_ONLY=memory,sqlite npm run bench  # subjects whose name contains one of the strings (dynamodb too)
 *   BENCH_DYNAMODB_HISTORIES=100,10000   # DynamoDB Local history sizes (prefill is slow there)
 *   BENCH_OUT=name.json                  # the results file's name (default: run-<date and time>[-quick].json)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore } from '../src/index.js';
import { betterSqlite3Baseline, betterSqlite3Flat, libsqlBaseline, libsqlFlat, mapBaseline, type Baseline } from './baselines.js';
import { DYNAMODB_HISTORIES, benchDynamoDb, type DynamoRow } from './dynamodb.js';
import { QUICK, content, measure, message, round2, type MeasureOptions } from './measure.js';
import { pagesPerAppend, type PagesRow } from './pages.js';
import { W, checkTargets, type BenchRow, type TargetResult } from './targets.js';

const HISTORIES = QUICK ? [100, 2_000] : [100, 10_000, 100_000];
const BULK = 10_000;
const SESSIONS = 1_000;

interface Floors {
  relational?: Baseline;
  flat: Baseline;
}

interface Subject {
  name: string;
  open(path: string): Promise<ChatStore>;
  floors(path: string): Floors;
  coldStart?: { store(path: string): Promise<void>; baseline(path: string): Promise<void> };
}

const subjects: Subject[] = [
  {
    name: 'sqlite (better-sqlite3)',
    open: (path) => SqlChatStorage.openSqlite(path, { logger: null }),
    floors: (path) => ({ relational: betterSqlite3Baseline(path), flat: betterSqlite3Flat(path) }),
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
    floors: (path) => ({ relational: libsqlBaseline(`file:${path}`), flat: libsqlFlat(`file:${path}`) }),
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
  // The bare Map is the in-memory store's only floor (a relational one would be the same Map).
  { name: 'memory', open: async () => new InMemoryChatStorage({ logger: null }), floors: () => ({ flat: mapBaseline() }) },
];

type Side = 'relational' | 'flat';
const sidesOf = (floors: Floors) => (Object.keys(floors) as Side[]).filter((k) => floors[k]);
/** Each floor keeps its own conversations, under its own session ids. */
const on = (side: Side, sessionId: string) => `${side}-${sessionId}`;

async function prefill(store: ChatStore, floors: Floors, sessionId: string, n: number): Promise<void> {
  for (let start = 0; start < n; start += 10_000) {
    const count = Math.min(10_000, n - start);
    const batch = Array.from({ length: count }, (_, i) => message(start + i));
    await store.saveChatMessages('bench', sessionId, 'agent', batch, 0);
    for (const side of sidesOf(floors)) {
      await floors[side]!.bulk('bench', on(side, sessionId), 'agent', batch.map((m, i) => [m.role, content(start + i)]), false);
    }
  }
}

interface Compared {
  row: BenchRow;
  /** Median latency (ms) per side. */
  latency: Record<string, number>;
}

/** The store beside each floor, in the same rounds: rates, and the medians of the rounds' throughput ratios. */
async function compare(
  backend: string,
  workload: string,
  floors: Floors,
  store: () => Promise<unknown>,
  floor: (b: Baseline, side: Side) => () => Promise<unknown>,
  options: MeasureOptions & { perOp?: number; unit?: string } = {},
): Promise<Compared> {
  const tasks: Record<string, () => Promise<unknown>> = { store };
  for (const side of sidesOf(floors)) tasks[side] = floor(floors[side]!, side);
  const m = await measure(tasks, options);
  const perOp = options.perOp ?? 1;
  const rate = (ms: number | undefined) => (ms === undefined ? undefined : Math.round((perOp * 1000) / ms));
  const row: BenchRow = { backend, workload, unit: options.unit ?? 'ops/s', convostore: rate(m.latency.store)! };
  for (const side of sidesOf(floors)) {
    row[side] = rate(m.latency[side]);
    row[side === 'flat' ? 'vsFlat' : 'vsRelational'] = round2(m.throughput[side]!);
  }
  return { row, latency: m.latency };
}

async function benchSubject(subject: Subject, dir: string): Promise<{ rows: BenchRow[]; latency: Record<string, Record<string, number>> }> {
  const path = join(dir, `${subject.name.replace(/\W+/g, '-')}.db`);
  const store = await subject.open(path);
  const floors = subject.floors(path);
  const rows: BenchRow[] = [];
  /** Per side, latency by `append@n` / `window@n`, for flatness. */
  const latency: Record<string, Record<string, number>> = {};
  const add = (key: string | undefined, c: Compared) => {
    rows.push(c.row);
    if (key) for (const [side, ms] of Object.entries(c.latency)) (latency[side] ??= {})[key] = ms;
  };
  try {
    // Append and window read at each history size. The append conversation starts at the stated
    // size and grows by the number of iterations measured.
    for (const n of [0, ...HISTORIES]) {
      if (n > 0) await prefill(store, floors, `h${n}`, n);
      let i = n;
      const next: Record<string, number> = { relational: n, flat: n };
      add(
        `append@${n}`,
        await compare(
          subject.name,
          W.append(n),
          floors,
          () => store.saveChatMessage('bench', `h${n}`, 'agent', message(i++), 20),
          (b, side) => () => {
            const j = next[side]!++;
            return b.append('bench', on(side, `h${n}`), 'agent', j % 2 === 0 ? 'user' : 'assistant', content(j), 20);
          },
        ),
      );
      if (n === 0) continue;
      add(
        `window@${n}`,
        await compare(
          subject.name,
          W.window(n),
          floors,
          () => store.fetchChat('bench', `h${n}`, 'agent', 20),
          (b, side) => () => b.window('bench', on(side, `h${n}`), 'agent', 20),
        ),
      );
    }

    // A session of 5 agents × 200 messages, read across agents: whole, and its newest page.
    for (let a = 0; a < 5; a++) {
      const batch = Array.from({ length: 200 }, (_, i) => message(i));
      await store.saveChatMessages('bench', 'five-agents', `agent-${a}`, batch, 0);
      for (const side of sidesOf(floors)) {
        await floors[side]!.bulk('bench', on(side, 'five-agents'), `agent-${a}`, batch.map((m, i) => [m.role, content(i)]), false);
      }
    }
    add(
      undefined,
      await compare(
        subject.name,
        W.allChats,
        floors,
        () => store.fetchAllChats('bench', 'five-agents'),
        (b, side) => () => b.session('bench', on(side, 'five-agents')),
      ),
    );
    add(
      undefined,
      await compare(
        subject.name,
        W.sessionPage,
        floors,
        () => store.fetchSessionPage('bench', 'five-agents', { limit: 50 }),
        // The store reads one row more than the page, to know whether a next page exists.
        (b, side) => () => b.page('bench', on(side, 'five-agents'), 51),
      ),
    );

    // Bulk insert of 10,000 messages into a new conversation each time: returning the whole history
    // (saveChatMessages' default), and returning nothing (maxHistorySize 0, the bulk target).
    const batch = Array.from({ length: BULK }, (_, i) => message(i));
    const rowsForFloors = batch.map((m, i): [string, string] => [m.role, content(i)]);
    const bulkOptions = { time: 0, iterations: QUICK ? 1 : 2, rounds: QUICK ? 3 : 5, warmupIterations: 1, perOp: BULK, unit: 'messages/s' };
    for (const window of [undefined, 0]) {
      const counter: Record<string, number> = { store: 0, relational: 0, flat: 0 };
      const agent = (side: string) => `agent-${window ?? 'all'}-${counter[side]!++}`;
      add(
        undefined,
        await compare(
          subject.name,
          window === 0 ? W.bulkNoWindow(BULK) : W.bulk(BULK),
          floors,
          () => store.saveChatMessages('bench', 'bulk', agent('store'), batch, window),
          (b, side) => () => b.bulk('bench', on(side, 'bulk'), agent(side), rowsForFloors, window === undefined),
          bulkOptions,
        ),
      );
    }

    // listSessions, first page, for a user with 1,000 sessions.
    for (let i = 0; i < SESSIONS; i++) {
      await store.saveChatMessage('many', `session-${i}`, 'agent', message(0), 0);
      for (const side of sidesOf(floors)) await floors[side]!.bulk(on(side, 'many'), `session-${i}`, 'agent', [['user', content(0)]], false);
    }
    add(
      undefined,
      await compare(
        subject.name,
        W.listSessions(SESSIONS),
        floors,
        () => store.listSessions('many', { limit: 50 }),
        (b, side) => () => b.sessions(on(side, 'many'), 50),
      ),
    );
  } finally {
    await store.close();
    for (const side of sidesOf(floors)) await floors[side]!.close();
  }

  if (subject.coldStart) {
    // Against the relational baseline only: the flat floor's file is the same file.
    const cold = subject.coldStart;
    const m = await measure({ store: () => cold.store(path), relational: () => cold.baseline(path) });
    rows.push({
      backend: subject.name,
      workload: 'cold start: open a migrated file + first window read',
      unit: 'ops/s',
      convostore: Math.round(1000 / m.latency.store!),
      relational: Math.round(1000 / m.latency.relational!),
      vsRelational: round2(m.throughput.relational!),
    });
  }
  return { rows, latency };
}

/** Latency at the largest history over latency at the smallest, for the store and its flat floor: 1.0 is flat. */
function flatness(latency: Record<string, Record<string, number>>, histories: number[], floorSide = 'flat') {
  const top = histories[histories.length - 1]!;
  const low = histories[0]!;
  const pairs: Array<[string, string, string]> = [
    [`append ${top} / append 0`, `append@${top}`, 'append@0'],
    [`append ${top} / append ${low}`, `append@${top}`, `append@${low}`],
    [`window ${top} / window ${low}`, `window@${top}`, `window@${low}`],
  ];
  const ratio = (side: string, a: string, b: string) => {
    const l = latency[side];
    return l?.[a] !== undefined && l[b] !== undefined ? round2(l[a] / l[b]) : undefined;
  };
  const out: Record<string, { convostore: number; floor?: number }> = {};
  for (const [label, a, b] of pairs) {
    const convostore = ratio('store', a, b);
    if (convostore === undefined) continue;
    out[label] = { convostore, floor: ratio(floorSide, a, b) };
  }
  return out;
}

/** Comma-separated substrings of subject names. */
const only = process.env.BENCH_ONLY?.split(',');
const picked = (name: string) => !only || only.some((part) => name.includes(part));
const dir = mkdtempSync(join(tmpdir(), 'convostore-bench-'));
const started = Date.now();
const results: {
  date: string;
  node: string;
  quick: boolean;
  /** 1-minute load averages at start and end: the machine's noise. */
  load: number[];
  seconds?: number;
  rows: BenchRow[];
  flatness: Record<string, Record<string, { convostore: number; floor?: number }>>;
  pages?: PagesRow[];
  targets?: TargetResult[];
  dynamodb?: { histories: number[]; prefillSeconds: Record<string, number>; rows: DynamoRow[] };
} = {
  date: new Date().toISOString(),
  node: process.version,
  quick: QUICK,
  load: [round2(loadavg()[0]!)],
  rows: [],
  flatness: {},
};
const out = new URL('./results/', import.meta.url);
mkdirSync(out, { recursive: true });
const stamp = results.date.replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
const name = process.env.BENCH_OUT ?? `run-${stamp}${QUICK ? '-quick' : ''}.json`;
let saved = false;
/** The first save creates the file ('wx': a run never replaces an earlier one, a tracked file included); later saves complete it. */
function save(): void {
  results.load[1] = round2(loadavg()[0]!);
  results.seconds = Math.round((Date.now() - started) / 1000);
  results.targets = checkTargets(results.rows, results.flatness, HISTORIES, BULK, SESSIONS);
  writeFileSync(new URL(name, out), `${JSON.stringify(results, null, 2)}\n`, { flag: saved ? 'w' : 'wx' });
  saved = true;
}
try {
  for (const subject of subjects) {
    if (!picked(subject.name)) continue;
    console.error(`benchmarking ${subject.name} …`);
    const { rows, latency } = await benchSubject(subject, dir);
    results.rows.push(...rows);
    results.flatness[subject.name] = flatness(latency, HISTORIES);
    save(); // after each subject: a failure later loses nothing measured
  }
  if (picked('sqlite (better-sqlite3)')) {
    console.error('pages written per append …');
    results.pages = await pagesPerAppend(dir, QUICK ? 2_000 : 10_000);
    save();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (picked('dynamodb (DynamoDB Local)')) {
  console.error('benchmarking dynamodb (DynamoDB Local) …');
  const { rows, latency, prefillSeconds } = await benchDynamoDb((line) => console.error(line));
  results.dynamodb = { histories: DYNAMODB_HISTORIES, prefillSeconds, rows };
  const f = flatness({ store: latency }, DYNAMODB_HISTORIES);
  results.flatness['dynamodb (DynamoDB Local)'] = f;
}
save();
const targets = results.targets!;

const fmt = (n: number | undefined) => (n === undefined ? '–' : n.toLocaleString('en'));
const ratio = (n: number | undefined) => (n === undefined ? '–' : n.toFixed(2));
console.log('\nThroughput ratios: convostore / floor, median of the rounds\' ratios (1.00 = as fast as the hand-written code).');
console.log('\n| backend | workload | convostore | relational baseline | flat floor | ÷ relational | ÷ flat |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of results.rows) {
  console.log(`| ${r.backend} | ${r.workload} | ${fmt(r.convostore)} ${r.unit} | ${fmt(r.relational)} | ${fmt(r.flat)} | ${ratio(r.vsRelational)} | ${ratio(r.vsFlat)} |`);
}
if (results.pages) {
  console.log('\nPages written per append (WAL frames per transaction, better-sqlite3, window 20):');
  console.log('\n| side | history | pages per append | WAL bytes per append |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const p of results.pages) console.log(`| ${p.side} | ${fmt(p.history)} | ${p.pagesPerAppend} | ${fmt(p.walBytesPerAppend)} |`);
}
if (results.dynamodb) {
  console.log('\n| DynamoDB workload | requests per operation | write requests | RCU | WCU | constant | median (DynamoDB Local) |');
  console.log('| --- | --- | ---: | ---: | ---: | --- | ---: |');
  for (const r of results.dynamodb.rows) {
    const rate = r.perOp > 1 ? `${r.opsPerSec.toLocaleString('en')} items/s` : `${r.medianMs} ms`;
    console.log(`| ${r.workload} | ${r.requests} | ${r.writeRequests} | ${r.readUnits} | ${r.writeUnits} | ${r.constant ? `yes (${r.repetitions}×)` : 'NO'} | ${rate} |`);
  }
}
console.log('\nCost against history size (median latency ratios; 1.0 is flat; the floor\'s own in brackets):');
for (const [backend, f] of Object.entries(results.flatness)) {
  console.log(`  ${backend}: ${Object.entries(f).map(([k, v]) => `${k} = ${v.convostore}${v.floor === undefined ? '' : ` (${v.floor})`}`).join(', ')}`);
}
console.log('\nTargets (issue 13):');
for (const t of targets) {
  console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.backend}: ${t.target}: ${t.value === null ? 'not measured' : t.value.toLocaleString('en')}`);
}
console.log(`\nload average (1 min) at start and end: ${results.load.join(', ')}; ${results.seconds} s in all`);
console.log(`written to bench/results/${name}`);
