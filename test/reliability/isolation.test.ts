/**
 * Isolation: no operation made with one user's id returns or deletes another user's data, on every
 * backend. Ids are look-alikes that a careless key scheme or a LIKE pattern would confuse: case,
 * `%` and `_`, quotes, and separators that could join ("a#b","c") and ("a","b#c") into one key.
 * Every step is also checked against the reference model (runScenario does that).
 */
import { deepStrictEqual, ok } from 'node:assert/strict';
import test from 'ava';
import fc from 'fast-check';
import type { ChatStore, ConversationMessage } from '../../src/index.js';
import { reliabilityBackends as backends } from '../backends/registry.js';
import { runScenario, scenarioArb, type IdPools, type Op, type Observer } from './operations.js';
import { fcParams, replayHint } from './seed.js';

const pools: IdPools = {
  users: ['a', 'a%', 'a_', 'A', "a'--", 'a#b', 'a ', 'a\\'],
  sessions: ['b#c', 'c', '%', '_'],
  agents: ['x', 'x%', 'X'],
};

/** The ids a message was written under, from its content (see inputsOf). */
function owner(message: ConversationMessage): [string, string, string] {
  const candidates = message.content.map((b) =>
    typeof b.text === 'string' ? b.text : 'image' in b ? (b.image as { source: { bytes: string } }).source.bytes : '',
  );
  // fetchAllChats tags assistant text `[agentId] ` (or adds a block holding only the tag).
  const raw = candidates.find((c) => c.includes('["'));
  if (raw === undefined) throw new Error(`a message without its owner: ${JSON.stringify(message)}`);
  return JSON.parse(raw.slice(raw.indexOf('["'))) as [string, string, string];
}

function mustOwn(op: Op & { u: string }, messages: ConversationMessage[]): void {
  for (const m of messages) {
    const [u, s, a] = owner(m);
    ok(u === op.u, `${op.op} for user ${JSON.stringify(op.u)} returned a message of user ${JSON.stringify(u)}`);
    // A fork holds copies of another session's messages, so the session is not checked.
    void s;
    if ('a' in op) ok(a === op.a, `${op.op} for agent ${JSON.stringify(op.a)} returned one of ${JSON.stringify(a)}`);
  }
}

/** Everything every other user can see, to compare around a delete. */
async function othersView(store: ChatStore, userId: string): Promise<unknown> {
  const view: unknown[] = [];
  for (const u of pools.users.filter((u) => u !== userId)) {
    view.push(await store.listSessions(u, { limit: 1000 }));
    for (const s of pools.sessions) view.push(await store.fetchAllChats(u, s));
  }
  return view;
}

/** Operations that change data: every other user's view must be the same before and after. */
const CHANGING = new Set<Op['op']>(['deleteConversation', 'deleteSession', 'deleteUser', 'deleteMessages', 'truncateAfter', 'updateMessage', 'updateSession', 'fork', 'upsert']);

function observer(): Observer {
  let before: unknown;
  return {
    async before(op, store) {
      if (CHANGING.has(op.op)) before = await othersView(store, (op as { u: string }).u);
    },
    async after(op, result, store) {
      if (!('ok' in result) || op.op === 'tick' || op.op === 'prune' || op.op === 'users') return;
      if (CHANGING.has(op.op)) {
        deepStrictEqual(await othersView(store, op.u), before, `${op.op} for ${JSON.stringify(op.u)} changed another user's data`);
        if (op.op !== 'upsert' && op.op !== 'updateMessage') return;
      }
      if (op.op === 'sessions' || op.op === 'getSession') {
        // Every listed session must hold only this user's messages.
        const summaries = op.op === 'sessions' ? (result.ok as Array<Array<{ sessionId: string }>>).flat() : result.ok ? [result.ok as { sessionId: string }] : [];
        for (const summary of summaries) {
          mustOwn({ op: 'fetchAll', u: op.u, s: summary.sessionId }, await store.fetchAllChats(op.u, summary.sessionId));
        }
        return;
      }
      if (op.op === 'getMessage' || op.op === 'updateMessage') {
        if (result.ok) mustOwn(op, [result.ok as ConversationMessage]);
        return;
      }
      const value = result.ok as ConversationMessage[] | ConversationMessage[][];
      mustOwn(op as Op & { u: string }, op.op === 'pages' || op.op === 'sessionPages' ? (value as ConversationMessage[][]).flat() : (value as ConversationMessage[]));
    },
  };
}

const RUNS: Record<string, number> = { memory: 150 };

for (const backend of backends) {
  test(`${backend.label}: no operation with one user's id reads or deletes another user's data`, async (t) => {
    t.log(replayHint);
    await fc.assert(
      fc.asyncProperty(scenarioArb(pools, 25), (scenario) => runScenario(backend, scenario, observer())),
      fcParams(RUNS[backend.label] ?? 50),
    );
    t.pass();
  });
}
