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
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ConversationKey } from '../src/types.js';
import { idItem, messageItem, newSessionState, nextVersion, sessionItem, userUpsert } from '../src/dynamodb/items.js';

// As in the ava config: the SDK's notice about Node 20 is noise in a benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const DYNAMODB_HISTORIES = (process.env.BENCH_DYNAMODB_HISTORIES ?? (QUICK ? '100,1000' : '100,1000,10000,100000'))
  .split(',')
  .map(Number);
const BULK = QUICK ? 2_000 : 10_000;
const SESSIONS = QUICK ? 200 : 1_000;
const WRITES = /^(TransactWriteItems|BatchWriteItem|PutItem|UpdateItem|DeleteItem)$/;

export interface DynamoRow {
  workload: string;
  /** The operation measured (`append`, `window`, `fetchSessionPage`, …) and the history it ran on, where one applies. */
  operation?: string;
  history?: number;
  /** Requests of one operation, e.g. `1 BatchGetItem + 1 TransactWriteItems + 1 Query`. */
  requests: string;
  writeRequests: number;
  /** Units of the most frequent repetition (ties: the first seen). */
  readUnits: number;
  writeUnits: number;
  /** The most any repetition consumed (an append crossing the activity index's step costs 2 WCU more). */
  maxReadUnits?: number;
  maxWriteUnits?: number;
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

    type Options = { perOp?: number; iterations?: number; time?: number; operation?: string; history?: number };
    /** Times `op` and records the requests and units of every repetition. */
    const metered = async (workload: string, op: () => Promise<unknown>, options: Options = {}) => {
      const seen: Call[][] = [];
      const fixed = options.iterations !== undefined;
      const m = await measure(
        {
          store: async () => {
            const before = meter.calls.length;
            await op();
            seen.push(meter.calls.slice(before));
          },
        },
        { iterations: options.iterations ?? 10, time: options.time, warmup: !fixed, rounds: fixed ? 1 : undefined },
      );
      meter.reset();
      const summaries = seen.map((calls) => ({ ...summarise(calls), writeRequests: calls.filter((c) => WRITES.test(c.command)).length }));
      const counts = new Map<string, number>();
      for (const s of summaries) counts.set(JSON.stringify(s), (counts.get(JSON.stringify(s)) ?? 0) + 1);
      const usual = JSON.parse([...counts].reduce((best, next) => (next[1] > best[1] ? next : best))[0]) as (typeof summaries)[number];
      const medianMs = m.latency.store!;
      const row: DynamoRow = {
        workload,
        ...(options.operation === undefined ? {} : { operation: options.operation }),
        ...(options.history === undefined ? {} : { history: options.history }),
        requests: usual.requests,
        writeRequests: usual.writeRequests,
        readUnits: usual.read,
        writeUnits: usual.write,
        maxReadUnits: Math.max(...summaries.map((s) => s.read)),
        maxWriteUnits: Math.max(...summaries.map((s) => s.write)),
        constant: counts.size === 1,
        repetitions: summaries.length,
        medianMs: round2(medianMs),
        opsPerSec: Math.round(((options.perOp ?? 1) * 1000) / medianMs),
        perOp: options.perOp ?? 1,
      };
      if (counts.size > 1) log(`  ${workload}: requests/units varied: ${[...counts].map(([s, n]) => `${n}× ${s}`).join(' | ')}`);
      rows.push(row);
      return medianMs;
    };

    let stamp = Date.now() - 86_400_000;
    for (const n of [0, ...DYNAMODB_HISTORIES]) {
      const sessionId = `h${n}`;
      const started = Date.now();
      // Written straight into the table with BatchWriteItem (message and id items, then the session
      // and user items as the store would leave them): filling 100,000 messages through the store's
      // transactions takes many minutes on DynamoDB Local. Timestamps a day back.
      if (n > 0) {
        await fillHistory(local.client, 'convostore-bench', { userId: 'bench', sessionId, agentId: 'agent' }, n, stamp);
        stamp += n;
      }
      meter.reset();
      if (n > 0) {
        prefillSeconds[sessionId] = round2((Date.now() - started) / 1000);
        log(`  dynamodb: prefilled ${n} messages in ${prefillSeconds[sessionId]} s`);
      }
      let i = n;
      const at = { history: n };
      if (n === 0) {
        // The first append creates the session and user items; later ones only rewrite the session.
        await metered('first append (creates session + user)', () => store.saveChatMessage('bench', sessionId, 'agent', message(i++), 20), { iterations: 1, time: 0, operation: 'first append', ...at });
      }
      latency[`append@${n}`] = await metered(`append (window 20) @ history ${n}`, () => store.saveChatMessage('bench', sessionId, 'agent', message(i++), 20), { operation: 'append', ...at });
      latency[`window@${n}`] = await metered(`window read (20) @ history ${n}`, () => store.fetchChat('bench', sessionId, 'agent', 20), { operation: 'window', ...at });
      await metered(`fetchSessionPage (20, newest) @ history ${n}`, () => store.fetchSessionPage('bench', sessionId, { limit: 20, order: 'newest' }), { operation: 'fetchSessionPage', ...at });
      await metered(`listSessions (first 20) @ history ${n}`, () => store.listSessions('bench', { limit: 20 }), { operation: 'listSessions', ...at });
      const [last] = (await store.fetchChatPage('bench', sessionId, 'agent', { limit: 1, order: 'newest' })).items;
      let version = 0;
      await metered(
        `upsertMessages, replace the last message @ history ${n}`,
        () => store.upsertMessages('bench', sessionId, 'agent', [{ id: last!.id, role: last!.role, content: `edited ${version++}` }]),
        { operation: 'upsert', iterations: 10, time: 0, ...at },
      );
      const doomed = Array.from({ length: 10 }, (_, k) => ({ ...message(i + k), id: `d${n}-${k}` }));
      await store.saveChatMessages('bench', sessionId, 'agent', doomed, 0);
      doomed.reverse();
      meter.reset();
      await metered(`deleteMessages of the newest message @ history ${n}`, () => store.deleteMessages('bench', sessionId, [doomed.shift()!.id]), { operation: 'delete', iterations: 10, time: 0, ...at });
    }

