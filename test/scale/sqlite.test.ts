/**
 * Scale, SQLite (better-sqlite3): a conversation of SIZES.sqlite.big messages (1,000,000 with
 * SCALE_FULL=1), and a user of many sessions. One child fills a file through importSession; every
 * scenario runs on its own copy of that file.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { SIZES } from './data.js';
import { BASE_HEAP_MB, SCENARIO_TIMEOUT_MS, check, runScenario } from './support.js';
import type { Op } from './child.js';
import { tempDir } from '../helpers/tmp.js';

const sizes = SIZES.sqlite;
const dir = tempDir('scale-sqlite');
const master = join(dir, 'master.db');
let copies = 0;

/** Filled once (both users), by the first scenario that needs it. */
let filled: Promise<void> | undefined;
const fill = (t: Parameters<typeof check>[0]) =>
  (filled ??= (async () => {
    check(t, 'sqlite', sizes, await runScenario({ backend: 'sqlite', url: master, sizes, parts: { big: true, many: true }, chunk: 10_000, ops: ['fill'], dir }));
  })());

async function scenario(t: Parameters<typeof check>[0], ops: Op[]) {
  await fill(t);
  const file = join(dir, `copy-${++copies}.db`);
  copyFileSync(master, file);
  // The fill's store closed cleanly, so its WAL is checkpointed; copied along should one remain.
  if (existsSync(`${master}-wal`)) copyFileSync(`${master}-wal`, `${file}-wal`);
  const spec = { backend: 'sqlite' as const, url: file, sizes, parts: { big: true, many: true }, chunk: 10_000, ops, dir };
  check(t, 'sqlite', sizes, await runScenario(spec, {}, BASE_HEAP_MB));
}

test.serial(`sqlite, ${sizes.big} messages: listSessions, session and chat pages, export, copy and prune in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, ['listSessions', 'fetchSessionPage', 'fetchChatPage', 'export', 'copy', 'prune']);
});

test.serial(`sqlite, ${sizes.big} messages: deleteConversation in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, ['deleteConversation']);
});

test.serial(`sqlite, ${sizes.big} messages: deleteSession in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, ['deleteSession']);
});

test.serial(`sqlite: deleteUser of ${sizes.many.sessions} sessions in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, ['deleteUser']);
});
