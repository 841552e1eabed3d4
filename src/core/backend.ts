import type {
  ConsecutiveRolePolicy,
  ConversationKey,
  DeleteResult,
  JsonValue,
  PageOrder,
  Role,
  SessionSummary,
} from '../types.js';

/**
 * The narrow interface a backend implements. Everything that is the same for every backend —
 * validation, Agent Squad's rules, ids, windows, cursors, error wrapping — lives in `ChatStore` and
 * reaches a backend already checked, so a backend only stores and fetches.
 *
 * Refusals that depend on stored state (a conflict, an unknown id, a repeated role under `throw`)
 * must be decided atomically with the write; a backend throws the contract's error itself
 * (ConflictError, NotFoundError, ConsecutiveRoleError) and writes nothing.
 */
export interface StorageBackend {
  /** Used in error messages: `sqlite`, `libsql`, `memory`, `dynamodb`. */
  readonly name: string;
  /** Largest accepted message, in UTF-8 bytes of the JSON of its content plus that of its metadata. */
  readonly maxMessageBytes: number;

  /** saveChatMessage(s), upsertMessages and each conversation's part of importSession: one atomic write. */
  write(request: WriteRequest): Promise<WriteResult>;
  readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]>;
  /**
   * Optional, for speed: the newest `limit` live messages, oldest first, with only what a window
   * returns (fetchChat). Without it ChatStore reads a page.
   */
  readWindow?(key: ConversationKey, limit: number, cutoff: number | undefined): Promise<WindowMessage[]>;
  /**
   * Optional, for speed: a session's live messages in write order with only what fetchAllChats
   * returns. Without it ChatStore reads the session.
   */
  readAllChats?(userId: string, sessionId: string, cutoff: number | undefined): Promise<AgentMessage[]>;
  /** A session's messages across its agents in write order; `null` when `afterId` is not in the session. */
  readSession(userId: string, sessionId: string, request: SessionReadRequest): Promise<RawSessionMessage[] | null>;
  getMessage(userId: string, sessionId: string, messageId: string, cutoff: number | undefined): Promise<RawSessionMessage | null>;
  /**
   * Replaces content and/or metadata in place; `null` when the id is not in the session (or expired).
   * TooLargeError, nothing written, when the new content plus the resulting metadata (or the kept
   * content plus the new metadata) exceeds `maxMessageBytes`.
   */
  updateMessage(userId: string, sessionId: string, messageId: string, update: MessageChange, cutoff: number | undefined): Promise<RawSessionMessage | null>;
  /** Removes the session's messages with these ids (unknown ones ignored); returns how many. */
  deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number>;
  /** Removes what its conversation holds after the message (and it, when inclusive); `null`: unknown id. */
  truncateAfter(userId: string, sessionId: string, messageId: string, inclusive: boolean): Promise<number | null>;
  getSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<SessionSummary | null>;
  /** Creates the session when missing; never moves last activity backwards. Resolves to its summary afterwards. */
  /** Resolves to the session's summary afterwards, or to undefined when `request.summary` is false. */
  updateSession(userId: string, sessionId: string, request: SessionChange): Promise<SessionSummary | undefined>;
  /** Resolves to the fork's summary. */
  forkSession(userId: string, fromSessionId: string, toSessionId: string, request: ForkRequest): Promise<SessionSummary>;
  listSessions(userId: string, request: ListRequest): Promise<SessionSummary[]>;
  /** User ids after `after` (exclusive) in UTF-8 byte order, at most `limit`. */
  listUsers(after: string | undefined, limit: number): Promise<string[]>;
  deleteConversation(key: ConversationKey): Promise<DeleteResult>;
  deleteSession(userId: string, sessionId: string): Promise<DeleteResult>;
  deleteUser(userId: string): Promise<DeleteResult>;
  prune(request: PruneRequest): Promise<number>;
  close(): Promise<void>;
}

/** A validated message, its content (and metadata) already serialised once. */
export interface EncodedMessage {
  id: string;
  /** The store made the id for this call, so it cannot be stored yet (unless this very write is repeated). */
  idMade: boolean;
  role: Role;
  json: string;
  /** The metadata object as JSON text; undefined when the message has none. */
  metadata: string | undefined;
  timestamp: number;
}

/**
 * How a message whose id is already stored in the session is treated:
 * - `append` (saveChatMessage(s), importSession): stored in this conversation with the same role,
 *   content and metadata, it is a retry and is left alone; anything else is a ConflictError;
 * - `upsert` (upsertMessages): stored in this conversation with the same role, its content and
 *   metadata are replaced in place; another role or another agent is a ConflictError.
 */
export type WriteMode = 'append' | 'upsert';

