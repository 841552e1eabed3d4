/**
 * The JSON shapes of Hrana over HTTP (libSQL docs/HTTP_V2_SPEC.md, HRANA_2_SPEC.md, HRANA_3_SPEC.md),
 * only as far as the test stand-in for sqld needs them. Field names are the wire's (snake_case).
 */

export type Value =
  | { type: 'null' }
  | { type: 'integer'; value: string }
  | { type: 'float'; value: number }
  | { type: 'text'; value: string }
  | { type: 'blob'; base64: string };

export interface Stmt {
  sql?: string | null;
  sql_id?: number | null;
  args?: Value[];
  named_args?: Array<{ name: string; value: Value }>;
  want_rows?: boolean;
}

export interface StmtResult {
  cols: Array<{ name: string | null; decltype: string | null }>;
  rows: Value[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

export type BatchCond =
  | { type: 'ok'; step: number }
  | { type: 'error'; step: number }
  | { type: 'not'; cond: BatchCond }
  | { type: 'and'; conds: BatchCond[] }
  | { type: 'or'; conds: BatchCond[] }
  | { type: 'is_autocommit' };

export interface Batch {
  steps: Array<{ condition?: BatchCond | null; stmt: Stmt }>;
}

export interface BatchResult {
  step_results: Array<StmtResult | null>;
  step_errors: Array<HranaError | null>;
}

export interface HranaError {
  message: string;
  code?: string | null;
}

export type StreamRequest =
  | { type: 'close' }
  | { type: 'execute'; stmt: Stmt }
  | { type: 'batch'; batch: Batch }
  | { type: 'sequence'; sql?: string | null; sql_id?: number | null }
  | { type: 'describe'; sql?: string | null; sql_id?: number | null }
  | { type: 'store_sql'; sql_id: number; sql: string }
  | { type: 'close_sql'; sql_id: number }
  | { type: 'get_autocommit' };

export type StreamResponse =
  | { type: 'close' }
  | { type: 'execute'; result: StmtResult }
  | { type: 'batch'; result: BatchResult }
  | { type: 'sequence' }
  | { type: 'store_sql' }
  | { type: 'close_sql' }
  | { type: 'get_autocommit'; is_autocommit: boolean };

export type StreamResult = { type: 'ok'; response: StreamResponse } | { type: 'error'; error: HranaError };

export interface PipelineRequest {
  baton?: string | null;
  requests: StreamRequest[];
}

export interface PipelineResponse {
  baton: string | null;
  base_url: string | null;
  results: StreamResult[];
}

/** A request-level failure the stand-in reports as a Hrana error result, not as an HTTP error. */
export class ProtocolError extends Error {
  readonly code: string;
  constructor(message: string, code = 'PROTOCOL_ERROR') {
    super(message);
    this.code = code;
  }
}
