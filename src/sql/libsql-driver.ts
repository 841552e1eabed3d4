import type { Client, InValue, ResultSet } from '@libsql/client';
import { KeyedMutex } from '../core/mutex.js';
import { retry } from '../core/retry.js';
import { UnauthorizedError, UnavailableError } from '../errors.js';
import { BUSY_BACKOFF, bind, isBusy, type BatchOptions, type SqlDriver, type Statement, type StatementResult, type Row } from './driver.js';
import type { LocalConnection } from './libsql-local.js';

/** How a remote libSQL driver retries reads and idempotent writes that failed in transit. */
export interface RetryPolicy {
  /** Tries per read or idempotent write, the first included. */
  readonly attempts: number;
  /** Wait before the first retry; it doubles for each further one, with jitter. */
  readonly backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 50 };

/** A local file: the client's connections are native SQLite handles that another process can lock out. */
export interface LocalFileOptions {
  /** How long a call may keep retrying a busy database, in ms (the busy timeout). */
  readonly busyTimeoutMs: number;
  /** Re-applies per-connection settings after the client's connections were replaced. */
  readonly onReconnect?: (client: Client) => Promise<void>;
  /**
   * The file's own native connection, its statements prepared once (see libsql-local.ts): when
   * given, the driver's calls run on it instead of the client.
   */
  readonly connection?: LocalConnection;
}

/**
 * @libsql/client: a batch is one request to a remote database (BEGIN IMMEDIATE … COMMIT as steps of
 * one Hrana batch, so the server runs it as one transaction), and one transaction everywhere.
 *
 * Over the network, failures are sorted here, the one place that knows the transport:
 * - a refused token (HTTP 401/403) is UnauthorizedError, never retried;
 * - a transport failure (5xx, reset socket, timeout) is UnavailableError with the driver's error as
 *   cause. Reads are retried first (`run` only ever reads), and so are write batches marked
 *   idempotent: when the answer is lost the client cannot tell whether the server committed, but a
 *   write whose message ids were made before it was sent stores nothing twice when repeated (the
 *   repeat finds its ids stored identically). Other batches (a fork, a delete that reports a count,
 *   an upsert conditioned on `expectLastIds`) are not retried: a repeat would answer differently.
 *   A batch is all or nothing on the server, so the data is never half-written.
 * - an SQL error passes through unchanged for the SQL layer to interpret (e.g. NOT NULL on seq).
 *
 * Local files need care the client does not take. When SQLite answers SQLITE_BUSY, the native
 * binding leaves the failed statement active (it is never reset, only finalised by the garbage
 * collector), and the pooled connection it ran on is poisoned: its open statement holds a stale read
 * snapshot, so every later write on it fails at once with "database is locked" or "cannot commit
 * transaction - SQL statements in progress". So on SQLITE_BUSY this driver drops the client's
 * connections (`reconnect`) and retries on fresh ones, within the busy timeout. Its calls on a local
 * file run one at a time (they are synchronous native calls anyway), so a reconnect never pulls a
 * connection from under another call of this store.
 *
 * A file convostore opened itself runs on a native connection of its own with each statement
 * prepared once (`LocalFileOptions.connection`, libsql-local.ts), as the client prepares every
 * statement on every call; the same rules hold there (one call at a time, a fresh connection after
 * SQLITE_BUSY).
 */
export class LibsqlDriver implements SqlDriver {
  readonly name = 'libsql';
  readonly #client: Client;
  readonly #retry: RetryPolicy | undefined;
  readonly #localFile: LocalFileOptions | undefined;
  readonly #closesClient: boolean;
  /** One key: on a local file, calls run one at a time. */
  readonly #calls = new KeyedMutex();

  /**
   * `retry` only for a remote database; a local file has no transport to fail, but has locks.
   * `closesClient: false` for a client the application gave and keeps: close() leaves it open.
   */
  constructor(client: Client, retry?: RetryPolicy, localFile?: LocalFileOptions, closesClient = true) {
    this.#client = client;
    this.#retry = retry;
    this.#localFile = localFile;
    this.#closesClient = closesClient;
  }

  get client(): Client {
    return this.#client;
  }

