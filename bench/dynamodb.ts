/**
 * DynamoDB on DynamoDB Local: what counts is requests and consumed capacity per operation (what AWS
 * bills), read from ReturnConsumedCapacity through the test suite's metered client; time is given
 * for reference only, as DynamoDB Local's speed says little about DynamoDB's.
 */
import { type ChatStore } from '../src/index.js';
import { DynamoDbChatStorage, createDynamoDbTable } from '../src/dynamodb/index.js';
import { startDynamoDbLocal } from '../test/helpers/dynamodb-local.js';
import { meteredClient, summarise, type Call } from '../test/helpers/dynamodb-meter.js';
import { QUICK, measure, message, round2 } from './measure.js';

// As in the ava config: the SDK's notice about Node 20 is noise in a benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DYNAMODB_HISTORIES = (process.env.BENCH_DYNAMODB_HISTORIES ?? (QUICK ? '100,2000' : '100,10000,100000'))
  .split(',')
  .map(Number);
const BULK = QUICK ? 2_000 : 10_000;
const SESSIONS = QUICK ? 200 : 1_000;
const WRITES = /^(TransactWriteItems|BatchWriteItem|PutItem|UpdateItem|DeleteItem)$/;

export interface DynamoRow {
  workload: string;
  /** Requests of one operation, e.g. `1 BatchGetItem + 1 TransactWriteItems + 1 Query`. */
  requests: string;
  writeRequests: number;
  readUnits: number;
  writeUnits: number;
  /** Every measured repetition sent the same requests and consumed the same units. */
  constant: boolean;
  repetitions: number;
  /** Median latency on DynamoDB Local, for reference. */
  medianMs: number;
  opsPerSec: number;
  /** Items per operation (messages for the bulk row), to read opsPerSec as items/s. */
  perOp: number;
}

export async function benchDynamoDb(log: (line: string) => void): Promise<{ rows: DynamoRow[]; latency: Record<string, number>; prefillSeconds: Record<string, number> }> {
  const local = await startDynamoDbLocal();
  const meter = meteredClient(local);
  const rows: DynamoRow[] = [];
  const latency: Record<string, number> = {};
  const prefillSeconds: Record<string, number> = {};
  try {
    await createDynamoDbTable(local.client, 'convostore-bench');
    const store = new DynamoDbChatStorage('convostore-bench', { client: meter.client, logger: null });

    /** Times `op` and records the requests and units of every repetition. */
    const metered = async (workload: string, op: () => Promise<unknown>, options: { perOp?: number; iterations?: number; time?: number } = {}) => {
      const seen: Call[][] = [];
      const m = await measure(
        {
          store: async () => {
            const before = meter.calls.length;
            await op();
            seen.push(meter.calls.slice(before));
          },
        },
        { iterations: options.iterations ?? 10, time: options.time, warmup: options.iterations === undefined, rounds: options.iterations === undefined ? undefined : 1 },
      );
      meter.reset();
      const summaries = seen.map((calls) => ({ ...summarise(calls), writeRequests: calls.filter((c) => WRITES.test(c.command)).length }));
      const first = summaries[0]!;
      const constant = summaries.every((s) => s.requests === first.requests && s.read === first.read && s.write === first.write);
      const medianMs = m.latency.store!;
      const row: DynamoRow = {
        workload,
        requests: first.requests,
        writeRequests: first.writeRequests,
        readUnits: first.read,
        writeUnits: first.write,
        constant,
        repetitions: summaries.length,
        medianMs: round2(medianMs),
        opsPerSec: Math.round(((options.perOp ?? 1) * 1000) / medianMs),
        perOp: options.perOp ?? 1,
      };
      if (!constant) log(`  ${workload}: requests/units varied: ${[...new Set(summaries.map((s) => JSON.stringify(s)))].join(' | ')}`);
      rows.push(row);
      return medianMs;
    };

    for (const n of [0, ...DYNAMODB_HISTORIES]) {
      const sessionId = `h${n}`;
      const started = Date.now();
      // Prefill through the store itself, 1,000 messages per call (the store cuts them into
      // transactions of up to 100 items), returning no window.
      for (let start = 0; start < n; start += 1_000) {
        const count = Math.min(1_000, n - start);
        await store.saveChatMessages('bench', sessionId, 'agent', Array.from({ length: count }, (_, i) => message(start + i)), 0);
      }
      meter.reset();
      if (n > 0) {
        prefillSeconds[sessionId] = round2((Date.now() - started) / 1000);
        log(`  dynamodb: prefilled ${n} messages in ${prefillSeconds[sessionId]} s`);
      }
      let i = n;
      if (n === 0) {
        // The first append creates the session and user items; later ones only rewrite the session.
        await metered('first append (creates session + user)', () => store.saveChatMessage('bench', sessionId, 'agent', message(i++), 20), { iterations: 1, time: 0 });
      }
      latency[`append@${n}`] = await metered(`append (window 20) @ history ${n}`, () => store.saveChatMessage('bench', sessionId, 'agent', message(i++), 20));
      if (n === 0) continue;
      latency[`window@${n}`] = await metered(`window read (20) @ history ${n}`, () => store.fetchChat('bench', sessionId, 'agent', 20));
    }

    for (let a = 0; a < 5; a++) {
      await store.saveChatMessages('bench', 'five-agents', `agent-${a}`, Array.from({ length: 200 }, (_, i) => message(i)), 0);
    }
    meter.reset();
    await metered('fetchAllChats (5 agents × 200)', () => store.fetchAllChats('bench', 'five-agents'));

    const batch = Array.from({ length: BULK }, (_, i) => message(i));
    let k = 0;
    await metered(`saveChatMessages of ${BULK}`, () => store.saveChatMessages('bench', 'bulk', `agent-${k++}`, batch), { perOp: BULK, iterations: 2, time: 0 });

    for (let s = 0; s < SESSIONS; s++) await store.saveChatMessage('many', `session-${s}`, 'agent', message(0), 0);
    meter.reset();
    await metered(`listSessions (${SESSIONS} sessions, first 50)`, () => store.listSessions('many', { limit: 50 }));

    await metered('cold start: open (DescribeTable) + first window read', async () => {
      const cold: ChatStore = await DynamoDbChatStorage.open('convostore-bench', { client: meter.client, logger: null });
      await cold.fetchChat('bench', 'h100', 'agent', 20);
      await cold.close();
    });
    await store.close();
  } finally {
    meter.client.destroy();
    await local.stop();
  }
  return { rows, latency, prefillSeconds };
}
