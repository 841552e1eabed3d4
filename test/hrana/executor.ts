/**
 * One Hrana stream of the sqld stand-in: one better-sqlite3 connection, its stored SQL texts, and the
 * execution of the stream requests on it. A stream keeps its connection for its whole life, so a
 * BEGIN in one HTTP request and a COMMIT in a later one (a baton apart) stay one transaction, and
 * closing the stream (or letting it expire) rolls back whatever it left open, as sqld does.
 */
import Database from 'better-sqlite3';
import {
  ProtocolError,
  type Batch,
  type BatchCond,
  type BatchResult,
  type HranaError,
  type Stmt,
  type StmtResult,
  type StreamRequest,
  type StreamResponse,
  type Value,
} from './protocol.js';

export class HranaStream {
  readonly #db: Database.Database;
  readonly #sqls = new Map<number, string>();
  readonly #version: 2 | 3;

  constructor(file: string, version: 2 | 3) {
    // No busy wait: the stand-in runs every pipeline synchronously on one thread, so a connection
    // waiting for another stream's lock would wait for ever; it reports SQLITE_BUSY at once instead.
    this.#db = new Database(file, { timeout: 0 });
    this.#version = version;
  }

  get isAutocommit(): boolean {
    return !this.#db.inTransaction;
  }

