/**
 * A local libSQL file run on a native connection of its own, each statement prepared once.
 *
 * @libsql/client runs a local file on the `libsql` package (a native SQLite binding with
 * better-sqlite3's API) but prepares every statement again on every `execute` and every step of a
 * `batch`: it keeps no prepared statement. For the store's statements, preparing costs more than
 * running them: an append (window 20) took 1.4 ms through the client against 0.34 ms on one
 * connection of the same binding with its statements kept (2026-11-29, quiet machine; preparing was
 * a third of the CPU profile, the binding's `raw()` probe throwing for every write statement a
 * further 8%). The client stays for what needs it (migrations, `store.db`).
 */
import type { Statement, StatementResult } from './driver.js';
import { PreparedStatements, type NativeStatement } from './prepared.js';

/** What this module uses of a `libsql` Database. */
export interface NativeDatabase {
  prepare(sql: string): NativeStatement;
  exec(sql: string): unknown;
  close(): void;
  readonly inTransaction: boolean;
}

export class LocalConnection {
  readonly #open: () => NativeDatabase;
  /** The open connection and its statements; none between a reset and the next call. */
  #current: { db: NativeDatabase; statements: PreparedStatements } | undefined;

  /** `open` returns a connection with its per-connection settings applied; it is called again after `reset`. */
  constructor(open: () => NativeDatabase) {
    this.#open = open;
  }

  run(statement: Statement, args: unknown[]): StatementResult {
    return this.#connection().statements.exec(statement, args);
  }

  /** All in one BEGIN IMMEDIATE transaction (as @libsql/client's 'write' batch): applied whole or rolled back. */
  batch(statements: Statement[], args: unknown[][]): StatementResult[] {
    const { db, statements: prepared } = this.#connection();
    db.exec('BEGIN IMMEDIATE');
    try {
      const results = statements.map((statement, i) => prepared.exec(statement, args[i]!));
      db.exec('COMMIT');
      return results;
    } catch (error) {
      if (db.inTransaction) {
        try {
          db.exec('ROLLBACK');
        } catch {
          // A connection that cannot roll back is not reused.
          this.reset();
        }
      }
      throw error;
    }
  }

  /**
   * Drops the connection and its statements; the next call opens a fresh one. After SQLITE_BUSY,
   * as the driver does with the client's connections: a connection a busy failure left a statement
   * on must not serve the next call.
   */
  reset(): void {
    const db = this.#current?.db;
    this.#current = undefined;
    try {
      db?.close();
    } catch {
      // Nothing more to release.
    }
  }

  close(): void {
    this.reset();
  }

  #connection(): { db: NativeDatabase; statements: PreparedStatements } {
    if (this.#current) return this.#current;
    const db = this.#open();
    return (this.#current = { db, statements: new PreparedStatements((sql) => db.prepare(sql)) });
  }
}
