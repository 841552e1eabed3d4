/**
 * `node --import tsx src/sql/adopt-journal.ts URL`: moves convostore 0.1's migration record into
 * convostore's own journal (adoptLegacyJournal) before drizzle-kit migrates the database. Run by
 * drizzle.config.ts, which drizzle-kit loads synchronously; the database is reached the way
 * drizzle-kit reaches it (@libsql/client: a file path or a libSQL URL, TURSO_AUTH_TOKEN).
 */
import { createClient } from '@libsql/client';
import { LibsqlDriver } from './libsql-driver.js';
import { adoptLegacyJournal } from './migrations.js';
import { redactError } from '../redact.js';

const target = process.argv[2];
if (!target) throw new Error('usage: adopt-journal.ts FILE_OR_URL');
const url = /^[a-z][a-z0-9+.-]+:/i.test(target) ? target : `file:${target}`;
const client = createClient({ url, authToken: process.env.TURSO_AUTH_TOKEN || undefined, intMode: 'number' });
try {
  if (await adoptLegacyJournal(new LibsqlDriver(client))) {
    console.log("convostore: adopted a convostore 0.1 database (tables and migration record) before migrating");
  }
} catch (error) {
  // Printed by drizzle-kit's process: never the URL's credentials.
  console.error(`convostore: could not check the database for 0.1 tables: ${String((redactError(error, [process.env.TURSO_AUTH_TOKEN ?? '']) as Error).message ?? error)}`);
  process.exitCode = 1;
} finally {
  client.close();
}
