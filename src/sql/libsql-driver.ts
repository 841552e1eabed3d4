import type { Client, InArgs, ResultSet } from '@libsql/client';
import { bind, type SqlDriver, type Statement, type StatementResult, type Row } from './driver.js';

export interface LibsqlDriverOptions {
  /**
   * A local file: the client's connections are native SQLite handles in this process, and another
   * process can hold the write lock.
   */
  local: boolean;
  /** How long a call may keep retrying a busy local database, in ms (the busy timeout). */
  busyTimeoutMs: number;
  /** Re-applies per-connection settings after the client's connections were replaced. */
  onReconnect?: (client: Client) => Promise<void>;
}

/**
 * @libsql/client: a batch is one request to a remote database, and one transaction everywhere.
 *
 * Local files need care the client does not take. When SQLite answers SQLITE_BUSY, the native
 * binding leaves the failed statement active (it is never reset, only finalised by the garbage
 * collector), and the pooled connection it ran on is poisoned: its open statement holds a stale read
 * snapshot, so every later write on it fails at once with "database is locked" or "cannot commit
 * transaction - SQL statements in progress". Four processes writing one file turned a single busy
 * timeout into a run of failures that way. So on SQLITE_BUSY this driver drops the client's
 * connections (`reconnect`) and retries on fresh ones, within the busy timeout. Its calls on a local
 * file run one at a time (they are synchronous native calls anyway), so a reconnect never pulls a
 * connection from under another call of this store.
 */
export class LibsqlDriver implements SqlDriver {
  readonly name = 'libsql';
  readonly #client: Client;
  readonly #options: LibsqlDriverOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(client: Client, options: LibsqlDriverOptions = { local: false, busyTimeoutMs: 0 }) {
    this.#client = client;
    this.#options = options;
  }

  get client(): Client {
    return this.#client;
  }

  async run(statement: Statement): Promise<StatementResult> {
    return this.#call(async () => toResult(await this.#client.execute({ sql: statement.query.sql, args: bind(statement) as InArgs })));
  }

  async batch(statements: Statement[]): Promise<StatementResult[]> {
    return this.#call(async () => {
      const results = await this.#client.batch(
        statements.map((s) => ({ sql: s.query.sql, args: bind(s) as InArgs })),
        'write',
      );
      return results.map(toResult);
    });
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
    this.#client.close();
  }

  #call<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#options.local) return operation();
    const result = this.#queue.catch(() => undefined).then(() => this.#retryBusy(operation));
    this.#queue = result;
    return result;
  }

  /** A failed statement was rolled back whole (batch) or never applied (single), so a retry is safe. */
  async #retryBusy<T>(operation: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#options.busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (!isBusy(error)) throw error;
        await this.#client.reconnect();
        await this.#options.onReconnect?.(this.#client);
        if (Date.now() >= deadline) throw error;
        // Jittered back-off so retrying processes do not collide in step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * 2 ** attempt)));
      }
    }
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function toResult(result: ResultSet): StatementResult {
  // Rows are array-like objects that also carry each column by name; copy the names only.
  const rows = result.rows.map((row) => {
    const out: Row = {};
    for (const column of result.columns) out[column] = row[column];
    return out;
  });
  return { rows, changes: result.rowsAffected };
}
