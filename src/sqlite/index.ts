/**
 * `convostore/sqlite`: a local SQLite file through better-sqlite3, migrated on open, in WAL mode with
 * a busy timeout — or a better-sqlite3 `Database` you opened.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { retrySync } from '../core/retry.js';
import { checkOptions, checkPositiveInt } from '../core/validate.js';
import { UnavailableError, ValidationError } from '../errors.js';
import { BetterSqlite3Driver } from '../sql/better-sqlite3-driver.js';
import { BUSY_BACKOFF, isBusy } from '../sql/driver.js';
import { SqlChatStorage } from '../sql/index.js';
import { migrateOnce } from '../sql/migrate-on-open.js';
import { migratorConfig } from '../sql/migrations.js';
import { SqlBackend } from '../sql/sql-backend.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_MAX_MESSAGE_BYTES, type SqlOptions } from '../sql/sql-store.js';

export { SqlChatStorage, SqlStore, type SqlDatabase, type ConvostoreSchema, type SqlOptions } from '../sql/index.js';

export type SqliteOptions = SqlOptions;

const require = createRequire(import.meta.url);
// better-sqlite3 is CommonJS: required, it loads at once; imported from an ES module, Node first
// parses its source for named exports (~8 ms more of a cold start here).
const Database = require('better-sqlite3') as typeof BetterSqlite3;

/**
 * Opens a SQLite file (created with its folder when missing; `:memory:` for a private database), or
 * wraps a better-sqlite3 `Database` you opened: convostore then turns on foreign keys (its deletes
 * cascade), leaves the journal mode and busy timeout to you, and does not close it when the store
 * closes unless `closeDriver: true`.
 */
export async function openSqlite(database: string | BetterSqlite3.Database, options: SqliteOptions = {}): Promise<SqlChatStorage> {
  const { maxMessageBytes, busyTimeoutMs, closeDriver, ...storeOptions } = checkOptions<SqliteOptions>('options', options);
  const timeout = checkPositiveInt('options.busyTimeoutMs', busyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS, 2 ** 31 - 1);
  const maxBytes = checkPositiveInt('options.maxMessageBytes', maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, Number.MAX_SAFE_INTEGER);
  const given = typeof database !== 'string';
  if (given && !(database instanceof Database)) {
    throw new ValidationError('database', 'must be a file path or a better-sqlite3 Database');
  }
  const db = given ? database : openFile(database, timeout);
  const driver = new BetterSqlite3Driver(db, !given || closeDriver === true);
  try {
    db.pragma('foreign_keys = ON');
    // Drizzle loads only when a migration is due or on first access to `store.db`: opening a migrated
    // file and using the store run convostore's precompiled statements (sql/statements.ts).
    let orm: ReturnType<typeof import('./orm.js').sqliteOrm> | undefined;
    const getOrm = () => (orm ??= (require('./orm.js') as typeof import('./orm.js')).sqliteOrm(db));
    await migrateOnce(driver, async () => {
      const { migrate } = await import('drizzle-orm/better-sqlite3/migrator');
      migrate(getOrm(), migratorConfig);
    });
    return new SqlChatStorage(new SqlBackend(driver, maxBytes), getOrm, storeOptions);
  } catch (error) {
    await driver.close();
    throw error;
  }
}

/**
 * The addon's path, when it is where better-sqlite3 builds or downloads it. Without it better-sqlite3
 * asks the `bindings` package, which probes a dozen candidate paths by requiring them: ~10 ms of
 * every cold start here. Elsewhere (a custom build) `undefined` lets it search as usual.
 */
let addonPath: string | null | undefined;
function nativeBinding(): string | undefined {
  if (addonPath === undefined) {
    try {
      addonPath = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      addonPath = null;
    }
  }
  return addonPath ?? undefined;
}

function openFile(path: string, timeout: number): BetterSqlite3.Database {
  let database: BetterSqlite3.Database | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    database = new Database(path, { timeout, nativeBinding: nativeBinding() });
    const db = database;
    // Switching a new file to WAL needs an exclusive lock; when two processes open it at once,
    // SQLite refuses one with SQLITE_BUSY at once instead of calling the busy handler (both hold a
    // shared lock, so waiting could deadlock). Retrying within the busy timeout is safe; the wait
    // blocks, as better-sqlite3 itself does.
    retrySync(() => db.pragma('journal_mode = WAL'), { ...BUSY_BACKOFF, deadlineMs: timeout, retryable: isBusy });
    // NORMAL in WAL mode is durable against application crashes; a power cut may lose the last
    // commits but never corrupts the file.
    database.pragma('synchronous = NORMAL');
    return database;
  } catch (error) {
    database?.close();
    throw new UnavailableError(`cannot open the SQLite file ${path}`, error);
  }
}
