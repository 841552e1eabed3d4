/** Agent Squad's `ParticipantRole` values. */
export type Role = 'user' | 'assistant';

/** A content block: a plain JSON object such as `{ text }`, `{ image }` or `{ toolUse }`. */
export type ContentBlock = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Agent Squad's `ConversationMessage`. */
export interface ConversationMessage {
  role: Role;
  content: ContentBlock[];
}

/** What callers may pass in: string content becomes `[{ text }]`; a timestamp is kept when given. */
export interface MessageInput {
  role: Role | string;
  content: ContentBlock[] | string;
  timestamp?: number | Date;
}

/** A message as stored: its write position in the conversation and its timestamp (epoch ms). */
export interface StoredMessage extends ConversationMessage {
  seq: number;
  timestamp: number;
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
}
