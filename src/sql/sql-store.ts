import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import type * as schema from '../../drizzle/schema.js';
import { ChatStore } from '../core/store.js';
import type { StoreOptions } from '../types.js';
import type { SqlBackend } from './sql-backend.js';

export type ConvostoreSchema = typeof schema;
export type SqlDatabase = BetterSQLite3Database<ConvostoreSchema> | LibSQLDatabase<ConvostoreSchema>;

/** Options every SQL backend takes. */
export interface SqlOptions extends StoreOptions {
  /** Largest message content in UTF-8 bytes of JSON; default 1 MiB. */
  maxMessageBytes?: number;
  /** How long a writer waits for another process's lock on a local file; default 5000 ms. */
  busyTimeoutMs?: number;
  /**
   * For a database or client you gave (bring your own driver): close it when the store closes.
   * Default false: it stays yours. A database convostore opened from a URL is always closed.
   */
  closeDriver?: boolean;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * The SQL store over any driver, with `db`, a Drizzle database on the same connection typed with
 * convostore's schema. It loads no driver: the openers do (sqlite/, libsql/). `SqlChatStorage`
 * (sql/index.ts) is this class with Node's openers as static methods; on an edge runtime,
 * `convostore/libsql/web` returns this class itself, so that no Node opener is bundled.
 */
export class SqlStore extends ChatStore {
  #db: SqlDatabase | (() => SqlDatabase);

  /** `db`: the Drizzle database, or a function that creates it on first access to `store.db`. */
  constructor(backend: SqlBackend, db: SqlDatabase | (() => SqlDatabase), options: StoreOptions) {
    super(backend, options);
    this.#db = db;
  }

  /** The Drizzle database on the store's connection, created on first access (Drizzle loads then). */
  get db(): SqlDatabase {
    if (typeof this.#db === 'function') this.#db = this.#db();
    return this.#db;
  }
}
