import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createClient, type Client } from '@libsql/client';
import { drizzle as drizzleBetterSqlite3, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateBetterSqlite3 } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzleLibsql, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate as migrateLibsql } from 'drizzle-orm/libsql/migrator';
import * as schema from '../../drizzle/schema.js';
import { ChatStore } from '../core/store.js';
import { ConvostoreError, UnavailableError } from '../errors.js';
import { checkPositiveInt } from '../core/validate.js';
import type { StoreOptions } from '../types.js';
import { BetterSqlite3Driver } from './better-sqlite3-driver.js';
import { DEFAULT_RETRY, LibsqlDriver } from './libsql-driver.js';
import { adoptLegacyJournal, assertMigrated, isMigrated, migratorConfig } from './migrations.js';
import { SqlBackend } from './sql-backend.js';
import { busyBackoffMs, isBusy } from './driver.js';
import { enableWal } from './queries.js';
import { redact } from '../redact.js';

export { redact };

export type ConvostoreSchema = typeof schema;
export type SqlDatabase = BetterSQLite3Database<ConvostoreSchema> | LibSQLDatabase<ConvostoreSchema>;

export interface SqlOptions extends StoreOptions {
  /** Largest message content in UTF-8 bytes of JSON; default 1 MiB. */
  maxMessageBytes?: number;
  /** How long a writer waits for another process's lock on a local file; default 5000 ms. */
  busyTimeoutMs?: number;
}

export interface LibsqlOptions extends SqlOptions {
  authToken?: string;
  /** Apply the bundled migrations on open. Default: yes for local files and memory, no for remote. */
  migrate?: boolean;
  /**
   * Remote URLs only: give up on an HTTP request after this long; default 30,000 ms. A read that
   * times out is retried (3 tries in all); a write is not (see docs/turso.md).
   */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The SQL store on SQLite (better-sqlite3) or libSQL (@libsql/client: local file, memory, Turso).
 * `db` is a Drizzle database over the same connection, typed with convostore's schema.
 */
export class SqlChatStorage extends ChatStore {
  readonly db: SqlDatabase;

  private constructor(backend: SqlBackend, db: SqlDatabase, options: StoreOptions) {
    super(backend, options);
    this.db = db;
  }

  /** A local SQLite file through better-sqlite3, migrated on open; WAL and a busy timeout. */
  static async openSqlite(path: string, options: SqlOptions = {}): Promise<SqlChatStorage> {
    const { maxMessageBytes, busyTimeoutMs, ...storeOptions } = options;
    let database: Database.Database;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const timeout = busyTimeoutMs ?? 5000;
      database = new Database(path, { timeout });
      const db = database;
      // Switching a new file to WAL needs an exclusive lock; when two processes open it at once,
      // SQLite refuses one with SQLITE_BUSY at once instead of calling the busy handler (both hold a
      // shared lock, so waiting could deadlock). Retrying within the busy timeout is safe.
      retryWhileBusy(Date.now() + timeout, () => db.pragma('journal_mode = WAL'));
      // NORMAL in WAL mode is durable against application crashes; a power cut may lose the last
      // commits but never corrupts the file.
      database.pragma('synchronous = NORMAL');
      database.pragma('foreign_keys = ON');
    } catch (error) {
      throw new UnavailableError(`cannot open the SQLite file ${path}`, error);
    }
    const driver = new BetterSqlite3Driver(database);
    const db = drizzleBetterSqlite3({ client: database, schema });
    try {
      await migrateOnce(driver, () => migrateBetterSqlite3(db, migratorConfig));
      return new SqlChatStorage(new SqlBackend(driver, maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), db, storeOptions);
    } catch (error) {
      database.close();
      throw error;
    }
  }

  /**
   * A libSQL database through @libsql/client: `file:` paths, `:memory:`, or a remote `libsql://`,
   * `https://`, `wss://` Turso URL. A remote database must already be migrated.
   */
  static async openLibsql(url: string, options: LibsqlOptions = {}): Promise<SqlChatStorage> {
    const { maxMessageBytes, busyTimeoutMs, authToken, migrate, requestTimeoutMs, ...storeOptions } = options;
    const local = url === ':memory:' || url.startsWith('file:');
    const timeoutMs = checkPositiveInt('options.requestTimeoutMs', requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 2 ** 31 - 1);
    // A local file gets one connection: pragmas such as synchronous are per connection, and a
    // pool would open later connections without them (the driver re-applies them on reconnect).
    const file = local && url !== ':memory:';
    let client: Client;
    try {
      if (url.startsWith('file:')) {
        const path = url.slice('file:'.length).replace(/^\/\/(localhost)?(?=\/)/, '').split('?')[0]!;
        if (path && path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      }
      client = createClient({
        url,
        authToken,
        intMode: 'number',
        timeout: busyTimeoutMs ?? 5000,
        ...(local ? {} : { fetch: fetchWithTimeout(timeoutMs) }),
        ...(file ? { concurrency: 1 } : {}),
      });
      if (file) await configureLocalConnection(client);
    } catch (error) {
      throw new UnavailableError(`cannot open the libSQL database ${redact(url)}`, error);
    }
    const driver = new LibsqlDriver(
      client,
      local ? undefined : DEFAULT_RETRY,
      file ? { busyTimeoutMs: busyTimeoutMs ?? 5000, onReconnect: configureLocalConnection } : undefined,
    );
    const db = drizzleLibsql({ client, schema });
    try {
      // Through the driver: when another process is switching the same new file to WAL, SQLite
      // answers SQLITE_BUSY at once, and the driver retries that on fresh connections.
      if (file) await driver.run({ query: enableWal, values: {} });
      if (migrate ?? local) await migrateOnce(driver, () => migrateLibsql(db, migratorConfig));
      else await assertMigrated(driver, redact(url));
      return new SqlChatStorage(new SqlBackend(driver, maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES), db, storeOptions);
    } catch (error) {
      client.close();
      if (error instanceof ConvostoreError) throw error;
      throw new UnavailableError(`cannot open the libSQL database ${redact(url)}`, error);
    }
  }
}

/**
 * Per-connection settings for a local libSQL file, as openSqlite sets them for better-sqlite3.
 * Without synchronous = NORMAL every commit fsyncs the WAL (the default FULL) while holding the write
 * lock: ten times longer per write than better-sqlite3, enough for concurrent writer processes to
 * starve one another past the busy timeout.
 */
async function configureLocalConnection(client: Client): Promise<void> {
  await client.execute('PRAGMA synchronous = NORMAL');
}

/**
 * Applies the migrations unless they already are. Two processes opening a new file at once may both
 * start migrating; the loser's CREATE TABLE fails, and it is fine as long as the winner finished.
 */
async function migrateOnce(driver: BetterSqlite3Driver | LibsqlDriver, migrate: () => unknown): Promise<void> {
  if (await isMigrated(driver)) return;
  try {
    await adoptLegacyJournal(driver);
    await migrate();
  } catch (error) {
    if (await isMigrated(driver).catch(() => false)) return;
    throw new UnavailableError('applying the migrations failed', error);
  }
}

/** @libsql/client has no request timeout of its own for remote URLs; its `fetch` hook takes one. */
function fetchWithTimeout(ms: number): (request: Request) => Promise<Response> {
  return (request) => fetch(request, { signal: AbortSignal.timeout(ms) });
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function retryWhileBusy<T>(deadline: number, operation: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return operation();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      // Synchronous, like better-sqlite3 itself.
      Atomics.wait(sleeper, 0, 0, busyBackoffMs(attempt));
    }
  }
}
