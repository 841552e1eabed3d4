/**
 * drizzle-kit itself, as users run it: schema and checked-in migrations in sync, and
 * `npx drizzle-kit migrate` with zero flags producing the same tables the store migrates to.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SqlChatStorage } from '../src/index.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const run = promisify(execFile);
const root = process.cwd();
const drizzleKit = join(root, 'node_modules', '.bin', 'drizzle-kit');
const dir = tempDir('drizzle-kit');

test('drizzle-kit generate finds nothing to generate (schema and migrations in sync)', async (t) => {
  // Run in a scratch copy so a failing check cannot write a stray migration into the repo.
  const scratch = mkdtempSync(join(tmpdir(), 'convostore-generate-'));
  try {
    for (const entry of ['drizzle', 'migrations', 'drizzle.config.ts', 'package.json', 'tsconfig.json', 'src']) {
      cpSync(join(root, entry), join(scratch, entry), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(scratch, 'node_modules'));
    const before = readdirSync(join(scratch, 'migrations')).sort();
    const { stdout } = await run(drizzleKit, ['generate'], { cwd: scratch, env: { ...process.env, CONVOSTORE_DB_FILE: join(scratch, 'x.db') } });
    t.regex(stdout, /No schema changes, nothing to migrate/);
    t.deepEqual(readdirSync(join(scratch, 'migrations')).sort(), before);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('npx drizzle-kit migrate with zero flags creates convostore’s tables; the store opens the file as migrated', async (t) => {
  const file = tempFile(dir);
  const { stdout, stderr } = await run(drizzleKit, ['migrate'], {
    cwd: root,
    env: { ...process.env, CONVOSTORE_DB_FILE: file, TURSO_DATABASE_URL: '' },
  });
  t.regex(stdout + stderr, /migrations applied successfully/i);
  const db = new Database(file);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
  const applied = db.prepare('SELECT count(*) FROM __convostore_migrations').pluck().get();
  db.close();
  t.deepEqual(tables, [
    '__convostore_migrations',
    'convostore_agents',
    'convostore_messages',
    'convostore_refusals',
    'convostore_sessions',
    'convostore_users',
  ]);
  t.is(applied, 2);
  // The store sees drizzle-kit's journal and does not migrate again.
  const store = await SqlChatStorage.openLibsql(`file:${file}`, { migrate: false, logger: null });
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'after drizzle-kit' });
  t.is((await store.fetchChat('u', 's', 'a')).length, 1);
  await store.close();
});
