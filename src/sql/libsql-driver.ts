import type { Client, InArgs, ResultSet } from '@libsql/client';
import { bind, type SqlDriver, type Statement, type StatementResult, type Row } from './driver.js';

/** @libsql/client: a batch is one request to a remote database, and one transaction everywhere. */
export class LibsqlDriver implements SqlDriver {
  readonly name = 'libsql';
  readonly #client: Client;

  constructor(client: Client) {
    this.#client = client;
  }

  get client(): Client {
    return this.#client;
  }

  async run(statement: Statement): Promise<StatementResult> {
    return toResult(await this.#client.execute({ sql: statement.query.sql, args: bind(statement) as InArgs }));
  }

  async batch(statements: Statement[]): Promise<StatementResult[]> {
    const results = await this.#client.batch(
      statements.map((s) => ({ sql: s.query.sql, args: bind(s) as InArgs })),
      'write',
    );
    return results.map(toResult);
  }

  async close(): Promise<void> {
    this.#client.close();
  }
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
