/**
 * A connection's statements, each prepared once, for the two native bindings with better-sqlite3's
 * API: better-sqlite3 itself, and `libsql` (which @libsql/client runs local files on).
 */
import type { Row, Statement, StatementResult } from './driver.js';

/** What is used of a prepared statement; both bindings' statements have it. */
export interface NativeStatement {
  readonly reader: boolean;
  raw(on?: boolean): unknown;
  all(args: unknown[]): unknown[];
  run(args: unknown[]): { changes: number };
}

export class PreparedStatements {
  readonly #prepare: (sql: string) => NativeStatement;
  readonly #objects = new Map<string, NativeStatement>();
  /** The same statements in raw mode (rows as arrays), prepared apart: the mode is per statement object. */
  readonly #tuples = new Map<string, NativeStatement>();

  constructor(prepare: (sql: string) => NativeStatement) {
    this.#prepare = prepare;
  }

  /** Runs `statement` with its bound `args` (in the binding's own types). */
  exec(statement: Statement, args: unknown[]): StatementResult {
    const { sql } = statement.query;
    const cache = statement.tuples ? this.#tuples : this.#objects;
    let prepared = cache.get(sql);
    if (!prepared) {
      prepared = this.#prepare(sql);
      if (statement.tuples) prepared.raw(true);
      cache.set(sql, prepared);
    }
    if (statement.tuples) {
      const tuples = prepared.all(args) as unknown[][];
      return { rows: [], tuples, changes: tuples.length };
    }
    if (prepared.reader) {
      const rows = prepared.all(args) as Row[];
      return { rows, changes: rows.length };
    }
    return { rows: [], changes: prepared.run(args).changes };
  }
}
