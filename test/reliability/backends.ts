/**
 * The backends every reliability test runs on. Adding a backend is one entry in each list:
 * - `backends`: opens a fresh, empty store in this process (the model, isolation, hostile-input and
 *   lifecycle tests);
 * - `sharedBackends`: creates one database that separate processes open by URL (concurrent writers,
 *   crash safety). A child opens it with `openStorage(url)`, the public entry point.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { InMemoryChatStorage, SqlChatStorage, openStorage, type ChatStore, type StoreOptions } from '../../src/index.js';
import { DynamoDbChatStorage } from '../../src/dynamodb/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../helpers/dynamodb-local.js';
import { countItems, dropTable, freshTable, localOptions } from '../helpers/dynamodb.js';
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
  /** Extra environment for the child processes (e.g. credentials for DynamoDB Local). */
  env?: Record<string, string>;
  /** The database's own consistency check, if it has one (`PRAGMA integrity_check` on SQLite). */
  integrity?(): Promise<string>;
  dispose?(): Promise<void>;
}

export interface SharedBackend {
  label: string;
  create(): Promise<SharedDatabase>;
  /**
   * What an interrupted `saveChatMessages` of a large batch leaves, as the backend documents it:
   * `atomic` — all or nothing (one SQL transaction); `prefix` — a gap-free prefix of the batch, in
   * order (DynamoDB: a batch over one TransactWriteItems is several transactions, each atomic).
   */
  largeBatch: 'atomic' | 'prefix';
  /** Messages per writer in the concurrent-writer test and the crash test's batch, where the defaults are too slow. */
  perWriter?: number;
  crashBatch?: number;
  /** Kills in the crash test (CRASH_KILLS overrides), where the default 8 is too slow. */
  crashKills?: number;
}

const dir = tempDir('reliability');

/** DynamoDB Local, started by the first test that needs it, stopped when the test file ends. */
let dynamoDbLocal: Promise<DynamoDbLocal> | undefined;
const dynamoDb = () => (dynamoDbLocal ??= startDynamoDbLocal());
test.after.always(async () => (await dynamoDbLocal)?.stop());

export async function openDynamoDb(options: StoreOptions): Promise<ReliabilityTarget> {
  const local = await dynamoDb();
  const table = await freshTable(local, 'reliability');
  const store = new DynamoDbChatStorage(table, { ...options, ...localOptions(local) });
  return { store, rawCount: () => countItems(local.client, table), dispose: async () => void (await dropTable(local, table)) };
}

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
  { label: 'dynamodb local', open: openDynamoDb },
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
    largeBatch: 'atomic',
    create: async () => {
      const path = tempFile(dir);
      return { url: prefix === 'sqlite' ? `sqlite:${path}` : `file:${path}`, integrity: () => integrityCheck(path) };
    },
  };
}

export const sharedBackends: SharedBackend[] = [
  sqliteFile('sqlite'),
  sqliteFile('libsql'),
  // DynamoDB Local on 2 loaded cores serialises 4 writers on one session item at a few hundred
  // transactions a minute: 4 × 100 messages (not 500) and 5 kills of a 1,000-message batch keep the
  // tests within ava's timeout with the same assertions.
  { label: 'dynamodb local', largeBatch: 'prefix', perWriter: 100, crashBatch: 1_000, crashKills: 5, create: createDynamoDbShared },
];

/** A fresh DynamoDB Local table that child processes open as dynamodb://TABLE?endpoint=…&region=…. */
export async function createDynamoDbShared(): Promise<SharedDatabase> {
  const local = await dynamoDb();
  const table = await freshTable(local, 'shared');
  const query = new URLSearchParams({ region: local.region, endpoint: local.endpoint });
  return {
    url: `dynamodb://${table}?${query}`,
    env: { AWS_ACCESS_KEY_ID: local.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: local.credentials.secretAccessKey },
    dispose: async () => void (await dropTable(local, table)),
  };
}

/** Opens a shared database in this process the way its children do (same URL and environment). */
export function openShared(database: SharedDatabase, options: StoreOptions): Promise<ChatStore> {
  Object.assign(process.env, database.env);
  return openStorage(database.url, options);
}
