/**
 * Agent Squad's `ParticipantRole` values, and the `system` and `tool` roles of today's frameworks.
 * Only `user` and `assistant` are subject to the consecutive-role rule.
 */
export type Role = 'user' | 'assistant' | 'system' | 'tool';

/** A content block: a plain JSON object such as `{ text }`, `{ image }` or `{ toolUse }`. */
export type ContentBlock = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** Per-message or per-session metadata: a plain JSON object (token usage, model id, a framework's own fields). */
export type Metadata = { [key: string]: JsonValue };

/** Agent Squad's `ConversationMessage` (its roles are `user` and `assistant`; v2 adds `system`, `tool`). */
export interface ConversationMessage {
  role: Role;
  content: ContentBlock[];
}

/**
 * What callers may pass in: string content becomes `[{ text }]`; a timestamp is kept when given; an
 * id is made on the client (a UUIDv7) when not given.
 */
export interface MessageInput {
  /** Unique within the session (across its agents); the same rules as other ids. */
  id?: string;
  role: Role | string;
  content: ContentBlock[] | string;
  timestamp?: number | Date;
  metadata?: Metadata;
}

/** A message as stored: its id, write position in the conversation and timestamp (epoch ms). */
export interface StoredMessage extends ConversationMessage {
  id: string;
  seq: number;
  timestamp: number;
  /** Absent when the message has none. */
  metadata?: Metadata;
}

/** A stored message read across a session's agents (`fetchSessionPage`, `getMessage`). */
export interface SessionMessage extends StoredMessage {
  agentId: string;
}

export interface ConversationKey {
  userId: string;
  sessionId: string;
  agentId: string;
}

export type PageOrder = 'newest' | 'oldest';

export interface PageOptions {
  /** Messages per page, 1..1000; default 50. */
  limit?: number;
  /** `newest` (default) walks back from the latest message; `oldest` walks forward from the first. */
  order?: PageOrder;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface SessionPageOptions extends PageOptions {
  /**
   * A message id of the session: the page starts right after it in the given order (jump to a
   * message, scroll both ways, poll for new messages). Not with `cursor`. Unknown id: NotFoundError.
   */
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface AgentSummary {
  agentId: string;
  messageCount: number;
  lastMessageAt: number;
}

export interface SessionSummary {
  sessionId: string;
  createdAt: number;
  lastActivityAt: number;
  messageCount: number;
  /** Agents with at least one live message, by agentId. */
  agents: AgentSummary[];
  /** Absent when the session has none. */
  title?: string;
  /** Absent when the session has none. */
  metadata?: Metadata;
}

export interface UpsertOptions {
  /** The consecutive-role policy for this call; default the store's. */
  consecutiveRoles?: ConsecutiveRolePolicy;
  /** Messages of this conversation to remove first (unknown ids are ignored). */
  deleteIds?: string[];
  /**
   * The conversation's newest stored messages must be exactly these ids, oldest first (`[]`: it is
   * empty), else ConflictError and nothing is written.
   */
  expectLastIds?: string[];
}

export interface MessageUpdate {
  content?: ContentBlock[] | string;
  /** Replaces the metadata whole; `null` removes it. */
  metadata?: Metadata | null;
}

export interface TruncateOptions {
  /** Remove the message itself too; default false. */
  inclusive?: boolean;
}

export interface SessionUpdate {
  /** Replaces the title; `null` removes it. */
  title?: string | null;
  /** Merged key by key into the stored metadata; a key set to `null` is removed. */
  metadata?: { [key: string]: JsonValue };
}

export interface ForkOptions {
  /** Copy up to and including this message (by session write order); default everything. */
  upToMessageId?: string;
  /** The fork's title; default the source's. */
  title?: string;
}

/** A message for `importSession`: everything a copy of a stored message carries. */
export interface ImportMessage {
  agentId: string;
  id: string;
  role: Role;
  content: ContentBlock[] | string;
  timestamp: number;
  metadata?: Metadata;
}

export interface ImportSessionInput {
  /** Set when the import creates the session; default the first message's timestamp, else now. */
  createdAt?: number;
  /** The session's last activity afterwards is at least this; default the newest message's timestamp. */
  lastActivityAt?: number;
  title?: string;
  metadata?: Metadata;
  /** In the session's write order; appended after what is stored, consecutive roles kept as they are. */
  messages: ImportMessage[];
}

export interface ImportResult {
  /** Messages written. */
  imported: number;
  /** Messages whose id was already stored identically (a resumed import): not written again. */
  unchanged: number;
}

export interface ListSessionsOptions {
  limit?: number;
  cursor?: string;
}

export interface ListUsersOptions {
  limit?: number;
  cursor?: string;
}

export interface DeleteResult {
  messages: number;
  sessions: number;
}

export interface RetentionPolicy {
  /** Keep at most this many messages per conversation; older ones are deleted on write. */
  maxMessages?: number;
  /** Messages older than this many milliseconds are never returned and are removed by `prune()`. */
  ttlMs?: number;
}

/** What to do with a message whose role equals the previous one's in its conversation. */
export type ConsecutiveRolePolicy = 'skip' | 'keep' | 'throw';

export interface StoreOptions {
  /** Default `skip`, as Agent Squad does (it logs and leaves the history unchanged). */
  consecutiveRoles?: ConsecutiveRolePolicy;
  retention?: RetentionPolicy;
  /** Epoch-millisecond clock; injectable for tests and replays. */
  clock?: () => number;
  /** Receives Agent Squad's "consecutive message" notices; default `console.warn`, `null` silences. */
  logger?: ((message: string) => void) | null;
}

/**
 * The repository interface every backend implements. The first four methods are Agent Squad's
 * `ChatStorage`, with its names, argument order and return shapes.
 */
export interface ChatStorage {
  saveChatMessage(
    userId: string,
    sessionId: string,
    agentId: string,
    message: MessageInput,
    maxHistorySize?: number,
  ): Promise<ConversationMessage[]>;
  saveChatMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    messages: MessageInput[],
    maxHistorySize?: number,
  ): Promise<ConversationMessage[]>;
  fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number): Promise<ConversationMessage[]>;
  fetchAllChats(userId: string, sessionId: string): Promise<ConversationMessage[]>;

  fetchChatPage(userId: string, sessionId: string, agentId: string, options?: PageOptions): Promise<Page<StoredMessage>>;
  listSessions(userId: string, options?: ListSessionsOptions): Promise<Page<SessionSummary>>;
  /** Every user with stored data, by id (UTF-8 byte order), page by page: for export and erasure audits. */
  listUsers(options?: ListUsersOptions): Promise<Page<string>>;
  deleteConversation(userId: string, sessionId: string, agentId: string): Promise<DeleteResult>;
  deleteSession(userId: string, sessionId: string): Promise<DeleteResult>;
  deleteUser(userId: string): Promise<DeleteResult>;
  /** Applies the retention policy to everything stored; returns how many messages were removed. */
  prune(): Promise<number>;
  close(): Promise<void>;

  // Version 2: ids, edits, titles, forks (docs/contract.md).
  getMessage(userId: string, sessionId: string, messageId: string): Promise<SessionMessage | null>;
  updateMessage(userId: string, sessionId: string, messageId: string, update: MessageUpdate): Promise<SessionMessage>;
  upsertMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    messages: MessageInput[],
    options?: UpsertOptions,
  ): Promise<StoredMessage[]>;
  deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number>;
  truncateAfter(userId: string, sessionId: string, messageId: string, options?: TruncateOptions): Promise<number>;
  fetchSessionPage(userId: string, sessionId: string, options?: SessionPageOptions): Promise<Page<SessionMessage>>;
  getSession(userId: string, sessionId: string): Promise<SessionSummary | null>;
  updateSession(userId: string, sessionId: string, update: SessionUpdate): Promise<SessionSummary>;
  forkSession(userId: string, fromSessionId: string, toSessionId: string, options?: ForkOptions): Promise<SessionSummary>;
  /**
   * Writes a session as a copy holds it (export/import, copy between backends): explicit ids,
   * timestamps, write order across agents, title and metadata. Idempotent by id, so an interrupted
   * import can be run again; call it several times with consecutive chunks of a large session.
   */
  importSession(userId: string, sessionId: string, input: ImportSessionInput): Promise<ImportResult>;
}
