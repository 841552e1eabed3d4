/**
 * The one seam between convostore's SQL and a driver. The statements are written once (queries.ts);
 * a driver only knows how to run one of them, or several atomically: better-sqlite3 in a synchronous
 * BEGIN IMMEDIATE transaction, @libsql/client as one `batch` (one round trip to a remote database).
 */
import { fillPlaceholders, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';

export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly unknown[];
}

export interface Statement {
  query: CompiledQuery;
  values: Record<string, unknown>;
}

export type Row = Record<string, unknown>;

export interface BatchOptions {
  idempotent?: boolean;
}

export interface StatementResult {
  rows: Row[];
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

const dialect = new SQLiteSyncDialect();

/** Compiles a Drizzle `sql` template once; its `sql.placeholder`s are filled per call by `bind`. */
export function compile(query: SQL): CompiledQuery {
  const { sql, params } = dialect.sqlToQuery(query);
  return { sql, params };
}

/** SQLITE_BUSY and its extended codes, as both drivers report them in `code`. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Jittered, capped back-off before retrying a busy database, so retrying processes do not collide in step. */
export function busyBackoffMs(attempt: number): number {
  return Math.random() * Math.min(100, 5 * 2 ** attempt);
}

export function bind(statement: Statement): unknown[] {
  return fillPlaceholders(statement.query.params as unknown[], statement.values);
}
