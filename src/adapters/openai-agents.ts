/**
 * `convostore/openai-agents`: an OpenAI Agents SDK `Session` over any convostore backend.
 *
 *   const session = new ConvostoreSession({ store, userId: 'ada', sessionId: 'chat-1' });
 *   await run(agent, 'Hello', { session });
 *
 * This module imports `@openai/agents-core` (an optional peer dependency); the root `convostore`
 * entry never does.
 */
import { protocol, type AgentInputItem, type SessionHistoryTransactionArgs, type SessionHistoryTransactionAwareSession } from '@openai/agents-core';
import { sha256Base64url } from '../core/bytes.js';
import { retry } from '../core/retry.js';
import type { ChatStore } from '../core/store.js';
import { MAX_PAGE_SIZE, checkKey, describe, isPlainObject, readInput } from '../core/validate.js';
import { ConflictError, ValidationError } from '../errors.js';
import type { OpenOptions } from '../open.js';
import type { ContentBlock, MessageInput, StoredMessage } from '../types.js';
import { BLOCK_KEY, canonicalJson, fromStored, roleOf, toBlock } from './openai-agents-items.js';
import { StoreSource } from './store-source.js';

export { BLOCK_KEY, fromStored, roleOf, toBlock } from './openai-agents-items.js';

export interface ConvostoreSessionInput {
  /** A store you opened and close yourself; any consecutive-role policy (every write here keeps repeats). */
  store?: ChatStore;
  /** Instead of `store`: a URL for `openStorage`, opened on first use and released by `close()`. */
  url?: string;
  /** `openStorage` options for `url`. */
  storeOptions?: OpenOptions;
  /** The owner of the history: convostore keys every session by user (listing, export, erasure). */
  userId: string;
  /** What `getSessionId()` returns; default a new random UUID, as the SDK's `MemorySession` does. */
  sessionId?: string;
  /** Default `openai-agents`. One convostore session may hold several agents' conversations. */
  agentId?: string;
}

export const DEFAULT_OPENAI_AGENTS_AGENT_ID = 'openai-agents';
/** How often `popItem` re-reads when another writer changed the newest item between its read and its delete. */
const POP_ATTEMPTS = 5;

/**
 * The SDK's `Session`, stored as one convostore conversation: (userId, sessionId, agentId), one
 * item per message, oldest first. Runs of same-role messages (parallel tool calls, reasoning then a
 * call) are kept by every write whatever the store's policy, so any store will do.
 */
export class ConvostoreSession implements SessionHistoryTransactionAwareSession {
  readonly userId: string;
  readonly sessionId: string;
  readonly agentId: string;
  readonly #source: StoreSource;

  constructor(input: ConvostoreSessionInput) {
    if (!isPlainObject(input)) throw new ValidationError('input', 'must be an object with userId and a store or url');
    const key = checkKey(input.userId, input.sessionId ?? crypto.randomUUID(), input.agentId ?? DEFAULT_OPENAI_AGENTS_AGENT_ID);
    this.userId = key.userId;
    this.sessionId = key.sessionId;
    this.agentId = key.agentId;
    if (input.store !== undefined && input.url !== undefined) throw new ValidationError('input', 'give either store or url, not both');
    this.#source = input.store !== undefined ? new StoreSource(input.store) : new StoreSource(input.url, input.storeOptions);
  }

  /** The convostore store behind this session. */
  store(): Promise<ChatStore> {
    return this.#source.get();
  }

  /** Releases the store if this session opened it from a URL; a store you passed in stays open. */
  close(): Promise<void> {
    return this.#source.close();
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  /** The history oldest first; with `limit`, its newest `limit` items. One read either way. */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    if (limit !== undefined && !Number.isInteger(limit)) throw new ValidationError('limit', `must be an integer, got ${describe(limit)}`);
    if (limit !== undefined && limit <= 0) return [];
    const store = await this.#source.get();
    if (limit !== undefined && limit <= MAX_PAGE_SIZE) {
      const page = await store.fetchChatPage(this.userId, this.sessionId, this.agentId, { limit, order: 'newest' });
      return page.items.reverse().map((m) => fromStored(m.role, m.content));
    }
    const messages = await store.fetchChat(this.userId, this.sessionId, this.agentId);
    return (limit === undefined ? messages : messages.slice(-limit)).map((m) => fromStored(m.role, m.content));
  }

