/**
 * SqlChatStorage: the SQL store with Node's openers as static methods. This module imports no
 * driver: each opener loads its backend (and so its driver) on first call, and a driver that is not
 * installed is a MissingDriverError naming the `npm install` command.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Client } from '@libsql/client';
import { importBackend } from '../drivers.js';
import type { LibsqlOptions } from '../libsql/connect.js';
import type { LibsqlTarget } from '../url.js';
import { SqlStore, type SqlOptions } from './sql-store.js';

export { SqlStore, type SqlOptions, type SqlDatabase, type ConvostoreSchema } from './sql-store.js';
export type { LibsqlOptions } from '../libsql/connect.js';
export { redact } from '../redact.js';

/** The SQL store on SQLite (better-sqlite3) or libSQL (@libsql/client: local file, memory, Turso). */
export class SqlChatStorage extends SqlStore {
  /** A local SQLite file (or a better-sqlite3 Database you opened); see `openSqlite` in `convostore/sqlite`. */
  static async openSqlite(database: string | BetterSqlite3.Database, options?: SqlOptions): Promise<SqlChatStorage> {
    const { openSqlite } = await importBackend('sqlite', () => import('../sqlite/index.js'));
    return openSqlite(database, options);
  }

  /**
   * A libSQL database: `file:` paths, `:memory:`, a remote `libsql://`, `https://`, `wss://` Turso URL
   * (which must already be migrated), or a @libsql/client Client you created; see `openLibsql` in
   * `convostore/libsql`.
   */
  static async openLibsql(database: string | LibsqlTarget | Client, options?: LibsqlOptions): Promise<SqlChatStorage> {
    const { openLibsql } = await importBackend('libsql', () => import('../libsql/index.js'));
    return openLibsql(database, options);
  }
}
