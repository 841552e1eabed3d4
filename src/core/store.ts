import { ClosedError, ConvostoreError, TooLargeError, UnavailableError, ValidationError } from '../errors.js';
import type {
  ChatStorage,
  ConsecutiveRolePolicy,
  ConversationMessage,
  DeleteResult,
  ListSessionsOptions,
  ListUsersOptions,
  MessageInput,
  Page,
  PageOptions,
  SessionSummary,
  StoreOptions,
  StoredMessage,
} from '../types.js';
import { utf8Length } from './bytes.js';
import { attributeToAgent, collapseConsecutive, consecutiveNotice } from './agent-squad.js';
import type { EncodedMessage, RawMessage, StorageBackend } from './backend.js';
import { messageCursor, readMessageCursor, readSessionCursor, readUserCursor, sessionCursor, userCursor } from './cursor.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  checkClock,
  checkId,
  checkKey,
  checkOptions,
  checkPositiveInt,
  checkWindow,
  encodeMessage,
  readInput,
} from './validate.js';

const POLICIES: readonly ConsecutiveRolePolicy[] = ['skip', 'keep', 'throw'];

/**
 * The public face of every backend: validates, applies Agent Squad's rules, windows and cursors, and
 * turns whatever a driver throws into the contract's errors. Backends only store and fetch.
 */
