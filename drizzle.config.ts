/**
 * Zero-flag drizzle-kit: `npx drizzle-kit migrate` applies `migrations/` to the database a URL names,
 * read by convostore's own parser (src/url.ts) so that it means what it means to the store:
 * TURSO_DATABASE_URL (kept from 0.1), else CONVOSTORE_DB_FILE (a path, kept from 0.1), else
 * CONVOSTORE_URL, else the embedded file ./data/convostore.db. A path, sqlite:PATH or file:PATH is a
 * local file; libsql://, https://, wss:// a remote database, its token from the URL's authToken
 * parameter or TURSO_AUTH_TOKEN. convostore keeps its own journal (`__convostore_migrations`) and
 * only touches `convostore_*` tables, so an application's own drizzle config and migrations can
 * share the database (docs/turso.md, "One database, two schemas").
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineConfig } from 'drizzle-kit';
import { DEFAULT_DATABASE_FILE, parseStorageUrl } from './src/url.js';

const schema = './drizzle/schema.ts';
const out = './migrations';
const migrations = { table: '__convostore_migrations' };
const tablesFilter = ['convostore_*'];
const { TURSO_DATABASE_URL, CONVOSTORE_DB_FILE, CONVOSTORE_URL, TURSO_AUTH_TOKEN } = process.env;
const target = parseStorageUrl(TURSO_DATABASE_URL || (CONVOSTORE_DB_FILE ? `sqlite:${CONVOSTORE_DB_FILE}` : CONVOSTORE_URL || DEFAULT_DATABASE_FILE));

/**
 * A database migrated by convostore 0.1 has its tables and journal record under drizzle's default
 * names: adopt them first (src/sql/migrations.ts, adoptLegacyJournal). drizzle-kit loads this file
 * synchronously and the adoption is asynchronous, so it runs in a child process.
 */
function adoptLegacyJournal(database: string, authToken: string | undefined): void {
  if (!process.argv.includes('migrate')) return;
  execFileSync(process.execPath, ['--import', 'tsx', 'src/sql/adopt-journal.ts', database], {
    stdio: 'inherit',
    env: { ...process.env, TURSO_AUTH_TOKEN: authToken ?? '' },
  });
}

function config() {
  switch (target.kind) {
    case 'sqlite':
      mkdirSync(dirname(target.path), { recursive: true });
      adoptLegacyJournal(target.path, undefined);
      return defineConfig({ dialect: 'sqlite', schema, out, migrations, tablesFilter, dbCredentials: { url: target.path } });
    case 'libsql':
      if (target.transport === 'remote') {
        const authToken = target.authToken ?? TURSO_AUTH_TOKEN;
        adoptLegacyJournal(target.url, authToken);
        return defineConfig({ dialect: 'turso', schema, out, migrations, tablesFilter, dbCredentials: { url: target.url, authToken } });
      }
      if (target.transport === 'file') {
        mkdirSync(dirname(target.path), { recursive: true });
        adoptLegacyJournal(target.path, undefined);
      }
      return defineConfig({
        dialect: 'sqlite',
        schema,
        out,
        migrations,
        tablesFilter,
        dbCredentials: { url: target.transport === 'file' ? target.path : ':memory:' },
      });
    default:
      throw new Error(`drizzle-kit migrates SQL databases; ${target.kind}: needs none (use \`convostore migrate\` for dynamodb://)`);
  }
}

export default config();
