/**
 * The Drizzle database on a better-sqlite3 connection (`store.db`). Loaded only on first access to
 * `store.db` or when a migration is due (a synchronous require of this ES module), so that opening
 * and using a store does not load Drizzle.
 */
import type Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../drizzle/schema.js';

export const sqliteOrm = (client: Database.Database) => drizzle({ client, schema });
