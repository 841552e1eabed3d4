import { ConsecutiveRoleError } from '../errors.js';
import type { ConversationKey, DeleteResult, SessionSummary } from '../types.js';
import type { AppendRequest, AppendResult, ListRequest, PruneRequest, RawMessage, RawSessionMessage, ReadRequest, StorageBackend } from '../core/backend.js';
import type { Row, SqlDriver, Statement } from './driver.js';
import * as q from './queries.js';

/**
 * The SQL backend, once for every driver: each operation is a list of statements handed to the
 * driver, which runs them as one transaction (one round trip to a remote libSQL database).
 */
export class SqlBackend implements StorageBackend {
  readonly name: string;
  readonly maxMessageBytes: number;
  readonly #driver: SqlDriver;

  constructor(driver: SqlDriver, maxMessageBytes: number) {
    this.#driver = driver;
    this.name = driver.name;
    this.maxMessageBytes = maxMessageBytes;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { key, messages, now } = request;
    const ids = { userId: key.userId, sessionId: key.sessionId, agentId: key.agentId, now };
    const statements: Statement[] = [
      { query: q.upsertUser, values: ids },
      { query: q.upsertAgent, values: ids },
      { query: q.upsertSession, values: ids },
    ];
    const inserts: number[] = [];
    for (let start = 0; start < messages.length; start += q.INSERT_CHUNK) {
      const chunk = messages.slice(start, start + q.INSERT_CHUNK);
      const values: Record<string, unknown> = { ...ids, firstRole: messages[0]!.role, cutoff: request.cutoff ?? q.NO_CUTOFF };
      chunk.forEach((m, i) => {
        values[`role${i}`] = m.role;
        values[`content${i}`] = m.json;
        values[`ts${i}`] = m.timestamp;
      });
      inserts.push(statements.length);
      statements.push({ query: q.insertMessages(chunk.length, start === 0 ? request.policy : 'keep'), values });
    }
    if (request.keepLast !== undefined) {
      statements.push({ query: q.trimConversation, values: { ...ids, keepLast: request.keepLast } });
    }
    statements.push(this.#read(key, { order: 'newest', afterSeq: undefined, limit: request.window, cutoff: request.cutoff }));

    let results;
    try {
      results = await this.#driver.batch(statements);
    } catch (error) {
      if (request.policy === 'throw' && /NOT NULL constraint failed: messages\.seq/.test(String(error))) {
        throw new ConsecutiveRoleError(messages[0]!.role);
      }
      throw error;
    }
    const appended = inserts.reduce((n, i) => n + results[i]!.changes, 0);
    const window = results[results.length - 1]!.rows.map(toRawMessage).reverse();
    return { appended, window };
  }

  async readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]> {
    if (request.limit === 0) return [];
    return (await this.#driver.run(this.#read(key, request))).rows.map(toRawMessage);
  }

  async readSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<RawSessionMessage[]> {
    const { rows } = await this.#driver.run({
      query: q.readSession,
      values: { userId, sessionId, cutoff: cutoff ?? q.NO_CUTOFF },
    });
    return rows.map((row) => {
      const message = toRawMessage(row) as RawSessionMessage;
      message.agentId = row.agent_id as string;
      return message;
    });
  }

  async listSessions(userId: string, request: ListRequest): Promise<SessionSummary[]> {
    const after = request.after ?? q.FIRST_SESSION_PAGE;
    const { rows } = await this.#driver.run({
      query: q.listSessions,
      values: {
        userId,
        afterTime: after.lastActivityAt,
        afterId: after.sessionId,
        limit: request.limit,
        cutoff: request.cutoff ?? q.NO_CUTOFF,
      },
    });
    // One row per (session, agent), sessions already in page order.
    const summaries: SessionSummary[] = [];
    for (const row of rows) {
      const sessionId = row.session_id as string;
      let summary = summaries[summaries.length - 1];
      if (summary?.sessionId !== sessionId) {
        summary = {
          sessionId,
          createdAt: Number(row.created_at),
          lastActivityAt: Number(row.last_activity_at),
          messageCount: 0,
          agents: [],
        };
        summaries.push(summary);
      }
      const count = Number(row.message_count);
      if (row.agent_id !== null && count > 0) {
        summary.agents.push({ agentId: row.agent_id as string, messageCount: count, lastMessageAt: Number(row.last_message_at) });
        summary.messageCount += count;
      }
    }
    return summaries;
  }

  async listUsers(after: string | undefined, limit: number): Promise<string[]> {
    const { rows } = await this.#driver.run({ query: q.listUsers, values: { after: after ?? '', limit } });
    return rows.map((row) => row.id as string);
  }

  async deleteConversation(key: ConversationKey): Promise<DeleteResult> {
    const values = { ...key };
    const [messages, sessions] = await this.#driver.batch([
      { query: q.deleteConversationMessages, values },
      { query: q.deleteSessionIfEmpty, values },
    ]);
    return { messages: messages!.changes, sessions: sessions!.changes };
  }

  async deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    const values = { userId, sessionId };
    const [messages, sessions] = await this.#driver.batch([
      { query: q.deleteSessionMessages, values },
      { query: q.deleteSessionRow, values },
    ]);
    return { messages: messages!.changes, sessions: sessions!.changes };
  }

  async deleteUser(userId: string): Promise<DeleteResult> {
    const values = { userId };
    const [messages, sessions] = await this.#driver.batch([
      { query: q.deleteUserMessages, values },
      { query: q.deleteUserSessions, values },
      { query: q.deleteUserRow, values },
    ]);
    return { messages: messages!.changes, sessions: sessions!.changes };
  }

  async prune(request: PruneRequest): Promise<number> {
    const statements: Statement[] = [];
    if (request.cutoff !== undefined) statements.push({ query: q.pruneExpired, values: { cutoff: request.cutoff } });
    if (request.keepLast !== undefined) statements.push({ query: q.pruneBeyondLimit, values: { keepLast: request.keepLast } });
    if (statements.length === 0) return 0;
    const results = await this.#driver.batch(statements);
    return results.reduce((n, r) => n + r.changes, 0);
  }

  async close(): Promise<void> {
    await this.#driver.close();
  }

  #read(key: ConversationKey, request: ReadRequest): Statement {
    const newest = request.order === 'newest';
    return {
      query: newest ? q.readNewest : q.readOldest,
      values: {
        ...key,
        bound: request.afterSeq ?? (newest ? q.NO_SEQ_BOUND : 0),
        cutoff: request.cutoff ?? q.NO_CUTOFF,
        // SQLite reads a negative LIMIT as "no limit".
        limit: request.limit ?? -1,
      },
    };
  }
}

function toRawMessage(row: Row): RawMessage {
  return {
    seq: Number(row.seq),
    role: row.role as RawMessage['role'],
    json: row.content as string,
    timestamp: Number(row.created_at),
  };
}
