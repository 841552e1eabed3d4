/**
 * Compiles a Drizzle `sql` template (queries.ts) to convostore's plain CompiledQuery. Used only by
 * queries.ts, that is by `npm run generate:sql` and the tests: the store itself runs the generated
 * statements (statements.generated.ts) and never loads Drizzle.
 */
import { is, Placeholder, type SQL } from 'drizzle-orm';
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core';
import type { CompiledQuery, Param } from './driver.js';

const dialect = new SQLiteSyncDialect();

/** Compiles a Drizzle `sql` template once; its `sql.placeholder`s are filled per call by `bind`. */
export function compile(query: SQL): CompiledQuery {
  const { sql, params } = dialect.sqlToQuery(query);
  return { sql, params: params.map(toParam) };
}

function toParam(value: unknown): Param {
  if (is(value, Placeholder)) return { name: value.name };
  if (value === null || typeof value === 'number' || typeof value === 'string') return value;
  throw new Error(`convostore: unsupported literal parameter ${String(value)} in a statement`);
}
