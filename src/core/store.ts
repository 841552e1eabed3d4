import { ClosedError, ConvostoreError, NotFoundError, TooLargeError, UnavailableError, ValidationError } from '../errors.js';
import type {
  ChatStorage,
  ConsecutiveRolePolicy,
  ConversationMessage,
  DeleteResult,
  ForkOptions,
  ImportResult,
  ImportSessionInput,
  ListSessionsOptions,
  ListUsersOptions,
  MessageInput,
  MessageUpdate,
  Metadata,
  Page,
  PageOptions,
  SessionMessage,
  SessionPageOptions,
  SessionSummary,
  SessionUpdate,
  StoreOptions,
  StoredMessage,
  TruncateOptions,
  UpsertOptions,
} from '../types.js';
import { utf8Length } from './bytes.js';
import { attributeToAgent, collapseConsecutive, consecutiveNotice } from './agent-squad.js';
import type { EncodedMessage, RawMessage, RawSessionMessage, StorageBackend, WindowMessage, WriteMode } from './backend.js';
import {
  messageCursor,
  readMessageCursor,
  readSessionCursor,
  readSessionMessageCursor,
  readUserCursor,
  sessionCursor,
  sessionMessageCursor,
  userCursor,
} from './cursor.js';
import { uuidv7Generator, type IdGenerator } from './ids.js';
import { planImport } from './import.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  checkClock,
  checkId,
  checkIdList,
  checkKey,
  checkMetadata,
  checkOptions,
  checkPositiveInt,
  checkSessionMetadataSize,
  checkTitle,
  checkWindow,
  encodeContent,
  encodeMessage,
  encodeMetadata,
  readInput,
} from './validate.js';

const POLICIES: readonly ConsecutiveRolePolicy[] = ['skip', 'keep', 'throw'];

/**
 * The public face of every backend: validates, applies Agent Squad's rules, makes ids, windows and
 * cursors, and turns whatever a driver throws into the contract's errors. Backends only store and
 * fetch. (`ChatStorage` is the interface, Agent Squad's name; `ChatStore` is this class, which every
 * backend's store extends.)
 */
