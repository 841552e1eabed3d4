/**
 * Every backend and driver combination the tests run on, listed once. The contract suite (one
 * test/*.test.ts file per entry), the reliability suite (test/reliability/) and the framework suites
 * (test/agent-squad.test.ts, test/langchain.test.ts) all take their backends from here; adding a
 * backend is one entry.
 *
 * An entry creates a database (fresh, empty data: a file, a stand-in server, a table) and opens
 * stores on it. Where the data outlives a store (`persistent`), a second `open` sees what the first
 * one wrote. `shared` entries also create databases that other processes open by URL (concurrent
 * writers, crash safety, racing migrations).
 *
 * DynamoDB Local is started by the first test of a process that needs it and stopped when the
 * process's tests end; the Hrana stand-in (test/hrana/) runs in the test process, one per database.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { InMemoryChatStorage, SqlChatStorage, openStorage, type ChatStore, type StoreOptions } from '../../src/index.js';
import { DynamoDbChatStorage } from '../../src/dynamodb/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../helpers/dynamodb-local.js';
import { countItems, dropTable, freshTable, localOptions } from '../helpers/dynamodb.js';
import { copyDatabase, drizzleKitMigrate, startStandIn } from '../helpers/hrana.js';
import { countRows } from '../helpers/sql.js';
import { tempDir, tempFile } from '../helpers/tmp.js';
import { HranaServer } from '../hrana/server.js';
import { readMessagesWithSql, scanMessages, type RawMessageRow } from './raw.js';

export type BackendId = 'memory' | 'sqlite' | 'libsql-file' | 'libsql-memory' | 'libsql-http' | 'libsql-http-kit' | 'dynamodb';

/** One database of a backend: fresh, empty data that stores are opened on. */
export interface BackendDatabase {
  /** Opens a store on this database (on the same data each time where the backend is `persistent`). */
  open(options: StoreOptions): Promise<ChatStore>;
  /** Rows (items) in the backend's own storage, read around the store API, through `store` where needed. */
  rawCount?(store: ChatStore): Promise<number>;
  /** Every stored message read around convostore, in no particular order (sort with `byConversation`). */
  rawMessages?(): Promise<RawMessageRow[]>;
  /** Releases what the database holds besides its stores (a server, a table). */
  dispose?(): Promise<void>;
}

/** A fresh store on a fresh database, with what a test needs to look around it and clean up. */
export interface BackendTarget {
  store: ChatStore;
  /** Rows in the backend's own storage, read around the store (e.g. SELECT count(*) over every table). */
  rawCount?: () => Promise<number>;
  /** Opens the same database again (after close), where the data outlives the store. */
  reopen?(options: StoreOptions): Promise<ChatStore>;
  /** Releases anything opened besides the store. */
  dispose?: () => Promise<void>;
}

/** A database separate processes open by URL with `openStorage`, the public entry point. */
export interface SharedDatabase {
  /** What a child process hands to `openStorage`. */
  url: string;
  /** Extra environment for the child processes (e.g. credentials for DynamoDB Local). */
  env?: Record<string, string>;
  /** The database's own consistency check, if it has one (`PRAGMA integrity_check` on SQLite). */
  integrity?(): Promise<string>;
  dispose?(): Promise<void>;
}

