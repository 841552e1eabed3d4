/**
 * The backends the framework tests run on, one factory each. Every test in test/agent-squad.test.ts
 * and test/langchain.test.ts runs once per entry.
 */
import Database from 'better-sqlite3';
import { InMemoryChatStorage, SqlChatStorage, type ChatStore, type StoreOptions } from '../../src/index.js';
import { tempDir, tempFile } from '../helpers/tmp.js';

export interface FrameworkBackend {
  /** Opens a store on this backend's data (the same data every time it is called). */
  open(options: StoreOptions): Promise<ChatStore>;
  /** True when the data outlives the store, so a second `open` sees what the first one wrote. */
  persistent: boolean;
  /**
   * Every stored message in write order, read around convostore from the backend's own storage
   * (plain SQL on a SQLite file). Absent for the in-memory backend, which has nothing outside the store.
   */
  rawMessages?: () => Promise<RawMessageRow[]>;
  /** Releases anything besides the stores (a server, a table). */
  dispose?: () => Promise<void>;
}

export interface BackendFactory {
  name: string;
  /** Fresh, empty data for one test. */
  create(): Promise<FrameworkBackend>;
}

const dir = tempDir('frameworks');

export const frameworkBackends: BackendFactory[] = [
  {
    name: 'memory',
    async create() {
      return { open: async (options) => new InMemoryChatStorage(options), persistent: false };
    },
  },
  {
    name: 'sqlite (better-sqlite3 file)',
    async create() {
      const file = tempFile(dir);
      return { open: (options) => SqlChatStorage.openSqlite(file, options), persistent: true, rawMessages: async () => readMessagesWithSql(file) };
    },
  },
  {
    name: 'libsql (file:)',
    async create() {
      const file = tempFile(dir);
      return {
        open: (options) => SqlChatStorage.openLibsql(`file:${file}`, options),
        persistent: true,
        rawMessages: async () => readMessagesWithSql(file),
      };
    },
  },
  // DYNAMODB: the `dynamodb` branch (src/dynamodb/ and its DynamoDB Local test helper) is not merged
  // yet. When it is, add its factory here — a fresh table per `create()`, `persistent: true`, a
  // `rawMessages` that scans the table with the AWS SDK and returns the same rows, and a `dispose`
  // that drops the table — and every framework test runs on it too. Not listed until then, rather
  // than listed and skipped.
];

export interface RawMessageRow {
  userId: string;
  sessionId: string;
  agentId: string;
  seq: number;
  role: string;
  content: unknown;
}

/** Every stored message in write order, read from the file with better-sqlite3 and plain SQL. */
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
