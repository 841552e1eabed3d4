/**
 * Scale, in-memory: a conversation of SIZES.memory.big messages (1,000,000 with SCALE_FULL=1), and a
 * user of many sessions. Each scenario fills a fresh store in its child process (importSession),
 * whose heap is capped at what a first fill of the same data held plus the bound (support.ts).
 */
import test from 'ava';
import { SIZES } from './data.js';
import { SCENARIO_TIMEOUT_MS, check, runScenario } from './support.js';
import type { Op } from './child.js';
import { tempDir } from '../helpers/tmp.js';

const sizes = SIZES.memory;
const dir = tempDir('scale-memory');
const run = (parts: { big: boolean; many: boolean }, ops: Op[], baseMb?: number) =>
  runScenario({ backend: 'memory', sizes, parts, chunk: 10_000, ops: ['fill', ...ops], dir }, {}, baseMb);

/** What the filled store holds, measured once per data set: the heap cap of its scenarios is that plus the bound. */
const held = new Map<string, Promise<number>>();
async function scenario(parts: { big: boolean; many: boolean }, ops: Op[]) {
  const key = JSON.stringify(parts);
  if (!held.has(key)) held.set(key, run(parts, []).then((s) => s.heapAfterMb));
  return run(parts, ops, await held.get(key)!);
}

test.serial(`memory, ${sizes.big} messages: listSessions, session and chat pages, export, copy and prune in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  check(t, 'memory', sizes, await scenario({ big: true, many: false }, ['listSessions', 'fetchSessionPage', 'fetchChatPage', 'export', 'copy', 'prune']));
});

test.serial(`memory, ${sizes.big} messages: deleteConversation in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  check(t, 'memory', sizes, await scenario({ big: true, many: false }, ['deleteConversation']));
});

test.serial(`memory, ${sizes.big} messages: deleteSession in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  check(t, 'memory', sizes, await scenario({ big: true, many: false }, ['deleteSession']));
});

test.serial(`memory: deleteUser of ${sizes.many.sessions} sessions in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  check(t, 'memory', sizes, await scenario({ big: false, many: true }, ['deleteUser']));
});