  /** One atomic write: every item is stored, as one message each, or none is. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    if (!Array.isArray(items)) throw new ValidationError('items', `must be an array of AgentInputItem, got ${describe(items)}`);
    if (items.length === 0) return;
    const messages = items.map((item, i) => toMessage(`items[${i}]`, item));
    const store = await this.#source.get();
    await store.upsertMessages(this.userId, this.sessionId, this.agentId, messages, { consecutiveRoles: 'keep' });
  }

  /**
   * Removes and returns the newest item. The delete is conditional on that item still being the
   * newest (`expectLastIds`), so two concurrent pops never return the same item.
   */
  async popItem(): Promise<AgentInputItem | undefined> {
    const store = await this.#source.get();
    return retry(
      async () => {
        const [newest] = (await store.fetchChatPage(this.userId, this.sessionId, this.agentId, { limit: 1, order: 'newest' })).items;
        if (!newest) return undefined;
        await store.upsertMessages(this.userId, this.sessionId, this.agentId, [], { expectLastIds: [newest.id], deleteIds: [newest.id] });
        return fromStored(newest.role, newest.content);
      },
      {
        // Another pop or write got in between: read the newest again.
        retryable: (error) => error instanceof ConflictError,
        attempts: POP_ATTEMPTS,
        baseMs: 4,
        capMs: 100,
        giveUp: (error) =>
          error instanceof ConflictError ? new ConflictError(`popItem: the newest item changed ${POP_ATTEMPTS} times while it was being removed`) : error,
      },
    );
  }

  /** Deletes this conversation; the session's other agents and the user's other sessions stay. */
  async clearSession(): Promise<void> {
    const store = await this.#source.get();
    await store.deleteConversation(this.userId, this.sessionId, this.agentId);
  }

