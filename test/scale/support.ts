/**
 * The parent side of the scale tests: runs a scenario in a child process (child.ts), reads what each
 * operation took in time and memory, checks its result, and logs a table (appended as JSON lines to
 * $SCALE_REPORT too).
 *
 * The memory bound is enforced, not just measured: the child runs with V8's old space capped at
 * what it holds before the operations (the memory backend's data; nothing much for the others) plus
 * EXTRA_HEAP_BOUND_MB (or half the base, on the memory backend's large heap: heapCapMb), a bound
 * that does not grow with the conversation. An operation that kept anything in proportion to it (a
 * copy of it, a set of its ids, every key of a session) would die with "heap out of memory" at full
 * size, and the test with it.
 *
 * The heap peak reported is the largest "heap in use before a collection" that V8's --trace-gc
 * printed while the operation ran, or the heap at its end if larger; its extra heap is that peak
 * minus the heap before it (after a full collection). It counts garbage not yet collected, so it is
 * a ceiling on what the operation held, not what it held: V8 collects the old generation rarely
 * when the heap is large (the memory backend's), so there the ceiling is loose.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { FULL, SIDE, liveOfBig, type Sizes } from './data.js';
import type { Op, Spec } from './child.js';

/**
 * Extra heap any operation may take, whatever the size: a few pages of 500 messages, a 1 MB
 * DynamoDB page, batches of deletes, a 4 MB import chunk, and the young generation's garbage (V8
 * collects it every 16–32 MB, so that much is noise in the measurement).
 */
export const EXTRA_HEAP_BOUND_MB = 96;
/** The heap of a child with no data in it (tsx, the drivers, the AWS SDK: 7–16 MB measured), rounded up. */
export const BASE_HEAP_MB = 64;

export interface Measured {
  op: Op;
  ms: number;
  result: unknown;
  heapBaseMb: number;
  heapPeakMb: number;
  extraHeapMb: number;
  rssBaseMb: number;
  rssPeakMb: number;
}

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const GC_LINE = /ms: [A-Za-z() -]+? ([\d.]+) \([\d.]+\) -> [\d.]+ \([\d.]+\) MB/;

export interface Scenario {
  measured: Measured[];
  /** The heap after the last operation and a full collection. */
  heapAfterMb: number;
}

/**
 * The old-space cap for a child holding `baseMb`: the bound on top, or half the base where that is
 * more. V8 needs the headroom on a large heap: it marks concurrently, and what is allocated while it
 * marks survives that collection (an export of the 1,000,000-message memory store, whose live heap
 * stays at its base when collected fully, died at base + 96 MB of such floating garbage).
 */
export function heapCapMb(baseMb: number): number {
  return Math.ceil(baseMb + Math.max(EXTRA_HEAP_BOUND_MB, baseMb / 2));
}

/** Runs the child with its old space capped for `baseMb` (heapCapMb); no cap without `baseMb`. */
export async function runScenario(spec: Spec, env: Record<string, string> = {}, baseMb?: number): Promise<Scenario> {
  const cap = baseMb === undefined ? [] : [`--max-old-space-size=${heapCapMb(baseMb)}`];
  const child = spawn(process.execPath, ['--expose-gc', ...cap, '--import', 'tsx', CHILD, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const measured: Measured[] = [];
  let gcPeak = 0;
  let heapAfterMb = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const gcLine = GC_LINE.exec(line);
    if (gcLine) {
      gcPeak = Math.max(gcPeak, Number(gcLine[1]));
      continue;
    }
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { event: string; heapMb: number } & Omit<Measured, 'heapPeakMb' | 'extraHeapMb'> & { heapEndMb: number };
    if (event.event === 'begin') gcPeak = 0;
    if (event.event === 'done') heapAfterMb = event.heapMb;
    if (event.event !== 'op') continue;
    const heapPeakMb = Math.max(gcPeak, event.heapEndMb);
    const { op, ms, result, heapBaseMb, rssBaseMb, rssPeakMb } = event;
    measured.push({ op, ms, result, heapBaseMb, heapPeakMb, extraHeapMb: Math.round((heapPeakMb - heapBaseMb) * 10) / 10, rssBaseMb, rssPeakMb });
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  if (code !== 0) {
    const limit = cap.length > 0 ? ` (old space capped at ${cap[0]!.split('=')[1]} MB)` : '';
    throw new Error(`scale child (${spec.backend}: ${spec.ops.join(', ')})${limit} exited with ${code} after ${measured.map((m) => m.op).join(', ') || 'nothing'}: ${stderr}`);
  }
  return { measured, heapAfterMb };
}

/** What each operation must have returned, given the data (see data.ts). */
export function expected(op: Op, backend: Spec['backend'], sizes: Sizes, pruned: boolean): unknown {
  const live = liveOfBig(sizes.big);
  const half = sizes.big - live;
  // The CLI opens its stores without the test store's TTL: it exports and copies every stored message.
  const viaCli = backend !== 'memory';
  const stored = pruned ? live : sizes.big;
  switch (op) {
    case 'fill':
      return undefined;
    case 'listSessions':
      return { sessions: [['big', live + SIDE]] };
    case 'fetchSessionPage':
      return { newest: `side-${SIDE - 1}`, oldest: `a-${half}`, next: `a-${half + 100}`, sizes: [100, 100, 100] };
    case 'fetchChatPage':
      return { newest: `a-${sizes.big - 1}`, oldest: `a-${half}`, next: `a-${half + 100}`, sizes: [100, 100, 100] };
    case 'export':
      // Header, session line, messages, end line.
      return { lines: 3 + (viaCli ? stored : live) + SIDE };
    case 'copy':
      return { copied: (viaCli ? stored : live) + SIDE };
    case 'prune':
      return half;
    case 'deleteConversation':
      return { messages: stored, sessions: 0 };
    case 'deleteSession':
      return { messages: stored + SIDE, sessions: 1 };
    case 'deleteUser':
      return { messages: sizes.many.sessions * sizes.many.messages, sessions: sizes.many.sessions };
  }
}

/** Checks every operation's result (it ran within the heap cap, or runScenario threw), and logs the table. */
export function check(t: ExecutionContext, backend: Spec['backend'], sizes: Sizes, scenario: Scenario): void {
  const rows = scenario.measured;
  let pruned = false;
  for (const row of rows) {
    const want = expected(row.op, backend, sizes, pruned);
    if (want !== undefined) t.deepEqual(row.result, want, `${backend} ${row.op}`);
    if (row.op === 'prune') pruned = true;
  }
  for (const row of rows) {
    t.log(
      `${backend} ${row.op.padEnd(18)} ${String(row.ms).padStart(8)} ms  heap ${row.heapBaseMb} → peak ${row.heapPeakMb} MB (+${row.extraHeapMb})  rss ${row.rssBaseMb} → peak ${row.rssPeakMb} MB`,
    );
    if (process.env.SCALE_REPORT) appendFileSync(process.env.SCALE_REPORT, `${JSON.stringify({ backend, full: FULL, sizes, ...row })}\n`);
  }
}

/** A whole scenario may take long at full size (DynamoDB Local writes a few hundred items a second). */
export const SCENARIO_TIMEOUT_MS = FULL ? 4 * 3_600_000 : 180_000;
