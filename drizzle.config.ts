/**
 * Zero-flag drizzle-kit: `npx drizzle-kit migrate` applies `migrations/` to the embedded SQLite file
 * (data/convostore.db, or CONVOSTORE_DB_FILE), or to Turso when TURSO_DATABASE_URL is set.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineConfig } from 'drizzle-kit';

const schema = './drizzle/schema.ts';
const out = './migrations';
const tursoUrl = process.env.TURSO_DATABASE_URL;
const file = process.env.CONVOSTORE_DB_FILE ?? 'data/convostore.db';

if (!tursoUrl) mkdirSync(dirname(file), { recursive: true });

export default tursoUrl
  ? defineConfig({
      dialect: 'turso',
      schema,
      out,
      dbCredentials: { url: tursoUrl, authToken: process.env.TURSO_AUTH_TOKEN },
    })
  : defineConfig({ dialect: 'sqlite', schema, out, dbCredentials: { url: file } });