  async run(statement: Statement): Promise<StatementResult> {
    const connection = this.#localFile?.connection;
    if (connection) return this.#local(async () => connection.run(statement, args(statement)));
    const query = { sql: statement.query.sql, args: args(statement) };
    return this.#local(() => this.#retrying('the read', async () => toResult(await this.#client.execute(query), statement.tuples)));
  }

  async batch(statements: Statement[], options: BatchOptions = {}): Promise<StatementResult[]> {
    const connection = this.#localFile?.connection;
    if (connection) return this.#local(async () => connection.batch(statements, statements.map(args)));
    const steps = statements.map((s) => ({ sql: s.query.sql, args: args(s) }));
    const send = async () => (await this.#client.batch(steps, 'write')).map((result, i) => toResult(result, statements[i]!.tuples));
    if (options.idempotent) return this.#local(() => this.#retrying('the write transaction', send));
    return this.#local(async () => {
      try {
        return await send();
      } catch (error) {
        throw translate(
          error,
          classify(error),
          'the write transaction failed in transit; it was applied entirely or not at all, and the client cannot tell which',
        );
      }
    });
  }

  /** Transport failures are tried again under the retry policy (remote only); the rest are sorted once. */
  #retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
    const policy = this.#retry;
    return retry(operation, {
      // Full jitter over twice the policy's wait: on average the documented wait, doubling per retry.
      baseMs: 2 * (policy?.backoffMs ?? 0),
      capMs: Infinity,
      attempts: policy?.attempts ?? 1,
      retryable: (error) => policy !== undefined && classify(error) === 'transport',
      giveUp: (error, attempts) => translate(error, classify(error), attempts === 1 ? `${what} failed` : `${what} failed ${attempts} times`),
    });
  }

  async close(): Promise<void> {
    await this.#calls.idle();
    this.#localFile?.connection?.close();
    if (this.#closesClient) this.#client.close();
  }

  /** On a local file: one call at a time, and a busy database is retried on fresh connections. */
  #local<T>(operation: () => Promise<T>): Promise<T> {
    const local = this.#localFile;
    if (!local) return operation();
    // A failed batch was rolled back whole and a failed single statement never applied: a retry is safe.
    return this.#calls.run('', () =>
      retry(operation, {
        ...BUSY_BACKOFF,
        deadlineMs: local.busyTimeoutMs,
        retryable: isBusy,
        // Even before giving up: the next call must not meet the poisoned connection.
        onFailure: async () => {
          if (local.connection) return local.connection.reset();
          await this.#client.reconnect();
          await local.onReconnect?.(this.#client);
        },
      }),
    );
  }
}

type Failure = 'auth' | 'transport' | 'sql';

const TRANSPORT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** Walks the cause chain: @libsql/client wraps the Hrana client's error, which wraps fetch's. */
function classify(error: unknown): Failure {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const status = (e as { status?: unknown }).status;
    if (status === 401 || status === 403) return 'auth';
    if (typeof status === 'number' && (status >= 500 || status === 429)) return 'transport';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return 'transport';
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'transport';
    if (e instanceof TypeError && e.message === 'fetch failed') return 'transport';
  }
  return 'sql';
}

function translate(error: unknown, failure: Failure, transit: string): unknown {
  if (failure === 'auth') return new UnauthorizedError('the libSQL server refused the auth token', error);
  if (failure === 'transport') return new UnavailableError(`the libSQL server is unavailable: ${transit}`, error);
  return error;
}

/**
 * Integers go as Hrana integers, not floats: @libsql/client sends a JS number as a float, and a REAL
 * where SQLite expects an integer (LIMIT, seq bounds, INTEGER columns) is only coerced back by
 * affinity rules. Only our own numbers are bound here (ids and content are text).
 */
function args(statement: Statement): InValue[] {
  return bind(statement).map((v) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v)) as InValue[];
}

function toResult(result: ResultSet, tuples: true | undefined): StatementResult {
  // Rows are array-like objects (values by index) that also carry each column by name.
  if (tuples) return { rows: [], tuples: result.rows as unknown as unknown[][], changes: result.rowsAffected };
  // Copy the names only.
  const rows = result.rows.map((row) => {
    const out: Row = {};
    for (const column of result.columns) out[column] = row[column];
    return out;
  });
  return { rows, changes: result.rowsAffected };
}