export interface SharedSupport {
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

export interface Backend {
  id: BackendId;
  /** Names the backend in test titles. */
  label: string;
  /** True when the data outlives the store, so a second `open` sees what the first one wrote. */
  persistent: boolean;
  /** Runs the reliability properties (model, isolation, hostile input, lifecycle). */
  reliability: boolean;
  /** Runs the framework suites (Agent Squad, LangChain). */
  frameworks: boolean;
  /** Fresh, empty data. */
  create(): Promise<BackendDatabase>;
  /** A fresh store on fresh data (create, then open). */
  open(options: StoreOptions): Promise<BackendTarget>;
  /** Present where separate processes can share one database. */
  shared?: SharedSupport;
}

const dir = tempDir('backends');

/** DynamoDB Local, started by the first test that needs it, stopped when the test file ends. */
let dynamoDbLocal: Promise<DynamoDbLocal> | undefined;
const dynamoDb = () => (dynamoDbLocal ??= startDynamoDbLocal());
test.after.always(async () => (await dynamoDbLocal)?.stop());

/** The token every stand-in of the registry requires. */
export const HTTP_TOKEN = 'registry-token';

type Entry = Omit<Backend, 'open'>;

function entry(spec: Entry): Backend {
  return {
    ...spec,
    async open(options) {
      const database = await spec.create();
      try {
        const store = await database.open(options);
        return {
          store,
          rawCount: database.rawCount && (() => database.rawCount!(store)),
          reopen: spec.persistent ? (o) => database.open(o) : undefined,
          dispose: database.dispose && (() => database.dispose!()),
        };
      } catch (error) {
        await database.dispose?.(); // a store refused its options: nothing else will release the data
        throw error;
      }
    },
  };
}

const sqlRows = (store: ChatStore) => countRows(store as SqlChatStorage);

export function integrityCheck(path: string): Promise<string> {
  const db = new Database(path, { readonly: true });
  try {
    return Promise.resolve((db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '));
  } finally {
    db.close();
  }
}

/** A new, not yet created file: the children race to create and migrate it. */
function sharedFile(scheme: 'sqlite' | 'file'): SharedSupport {
  return {
    largeBatch: 'atomic',
    create: async () => {
      const path = tempFile(dir);
      return { url: `${scheme}:${path}`, integrity: () => integrityCheck(path) };
    },
  };
}

/** A stand-in's database, opened over HTTP as an application opens Turso. */
function overHttp(server: HranaServer): BackendDatabase {
  return {
    open: (options) => SqlChatStorage.openLibsql(server.url, { ...options, authToken: HTTP_TOKEN }),
    rawCount: sqlRows,
    dispose: () => server.close(),
  };
}

let kitTemplate: Promise<{ file: string; output: string; pipelines: number }> | undefined;

/**
 * A database migrated the way the docs tell users to migrate Turso (`npx drizzle-kit migrate` over
 * HTTP), made once per process; each database is a copy of it. The output and round trips are kept
 * for test/libsql-http-drizzle-kit.test.ts to check.
 */
export function drizzleKitTemplate(): Promise<{ file: string; output: string; pipelines: number }> {
  kitTemplate ??= (async () => {
    const server = await startStandIn(dir, { token: HTTP_TOKEN });
    try {
      const output = await drizzleKitMigrate(server.url, HTTP_TOKEN);
      const file = tempFile(dir);
      copyDatabase(server.file, file);
      return { file, output, pipelines: server.pipelineCount };
    } finally {
      await server.close();
    }
  })();
  return kitTemplate;
}

/** A copy of the drizzle-kit template, served by a fresh stand-in. */
export async function servedKitCopy(token = HTTP_TOKEN): Promise<HranaServer> {
  const file = tempFile(dir);
  copyDatabase((await drizzleKitTemplate()).file, file);
  return HranaServer.start({ file, token });
}

export const registry: readonly Backend[] = [
  entry({
    id: 'memory',
    label: 'memory',
    persistent: false,
    reliability: true,
    frameworks: true,
    create: async () => ({ open: async (options) => new InMemoryChatStorage(options) }),
  }),
  entry({
    id: 'sqlite',
    label: 'sqlite (better-sqlite3, file)',
    persistent: true,
    reliability: true,
    frameworks: true,
    shared: sharedFile('sqlite'),
    create: async () => {
      const file = tempFile(dir);
      return { open: (options) => SqlChatStorage.openSqlite(file, options), rawCount: sqlRows, rawMessages: async () => readMessagesWithSql(file) };
    },
  }),
  entry({
    id: 'libsql-file',
    label: 'libsql (file:)',
    persistent: true,
    reliability: true,
    frameworks: true,
    shared: sharedFile('file'),
    create: async () => {
      const file = tempFile(dir);
      return {
        open: (options) => SqlChatStorage.openLibsql(`file:${file}`, options),
        rawCount: sqlRows,
        rawMessages: async () => readMessagesWithSql(file),
      };
    },
  }),
  entry({
    id: 'libsql-memory',
    label: 'libsql (:memory:)',
    persistent: false,
    reliability: true,
    frameworks: false,
    create: async () => ({ open: (options) => SqlChatStorage.openLibsql(':memory:', options), rawCount: sqlRows }),
  }),
  entry({
    id: 'libsql-http',
    label: 'libsql over HTTP (migrated by openLibsql)',
    persistent: true,
    reliability: false,
    frameworks: true,
    // Every database is created empty, migrated over HTTP by `openLibsql(url, { migrate: true })`.
    create: async () => {
      const server = await startStandIn(dir, { token: HTTP_TOKEN });
      try {
        await (await SqlChatStorage.openLibsql(server.url, { authToken: HTTP_TOKEN, migrate: true })).close();
        return overHttp(server);
      } catch (error) {
        await server.close();
        throw error;
      }
    },
  }),
  entry({
    id: 'libsql-http-kit',
    label: 'libsql over HTTP (migrated by drizzle-kit)',
    persistent: true,
    reliability: false,
    frameworks: false,
    create: async () => overHttp(await servedKitCopy()),
  }),
  entry({
    id: 'dynamodb',
    label: 'dynamodb (DynamoDB Local)',
    persistent: true,
    reliability: true,
    frameworks: true,
    // DynamoDB Local on 2 loaded cores serialises 4 writers on one session item at a few hundred
    // transactions a minute: 4 × 100 messages (not 500) and 5 kills of a 1,000-message batch keep the
    // tests within ava's timeout with the same assertions.
    shared: { largeBatch: 'prefix', perWriter: 100, crashBatch: 1_000, crashKills: 5, create: createDynamoDbShared },
    create: async () => {
      const local = await dynamoDb();
      const table = await freshTable(local, 'backend');
      return {
        open: async (options) => new DynamoDbChatStorage(table, { ...options, ...localOptions(local) }),
        rawCount: () => countItems(local.client, table),
        rawMessages: () => scanMessages(local, table),
        dispose: async () => void (await dropTable(local, table)),
      };
    },
  }),
];

export function backend(id: BackendId): Backend {
  return registry.find((b) => b.id === id)!;
}

export const reliabilityBackends = registry.filter((b) => b.reliability);
export const frameworkBackends = registry.filter((b) => b.frameworks);
export const sharedBackends = registry.flatMap((b) => (b.shared ? [{ label: b.label, ...b.shared }] : []));

/** A fresh DynamoDB Local table that child processes open as dynamodb://TABLE?endpoint=…&region=…. */
async function createDynamoDbShared(): Promise<SharedDatabase> {
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

export { byConversation, type RawMessageRow } from './raw.js';
