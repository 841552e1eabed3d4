import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type * as core from '../core/backend.js';
import type { ConversationKey, DeleteResult, SessionSummary } from '../types.js';
import { forkSession } from './fork.js';
import { backfillMessageIds } from './legacy.js';
import type { Ctx } from './lanes.js';
import { deleteUser, prune, removeFromSession } from './maintenance.js';
import { getMessage, getSession, listSessions, listUsers, readPage, readSession } from './reads.js';
import { TableIo } from './table-io.js';
import { deleteMessages, truncateAfter, updateMessage, updateSession, write } from './writes.js';

export interface DynamoDbBackendConfig {
  client: DynamoDBClient;
  tableName: string;
  maxMessageBytes: number;
  /** The store's TTL, so message items carry DynamoDB's TTL attribute. */
  ttlMs: number | undefined;
  /** Destroy the client on close (we created it). */
  ownsClient: boolean;
}

/**
 * DynamoDB backend on one table (keys.ts: the key schema; items.ts: the items). Every write of a
 * session is a transaction conditioned on the session item's version, so writers in several
 * processes serialise on it: the loser re-reads and retries. Inside one process, writers to one
 * session queue up first, which spares DynamoDB the conflicts. Every read is a strongly consistent
 * Query or GetItem, except listing users (a global index). This class only routes: writes.ts,
 * reads.ts, maintenance.ts, fork.ts and legacy.ts hold the operations.
 */
export class DynamoDbBackend implements core.StorageBackend {
  readonly name = 'dynamodb';
  readonly maxMessageBytes: number;
  readonly #client: DynamoDBClient;
  readonly #ownsClient: boolean;
  readonly #ctx: Ctx;

  constructor(config: DynamoDbBackendConfig) {
    this.#client = config.client;
    this.#ownsClient = config.ownsClient;
    this.maxMessageBytes = config.maxMessageBytes;
    this.#ctx = { io: new TableIo(config.client, config.tableName), ttlMs: config.ttlMs };
  }

  write(request: core.WriteRequest): Promise<core.WriteResult> {
    return write(this.#ctx, request);
  }

  readPage(key: ConversationKey, request: core.ReadRequest): Promise<core.RawMessage[]> {
    return readPage(this.#ctx, key, request);
  }

  readSession(userId: string, sessionId: string, request: core.SessionReadRequest): Promise<core.RawSessionMessage[] | null> {
    return readSession(this.#ctx, userId, sessionId, request);
  }

  getMessage(userId: string, sessionId: string, messageId: string, cutoff: number | undefined): Promise<core.RawSessionMessage | null> {
    return getMessage(this.#ctx, userId, sessionId, messageId, cutoff);
  }

  async updateMessage(
    userId: string,
    sessionId: string,
    messageId: string,
    change: core.MessageChange,
    cutoff: number | undefined,
  ): Promise<core.RawSessionMessage | null> {
    const row = await updateMessage(this.#ctx, this.maxMessageBytes, this.name, userId, sessionId, messageId, change, cutoff);
    return row && { id: row.id, seq: row.seq, role: row.role, json: row.json, metadata: row.metadata, timestamp: row.timestamp, agentId: row.agentId, position: row.position };
  }

  deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number> {
    return deleteMessages(this.#ctx, userId, sessionId, messageIds);
  }

  truncateAfter(userId: string, sessionId: string, messageId: string, inclusive: boolean): Promise<number | null> {
    return truncateAfter(this.#ctx, userId, sessionId, messageId, inclusive);
  }

  getSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<SessionSummary | null> {
    return getSession(this.#ctx, userId, sessionId, cutoff);
  }

  updateSession(userId: string, sessionId: string, change: core.SessionChange): Promise<SessionSummary | undefined> {
    return updateSession(this.#ctx, userId, sessionId, change);
  }

  forkSession(userId: string, fromSessionId: string, toSessionId: string, request: core.ForkRequest): Promise<SessionSummary> {
    return forkSession(this.#ctx, userId, fromSessionId, toSessionId, request);
  }

  listSessions(userId: string, request: core.ListRequest): Promise<SessionSummary[]> {
    return listSessions(this.#ctx, userId, request);
  }

  listUsers(after: string | undefined, limit: number): Promise<string[]> {
    return listUsers(this.#ctx, after, limit);
  }

  deleteConversation(key: ConversationKey): Promise<DeleteResult> {
    return removeFromSession(this.#ctx, key.userId, key.sessionId, key.agentId);
  }

  deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    return removeFromSession(this.#ctx, userId, sessionId, undefined);
  }

  deleteUser(userId: string): Promise<DeleteResult> {
    return deleteUser(this.#ctx, userId);
  }

  prune(request: core.PruneRequest): Promise<number> {
    return prune(this.#ctx, request);
  }

  /** Fills in the id items of sessions written before message ids (see legacy.ts); resumable. */
  backfillMessageIds(): Promise<number> {
    return backfillMessageIds(this.#ctx);
  }

  async close(): Promise<void> {
    await this.#ctx.io.drain();
    if (this.#ownsClient) this.#client.destroy();
  }
}
