/**
 * The backends the framework tests run on, one factory each. Every test in test/agent-squad.test.ts
 * and test/langchain.test.ts runs once per entry.
 */
import Database from 'better-sqlite3';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore, type StoreOptions } from '../../src/index.js';
import { DynamoDbChatStorage } from '../../src/dynamodb/index.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../helpers/dynamodb-local.js';
import { dropTable, freshTable, localOptions } from '../helpers/dynamodb.js';
import { tempDir, tempFile } from '../helpers/tmp.js';

export interface FrameworkBackend {
  /** Opens a store on this backend's data (the same data every time it is called). */
  open(options: StoreOptions): Promise<ChatStore>;
  /**
   * Every stored message, read around convostore from the backend's own storage (plain SQL on a
   * SQLite file, a Scan of the DynamoDB table), in no particular order: sort with `byConversation`.
   * Absent for the in-memory backend, which has nothing outside the store.
   */
  rawMessages?: () => Promise<RawMessageRow[]>;
  /** Releases anything besides the stores (a server, a table). */
  dispose?: () => Promise<void>;
}

export interface BackendFactory {
  name: string;
  /** True when the data outlives the store, so a second `open` sees what the first one wrote. */
  persistent: boolean;
  /** Fresh, empty data for one test. */
  create(): Promise<FrameworkBackend>;
}

const dir = tempDir('frameworks');

/** Started by the first DynamoDB test of a test process. */
let dynamoDbLocal: Promise<DynamoDbLocal> | undefined;

/** For `test.after.always` in each framework test file. */
export async function stopFrameworkBackends(): Promise<void> {
  if (dynamoDbLocal) await (await dynamoDbLocal).stop();
}

export const frameworkBackends: BackendFactory[] = [
  {
    name: 'memory',
    persistent: false,
    async create() {
      return { open: async (options) => new InMemoryChatStorage(options) };
    },
  },
  {
    name: 'sqlite (better-sqlite3 file)',
    persistent: true,
    async create() {
      const file = tempFile(dir);
      return { open: (options) => SqlChatStorage.openSqlite(file, options), rawMessages: async () => readMessagesWithSql(file) };
    },
  },
  {
    name: 'libsql (file:)',
    persistent: true,
    async create() {
      const file = tempFile(dir);
      return {
        open: (options) => SqlChatStorage.openLibsql(`file:${file}`, options),
        rawMessages: async () => readMessagesWithSql(file),
      };
    },
  },
  {
    name: 'dynamodb (DynamoDB Local)',
    persistent: true,
    async create() {
      dynamoDbLocal ??= startDynamoDbLocal();
      const local = await dynamoDbLocal;
      const table = await freshTable(local, 'frameworks');
      return {
        open: async (options) => new DynamoDbChatStorage(table, { ...options, ...localOptions(local) }),
        rawMessages: () => scanMessages(local, table),
        dispose: async () => void (await dropTable(local, table)),
      };
    },
  },
];

export interface RawMessageRow {
  userId: string;
  sessionId: string;
  agentId: string;
  seq: number;
  role: string;
  content: unknown;
}

/** Runs `body` on a store over fresh data of one backend, then closes the store and the data. */
export async function withStore(
  factory: BackendFactory,
  options: StoreOptions,
  body: (store: ChatStore, backend: FrameworkBackend) => Promise<void>,
): Promise<void> {
  const backend = await factory.create();
  try {
    const store = await backend.open(options);
    try {
      await body(store, backend);
    } finally {
      await store.close();
    }
  } finally {
    await backend.dispose?.();
  }
}

/** Sorts raw rows by user, session, agent and position. */
export function byConversation(a: RawMessageRow, b: RawMessageRow): number {
  return cmp(a.userId, b.userId) || cmp(a.sessionId, b.sessionId) || cmp(a.agentId, b.agentId) || a.seq - b.seq;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every stored message, read from the file with better-sqlite3 and plain SQL. */
export function readMessagesWithSql(file: string): RawMessageRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT u.id AS userId, s.id AS sessionId, a.id AS agentId, m.seq AS seq, m.role AS role, m.content AS content
           FROM messages m
           JOIN sessions s ON s.pk = m.session_pk
           JOIN users u ON u.pk = s.user_pk
           JOIN agents a ON a.pk = m.agent_pk
          ORDER BY m.pk`,
      )
      .all() as Array<Omit<RawMessageRow, 'content'> & { content: string }>;
    return rows.map((row) => ({ ...row, content: JSON.parse(row.content) as unknown }));
  } finally {
    db.close();
  }
}

/**
 * Every message item of the table, by a Scan through the AWS SDK. The user and session ids are read
 * back out of the partition key (`S` then each id as `<length>:<id>`, see src/dynamodb/keys.ts).
 */
async function scanMessages(local: DynamoDbLocal, table: string): Promise<RawMessageRow[]> {
  const client = DynamoDBDocumentClient.from(local.client);
  const rows: RawMessageRow[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const pk = item.PK as string;
      if (!pk.startsWith('S')) continue;
      const [userId, rest] = decodeId(pk.slice(1));
      const [sessionId] = decodeId(rest);
      rows.push({ userId, sessionId, agentId: item.a as string, seq: item.q as number, role: item.r as string, content: JSON.parse(item.c as string) });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return rows;
}

function decodeId(encoded: string): [id: string, rest: string] {
  const colon = encoded.indexOf(':');
  const length = Number(encoded.slice(0, colon));
  return [encoded.slice(colon + 1, colon + 1 + length), encoded.slice(colon + 1 + length)];
}
