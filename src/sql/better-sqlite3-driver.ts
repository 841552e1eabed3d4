import type Database from 'better-sqlite3';
import { bind, type SqlDriver, type Statement, type StatementResult } from './driver.js';
import { PreparedStatements } from './prepared.js';

/** better-sqlite3 is synchronous: its transactions must not await, so a batch runs in one tick. */
export class BetterSqlite3Driver implements SqlDriver {
  readonly name = 'sqlite';
  readonly #db: Database.Database;
  readonly #statements: PreparedStatements;
  readonly #transaction: (statements: Statement[]) => StatementResult[];
  readonly #closesDatabase: boolean;

  /** `closesDatabase: false` for a database the application gave and keeps: close() leaves it open. */
  constructor(db: Database.Database, closesDatabase = true) {
    this.#db = db;
    this.#closesDatabase = closesDatabase;
    this.#statements = new PreparedStatements((sql) => db.prepare(sql));
    // IMMEDIATE takes the write lock up front, so a second process waits out the busy timeout
    // instead of failing when a read lock cannot be upgraded.
    this.#transaction = db.transaction((statements: Statement[]) => statements.map((s) => this.#exec(s))).immediate;
  }

  get database(): Database.Database {
    return this.#db;
  }

  async run(statement: Statement): Promise<StatementResult> {
    return this.#exec(statement);
  }

  /** Local and synchronous: no transport to lose an answer, so nothing is ever retried. */
  async batch(statements: Statement[]): Promise<StatementResult[]> {
    return this.#transaction(statements);
  }

  async close(): Promise<void> {
    if (this.#closesDatabase && this.#db.open) this.#db.close();
  }

  #exec(statement: Statement): StatementResult {
    return this.#statements.exec(statement, bind(statement));
  }
}
