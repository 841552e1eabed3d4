/**
 * Reading a backend's own storage around convostore: every stored message as plain rows, for tests
 * that check what was really written (the framework suites). Plain SQL on a SQLite file, a Scan of
 * a DynamoDB table.
 */
import { MESSAGE_SK_PREFIX } from '../../src/dynamodb/keys.js';
import Database from 'better-sqlite3';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { getTableName } from 'drizzle-orm';
import { agents, messages, sessions, users } from '../../drizzle/schema.js';
import type { DynamoDbLocal } from '../helpers/dynamodb-local.js';

export interface RawMessageRow {
  userId: string;
  sessionId: string;
  agentId: string;
  seq: number;
  role: string;
  content: unknown;
}

/** Sorts raw rows by user, session, agent and position. */
export function byConversation(a: RawMessageRow, b: RawMessageRow): number {
  return cmp(a.userId, b.userId) || cmp(a.sessionId, b.sessionId) || cmp(a.agentId, b.agentId) || a.seq - b.seq;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Every stored message, read from the file with better-sqlite3 and plain SQL (table names from the schema). */
export function readMessagesWithSql(file: string): RawMessageRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT u.id AS userId, s.id AS sessionId, a.id AS agentId, m.seq AS seq, m.role AS role, m.content AS content
           FROM "${getTableName(messages)}" m
           JOIN "${getTableName(sessions)}" s ON s.pk = m.session_pk
           JOIN "${getTableName(users)}" u ON u.pk = s.user_pk
           JOIN "${getTableName(agents)}" a ON a.pk = m.agent_pk
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
export async function scanMessages(local: DynamoDbLocal, table: string): Promise<RawMessageRow[]> {
  const client = DynamoDBDocumentClient.from(local.client);
  const rows: RawMessageRow[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const pk = item.PK as string;
      // A session's partition holds its message items (SK `m…`) and, since v2, their id items (`i…`).
      if (!pk.startsWith('S') || !(item.SK as string).startsWith(MESSAGE_SK_PREFIX)) continue;
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
