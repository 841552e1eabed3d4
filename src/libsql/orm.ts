/**
 * The Drizzle database on a @libsql/client client (`store.db`), for Node. Loaded only on first
 * access to `store.db` or when a migration is due (a synchronous require of this ES module), so that
 * opening and using a store does not load Drizzle. The edge entry (web.ts) has its own.
 */
import type { Client } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import * as schema from '../../drizzle/schema.js';

export const libsqlOrm = (client: Client) => drizzle({ client, schema });