export class ChatStore implements ChatStorage {
  readonly #backend: StorageBackend;
  readonly #policy: ConsecutiveRolePolicy;
  readonly #keepLast: number | undefined;
  readonly #ttlMs: number | undefined;
  readonly #clock: () => number;
  readonly #log: ((message: string) => void) | null;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(backend: StorageBackend, options: StoreOptions = {}) {
    const opts = checkOptions<StoreOptions>('options', options);
    const policy = opts.consecutiveRoles ?? 'skip';
    if (!POLICIES.includes(policy)) {
      throw new ValidationError('options.consecutiveRoles', `must be one of ${POLICIES.join(', ')}`);
    }
    const retention = checkOptions<NonNullable<StoreOptions['retention']>>('options.retention', opts.retention);
    this.#keepLast =
      retention.maxMessages === undefined
        ? undefined
        : checkPositiveInt('options.retention.maxMessages', retention.maxMessages, 0, Number.MAX_SAFE_INTEGER);
    this.#ttlMs =
      retention.ttlMs === undefined
        ? undefined
        : checkPositiveInt('options.retention.ttlMs', retention.ttlMs, 0, Number.MAX_SAFE_INTEGER);
    if (opts.clock !== undefined && typeof opts.clock !== 'function') {
      throw new ValidationError('options.clock', 'must be a function returning epoch milliseconds');
    }
    this.#backend = backend;
    this.#policy = policy;
    this.#clock = opts.clock ?? Date.now;
    this.#log = opts.logger === undefined ? (m) => console.warn(m) : opts.logger;
  }

  /** The backend's name: `memory`, `sqlite`, `libsql` or `dynamodb`. */
  get backend(): string {
    return this.#backend.name;
  }

  /** Largest accepted message content, in UTF-8 bytes of its JSON. */
  get maxMessageBytes(): number {
    return this.#backend.maxMessageBytes;
  }

  /** How this store treats a message whose role repeats the previous one's (see StoreOptions). */
  get consecutiveRoles(): ConsecutiveRolePolicy {
    return this.#policy;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  saveChatMessage(
    userId: string,
    sessionId: string,
    agentId: string,
    message: MessageInput,
    maxHistorySize?: number,
  ): Promise<ConversationMessage[]> {
    return this.#run(() => this.#save(userId, sessionId, agentId, [message], maxHistorySize, 'message'));
  }

  saveChatMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    messages: MessageInput[],
    maxHistorySize?: number,
  ): Promise<ConversationMessage[]> {
    return this.#run(() => {
      const list = readInput('messages', () => {
        if (!Array.isArray(messages)) throw new ValidationError('messages', 'must be an array of messages');
        return [...(messages as unknown[])];
      });
      return this.#save(userId, sessionId, agentId, list, maxHistorySize, 'messages');
    });
  }

  async #save(
    userId: string,
    sessionId: string,
    agentId: string,
    inputs: readonly unknown[],
    maxHistorySize: unknown,
    field: string,
  ): Promise<ConversationMessage[]> {
    const key = checkKey(userId, sessionId, agentId);
    const window = checkWindow(maxHistorySize);
    const encoded = inputs.map((m, i) => encodeMessage(inputs.length === 1 && field === 'message' ? field : `${field}[${i}]`, m, this.#clock));
    for (const m of encoded) this.#checkSize(m);
    const messages = collapseConsecutive(encoded, this.#policy);
    const now = checkClock(this.#clock());
    const cutoff = this.#cutoff(now);
    if (messages.length === 0) {
      return decodeAll(await this.#backend.readPage(key, { order: 'newest', afterSeq: undefined, limit: window, cutoff }), true);
    }
    const result = await this.#backend.append({
      key,
      messages,
      policy: this.#policy,
      now,
      keepLast: this.#keepLast,
      window,
      cutoff,
    });
    // Agent Squad logs each skipped message; so do we, whichever layer skipped it.
    if (messages.length < encoded.length) this.#log?.(consecutiveNotice(firstDropped(encoded, messages), key.agentId));
    if (result.appended < messages.length) this.#log?.(consecutiveNotice(messages[0]!.role, key.agentId));
    return result.window.map(toConversationMessage);
  }

  fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number): Promise<ConversationMessage[]> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const limit = checkWindow(maxHistorySize);
      if (limit === 0) return [];
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      return decodeAll(await this.#backend.readPage(key, { order: 'newest', afterSeq: undefined, limit, cutoff }), true);
    });
  }

  fetchAllChats(userId: string, sessionId: string): Promise<ConversationMessage[]> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = await this.#backend.readSession(user, session, cutoff);
      return rows.map((row) => attributeToAgent(row.agentId, toConversationMessage(row)));
    });
  }

  fetchChatPage(userId: string, sessionId: string, agentId: string, options?: PageOptions): Promise<Page<StoredMessage>> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const opts = checkOptions<PageOptions>('options', options);
      const order = opts.order ?? 'newest';
      if (order !== 'newest' && order !== 'oldest') throw new ValidationError('options.order', "must be 'newest' or 'oldest'");
      const limit = checkPositiveInt('options.limit', opts.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const scope = [key.userId, key.sessionId, key.agentId];
      const afterSeq = opts.cursor === undefined ? undefined : readMessageCursor(opts.cursor, scope, order);
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = await this.#backend.readPage(key, { order, afterSeq, limit: limit + 1, cutoff });
      const items = rows.slice(0, limit).map(toStoredMessage);
      const last = items[items.length - 1];
      return rows.length > limit && last ? { items, nextCursor: messageCursor(scope, order, last.seq) } : { items };
    });
  }

  listSessions(userId: string, options?: ListSessionsOptions): Promise<Page<SessionSummary>> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const opts = checkOptions<ListSessionsOptions>('options', options);
      const limit = checkPositiveInt('options.limit', opts.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const after = opts.cursor === undefined ? undefined : readSessionCursor(opts.cursor, user);
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = await this.#backend.listSessions(user, { limit: limit + 1, after, cutoff });
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return rows.length > limit && last
        ? { items, nextCursor: sessionCursor(user, last.lastActivityAt, last.sessionId) }
        : { items };
    });
  }

  listUsers(options?: ListUsersOptions): Promise<Page<string>> {
    return this.#run(async () => {
      const opts = checkOptions<ListUsersOptions>('options', options);
      const limit = checkPositiveInt('options.limit', opts.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      const after = opts.cursor === undefined ? undefined : readUserCursor(opts.cursor);
      const rows = await this.#backend.listUsers(after, limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return rows.length > limit && last !== undefined ? { items, nextCursor: userCursor(last) } : { items };
    });
  }

  deleteConversation(userId: string, sessionId: string, agentId: string): Promise<DeleteResult> {
    return this.#run(() => this.#backend.deleteConversation(checkKey(userId, sessionId, agentId)));
  }

  deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    return this.#run(() => this.#backend.deleteSession(checkId('userId', userId), checkId('sessionId', sessionId)));
  }

  deleteUser(userId: string): Promise<DeleteResult> {
    return this.#run(() => this.#backend.deleteUser(checkId('userId', userId)));
  }

  prune(): Promise<number> {
    return this.#run(() =>
      this.#backend.prune({ keepLast: this.#keepLast, cutoff: this.#cutoff(checkClock(this.#clock())) }),
    );
  }

  /** Waits for calls in flight, then releases the backend. Later calls fail with ClosedError. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#inFlight]);
      try {
        await this.#backend.close();
      } catch (error) {
        throw new UnavailableError(`closing the ${this.#backend.name} backend failed`, error);
      }
    })();
    return this.#closing;
  }

  #checkSize(message: EncodedMessage): void {
    const limit = this.#backend.maxMessageBytes;
    // A JS string's UTF-8 size is at most 3 bytes per unit, so most messages skip the exact count.
    if (message.json.length * 3 <= limit) return;
    const size = utf8Length(message.json);
    if (size > limit) throw new TooLargeError(size, limit, this.#backend.name);
  }

  #cutoff(now: number): number | undefined {
    return this.#ttlMs === undefined ? undefined : now - this.#ttlMs;
  }

  /** Every public call goes through here: closed check, in-flight tracking, error normalisation. */
  #run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new ClosedError());
    const promise = (async () => {
      try {
        return await operation();
      } catch (error) {
        if (error instanceof ConvostoreError) throw error;
        throw new UnavailableError(`the ${this.#backend.name} backend failed`, error);
      }
    })();
    this.#inFlight.add(promise);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

function firstDropped(all: EncodedMessage[], kept: EncodedMessage[]): string {
  const keptSet = new Set(kept);
  return all.find((m) => !keptSet.has(m))!.role;
}

function decodeAll(rows: RawMessage[], newestFirst: boolean): ConversationMessage[] {
  const messages = rows.map(toConversationMessage);
  return newestFirst ? messages.reverse() : messages;
}

function toConversationMessage(row: RawMessage): ConversationMessage {
  return { role: row.role, content: JSON.parse(row.json) as ConversationMessage['content'] };
}

function toStoredMessage(row: RawMessage): StoredMessage {
  return { role: row.role, content: JSON.parse(row.json) as StoredMessage['content'], seq: row.seq, timestamp: row.timestamp };
}
