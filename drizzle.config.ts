/**
 * Zero-flag drizzle-kit: `npx drizzle-kit migrate` applies `migrations/` to the embedded SQLite file
 * (data/convostore.db, or CONVOSTORE_DB_FILE), or to Turso when TURSO_DATABASE_URL is set.
 * convostore keeps its own journal (`__convostore_migrations`) and only touches `convostore_*`
 * tables, so an application's own drizzle config and migrations can share the database.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineConfig } from 'drizzle-kit';

const schema = './drizzle/schema.ts';
const out = './migrations';
const migrations = { table: '__convostore_migrations' };
const tablesFilter = ['convostore_*'];
const tursoUrl = process.env.TURSO_DATABASE_URL;
const file = process.env.CONVOSTORE_DB_FILE ?? 'data/convostore.db';

if (!tursoUrl) mkdirSync(dirname(file), { recursive: true });

// A database migrated by convostore 0.1 has its record in drizzle's default journal: move it to
// convostore's first (src/sql/migrations.ts, adoptLegacyJournal). drizzle-kit loads this file
// synchronously and the move is asynchronous, so it runs in a child process.
if (process.argv.includes('migrate')) {
  execFileSync(process.execPath, ['--import', 'tsx', 'src/sql/adopt-journal.ts', tursoUrl || file], { stdio: 'inherit' });
}

export default tursoUrl
  ? defineConfig({
      dialect: 'turso',
      schema,
      out,
      migrations,
      tablesFilter,
      dbCredentials: { url: tursoUrl, authToken: process.env.TURSO_AUTH_TOKEN },
    })
  : defineConfig({ dialect: 'sqlite', schema, out, migrations, tablesFilter, dbCredentials: { url: file } });
