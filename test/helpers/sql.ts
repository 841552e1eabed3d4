import type { SqlChatStorage } from '../../src/index.js';
import { sql } from 'drizzle-orm';
import { agents, messages, sessions, users } from '../../drizzle/schema.js';

/** Rows over every convostore table, read through the store's own Drizzle handle. */
export async function countRows(store: SqlChatStorage): Promise<number> {
  const db = store.db as unknown as { get: (q: unknown) => Promise<{ n: number }> | { n: number } };
  const row = await db.get(
    sql`SELECT (SELECT count(*) FROM ${users}) + (SELECT count(*) FROM ${sessions}) + (SELECT count(*) FROM ${agents}) + (SELECT count(*) FROM ${messages}) AS n`,
  );
  return Number(row.n);
}