    for (let a = 0; a < 5; a++) {
      await store.saveChatMessages('bench', 'five-agents', `agent-${a}`, Array.from({ length: 200 }, (_, i) => message(i)), 0);
    }
    meter.reset();
    await metered('fetchAllChats (5 agents × 200)', () => store.fetchAllChats('bench', 'five-agents'));

    const batch = Array.from({ length: BULK }, (_, i) => message(i));
    let k = 0;
    await metered(`saveChatMessages of ${BULK}`, () => store.saveChatMessages('bench', 'bulk', `agent-${k++}`, batch), { perOp: BULK, iterations: 2, time: 0 });

    // Sessions written one after another (all within a minute or two: the worst case for the
    // byActivity key, which holds the activity rounded down to a minute), then sessions whose
    // activity lies two minutes apart (the usual case).
    for (let s = 0; s < SESSIONS; s++) await store.saveChatMessage('many', `session-${s}`, 'agent', message(0), 0);
    const spreadFrom = Date.now() - 4 * 86_400_000;
    for (let s = 0; s < SESSIONS; s++) {
      await store.importSession('spread', `session-${s}`, { messages: [{ ...message(0), agentId: 'agent', id: 'm', timestamp: spreadFrom + s * 120_000 }] });
    }
    meter.reset();
    await metered(`listSessions (${SESSIONS} sessions active within minutes, first 50)`, () => store.listSessions('many', { limit: 50 }), { operation: 'listSessions' });
    await metered(`listSessions (${SESSIONS} sessions active 2 min apart, first 50)`, () => store.listSessions('spread', { limit: 50 }), { operation: 'listSessions' });

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

/**
 * A conversation of `n` messages (seq 1..n, alternating roles) in the store's layout, written with
 * BatchWriteItem (25 items a request, 8 requests at a time), then its session item (head: n
 * messages, last seq n) and the user item. Only for a fresh session nobody else writes.
 */
async function fillHistory(client: DynamoDBClient, table: string, key: ConversationKey, n: number, firstTimestamp: number): Promise<void> {
  const doc = DynamoDBDocumentClient.from(client);
  const items: Array<Record<string, unknown>> = [];
  let next = 1;
  const produce = (): Array<Record<string, unknown>> | undefined => {
    while (items.length < 25 && next <= n) {
      const seq = next++;
      const m = message(seq - 1);
      const encoded = { id: `p${seq}`, idMade: false, role: m.role, json: JSON.stringify(m.content), metadata: undefined, timestamp: firstTimestamp + seq };
      items.push(messageItem(key, seq, seq, encoded, undefined));
      items.push(idItem(key.userId, key.sessionId, { ...encoded, agentId: key.agentId, seq }, undefined));
    }
    return items.length === 0 ? undefined : items.splice(0, 25);
  };
  const worker = async () => {
    for (let batch = produce(); batch; batch = produce()) {
      let pending: object[] = batch.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const state = newSessionState(key.sessionId, firstTimestamp + 1, firstTimestamp + n);
  state.v = nextVersion();
  state.o = n;
  state.ag = [{ a: key.agentId, s: n, r: message(n - 1).role, n, at: firstTimestamp + n, lo: firstTimestamp + 1, f: 1, m: 1 }];
  await doc.send(new PutCommand({ TableName: table, Item: sessionItem(key.userId, state) }));
  const { Update } = userUpsert(table, key.userId);
  await doc.send(new UpdateCommand(Update));
}
