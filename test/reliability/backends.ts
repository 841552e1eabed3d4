/**
 * The backends every reliability test runs on. Adding a backend is one entry in each list:
 * - `backends`: opens a fresh, empty store in this process (the model, isolation, hostile-input and
 *   lifecycle tests);
 * - `sharedBackends`: creates one database that separate processes open by URL (concurrent writers,
 *   crash safety). A child opens it with `openStorage(url)`, the public entry point.
 */
import Database from 'better-sqlite3';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore, type StoreOptions } from '../../src/index.js';
import type { ContractTarget } from '../contract/suite.js';
import { countRows } from '../helpers/sql.js';
import { tempDir, tempFile } from '../helpers/tmp.js';

export interface ReliabilityTarget extends ContractTarget {
  /** Opens the same database again (after close), where the backend outlives its store. */
  reopen?(options: StoreOptions): Promise<ChatStore>;
}

export interface Backend {
  label: string;
  /** A fresh, empty store. */
  open(options: StoreOptions): Promise<ReliabilityTarget>;
}

export interface SharedDatabase {
  /** What a child process hands to `openStorage`. */
  url: string;
  /** The database's own consistency check, if it has one (`PRAGMA integrity_check` on SQLite). */
  integrity?(): Promise<string>;
  dispose?(): Promise<void>;
}

export interface SharedBackend {
  label: string;
  create(): Promise<SharedDatabase>;
}

const dir = tempDir('reliability');

export const backends: Backend[] = [
  { label: 'memory', open: async (options) => ({ store: new InMemoryChatStorage(options) }) },
  {
    label: 'sqlite file',
    open: async (options) => {
      const path = tempFile(dir);
      const store = await SqlChatStorage.openSqlite(path, options);
      return { store, rawCount: () => countRows(store), reopen: (o) => SqlChatStorage.openSqlite(path, o) };
    },
  },
  {
    label: 'libsql file',
    open: async (options) => {
      const url = `file:${tempFile(dir)}`;
      const store = await SqlChatStorage.openLibsql(url, options);
      return { store, rawCount: () => countRows(store), reopen: (o) => SqlChatStorage.openLibsql(url, o) };
    },
  },
  {
    label: 'libsql memory',
    open: async (options) => {
      const store = await SqlChatStorage.openLibsql(':memory:', options);
      return { store, rawCount: () => countRows(store) };
    },
  },
  // DynamoDB: { label: 'dynamodb local', open: (options) => openDynamoDbTarget(options) },
];

export function integrityCheck(path: string): Promise<string> {
  const db = new Database(path, { readonly: true });
  try {
    return Promise.resolve((db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '));
  } finally {
    db.close();
  }
}

/** A new, not yet created file: the children race to create and migrate it. */
function sqliteFile(prefix: string): SharedBackend {
  return {
    label: `${prefix} file`,
    create: async () => {
      const path = tempFile(dir);
      return { url: prefix === 'sqlite' ? `sqlite:${path}` : `file:${path}`, integrity: () => integrityCheck(path) };
    },
  };
}

export const sharedBackends: SharedBackend[] = [
  sqliteFile('sqlite'),
  sqliteFile('libsql'),
  // DynamoDB: { label: 'dynamodb local', create: () => createDynamoDbTable() } with a url openStorage accepts.
];
