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
