/**
 * One scale scenario in its own process, so that what an operation costs in memory is measured
 * apart from the test runner: opens the store, optionally fills it, then runs the named operations
 * one after another. Around each one it prints a JSON line on stdout and turns on V8's --trace-gc,
 * whose lines (heap in use before and after each collection) the parent reads to find the peak of
 * the heap during that operation; the child reports the heap before (after a full collection), the
 * heap at its end, and the process's RSS before and its peak (getrusage maxRSS) after.
 *
 * Usage: node --expose-gc --import tsx child.ts '<Spec as JSON>'
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import { InMemoryChatStorage, openStorage, type ChatStore } from '../../src/index.js';
import { parseCommandLine } from '../../src/cli/args.js';
import { copy } from '../../src/cli/commands/copy.js';
import { exportCommand } from '../../src/cli/commands/export.js';
import { header, serialize } from '../../src/cli/format.js';
import { LineWriter } from '../../src/cli/output.js';
import { Progress } from '../../src/cli/progress.js';
import { readStore } from '../../src/cli/source.js';
import { transfer } from '../../src/cli/transfer.js';
import { SIDE, chunks, liveOfBig, nowFor, ttlFor, type Sizes } from './data.js';

export type Op =
  | 'fill'
  | 'listSessions'
  | 'fetchSessionPage'
  | 'fetchChatPage'
  | 'export'
  | 'copy'
  | 'prune'
  | 'deleteConversation'
  | 'deleteSession'
  | 'deleteUser';

export interface Spec {
  backend: 'memory' | 'sqlite' | 'dynamodb';
  /** The store's URL (sqlite: a file path; dynamodb: dynamodb://TABLE?endpoint=…); none for memory. */
  url?: string;
  sizes: Sizes;
  /** What `fill` writes. */
  parts: { big: boolean; many: boolean };
  /** Messages per importSession call of the fill. */
  chunk: number;
  ops: Op[];
  /** Where export and copy write their files. */
  dir: string;
}

const spec = JSON.parse(process.argv[2]!) as Spec;
const gc = (globalThis as { gc?: () => void }).gc!;
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const big = spec.sizes.big;

const options = { clock: () => nowFor(big), retention: { ttlMs: ttlFor(big) }, logger: null };
const store: ChatStore = spec.backend === 'memory' ? new InMemoryChatStorage(options) : await openStorage(spec.url!, options);

/** The CLI command itself, in this process, as `convostore NAME ARGS…` runs it. */
async function cli(command: typeof copy, args: string[]): Promise<number> {
  return command.run(parseCommandLine(command.name, args, command.options, command.positionals));
}

const ops: Record<Op, () => Promise<unknown>> = {
  async fill() {
    let messages = 0;
    for (const c of chunks(spec.sizes, spec.parts, spec.chunk)) {
      await store.importSession(c.userId, c.sessionId, { messages: c.messages });
      messages += c.messages.length;
    }
    return { messages };
  },
  async listSessions() {
    const page = await store.listSessions('u', { limit: 10 });
    return { sessions: page.items.map((s) => [s.sessionId, s.messageCount]) };
  },
  async fetchSessionPage() {
    const newest = await store.fetchSessionPage('u', 'big', { limit: 100 });
    const oldest = await store.fetchSessionPage('u', 'big', { limit: 100, order: 'oldest' });
    const next = await store.fetchSessionPage('u', 'big', { limit: 100, order: 'oldest', cursor: oldest.nextCursor });
    return { newest: newest.items[0]?.id, oldest: oldest.items[0]?.id, next: next.items[0]?.id, sizes: [newest.items.length, oldest.items.length, next.items.length] };
  },
  async fetchChatPage() {
    const newest = await store.fetchChatPage('u', 'big', 'a', { limit: 100 });
    const oldest = await store.fetchChatPage('u', 'big', 'a', { limit: 100, order: 'oldest' });
    const next = await store.fetchChatPage('u', 'big', 'a', { limit: 100, order: 'oldest', cursor: oldest.nextCursor });
    return { newest: newest.items[0]?.id, oldest: oldest.items[0]?.id, next: next.items[0]?.id, sizes: [newest.items.length, oldest.items.length, next.items.length] };
  },
  async export() {
    const file = join(spec.dir, `export-${spec.backend}.jsonl`);
    if (spec.backend === 'memory') {
      // A memory store lives in this process only: export's own loop (commands/export.ts) over it.
      const out = new LineWriter(createWriteStream(file));
      await out.line(header(store.backend, 'u'));
      let messages = 0;
      for await (const item of readStore(store, 'u')) {
        if (item.kind === 'message') messages++;
        if (item.kind !== 'bad' && item.kind !== 'problem') await out.line(serialize(item.record));
      }
      await out.line(serialize({ type: 'end', sessions: 1, messages }));
      await out.end();
    } else {
      const code = await cli(exportCommand, ['--from', spec.url!, '--user', 'u', '--output', file]);
      if (code !== 0) throw new Error(`export exited with ${code}`);
    }
    return { lines: countLines(file) };
  },
  async copy() {
    const to = join(spec.dir, `copy-${spec.backend}.db`);
    let code: number;
    if (spec.backend === 'memory') {
      // copy's own transfer (commands/copy.ts) from this process's memory store into a SQLite file.
      const dest = await openStorage(to, { logger: null });
      try {
        code = await transfer({
          command: 'copy',
          values: {},
          items: readStore(store, 'u'),
          dest,
          progress: new Progress(process.stderr, { label: 'copy', unit: 'count' }),
          weigh: (item) => (item.kind === 'message' ? 1 : 0),
          expected: () => readStore(store, 'u'),
          verb: 'copied',
        });
      } finally {
        await dest.close();
      }
    } else {
      code = await cli(copy, ['--from', spec.url!, '--to', to, '--user', 'u']);
    }
    if (code !== 0) throw new Error(`copy exited with ${code}`);
    const dest = await openStorage(to, { logger: null });
    try {
      return { copied: (await dest.getSession('u', 'big'))?.messageCount };
    } finally {
      await dest.close();
    }
  },
  prune: () => store.prune(),
  deleteConversation: () => store.deleteConversation('u', 'big', 'a'),
  deleteSession: () => store.deleteSession('u', 'big'),
  deleteUser: () => store.deleteUser('many'),
};

function countLines(file: string): number {
  const text = readFileSync(file, 'utf8');
  let lines = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}

try {
  for (const op of spec.ops) {
    gc();
    const heapBase = process.memoryUsage().heapUsed;
    const rssBase = process.memoryUsage().rss;
    say({ event: 'begin', op });
    if (op !== 'fill') v8.setFlagsFromString('--trace-gc');
    const started = performance.now();
    const result = await ops[op]();
    const ms = performance.now() - started;
    v8.setFlagsFromString('--no-trace-gc');
    const heapEnd = process.memoryUsage().heapUsed;
    say({
      event: 'op',
      op,
      ms: Math.round(ms),
      result,
      heapBaseMb: mb(heapBase),
      heapEndMb: mb(heapEnd),
      rssBaseMb: mb(rssBase),
      rssPeakMb: mb(process.resourceUsage().maxRSS * 1024),
    });
  }
  gc();
  // What the store holds once the operations are done (before close, which empties a memory store).
  say({ event: 'done', heapMb: mb(process.memoryUsage().heapUsed), side: SIDE, live: liveOfBig(big) });
} finally {
  await store.close();
}
