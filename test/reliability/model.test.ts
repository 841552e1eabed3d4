/**
 * Model-based property: random sequences of every operation (v2's edits, session pages, titles and
 * forks included), under random consecutive-role policies,
 * retention settings and clock steps (equal and backwards too), give the same result on every backend
 * as on the reference model (model.ts). Shrunk counter-examples found so far are kept below and
 * replayed first.
 */
import test from 'ava';
import fc from 'fast-check';
import { reliabilityBackends as backends } from '../backends/registry.js';
import { runScenario, scenarioArb, type Scenario } from './operations.js';
import { fcParams, replayHint } from './seed.js';

/** Counter-examples fast-check found and shrank, one per bug (see the commit that fixed each). */
export const regressions: Array<{ title: string; scenario: Scenario }> = [
  {
    title: 'an expired message does not make the next one a consecutive repeat',
    scenario: {
      config: { policy: 'skip', ttlMs: 1 },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', at: -2 }], batch: true },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text' }], batch: true },
        { op: 'fetch', u: 'u1', s: 's1', a: 'a1' },
      ],
    },
  },
  {
    title: 'maxMessages keeps N messages when pruning left a gap in seq',
    scenario: {
      config: { policy: 'skip', maxMessages: 3, ttlMs: 13 },
      ops: [
        {
          op: 'save', u: 'u1', s: 's1', a: 'a1', batch: true,
          messages: [{ role: 'assistant', shape: 'text' }, { role: 'user', shape: 'text', at: -1 }, { role: 'assistant', shape: 'text' }],
        },
        { op: 'tick', ms: -7 },
        { op: 'tick', ms: 20 },
        { op: 'prune' },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }], batch: false },
        { op: 'pages', u: 'u1', s: 's1', a: 'a1', limit: 2, order: 'oldest' },
      ],
    },
  },
  {
    title: 'deleteConversation removes a session that pruning left without messages',
    scenario: {
      config: { policy: 'skip', ttlMs: 1 },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a2', messages: [{ role: 'user', shape: 'text' }], batch: false },
        { op: 'tick', ms: 20 },
        { op: 'prune' },
        { op: 'deleteConversation', u: 'u1', s: 's1', a: 'a1' },
        { op: 'sessions', u: 'u1', limit: 2 },
        { op: 'users', limit: 2 },
      ],
    },
  },
  {
    title: 'a conversation emptied by prune numbers from 1 again on every backend',
    scenario: {
      config: { policy: 'keep', ttlMs: 5 },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }, { role: 'assistant', shape: 'text' }], batch: true },
        { op: 'tick', ms: 20 },
        { op: 'prune' },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }], batch: false },
        { op: 'pages', u: 'u1', s: 's1', a: 'a1', limit: 3, order: 'newest' },
      ],
    },
  },
  {
    title: 'lastMessageAt follows the stored messages when maxMessages deleted the newest timestamp',
    scenario: {
      config: { policy: 'skip', maxMessages: 1 },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }], batch: true },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', at: -1 }], batch: true },
        { op: 'sessions', u: 'u1', limit: 1 },
      ],
    },
  },
  {
    title: 'under throw, a batch with a conflicting id and a repeated role reports the conflict (ids are checked first)',
    scenario: {
      config: { policy: 'throw' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text', id: 'm3' }], batch: false },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }, { role: 'assistant', shape: 'text', id: 'm3' }], batch: true },
      ],
    },
  },
  {
    title: 'an upsert sent again keeps skipped what it skipped, and its rule meets only appended messages',
    scenario: {
      config: { policy: 'skip' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', id: 'm1' }], batch: false },
        { op: 'upsert', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', id: 'm2' }, { role: 'user', shape: 'text', id: 'm3' }, { role: 'user', shape: 'text', id: 'm4' }] },
        { op: 'upsert', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', id: 'm2' }, { role: 'user', shape: 'text', id: 'm3' }, { role: 'user', shape: 'text', id: 'm4' }] },
        { op: 'upsert', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'assistant', shape: 'text', id: 'm1', variant: 1 }, { role: 'user', shape: 'text', id: 'm3', variant: 1 }] },
        { op: 'sessionPages', u: 'u1', s: 's1', limit: 10, order: 'oldest' },
      ],
    },
  },
  {
    title: 'a write whose every message is skipped still moves the session\'s last activity',
    scenario: {
      config: { policy: 'skip' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }], batch: false },
        { op: 'tick', ms: 1 },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text' }], batch: false },
        { op: 'sessions', u: 'u1', limit: 1 },
      ],
    },
  },
  {
    title: 'an empty batch creates no session and is no activity (as in v1)',
    scenario: {
      config: { policy: 'skip' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [], batch: true },
        { op: 'upsert', u: 'u1', s: 's2', a: 'a1', messages: [], deleteIds: ['m1'] },
        { op: 'sessions', u: 'u1', limit: 2 },
        { op: 'users', limit: 2 },
      ],
    },
  },
  {
    title: 'a retry of the last message is not a consecutive repeat; a changed one is a conflict',
    scenario: {
      config: { policy: 'throw' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text', id: 'm1' }], batch: false },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text', id: 'm1' }], batch: false },
        { op: 'save', u: 'u1', s: 's1', a: 'a2', messages: [{ role: 'user', shape: 'text', id: 'm1' }], batch: false },
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text', id: 'm1', variant: 1 }], batch: false },
        { op: 'sessionPages', u: 'u1', s: 's1', limit: 2, order: 'oldest' },
      ],
    },
  },
  {
    title: 'a fork keeps ids, positions and order, and a titled session outlives its messages',
    scenario: {
      config: { policy: 'keep' },
      ops: [
        { op: 'save', u: 'u1', s: 's1', a: 'a1', messages: [{ role: 'user', shape: 'text', id: 'm1' }, { role: 'tool', shape: 'mixed', id: 'm2' }], batch: true },
        { op: 'save', u: 'u1', s: 's1', a: 'a2', messages: [{ role: 'system', shape: 'image', id: 'm3', meta: true }], batch: true },
        { op: 'updateSession', u: 'u1', s: 's1', title: 'title', metadata: { k1: 1 } },
        { op: 'fork', u: 'u1', s: 's1', to: '😀', upTo: 'm3' },
        { op: 'deleteMessages', u: 'u1', s: 's1', ids: ['m1', 'm2', 'm3'] },
        { op: 'sessions', u: 'u1', limit: 3 },
        { op: 'sessionPages', u: 'u1', s: '😀', limit: 2, order: 'newest', after: 'm3' },
      ],
    },
  },
  {
    title: 'a deleteMessages that removes nothing leaves a session without messages in place',
    scenario: {
      config: { policy: 'skip' },
      ops: [
        { op: 'updateSession', u: 'u1', s: '\uE000' },
        { op: 'deleteMessages', u: 'u1', s: '\uE000', ids: ['m1'] },
        { op: 'deleteUser', u: 'u1' },
      ],
    },
  },
];

const RUNS: Record<string, number> = { memory: 200 };

for (const backend of backends) {
  for (const { title, scenario } of regressions) {
    test(`${backend.label}: regression: ${title}`, async (t) => {
      await runScenario(backend, scenario);
      t.pass();
    });
  }

  test(`${backend.label}: random operation sequences match the reference model`, async (t) => {
    t.log(replayHint);
    await fc.assert(
      fc.asyncProperty(scenarioArb(), (scenario) => runScenario(backend, scenario)),
      fcParams(RUNS[backend.label] ?? 100),
    );
    t.pass();
  });
}