  /** Closing a connection inside a transaction rolls it back. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }

  handle(request: StreamRequest): StreamResponse {
    switch (request.type) {
      case 'execute':
        return { type: 'execute', result: this.execute(request.stmt) };
      case 'batch':
        return { type: 'batch', result: this.batch(request.batch) };
      case 'sequence':
        this.#db.exec(this.#sql(request.sql, request.sql_id));
        return { type: 'sequence' };
      case 'store_sql':
        if (this.#sqls.has(request.sql_id)) throw new ProtocolError(`sql_id ${request.sql_id} is already stored`, 'SQL_STORE_FAILED');
        this.#sqls.set(request.sql_id, request.sql);
        return { type: 'store_sql' };
      case 'close_sql':
        this.#sqls.delete(request.sql_id);
        return { type: 'close_sql' };
      case 'get_autocommit':
        if (this.#version < 3) throw new ProtocolError('get_autocommit needs Hrana 3 (POST /v3/pipeline)');
        return { type: 'get_autocommit', is_autocommit: this.isAutocommit };
      case 'close':
        this.close();
        return { type: 'close' };
      default:
        throw new ProtocolError(`unsupported request type ${JSON.stringify((request as { type: unknown }).type)}`);
    }
  }

  execute(stmt: Stmt): StmtResult {
    const prepared = this.#db.prepare(this.#sql(stmt.sql, stmt.sql_id));
    const args = bindArgs(stmt);
    if (prepared.reader) {
      prepared.raw(true).safeIntegers(true);
      const cols = prepared.columns().map((c) => ({ name: c.name, decltype: c.type }));
      const rows = stmt.want_rows === false ? [] : (prepared.all(...args) as unknown[][]).map((row) => row.map(encodeValue));
      return { cols, rows, affected_row_count: 0, last_insert_rowid: null };
    }
    prepared.safeIntegers(true);
    const info = prepared.run(...args);
    return { cols: [], rows: [], affected_row_count: info.changes, last_insert_rowid: String(info.lastInsertRowid) };
  }

  /**
   * Hrana batch semantics: each step runs when its condition holds, a failed step does not stop the
   * batch, and a skipped step has neither result nor error. `stopAfter` is the fault hook: the
   * stand-in crashes (throws) after that many executed steps, leaving any transaction open.
   */
  batch(batch: Batch, stopAfter = Infinity): BatchResult {
    const step_results: Array<StmtResult | null> = [];
    const step_errors: Array<HranaError | null> = [];
    let executed = 0;
    batch.steps.forEach((step, i) => {
      step_results[i] = null;
      step_errors[i] = null;
      if (step.condition && !this.#holds(step.condition, step_results, step_errors, i)) return;
      if (executed++ >= stopAfter) throw new CrashError(i);
      try {
        step_results[i] = this.execute(step.stmt);
      } catch (error) {
        step_errors[i] = toHranaError(error);
      }
    });
    return { step_results, step_errors };
  }

  #holds(cond: BatchCond, results: Array<StmtResult | null>, errors: Array<HranaError | null>, current: number): boolean {
    const before = (step: number) => {
      if (!Number.isInteger(step) || step < 0 || step >= current) {
        throw new ProtocolError(`batch condition refers to step ${step}, which is not before step ${current}`);
      }
      return step;
    };
    switch (cond.type) {
      case 'ok':
        return results[before(cond.step)] !== null;
      case 'error':
        return errors[before(cond.step)] !== null;
      case 'not':
        return !this.#holds(cond.cond, results, errors, current);
      case 'and':
        return cond.conds.every((c) => this.#holds(c, results, errors, current));
      case 'or':
        return cond.conds.some((c) => this.#holds(c, results, errors, current));
      case 'is_autocommit':
        if (this.#version < 3) throw new ProtocolError('the is_autocommit condition needs Hrana 3');
        return this.isAutocommit;
      default:
        throw new ProtocolError(`unsupported batch condition ${JSON.stringify((cond as { type: unknown }).type)}`);
    }
  }

  #sql(sql: string | null | undefined, sqlId: number | null | undefined): string {
    if (typeof sql === 'string') return sql;
    if (typeof sqlId === 'number') {
      const stored = this.#sqls.get(sqlId);
      if (stored === undefined) throw new ProtocolError(`sql_id ${sqlId} is not stored on this stream`, 'SQL_NOT_FOUND');
      return stored;
    }
    throw new ProtocolError('a statement needs sql or sql_id');
  }
}

/** The stand-in "crashed" in the middle of a batch; the server drops the stream and the socket. */
export class CrashError extends Error {
  constructor(step: number) {
    super(`crashed before batch step ${step}`);
  }
}

export function toHranaError(error: unknown): HranaError {
  if (error instanceof ProtocolError) return { message: error.message, code: error.code };
  const code = (error as { code?: unknown }).code;
  // sqld reports SQLite's own message text; clients match on it (e.g. "NOT NULL constraint failed").
  return { message: error instanceof Error ? error.message : String(error), code: typeof code === 'string' ? code : 'SQLITE_ERROR' };
}

function bindArgs(stmt: Stmt): unknown[] {
  const positional = (stmt.args ?? []).map(decodeValue);
  if (!stmt.named_args?.length) return positional;
  // better-sqlite3 names parameters without their prefix (`:`, `@` or `$`).
  const named: Record<string, unknown> = {};
  for (const { name, value } of stmt.named_args) named[name.replace(/^[:@$]/, '')] = decodeValue(value);
  return [...positional, named];
}

/** A Hrana float is bound as a REAL and an integer as an INTEGER, as sqld binds them. */
function decodeValue(value: Value): unknown {
  switch (value.type) {
    case 'null':
      return null;
    case 'integer':
      return BigInt(value.value);
    case 'float':
      return value.value;
    case 'text':
      return value.value;
    case 'blob':
      return Buffer.from(value.base64, 'base64');
    default:
      throw new ProtocolError(`unsupported value type ${JSON.stringify((value as { type: unknown }).type)}`);
  }
}

function encodeValue(value: unknown): Value {
  if (value === null) return { type: 'null' };
  if (typeof value === 'bigint') return { type: 'integer', value: String(value) };
  if (typeof value === 'number') return { type: 'float', value };
  if (typeof value === 'string') return { type: 'text', value };
  if (Buffer.isBuffer(value)) return { type: 'blob', base64: value.toString('base64') };
  throw new Error(`cannot encode a ${typeof value} as a Hrana value`);
}
