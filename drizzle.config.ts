/**
 * Zero-flag drizzle-kit: `npx drizzle-kit migrate` applies `migrations/` to the database a URL names,
 * read by convostore's own parser (src/url.ts) so that it means what it means to the store:
 * TURSO_DATABASE_URL (kept from 0.1), else CONVOSTORE_DB_FILE (a path, kept from 0.1), else
 * CONVOSTORE_URL, else the embedded file ./data/convostore.db. A path, sqlite:PATH or file:PATH is a
 * local file; libsql://, https://, wss:// a remote database, its token from the URL's authToken
 * parameter or TURSO_AUTH_TOKEN.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineConfig } from 'drizzle-kit';
import { DEFAULT_DATABASE_FILE, parseStorageUrl } from './src/url.js';

const schema = './drizzle/schema.ts';
const out = './migrations';
const { TURSO_DATABASE_URL, CONVOSTORE_DB_FILE, CONVOSTORE_URL, TURSO_AUTH_TOKEN } = process.env;
const target = parseStorageUrl(TURSO_DATABASE_URL || (CONVOSTORE_DB_FILE ? `sqlite:${CONVOSTORE_DB_FILE}` : CONVOSTORE_URL || DEFAULT_DATABASE_FILE));

function config() {
  switch (target.kind) {
    case 'sqlite':
      mkdirSync(dirname(target.path), { recursive: true });
      return defineConfig({ dialect: 'sqlite', schema, out, dbCredentials: { url: target.path } });
    case 'libsql':
      if (target.transport === 'remote') {
        return defineConfig({ dialect: 'turso', schema, out, dbCredentials: { url: target.url, authToken: target.authToken ?? TURSO_AUTH_TOKEN } });
      }
      if (target.transport === 'file') mkdirSync(dirname(target.path), { recursive: true });
      return defineConfig({ dialect: 'sqlite', schema, out, dbCredentials: { url: target.transport === 'file' ? target.path : ':memory:' } });
    default:
      throw new Error(`drizzle-kit migrates SQL databases; ${target.kind}: needs none (use \`convostore migrate\` for dynamodb://)`);
  }
}

export default config();
