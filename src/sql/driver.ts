/**
 * The one seam between convostore's SQL and a driver. The statements are written once (queries.ts);
 * a driver only knows how to run one of them, or several atomically: better-sqlite3 in a synchronous
 * BEGIN IMMEDIATE transaction, @libsql/client as one `batch` (one round trip to a remote database).
 */
import type { Backoff } from '../core/retry.js';

/** A bound parameter: a placeholder filled per call from the statement's values, or a literal. */
export type Param = { readonly name: string } | number | string | null;

/** A statement's SQL text and its parameters, in order: plain data, no Drizzle at run time. */
export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly Param[];
}

export interface Statement {
  query: CompiledQuery;
  values: Record<string, unknown>;
  /**
   * Rows as arrays of column values in the statement's column order (`StatementResult.tuples`), not
   * objects: better-sqlite3 builds a row object through its C++ API at about 0.7 µs per row here,
   * 15% of a 20-message window read; an array is made at a fraction of that.
   */
  tuples?: true;
}

export type Row = Record<string, unknown>;

export interface BatchOptions {
  idempotent?: boolean;
}

export interface StatementResult {
  /** The rows as objects by column name; empty for a statement read as `tuples`. */
  rows: Row[];
  /** The rows as arrays, for a statement marked `tuples` (else absent). */
  tuples?: unknown[][];
  changes: number;
}

export interface SqlDriver {
  readonly name: 'sqlite' | 'libsql';
  /**
   * One read-only statement outside any explicit transaction. Being a read, it is safe to repeat, so
   * a remote driver may retry it after a transport failure. Every write goes through `batch`.
   */
  run(statement: Statement): Promise<StatementResult>;
  /**
   * All statements in one write transaction: every one applies or none does. `idempotent`: applying
   * the batch twice leaves what applying it once does (a write whose message ids make a repeat a
   * no-op), so a remote driver may send it again when the answer was lost in transit.
   */
  batch(statements: Statement[], options?: BatchOptions): Promise<StatementResult[]>;
  close(): Promise<void>;
}

/** SQLITE_BUSY and its extended codes, as both drivers report them in `code`. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Waits before retrying a busy database (within the busy timeout): from [0, 5 ms), doubling up to 100 ms. */
export const BUSY_BACKOFF: Backoff = { baseMs: 5, capMs: 100 };

/** The statement's arguments: each placeholder takes its value, a literal stays (as drizzle's fillPlaceholders). */
export function bind(statement: Statement): unknown[] {
  const { values } = statement;
  return statement.query.params.map((param) => {
    if (param === null || typeof param !== 'object') return param;
    if (!(param.name in values)) throw new Error(`No value for placeholder "${param.name}" was provided`);
    return values[param.name];
  });
}