  /**
   * The SDK's atomic, idempotent history change (`append_items`, `replace_suffix`), as one
   * `upsertMessages`. The messages it writes get ids derived from the operation id (and this
   * session's agent), and carry a digest of the transaction in their metadata: a retry finds them
   * and writes nothing; the same operation id with another transaction is a `ConflictError`.
   *
   * The record of an operation is the messages it wrote, so idempotency cannot be told from the
   * stored history when there are none: a transaction that writes no item (an empty append, which is
   * harmless, or a `replace_suffix` with an empty replacement, whose retry then fails its
   * precondition), or whose messages have all been removed since (popItem, clearSession, a later
   * replace_suffix), which a retry applies again.
   */
  async applyHistoryTransaction(args: SessionHistoryTransactionArgs): Promise<void> {
    const { operationId, transaction } = readTransaction(args);
    const written = transaction.type === 'append_items' ? transaction.items : transaction.replacement;
    const suffix = transaction.type === 'replace_suffix' ? transaction.expectedSuffix : [];
    const blocks = { written: written.map((item, i) => toBlock(`transaction.items[${i}]`, item)), suffix: suffix.map((item, i) => toBlock(`transaction.expectedSuffix[${i}]`, item)) };
    const digest = sha256Base64url(canonicalJson({ type: transaction.type, ...blocks }));
    const idPrefix = `oa-${sha256Base64url(`${this.agentId}\0${operationId}`).slice(0, 32)}-`;
    const metadata = { [BLOCK_KEY]: { operationId, transaction: digest } };
    const messages: MessageInput[] = written.map((item, i) => ({ id: `${idPrefix}${i}`, role: roleOf(`transaction.items[${i}]`, item), content: [blocks.written[i]!], metadata }));
    const store = await this.#source.get();
    const firstId = messages[0]?.id;
    if (firstId !== undefined && (await this.#applied(store, firstId, digest))) return;
    try {
      if (suffix.length === 0) {
        await store.upsertMessages(this.userId, this.sessionId, this.agentId, messages, { consecutiveRoles: 'keep' });
        return;
      }
      const tail = await this.#newest(store, suffix.length);
      const matches = tail.length === suffix.length && tail.every((m, i) => sameItem(fromStored(m.role, m.content), blocks.suffix[i]!));
      if (!matches) throw new ConflictError('applyHistoryTransaction: the session history no longer ends with the expected suffix');
      const ids = tail.map((m) => m.id);
      await store.upsertMessages(this.userId, this.sessionId, this.agentId, messages, { consecutiveRoles: 'keep', expectLastIds: ids, deleteIds: ids });
    } catch (error) {
      // A concurrent attempt of the same operation may have won the race: then this one is done too.
      if (error instanceof ConflictError && firstId !== undefined && (await this.#applied(store, firstId, digest))) return;
      throw error;
    }
  }

  /** True when the operation's first message is stored with this transaction's digest. */
  async #applied(store: ChatStore, firstId: string, digest: string): Promise<boolean> {
    const stored = await store.getMessage(this.userId, this.sessionId, firstId);
    if (stored === null) return false;
    const record = stored.metadata?.[BLOCK_KEY] as { transaction?: unknown } | undefined;
    if (stored.agentId === this.agentId && record?.transaction === digest) return true;
    throw new ConflictError('applyHistoryTransaction: this operationId was already applied with a different transaction');
  }

  /** The newest `count` messages, oldest first (pages of MAX_PAGE_SIZE). */
  async #newest(store: ChatStore, count: number): Promise<StoredMessage[]> {
    const newestFirst: StoredMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.fetchChatPage(this.userId, this.sessionId, this.agentId, { limit: Math.min(count - newestFirst.length, MAX_PAGE_SIZE), order: 'newest', cursor });
      newestFirst.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined && newestFirst.length < count);
    return newestFirst.reverse();
  }
}

function toMessage(field: string, item: AgentInputItem): MessageInput {
  return { role: roleOf(field, item), content: [toBlock(field, item)] };
}

function sameItem(item: AgentInputItem, expected: ContentBlock): boolean {
  return canonicalJson(toBlock('stored', item)) === canonicalJson(expected);
}

type CheckedTransaction =
  | { type: 'append_items'; items: AgentInputItem[] }
  | { type: 'replace_suffix'; expectedSuffix: AgentInputItem[]; replacement: AgentInputItem[] };

/** The transaction's shape, checked as the SDK's `MemorySession` checks it: every item a valid `ModelItem`. */
function readTransaction(args: SessionHistoryTransactionArgs): { operationId: string; transaction: CheckedTransaction } {
  return readInput('args', () => {
    if (!isPlainObject(args)) throw new ValidationError('args', 'must be { operationId, transaction }');
    const { operationId, transaction } = args as { operationId: unknown; transaction: unknown };
    if (typeof operationId !== 'string' || operationId.trim() === '') throw new ValidationError('args.operationId', 'must be a non-empty string');
    if (!isPlainObject(transaction)) throw new ValidationError('args.transaction', 'must be an object');
    if (transaction.type === 'append_items') return { operationId, transaction: { type: 'append_items', items: readItems('args.transaction.items', transaction.items) } };
    if (transaction.type === 'replace_suffix') {
      return {
        operationId,
        transaction: {
          type: 'replace_suffix',
          expectedSuffix: readItems('args.transaction.expectedSuffix', transaction.expectedSuffix),
          replacement: readItems('args.transaction.replacement', transaction.replacement),
        },
      };
    }
    throw new ValidationError('args.transaction.type', `must be 'append_items' or 'replace_suffix', got ${describe(transaction.type)}`);
  });
}

function readItems(field: string, value: unknown): AgentInputItem[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `must be an array of AgentInputItem, got ${describe(value)}`);
  value.forEach((item, i) => {
    if (!protocol.ModelItem.safeParse(item).success) throw new ValidationError(`${field}[${i}]`, 'is not a valid AgentInputItem');
  });
  return value as AgentInputItem[];
}
