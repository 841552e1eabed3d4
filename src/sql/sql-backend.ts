import { conflictMessage } from '../core/conflicts.js';
import { utf8Length } from '../core/bytes.js';
import { mergeSessionMetadata } from '../core/session-metadata.js';
import { ConflictError, ConsecutiveRoleError, NotFoundError, TooLargeError } from '../errors.js';
import type { ConversationKey, DeleteResult, Metadata, SessionSummary } from '../types.js';
import type {
  AgentMessage,
  ForkRequest,
  ListRequest,
  MessageChange,
  PruneRequest,
  RawMessage,
  RawSessionMessage,
  ReadRequest,
  SessionChange,
  SessionReadRequest,
  StorageBackend,
  WindowMessage,
  WriteRequest,
  WriteResult,
} from '../core/backend.js';
import type { Row, SqlDriver, Statement, StatementResult } from './driver.js';
import * as q from './statements.js';
import { refusalOf } from './refusals.js';

/** Rounds of updateSession's read-merge-write before giving up on a session many writers hammer. */
const MAX_MERGE_ROUNDS = 50;

/**
 * The SQL backend, once for every driver: each operation is a list of statements handed to the
 * driver, which runs them as one transaction (one round trip to a remote libSQL database). What a
 * write depends on (the last role, stored ids, the expected suffix) is decided inside that
 * transaction, by the statements themselves; a refusal aborts it whole (see refusals.ts).
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

  async write(request: WriteRequest): Promise<WriteResult> {
    const { key, messages, now } = request;
    const cutoff = request.cutoff ?? q.NO_CUTOFF;
    const ids = { userId: key.userId, sessionId: key.sessionId, agentId: key.agentId, now, createdAt: request.createdAt ?? now, cutoff };
    // Only deletes (an upsert of no message): no session is created or touched.
    const statements: Statement[] =
      messages.length === 0
        ? []
        : [
            { query: q.upsertUser, values: ids },
            { query: q.upsertAgent, values: ids },
            { query: q.upsertSession, values: ids },
          ];
    if (request.expectLastIds !== undefined) {
      const expected = request.expectLastIds;
      statements.push({
        query: q.refuseUnexpectedLast,
        values: { ...ids, count: Math.max(1, expected.length), expected: expected.length === 0 ? null : expected.join('\0') },
      });
    }
    if (request.deleteIds !== undefined && request.deleteIds.length > 0) {
      statements.push({ query: q.deleteConversationIds, values: { ...ids, ids: JSON.stringify(request.deleteIds) } });
      if (messages.length === 0) statements.push({ query: q.deleteSessionIfEmptied, values: ids });
    }
    if (statements.length === 0) return { appended: 0, replaced: 0, unchanged: 0, stored: [], window: [] };
    // Which of the batch's ids are stored already (replaced or unchanged) is only worth a statement
    // when the caller chose ids; ids the store just made are new (a repeat of this very batch after a
    // lost answer then reports them as appended again, which only the skip notice would misread).
    const counted = messages.some((m) => !m.idMade) ? statements.length : -1;
    // The batch's ids, only where a statement reads them (not for a plain append of new messages).
    const batchIds = counted >= 0 || request.mode === 'upsert' ? JSON.stringify(messages.map((m) => m.id)) : '';
    if (counted >= 0) statements.push({ query: q.countStoredIds, values: { ...ids, ids: batchIds } });
    const writes: number[] = [];
    for (let start = 0; start < messages.length; start += q.INSERT_CHUNK) {
      const chunk = messages.length <= q.INSERT_CHUNK ? messages : messages.slice(start, start + q.INSERT_CHUNK);
      // Message i's parameters are named 5i … 5i + 4 (messageParam in limits.ts): integer keys.
      const values: Record<string, unknown> = { ...ids };
      let k = 0;
      for (const m of chunk) {
        values[k++] = m.id;
        values[k++] = m.role;
        values[k++] = m.json;
        values[k++] = m.metadata ?? null;
        values[k++] = m.timestamp;
      }
      writes.push(statements.length);
      // Each chunk's first fresh message meets the last one the chunk before it kept (the same
      // transaction), so the rule runs on across chunks.
      statements.push({ query: q.writeMessages(chunk.length, request.policy, request.mode), values });
    }
    if (request.keepLast !== undefined) statements.push({ query: q.trimConversation, values: { ...ids, keepLast: request.keepLast } });
    const readBack = request.mode === 'upsert' && messages.length > 0 ? statements.length : -1;
    if (readBack >= 0) statements.push({ query: q.readConversationIds, values: { ...ids, ids: batchIds } });
    const window = request.window === 0 ? -1 : statements.length;
    if (window >= 0) statements.push(windowStatement(key, request.window, request.cutoff));

    // Ids are made before the write, so repeating it stores nothing twice, unless it is conditioned
    // on the suffix it may itself have changed (expectLastIds).
    const results = await this.#batch(statements, messages[0]?.role, request.expectLastIds === undefined);
    const stored = counted >= 0 ? Number(results[counted]!.rows[0]!.n) : 0;
    const changed = writes.reduce((n, i) => n + results[i]!.changes, 0);
    // An upsert's replaced rows count as changes; an append's identical ones do not.
    const replaced = request.mode === 'upsert' ? stored : 0;
    let storedRows: RawMessage[] = [];
    if (readBack >= 0) {
      const byId = new Map(results[readBack]!.rows.map((row) => [row.id as string, toRawMessage(row)]));
      storedRows = messages.flatMap((m) => byId.get(m.id) ?? []);
    }
    return {
      appended: changed - replaced,
      replaced,
      unchanged: request.mode === 'append' ? stored : 0,
      stored: storedRows,
      window: window >= 0 ? toWindow(results[window]!) : [],
    };
  }

  async readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]> {
    if (request.limit === 0) return [];
    return (await this.#driver.run(this.#read(key, request))).rows.map(toRawMessage);
  }

  async readWindow(key: ConversationKey, limit: number, cutoff: number | undefined): Promise<WindowMessage[]> {
    return toWindow(await this.#driver.run(windowStatement(key, limit, cutoff)));
  }

  async readAllChats(userId: string, sessionId: string, cutoff: number | undefined): Promise<AgentMessage[]> {
    const { tuples } = await this.#driver.run({
      query: q.readAllChats,
      values: { userId, sessionId, cutoff: cutoff ?? q.NO_CUTOFF },
      tuples: true,
    });
    return tuples!.map((t) => ({ agentId: t[0] as string, role: t[1] as AgentMessage['role'], json: t[2] as string }));
  }

  async readSession(userId: string, sessionId: string, request: SessionReadRequest): Promise<RawSessionMessage[] | null> {
    const newest = request.order === 'newest';
    const anchored = request.afterId !== undefined;
    const query = anchored
      ? newest
        ? q.readSessionNewestAfter
        : q.readSessionOldestAfter
      : newest
        ? q.readSessionNewest
        : q.readSessionOldest;
    const { rows } = await this.#driver.run({
      query,
      values: {
        userId,
        sessionId,
        afterId: request.afterId ?? null,
        bound: request.afterPosition ?? (newest ? q.NO_SEQ_BOUND : 0),
        cutoff: request.cutoff ?? q.NO_CUTOFF,
        limit: request.limit ?? -1,
      },
    });
    if (anchored) {
      if (rows[0]?.anchor !== 1) return null;
      rows.shift();
    }
    return rows.map(toRawSessionMessage);
  }

  async getMessage(userId: string, sessionId: string, messageId: string, cutoff: number | undefined): Promise<RawSessionMessage | null> {
    const { rows } = await this.#driver.run({
      query: q.getMessage,
      values: { userId, sessionId, messageId, cutoff: cutoff ?? q.NO_CUTOFF },
    });
    return rows[0] ? toRawSessionMessage(rows[0]) : null;
  }

  async updateMessage(
    userId: string,
    sessionId: string,
    messageId: string,
    change: MessageChange,
    cutoff: number | undefined,
  ): Promise<RawSessionMessage | null> {
    const values = {
      userId,
      sessionId,
      messageId,
      cutoff: cutoff ?? q.NO_CUTOFF,
      content: change.json ?? null,
      setMetadata: change.metadata === undefined ? 0 : 1,
      metadata: change.metadata ?? null,
      maxBytes: this.maxMessageBytes,
    };
    try {
      const results = await this.#driver.batch(
        [
          { query: q.refuseTooLarge, values },
          { query: q.updateMessage, values },
          { query: q.getMessage, values },
        ],
        { idempotent: true },
      );
      const row = results[2]!.rows[0];
      return results[1]!.changes > 0 && row ? toRawSessionMessage(row) : null;
    } catch (error) {
      if (refusalOf(error) !== 'too_large') throw error;
      // The refusal does not say the size; the stored part it was added to is read once, to say it.
      const current = await this.getMessage(userId, sessionId, messageId, undefined);
      const json = change.json ?? current?.json ?? '';
      const metadata = change.metadata === undefined ? current?.metadata : change.metadata;
      throw new TooLargeError(utf8Length(json) + (metadata ? utf8Length(metadata) : 0), this.maxMessageBytes, this.name);
    }
  }

  async deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number> {
    const values = { userId, sessionId, ids: JSON.stringify(messageIds) };
    const [deleted] = await this.#driver.batch([
      { query: q.deleteSessionIds, values },
      { query: q.deleteSessionIfEmptied, values },
    ]);
    return deleted!.changes;
  }

  async truncateAfter(userId: string, sessionId: string, messageId: string, inclusive: boolean): Promise<number | null> {
    const values = { userId, sessionId, messageId, after: inclusive ? 0 : 1 };
    try {
      const [, deleted] = await this.#driver.batch([
        { query: q.refuseUnknownMessage, values },
        { query: q.truncateConversation, values },
        { query: q.deleteSessionIfEmptied, values },
      ]);
      return deleted!.changes;
    } catch (error) {
      if (refusalOf(error) === 'not_found') return null;
      throw error;
    }
  }

  async getSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<SessionSummary | null> {
    const { rows } = await this.#driver.run({ query: q.getSession, values: { userId, sessionId, cutoff: cutoff ?? q.NO_CUTOFF } });
    return toSummaries(rows)[0] ?? null;
  }

  async updateSession(userId: string, sessionId: string, change: SessionChange): Promise<SessionSummary | undefined> {
    const base = {
      userId,
      sessionId,
      now: change.now,
      activityAt: change.activityAt ?? null,
      cutoff: change.cutoff ?? q.NO_CUTOFF,
      setTitle: change.title === undefined ? 0 : 1,
      title: change.title ?? null,
      setMetadata: change.metadata === undefined ? 0 : 1,
    };
    // Metadata is merged here, not in SQL: SQLite's json functions re-render numbers and would not
    // give back exactly what was written. Written only if unchanged since read; else merged again.
    for (let round = 0; round < MAX_MERGE_ROUNDS; round++) {
      let previous: string | null = null;
      let metadata: string | null = null;
      if (change.metadata !== undefined) {
        const { rows } = await this.#driver.run({ query: q.readSessionMetadata, values: base });
        previous = (rows[0]?.metadata as string | null | undefined) ?? null;
        const merged = mergeSessionMetadata(previous === null ? undefined : (JSON.parse(previous) as Metadata), change.metadata);
        metadata = merged === undefined ? null : JSON.stringify(merged);
      }
      // The summary is read in the same transaction: one round trip, and it shows this very update.
      const [, updated, summary] = await this.#driver.batch([
        { query: q.upsertUser, values: base },
        { query: q.updateSession, values: { ...base, previous, metadata } },
        ...(change.summary ? [{ query: q.getSession, values: base }] : []),
      ]);
      if (updated!.changes > 0) return summary && toSummaries(summary.rows)[0]!;
    }
    throw new ConflictError('updateSession: the session metadata kept changing under this update; try again');
  }

  async forkSession(userId: string, fromSessionId: string, toSessionId: string, request: ForkRequest): Promise<SessionSummary> {
    const values = {
      userId,
      fromSessionId,
      toSessionId,
      upToMessageId: request.upToMessageId ?? null,
      title: request.title ?? null,
      now: request.now,
      sessionId: toSessionId,
      cutoff: request.cutoff ?? q.NO_CUTOFF,
    };
    try {
      const results = await this.#driver.batch([
        { query: q.refuseForkWithoutSource, values },
        { query: q.refuseForkOntoExisting, values },
        { query: q.forkSessionRow, values },
        { query: q.forkMessages, values },
        { query: q.getSession, values },
      ]);
      return toSummaries(results[4]!.rows)[0]!;
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === 'conflict') throw new ConflictError(`toSessionId: the session '${toSessionId}' already exists`);
      if (refusal !== 'not_found') throw error;
      const source = await this.getSession(userId, fromSessionId, undefined);
      throw new NotFoundError(
        source
          ? `options.upToMessageId: no message '${request.upToMessageId}' in the session`
          : `fromSessionId: no session '${fromSessionId}'`,
      );
    }
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
    return toSummaries(rows);
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

  /** A write batch, its refusals turned into the contract's errors. */
  async #batch(statements: Statement[], firstRole: string | undefined, idempotent: boolean): Promise<StatementResult[]> {
    try {
      return await this.#driver.batch(statements, { idempotent });
    } catch (error) {
      switch (refusalOf(error)) {
        case 'repeat':
          throw new ConsecutiveRoleError(firstRole ?? 'user');
        case 'conflict':
          throw new ConflictError(conflictMessage('expectLastIds'));
        case 'other_agent':
          throw new ConflictError(conflictMessage('otherAgent'));
        case 'other_role':
          throw new ConflictError(conflictMessage('role'));
        case 'other_content':
          throw new ConflictError(conflictMessage('changed'));
        default:
          throw error;
      }
    }
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

