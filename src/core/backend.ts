import type { ConsecutiveRolePolicy, ConversationKey, DeleteResult, PageOrder, Role, SessionSummary } from '../types.js';

/**
 * The narrow interface a backend implements. Everything that is the same for every backend —
 * validation, Agent Squad's rules, windows, cursors, error wrapping — lives in `ChatStore` and
 * reaches a backend already checked, so a backend only stores and fetches.
 */
export interface StorageBackend {
  /** Used in error messages: `sqlite`, `libsql`, `memory`, `dynamodb`. */
  readonly name: string;
  /** Largest accepted message, in UTF-8 bytes of the content's JSON. */
  readonly maxMessageBytes: number;

  append(request: AppendRequest): Promise<AppendResult>;
  readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]>;
  /** A session's messages across its agents, in write order. */
  readSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<RawSessionMessage[]>;
  listSessions(userId: string, request: ListRequest): Promise<SessionSummary[]>;
  /** User ids after `after` (exclusive) in UTF-8 byte order, at most `limit`. */
  listUsers(after: string | undefined, limit: number): Promise<string[]>;
  deleteConversation(key: ConversationKey): Promise<DeleteResult>;
  deleteSession(userId: string, sessionId: string): Promise<DeleteResult>;
  deleteUser(userId: string): Promise<DeleteResult>;
  prune(request: PruneRequest): Promise<number>;
  close(): Promise<void>;
}

/** A validated message, its content already serialised once. */
export interface EncodedMessage {
  role: Role;
  json: string;
  timestamp: number;
}

export interface AppendRequest {
  key: ConversationKey;
  /** Non-empty. Under `skip` and `throw` the roles already alternate within the batch. */
  messages: EncodedMessage[];
  /**
   * How the first message meets the last live stored one (timestamp >= cutoff: an expired message is
   * invisible, so it cannot make a new one a repeat): `skip` drops it when the roles match, `throw`
   * refuses the whole batch with ConsecutiveRoleError, `keep` appends regardless. The check and the
   * append must be one atomic step, or two concurrent writers could both pass it.
   */
  policy: ConsecutiveRolePolicy;
  /** Clock time of the write, for the session's last activity. */
  now: number;
  /** Retention: delete all but the newest `keepLast` messages of the conversation, in the same step. */
  keepLast: number | undefined;
  /** Newest messages to return after the append; undefined returns all. */
  window: number | undefined;
  /** Messages with a timestamp below this are expired and not returned. */
  cutoff: number | undefined;
}

export interface AppendResult {
  appended: number;
  /** The window after the append, oldest first. */
  window: RawMessage[];
}

export interface ReadRequest {
  order: PageOrder;
  /** Exclusive bound: seq below it (newest) or above it (oldest). */
  afterSeq: number | undefined;
  /** undefined reads to the end. */
  limit: number | undefined;
  cutoff: number | undefined;
}

/** Sessions come most recent first: lastActivityAt descending, then sessionId descending. */
export interface ListRequest {
  limit: number;
  after: { lastActivityAt: number; sessionId: string } | undefined;
  cutoff: number | undefined;
}

export interface PruneRequest {
  keepLast: number | undefined;
  cutoff: number | undefined;
}

/** A stored message with its content still as JSON text; `ChatStore` decodes it once. */
export interface RawMessage {
  seq: number;
  role: Role;
  json: string;
  timestamp: number;
}

export interface RawSessionMessage extends RawMessage {
  agentId: string;
}
