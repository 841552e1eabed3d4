/**
 * What opening a libSQL database means once a client exists, for Node (libsql/index.ts) and edge
 * runtimes (libsql/web.ts) alike. Nothing here imports a driver or a Node built-in.
 */
import type { Client } from '@libsql/client';
import type { LibSQLDatabase } from 'drizzle-orm/libsql';
import { checkOptions, checkPositiveInt } from '../core/validate.js';
import { ConvostoreError, UnavailableError, ValidationError } from '../errors.js';
import { redactError } from '../redact.js';
import { enableWal } from '../sql/statements.js';
import { DEFAULT_RETRY, LibsqlDriver } from '../sql/libsql-driver.js';
import { LocalConnection, type NativeDatabase } from '../sql/libsql-local.js';
import { assertLatestSchema } from '../sql/schema-version.js';
import { SqlBackend } from '../sql/sql-backend.js';
import { DEFAULT_BUSY_TIMEOUT_MS, DEFAULT_MAX_MESSAGE_BYTES, type ConvostoreSchema, type SqlOptions } from '../sql/sql-store.js';
import type { StoreOptions } from '../types.js';
import type { LibsqlTarget } from '../url.js';

export interface LibsqlOptions extends SqlOptions {
  /** A remote database's token; default: the URL's `authToken` parameter, else TURSO_AUTH_TOKEN (Node). */
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

/** The options, checked before anything is opened; what is left is the store's own. */
export interface CheckedLibsqlOptions {
  authToken: string | undefined;
  migrate: boolean | undefined;
  requestTimeoutMs: number;
  busyTimeoutMs: number;
  maxMessageBytes: number;
  closeDriver: boolean;
  store: StoreOptions;
}

export function checkLibsqlOptions(options: LibsqlOptions): CheckedLibsqlOptions {
  const { maxMessageBytes, busyTimeoutMs, authToken, migrate, requestTimeoutMs, closeDriver, ...store } = checkOptions<LibsqlOptions>('options', options);
  return {
    authToken,
    migrate,
    requestTimeoutMs: checkPositiveInt('options.requestTimeoutMs', requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS, 2 ** 31 - 1),
    busyTimeoutMs: checkPositiveInt('options.busyTimeoutMs', busyTimeoutMs, DEFAULT_BUSY_TIMEOUT_MS, 2 ** 31 - 1),
    maxMessageBytes: checkPositiveInt('options.maxMessageBytes', maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, Number.MAX_SAFE_INTEGER),
    closeDriver: closeDriver === true,
    store,
  };
}

/** The client options convostore sets for a target (the caller adds the client-specific ones). */
export function clientConfig(target: LibsqlTarget, options: CheckedLibsqlOptions) {
  const remote = target.transport === 'remote';
  return {
    url: target.url,
    authToken: options.authToken,
    intMode: 'number' as const,
    timeout: options.busyTimeoutMs,
    ...(remote ? { fetch: fetchWithTimeout(options.requestTimeoutMs) } : {}),
    // A local file gets one connection: pragmas such as synchronous are per connection, and a
    // pool would open later connections without them (the driver re-applies them on reconnect).
    ...(target.transport === 'file' ? { concurrency: 1 } : {}),
  };
}

/** @libsql/client has no request timeout of its own for remote URLs; its `fetch` hook takes one. */
function fetchWithTimeout(ms: number): (request: Request) => Promise<Response> {
  return (request) => fetch(request, { signal: AbortSignal.timeout(ms) });
}

/** A client and what is known of it: its transport, how it may be printed, whether the store owns it. */
export interface LibsqlConnection {
  client: Client;
  transport: LibsqlTarget['transport'];
  /** The URL as it may be printed (redacted). */
  shown: string;
  /** Close the client with the store (convostore opened it, or the caller asked). */
  ownsClient: boolean;
  /** Literal secrets to keep out of every message (the token). */
  secrets: readonly (string | undefined)[];
  /**
   * Opens the client's file natively (Node, a file convostore opened itself): the store then runs
   * on that connection with its statements prepared once (sql/libsql-local.ts).
   */
  openNative?: (path: string, options: { timeout: number }) => NativeDatabase;
}

/** What differs between runtimes: the Drizzle wrapper, migrate-on-open (Node only), the store's class. */
export interface LibsqlRuntime<S> {
  drizzle(client: Client): LibSQLDatabase<ConvostoreSchema>;
  /**
   * Applies the bundled migrations; absent where there is no file system to read them from. `db`
   * builds the Drizzle database, only when a migration is due.
   */
  migrate?: (driver: LibsqlDriver, db: () => LibSQLDatabase<ConvostoreSchema>) => Promise<void>;
  /** `db` creates the Drizzle database on first call (first access to `store.db`, or a migration). */
  store(backend: SqlBackend, db: () => LibSQLDatabase<ConvostoreSchema>, options: StoreOptions): S;
}

/** The transport of a client someone else created. */
export function transportOf(client: Client): LibsqlTarget['transport'] {
  return client.protocol === 'file' ? 'file' : 'remote';
}

/** Wires a client into a store: local settings, WAL, then migrate (local) or check the schema (remote). */
export async function connectLibsql<S>(connection: LibsqlConnection, options: CheckedLibsqlOptions, runtime: LibsqlRuntime<S>): Promise<S> {
  const { client, transport, shown, ownsClient, secrets, openNative } = connection;
  const file = transport === 'file';
  const local = transport !== 'remote';
  let driver: LibsqlDriver | undefined;
  let orm: LibSQLDatabase<ConvostoreSchema> | undefined;
  const db = () => (orm ??= runtime.drizzle(client));
  try {
    if (file) await configureLocalConnection(client);
    const native = file && openNative ? await nativeConnection(client, openNative, options.busyTimeoutMs) : undefined;
    driver = new LibsqlDriver(
      client,
      local ? undefined : DEFAULT_RETRY,
      file ? { busyTimeoutMs: options.busyTimeoutMs, onReconnect: configureLocalConnection, connection: native } : undefined,
      ownsClient,
    );
    if (file) {
      // Through the driver: when another process is switching the same new file to WAL, SQLite
      // answers SQLITE_BUSY at once, and the driver retries that on fresh connections.
      await driver.run({ query: enableWal, values: {} });
    }
    const migrate = options.migrate ?? local;
    if (migrate && !runtime.migrate) {
      throw new ValidationError('options.migrate', `${shown}: migrations are applied from Node (\`convostore migrate\`), not from this runtime`);
    }
    if (migrate) await runtime.migrate!(driver, db);
    else await assertLatestSchema(driver, shown);
    return runtime.store(new SqlBackend(driver, options.maxMessageBytes), db, options.store);
  } catch (error) {
    if (driver) await driver.close().catch(() => undefined);
    else if (ownsClient) client.close();
    redactError(error, secrets);
    if (error instanceof ConvostoreError) throw error;
    throw new UnavailableError(`cannot open the libSQL database ${shown}`, error);
  }
}

/**
 * Per-connection settings for a local libSQL file, as the SQLite opener sets them for better-sqlite3.
 * Without synchronous = NORMAL every commit fsyncs the WAL (the default FULL) while holding the write
 * lock: ten times longer per write than better-sqlite3, enough for concurrent writer processes to
 * starve one another past the busy timeout.
 */
async function configureLocalConnection(client: Client): Promise<void> {
  await client.execute(LOCAL_SETTINGS);
}

const LOCAL_SETTINGS = 'PRAGMA synchronous = NORMAL';

/**
 * The store's own connection to the client's file, with the same settings on every connection it
 * opens (again after SQLITE_BUSY). The file is the one the client opened, as SQLite names it, so
 * the two never disagree on how a `file:` URL maps to a path.
 */
async function nativeConnection(client: Client, openNative: NonNullable<LibsqlConnection['openNative']>, busyTimeoutMs: number): Promise<LocalConnection | undefined> {
  const { rows } = await client.execute('PRAGMA database_list');
  const path = rows.find((row) => row.name === 'main')?.file;
  // No file name: a temporary or in-memory database, which only the client's connection can see.
  if (typeof path !== 'string' || path === '') return undefined;
  return new LocalConnection(() => {
    const db = openNative(path, { timeout: busyTimeoutMs });
    try {
      db.exec(LOCAL_SETTINGS);
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  });
}
