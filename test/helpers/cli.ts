/**
 * Runs the BUILT command line (dist/src/cli/main.js) as a child process, as users run it.
 *
 * `ensureBuilt()` compiles with `tsc -p tsconfig.build.json` when dist is missing or older than any
 * source file, so `npm test` and `npx ava` work on a fresh clone. ava runs test files in parallel
 * processes: a lock directory (mkdir is atomic) lets one of them build while the others wait and then
 * find the build fresh.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage, type ChatStore, type OpenOptions } from '../../src/index.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(root, 'dist/src/cli/main.js');
const stamp = join(root, 'dist/.build-stamp');
const lock = join(root, 'node_modules/.convostore-build-lock');
const STALE_LOCK_MS = 5 * 60_000;

function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const info = statSync(path);
    if (info.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, info.mtimeMs);
  };
  for (const entry of ['src', 'drizzle', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) visit(join(root, entry));
  return newest;
}

function fresh(): boolean {
  return existsSync(cliPath) && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource();
}

export async function ensureBuilt(): Promise<void> {
  if (fresh()) return;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test process is building; a lock left by a killed one is taken over.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true, force: true });
      await sleep(200);
    }
  }
  try {
    if (fresh()) return;
    const started = Date.now();
    const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`building the CLI failed:\n${result.stdout}${result.stderr}`);
    writeFileSync(stamp, new Date(started).toISOString());
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
}

/** Runs `node dist/src/cli/main.js ...args` with CONVOSTORE_URL unset unless given. */
export function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, CONVOSTORE_URL: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: options.cwd ?? root, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** The one clock value of the issue 10 data. */
export const REPRO_TIME = 1_700_000_000_000;

/**
 * The data of issue 10's copy bug: two agents' messages interleaved within one millisecond (a
 * timestamp merge reads alpha, alpha, beta, beta), with ids, metadata, a title and session metadata,
 * a session with only a title, and a session whose ids are given by the caller. Every message at
 * REPRO_TIME.
 */
export async function seedRepro(url: string, options: OpenOptions = {}): Promise<void> {
  const store = await openStorage(url, { ...options, logger: null, clock: () => REPRO_TIME });
  try {
    await store.saveChatMessage('u', 's', 'alpha', { role: 'user', content: 'alpha asks' });
    await store.saveChatMessage('u', 's', 'beta', { role: 'user', content: 'beta asks', metadata: { lang: 'en' } });
    await store.saveChatMessage('u', 's', 'alpha', { role: 'assistant', content: 'alpha answers', metadata: { model: 'a-1', usage: { in: 3, out: 5 } } });
    await store.saveChatMessage('u', 's', 'beta', { role: 'assistant', content: [{ text: 'beta answers' }, { toolUse: { toolUseId: 't', name: 'f', input: {} } }] });
    await store.upsertMessages('u', 's', 'beta', [{ role: 'tool', content: [{ toolResult: { toolUseId: 't', content: [{ json: { ok: true } }] } }] }]);
    await store.updateSession('u', 's', { title: 'Two agents, one millisecond', metadata: { pinned: true, tags: ['a', 'b'] } });
    await store.updateSession('u', 'only a title', { title: 'Nothing said yet' });
    await store.saveChatMessages('v', 'given ids', 'a#1', [
      { id: 'm#1', role: 'system', content: 'rules' },
      { id: 'ü/2', role: 'user', content: 'question' },
    ]);
  } finally {
    await store.close();
  }
}

/** What a user of the store sees of every session: summary, fetchAllChats, and fetchSessionPage both ways. */
export async function sessionsView(store: ChatStore): Promise<unknown> {
  const view: Record<string, unknown> = {};
  for (const userId of (await store.listUsers({ limit: 1000 })).items) {
    for (const { sessionId } of (await store.listSessions(userId, { limit: 1000 })).items) {
      // Pages of 2, so that cursors are compared too.
      const pages = async (order: 'oldest' | 'newest') => {
        const read = (cursor?: string) => store.fetchSessionPage(userId, sessionId, { order, limit: 2, cursor });
        const items: unknown[] = [];
        for (let page = await read(); ; page = await read(page.nextCursor)) {
          items.push(...page.items);
          if (page.nextCursor === undefined) return items;
        }
      };
      view[JSON.stringify([userId, sessionId])] = {
        session: await store.getSession(userId, sessionId),
        all: await store.fetchAllChats(userId, sessionId),
        oldest: await pages('oldest'),
        newest: await pages('newest'),
      };
    }
  }
  return view;
}
