import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { HranaServer, type HranaServerOptions } from '../hrana/server.js';
import { tempFile } from './tmp.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A stand-in sqld on a fresh SQLite file in `dir`. */
export function startStandIn(dir: string, options: Partial<HranaServerOptions> = {}): Promise<HranaServer> {
  return HranaServer.start({ file: tempFile(dir), ...options });
}

/** A stand-in that lives as long as the test `t`. */
export async function standInFor(t: ExecutionContext, dir: string, options: Partial<HranaServerOptions> = {}): Promise<HranaServer> {
  const server = await HranaServer.start({ file: tempFile(dir), ...options });
  t.teardown(() => server.close());
  return server;
}

/**
 * `npx drizzle-kit migrate` exactly as a user runs it for Turso (drizzle.config.ts's turso branch),
 * pointed at the stand-in over HTTP. Async on purpose: the stand-in answers from this process.
 */
export async function drizzleKitMigrate(url: string, token: string | undefined): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, TURSO_DATABASE_URL: url };
  if (token === undefined) delete env.TURSO_AUTH_TOKEN;
  else env.TURSO_AUTH_TOKEN = token;
  const { stdout, stderr } = await promisify(execFile)('npx', ['drizzle-kit', 'migrate'], { cwd: root, env, timeout: 120_000 });
  return `${stdout}${stderr}`;
}

/** A consistent copy of a served database file (VACUUM INTO reads through the WAL). */
export function copyDatabase(from: string, to: string): void {
  const db = new Database(from, { readonly: true });
  try {
    db.prepare('VACUUM INTO ?').run(to);
  } finally {
    db.close();
  }
}