export interface WriteRequest {
  key: ConversationKey;
  /**
   * May be empty (an upsert that only deletes). Ids are distinct. In an append, under `skip` and
   * `throw`, the user/assistant roles already alternate within the batch; an upsert's do not (its
   * stored messages take no part in the rule): see `appendable` in agent-squad.ts.
   */
  messages: EncodedMessage[];
  mode: WriteMode;
  /**
   * How each message to be appended (its id not yet in the session) meets the one appended before
   * it, the first the conversation's last live stored message (timestamp >= cutoff), when both are
   * `user` or both `assistant`: `skip` drops it, `throw` refuses the whole write with
   * ConsecutiveRoleError, `keep` appends it; `system` and `tool` messages never repeat; under
   * `skip`, a write sent again skips what it skipped first (agent-squad.ts, `appendable`). The
   * check and the write must be one atomic step.
   */
  policy: ConsecutiveRolePolicy;
  /** upsertMessages: ids of this conversation to remove before anything else is written. */
  deleteIds: string[] | undefined;
  /** upsertMessages: the conversation's newest live ids, oldest first, or ConflictError. Checked first. */
  expectLastIds: string[] | undefined;
  /** Clock time of the write: the session's last activity becomes at least this. */
  now: number;
  /** The session's createdAt when this write creates it; default `now`. */
  createdAt?: number;
  /** Retention: delete all but the newest `keepLast` messages of the conversation, in the same step. */
  keepLast: number | undefined;
  /** Newest messages to return after the write; undefined returns all; 0 reads nothing. */
  window: number | undefined;
  /** Messages with a timestamp below this are expired and not returned. */
  cutoff: number | undefined;
}

export interface WriteResult {
  /** Messages appended (new ids). */
  appended: number;
  /** Messages replaced in place (`upsert`). */
  replaced: number;
  /** Messages whose id was already stored identically (`append`): a retry, nothing written. */
  unchanged: number;
  /**
   * The batch's messages as stored afterwards, in batch order; a message skipped under the
   * consecutive-role rule is absent.
   */
  stored: RawMessage[];
  /** The window after the write, oldest first (a backend may return whole RawMessages). */
  window: WindowMessage[];
}

export interface ReadRequest {
  order: PageOrder;
  /** Exclusive bound: seq below it (newest) or above it (oldest). */
  afterSeq: number | undefined;
  /** undefined reads to the end. */
  limit: number | undefined;
  cutoff: number | undefined;
}

export interface SessionReadRequest {
  order: PageOrder;
  /** Exclusive bound on `position` (a cursor). */
  afterPosition: number | undefined;
  /** Exclusive anchor: start right after this message id (in `order`). */
  afterId: string | undefined;
  /** undefined reads to the end. */
  limit: number | undefined;
  cutoff: number | undefined;
}

export interface MessageChange {
  /** New content JSON, or undefined to keep it. */
  json: string | undefined;
  /** New metadata JSON, `null` to remove it, undefined to keep it. */
  metadata: string | null | undefined;
}

export interface SessionChange {
  /** undefined keeps the title, null removes it. */
  title: string | null | undefined;
  /** Top-level keys to set (JSON values) or remove (null); undefined changes nothing. */
  metadata: { [key: string]: JsonValue } | undefined;
  /** Creation time, when this call creates the session. */
  now: number;
  /** importSession: last activity becomes at least this. Updates by users never move it. */
  activityAt?: number;
  /** For the summary the call resolves to: messages older than this are not counted. */
  cutoff: number | undefined;
  /**
   * Whether to resolve to the summary. importSession does not need it, and counting a session's
   * messages costs time in proportion to its size: once per imported chunk, a large session's import
   * would be quadratic.
   */
  summary: boolean;
}

/**
 * Copies a session atomically (NotFoundError when the source or `upToMessageId` is unknown,
 * ConflictError when the target exists), keeping ids, roles, content, metadata, timestamps, seqs and
 * write order; the fork is created at `now` and takes `title` when given, else the source's.
 */
export interface ForkRequest {
  upToMessageId: string | undefined;
  title: string | undefined;
  now: number;
  /** For the summary the call resolves to. */
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

/** A stored message with its content and metadata still as JSON text; `ChatStore` decodes it once. */
export interface RawMessage {
  id: string;
  seq: number;
  role: Role;
  json: string;
  /** JSON text; undefined (or null from SQL) when the message has none. */
  metadata: string | null | undefined;
  timestamp: number;
}

/** What a window returns of a message (fetchChat, saveChatMessage(s)): its role and content. */
export type WindowMessage = Pick<RawMessage, 'role' | 'json'>;

/** What fetchAllChats returns of a message: its agent, role and content. */
export type AgentMessage = WindowMessage & { agentId: string };

export interface RawSessionMessage extends RawMessage {
  agentId: string;
  /** The message's place in the session's write order (increasing; an opaque number for cursors). */
  position: number;
}