/** The newest `limit` live messages (undefined: all), newest first, as WindowMessage rows. */
function windowStatement(key: ConversationKey, limit: number | undefined, cutoff: number | undefined): Statement {
  // SQLite reads a negative LIMIT as "no limit".
  return cutoff === undefined
    ? { query: q.readWindow, values: { ...key, limit: limit ?? -1 }, tuples: true }
    : { query: q.readWindowLive, values: { ...key, cutoff, limit: limit ?? -1 }, tuples: true };
}

/** A window statement's rows (role, content; newest first) as WindowMessages, oldest first. */
function toWindow(result: StatementResult): WindowMessage[] {
  const tuples = result.tuples!;
  const window: WindowMessage[] = new Array(tuples.length);
  for (let i = 0, j = tuples.length - 1; j >= 0; i++, j--) {
    const t = tuples[j]!;
    window[i] = { role: t[0] as WindowMessage['role'], json: t[1] as string };
  }
  return window;
}

/** One row per (session, agent), sessions already in page order. */
function toSummaries(rows: Row[]): SessionSummary[] {
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
      if (row.title != null) summary.title = row.title as string;
      if (row.metadata != null) summary.metadata = JSON.parse(row.metadata as string) as Metadata;
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

function toRawMessage(row: Row): RawMessage {
  return {
    id: row.id as string,
    seq: Number(row.seq),
    role: row.role as RawMessage['role'],
    json: row.content as string,
    metadata: row.metadata as string | null,
    timestamp: Number(row.created_at),
  };
}

function toRawSessionMessage(row: Row): RawSessionMessage {
  const message = toRawMessage(row) as RawSessionMessage;
  message.agentId = row.agent_id as string;
  message.position = Number(row.position);
  return message;
}