export class ChatStore implements ChatStorage {
  readonly #backend: StorageBackend;
  readonly #policy: ConsecutiveRolePolicy;
  readonly #keepLast: number | undefined;
  readonly #ttlMs: number | undefined;
  readonly #clock: () => number;
  readonly #newId: IdGenerator;
  readonly #log: ((message: string) => void) | null;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(backend: StorageBackend, options: StoreOptions = {}) {
    const opts = checkOptions<StoreOptions>('options', options);
    this.#policy = checkPolicy('options.consecutiveRoles', opts.consecutiveRoles) ?? 'skip';
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
    this.#clock = opts.clock ?? Date.now;
    // Ids follow the wall clock, not the injected one: a test clock stuck at one value must still
    // give distinct, ordered ids (the generator is monotonic either way).
    this.#newId = uuidv7Generator();
    this.#log = opts.logger === undefined ? (m) => console.warn(m) : opts.logger;
  }

  /** The backend's name: `memory`, `sqlite`, `libsql` or `dynamodb`. */
  get backend(): string {
    return this.#backend.name;
  }

  /** Largest accepted message (content plus metadata), in UTF-8 bytes of their JSON. */
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
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const window = checkWindow(maxHistorySize);
      const encoded = [this.#encode('message', message)];
      return (await this.#write(key, encoded, 'append', this.#policy, window)).window.map(toConversationMessage);
    });
  }

  saveChatMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    messages: MessageInput[],
    maxHistorySize?: number,
  ): Promise<ConversationMessage[]> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const window = checkWindow(maxHistorySize);
      const encoded = this.#encodeAll('messages', messages);
      if (encoded.length === 0) {
        // Nothing to store: the window as it is, and no session created or touched (as in v1).
        if (window === 0) return [];
        const cutoff = this.#cutoff(checkClock(this.#clock()));
        return (await this.#backend.readPage(key, { order: 'newest', afterSeq: undefined, limit: window, cutoff }))
          .reverse()
          .map(toConversationMessage);
      }
      return (await this.#write(key, encoded, 'append', this.#policy, window)).window.map(toConversationMessage);
    });
  }

  upsertMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    messages: MessageInput[],
    options?: UpsertOptions,
  ): Promise<StoredMessage[]> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const opts = checkOptions<UpsertOptions>('options', options);
      const policy = checkPolicy('options.consecutiveRoles', opts.consecutiveRoles) ?? this.#policy;
      const deleteIds = opts.deleteIds === undefined ? undefined : checkIdList('options.deleteIds', opts.deleteIds);
      const expectLastIds =
        opts.expectLastIds === undefined ? undefined : checkIdList('options.expectLastIds', opts.expectLastIds, { distinct: true });
      const encoded = this.#encodeAll('messages', messages);
      if (encoded.length === 0 && deleteIds === undefined && expectLastIds === undefined) return [];
      const result = await this.#write(key, encoded, 'upsert', policy, 0, { deleteIds, expectLastIds });
      return result.stored.map(toStoredMessage);
    });
  }

  /** Validates, applies the batch's own consecutive-role rule, and writes; logs what was skipped. */
  async #write(
    key: { userId: string; sessionId: string; agentId: string },
    encoded: EncodedMessage[],
    mode: WriteMode,
    policy: ConsecutiveRolePolicy,
    window: number | undefined,
    extra: { deleteIds?: string[]; expectLastIds?: string[] } = {},
  ) {
    // An append's messages all go to the end, so the batch's own repeats can go before the write. An
    // upsert's stored messages are replaced in place and take no part in the rule: the backend applies
    // it to the messages it appends, once it knows which those are.
    const messages = mode === 'append' ? collapseConsecutive(encoded, policy) : encoded;
    const now = checkClock(this.#clock());
    const cutoff = this.#cutoff(now);
    const result = await this.#backend.write({
      key,
      messages,
      mode,
      policy,
      deleteIds: extra.deleteIds,
      expectLastIds: extra.expectLastIds,
      now,
      keepLast: this.#keepLast,
      window,
      cutoff,
    });
    // Agent Squad logs each skipped message; so do we, whichever layer skipped it.
    if (messages.length < encoded.length) this.#log?.(consecutiveNotice(firstDropped(encoded, messages), key.agentId));
    if (result.appended + result.replaced + result.unchanged < messages.length) {
      // An upsert resolves to what it stored: the first message missing from it is the one skipped.
      const stored = new Set(result.stored.map((m) => m.id));
      const skipped = mode === 'upsert' ? messages.find((m) => !stored.has(m.id)) : undefined;
      this.#log?.(consecutiveNotice((skipped ?? messages[0]!).role, key.agentId));
    }
    return result;
  }

  fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number): Promise<ConversationMessage[]> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const limit = checkWindow(maxHistorySize);
      if (limit === 0) return [];
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = this.#backend.readWindow
        ? await this.#backend.readWindow(key, limit ?? Number.MAX_SAFE_INTEGER, cutoff)
        : (await this.#backend.readPage(key, { order: 'newest', afterSeq: undefined, limit, cutoff })).reverse();
      return rows.map(toConversationMessage);
    });
  }

  fetchAllChats(userId: string, sessionId: string): Promise<ConversationMessage[]> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = this.#backend.readAllChats
        ? await this.#backend.readAllChats(user, session, cutoff)
        : await this.#backend.readSession(user, session, {
            order: 'oldest',
            afterPosition: undefined,
            afterId: undefined,
            limit: undefined,
            cutoff,
          });
      return (rows ?? []).map((row) => attributeToAgent(row.agentId, toConversationMessage(row)));
    });
  }

  fetchChatPage(userId: string, sessionId: string, agentId: string, options?: PageOptions): Promise<Page<StoredMessage>> {
    return this.#run(async () => {
      const key = checkKey(userId, sessionId, agentId);
      const opts = checkOptions<PageOptions>('options', options);
      const order = checkOrder(opts.order);
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

  fetchSessionPage(userId: string, sessionId: string, options?: SessionPageOptions): Promise<Page<SessionMessage>> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const opts = checkOptions<SessionPageOptions>('options', options);
      const order = checkOrder(opts.order);
      const limit = checkPositiveInt('options.limit', opts.limit, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
      if (opts.cursor !== undefined && opts.after !== undefined) {
        throw new ValidationError('options.after', 'cannot be combined with a cursor (the cursor already says where the page starts)');
      }
      const afterId = opts.after === undefined ? undefined : checkId('options.after', opts.after);
      const afterPosition = opts.cursor === undefined ? undefined : readSessionMessageCursor(opts.cursor, user, session, order);
      const cutoff = this.#cutoff(checkClock(this.#clock()));
      const rows = await this.#backend.readSession(user, session, { order, afterPosition, afterId, limit: limit + 1, cutoff });
      if (rows === null) throw new NotFoundError(`options.after: no message '${afterId}' in this session`);
      const page = rows.slice(0, limit);
      const items = page.map(toSessionMessage);
      const last = page[page.length - 1];
      return rows.length > limit && last
        ? { items, nextCursor: sessionMessageCursor(user, session, order, last.position) }
        : { items };
    });
  }

  getMessage(userId: string, sessionId: string, messageId: string): Promise<SessionMessage | null> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const id = checkId('messageId', messageId);
      const row = await this.#backend.getMessage(user, session, id, this.#cutoff(checkClock(this.#clock())));
      return row ? toSessionMessage(row) : null;
    });
  }

  updateMessage(userId: string, sessionId: string, messageId: string, update: MessageUpdate): Promise<SessionMessage> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const id = checkId('messageId', messageId);
      const change = checkOptions<MessageUpdate>('update', update);
      const json = change.content === undefined ? undefined : encodeContent('update.content', change.content);
      const metadata =
        change.metadata === undefined ? undefined : change.metadata === null ? null : encodeMetadata('update.metadata', change.metadata);
      if (json === undefined && metadata === undefined) {
        throw new ValidationError('update', 'must give content and/or metadata');
      }
      // The limit is on content plus metadata; a part left as it is counts as stored, which only the
      // backend sees, so it checks the sum again atomically with the update.
      this.#checkSize((json ?? '') + (metadata ?? ''));
      const row = await this.#backend.updateMessage(user, session, id, { json, metadata }, this.#cutoff(checkClock(this.#clock())));
      if (!row) throw new NotFoundError(`messageId: no message '${id}' in this session`);
      return toSessionMessage(row);
    });
  }

  deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const ids = checkIdList('messageIds', messageIds);
      return ids.length === 0 ? 0 : this.#backend.deleteMessages(user, session, ids);
    });
  }

  truncateAfter(userId: string, sessionId: string, messageId: string, options?: TruncateOptions): Promise<number> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const id = checkId('messageId', messageId);
      const opts = checkOptions<TruncateOptions>('options', options);
      if (opts.inclusive !== undefined && typeof opts.inclusive !== 'boolean') {
        throw new ValidationError('options.inclusive', 'must be a boolean');
      }
      const removed = await this.#backend.truncateAfter(user, session, id, opts.inclusive ?? false);
      if (removed === null) throw new NotFoundError(`messageId: no message '${id}' in this session`);
      return removed;
    });
  }

  getSession(userId: string, sessionId: string): Promise<SessionSummary | null> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      return this.#backend.getSession(user, session, this.#cutoff(checkClock(this.#clock())));
    });
  }

  updateSession(userId: string, sessionId: string, update: SessionUpdate): Promise<SessionSummary> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const change = checkOptions<SessionUpdate>('update', update);
      const title = change.title === undefined || change.title === null ? change.title : checkTitle('update.title', change.title);
      const metadata = change.metadata === undefined ? undefined : checkSessionMetadata('update.metadata', change.metadata);
      const now = checkClock(this.#clock());
      const summary = await this.#backend.updateSession(user, session, { title, metadata, now, cutoff: this.#cutoff(now), summary: true });
      return summary!;
    });
  }

  forkSession(userId: string, fromSessionId: string, toSessionId: string, options?: ForkOptions): Promise<SessionSummary> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const from = checkId('fromSessionId', fromSessionId);
      const to = checkId('toSessionId', toSessionId);
      const opts = checkOptions<ForkOptions>('options', options);
      const upToMessageId = opts.upToMessageId === undefined ? undefined : checkId('options.upToMessageId', opts.upToMessageId);
      const title = opts.title === undefined ? undefined : checkTitle('options.title', opts.title);
      const now = checkClock(this.#clock());
      return this.#backend.forkSession(user, from, to, { upToMessageId, title, now, cutoff: this.#cutoff(now) });
    });
  }

  importSession(userId: string, sessionId: string, input: ImportSessionInput): Promise<ImportResult> {
    return this.#run(async () => {
      const user = checkId('userId', userId);
      const session = checkId('sessionId', sessionId);
      const plan = planImport(input, (field, m) => {
        const encoded = encodeMessage(field, m, this.#clock, this.#newId);
        this.#checkSize(encoded.json + (encoded.metadata ?? ''));
        return encoded;
      });
      const now = checkClock(this.#clock());
      const createdAt = plan.createdAt ?? plan.runs[0]?.messages[0]?.timestamp ?? now;
      if (plan.title !== undefined || plan.metadata !== undefined) {
        await this.#backend.updateSession(user, session, { title: plan.title, metadata: plan.metadata, now: createdAt, cutoff: undefined, summary: false });
      }
      const result: ImportResult = { imported: 0, unchanged: 0 };
      for (const run of plan.runs) {
        const written = await this.#backend.write({
          key: { userId: user, sessionId: session, agentId: run.agentId },
          messages: run.messages,
          mode: 'append',
          policy: 'keep',
          deleteIds: undefined,
          expectLastIds: undefined,
          now: run.messages[run.messages.length - 1]!.timestamp,
          createdAt,
          keepLast: this.#keepLast,
          window: 0,
          cutoff: undefined,
        });
        result.imported += written.appended;
        result.unchanged += written.unchanged;
      }
      const activityAt = plan.lastActivityAt ?? plan.runs[plan.runs.length - 1]?.messages.at(-1)?.timestamp;
      if (activityAt !== undefined && (plan.runs.length > 0 || plan.lastActivityAt !== undefined)) {
        await this.#backend.updateSession(user, session, { title: undefined, metadata: undefined, now: createdAt, activityAt, cutoff: undefined, summary: false });
      }
      return result;
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

  #encode(field: string, message: unknown): EncodedMessage {
    const encoded = encodeMessage(field, message, this.#clock, this.#newId);
    this.#checkSize(encoded.json + (encoded.metadata ?? ''));
    return encoded;
  }

  #encodeAll(field: string, messages: unknown): EncodedMessage[] {
    const list = readInput(field, () => {
      if (!Array.isArray(messages)) throw new ValidationError(field, 'must be an array of messages');
      return [...(messages as unknown[])];
    });
    const encoded = list.map((m, i) => this.#encode(`${field}[${i}]`, m));
    const ids = new Set<string>();
    encoded.forEach((m, i) => {
      if (ids.has(m.id)) throw new ValidationError(`${field}[${i}].id`, `'${m.id}' appears twice in one write`);
      ids.add(m.id);
    });
    return encoded;
  }

  /** Content plus metadata, as JSON text, against the backend's limit. */
  #checkSize(json: string): void {
    const limit = this.#backend.maxMessageBytes;
    // A JS string's UTF-8 size is at most 3 bytes per unit, so most messages skip the exact count.
    if (json.length * 3 <= limit) return;
    const size = utf8Length(json);
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

function checkPolicy(field: string, value: unknown): ConsecutiveRolePolicy | undefined {
  if (value === undefined) return undefined;
  if (!POLICIES.includes(value as ConsecutiveRolePolicy)) throw new ValidationError(field, `must be one of ${POLICIES.join(', ')}`);
  return value as ConsecutiveRolePolicy;
}

function checkOrder(value: unknown): 'newest' | 'oldest' {
  const order = value ?? 'newest';
  if (order !== 'newest' && order !== 'oldest') throw new ValidationError('options.order', "must be 'newest' or 'oldest'");
  return order;
}

/** Session metadata updates: a plain JSON object whose keys may be null (remove), at most 16 KB. */
function checkSessionMetadata(field: string, value: unknown): Metadata {
  return readInput(field, () => {
    const metadata = { ...checkMetadata(field, value) };
    checkSessionMetadataSize(field, JSON.stringify(metadata));
    return metadata;
  });
}

function firstDropped(all: EncodedMessage[], kept: EncodedMessage[]): string {
  const keptSet = new Set(kept);
  return all.find((m) => !keptSet.has(m))!.role;
}

function toConversationMessage(row: WindowMessage): ConversationMessage {
  return { role: row.role, content: JSON.parse(row.json) as ConversationMessage['content'] };
}

function toStoredMessage(row: RawMessage): StoredMessage {
  const message: StoredMessage = {
    id: row.id,
    role: row.role,
    content: JSON.parse(row.json) as StoredMessage['content'],
    seq: row.seq,
    timestamp: row.timestamp,
  };
  if (row.metadata != null) message.metadata = JSON.parse(row.metadata) as Metadata;
  return message;
}

function toSessionMessage(row: RawSessionMessage): SessionMessage {
  const message = toStoredMessage(row) as SessionMessage;
  message.agentId = row.agentId;
  return message;
}
