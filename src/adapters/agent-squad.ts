/**
 * `convostore/agent-squad`: Agent Squad's `ChatStorage` over any convostore backend.
 *
 *   new AgentSquad({ storage: new ConvostoreChatStorage(process.env.CONVOSTORE_URL), classifier, ... })
 *
 * This module imports `agent-squad` (an optional peer dependency); the root `convostore` entry never does.
 */
import { ChatStorage, type ConversationMessage as SquadMessage, type ParticipantRole } from 'agent-squad';
import type { ChatStore } from '../core/store.js';
import { checkKey, checkOptions } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { OpenOptions } from '../open.js';
import type { ConversationMessage, MessageInput, Role } from '../types.js';
import { saveTrimmed, squadLimit } from './agent-squad-trim.js';
import { StoreSource } from './store-source.js';

// Agent Squad's roles are a string enum whose values are among convostore's roles (which add
// `system` and `tool`), so its messages pass through unchanged. This fails to compile if Agent Squad
// ever gains a role convostore lacks.
type Within<A, B> = [A] extends [B] ? true : false;
const rolesFit: Within<`${ParticipantRole}`, Role> = true;
void rolesFit;

export interface ConvostoreChatStorageOptions extends OpenOptions {
  /**
   * What `maxHistorySize` means. `window` (default, convostore's): the newest N messages returned;
   * nothing is deleted by it (bound storage with `retention`). `trim` (Agent Squad's own storages):
   * a save also deletes what is older than its newest N, in the same atomic write, and 0 or 1 mean
   * no limit on saves and reads, as Agent Squad's `trimConversation` has it.
   */
  maxHistorySize?: 'window' | 'trim';
}

/**
 * Agent Squad storage backed by convostore: SQLite, libSQL/Turso, DynamoDB or memory, chosen by the
 * store (or URL) it is given. Agent Squad's rules hold (consecutive same-role messages skipped by
 * default, even windows, `[agentId] ` prefixes in `fetchAllChats`), because `ChatStore` applies them.
 */
export class ConvostoreChatStorage extends ChatStorage {
  readonly #source: StoreSource;
  /** True with `maxHistorySize: 'trim'`. */
  readonly #trim: boolean;

  /**
   * @param store a convostore store you opened (you close it), or a URL for `openStorage` (this
   *   adapter opens it on first use and `close()` releases it); nothing means CONVOSTORE_URL, else
   *   ./data/convostore.db.
   * @param options `maxHistorySize` for this adapter; the rest is passed to `openStorage` when a URL
   *   is given.
   */
  constructor(store?: ChatStore | string, options?: ConvostoreChatStorageOptions) {
    super();
    const { maxHistorySize = 'window', ...openOptions } = checkOptions<ConvostoreChatStorageOptions>('options', options);
    if (maxHistorySize !== 'window' && maxHistorySize !== 'trim') {
      const got = typeof maxHistorySize === 'string' ? `'${maxHistorySize}'` : typeof maxHistorySize;
      throw new ValidationError('options.maxHistorySize', `must be 'window' or 'trim', got ${got}`);
    }
    this.#trim = maxHistorySize === 'trim';
    this.#source = new StoreSource(store, openOptions);
  }

  /** What `maxHistorySize` means for this adapter: `window` or `trim`. */
  get maxHistorySize(): 'window' | 'trim' {
    return this.#trim ? 'trim' : 'window';
  }

  /** The convostore store behind Agent Squad's interface: pages, sessions, deletion, retention. */
  store(): Promise<ChatStore> {
    return this.#source.get();
  }

  async saveChatMessage(
    userId: string,
    sessionId: string,
    agentId: string,
    newMessage: SquadMessage,
    maxHistorySize?: number,
  ): Promise<SquadMessage[]> {
    const store = await this.#source.get();
    const input = toInput(newMessage);
    if (!this.#trim) return toSquad(await store.saveChatMessage(userId, sessionId, agentId, input, maxHistorySize));
    const limit = squadLimit(maxHistorySize);
    if (limit === undefined) return toSquad(await store.saveChatMessage(userId, sessionId, agentId, input));
    return toSquad(await saveTrimmed(store, checkKey(userId, sessionId, agentId), [input], limit, 'newMessage'));
  }

  /** Appends several messages atomically: all are stored or none. */
  async saveChatMessages(
    userId: string,
    sessionId: string,
    agentId: string,
    newMessages: SquadMessage[],
    maxHistorySize?: number,
  ): Promise<SquadMessage[]> {
    const store = await this.#source.get();
    const inputs = Array.isArray(newMessages) ? newMessages.map(toInput) : (newMessages as unknown as MessageInput[]);
    if (!this.#trim) return toSquad(await store.saveChatMessages(userId, sessionId, agentId, inputs, maxHistorySize));
    const limit = squadLimit(maxHistorySize);
    // No limit, nothing to save (the whole conversation comes back, as from a skipped message), or
    // not an array (the store's validation refuses it): the store's own save does.
    if (limit === undefined || !Array.isArray(inputs) || inputs.length === 0) {
      return toSquad(await store.saveChatMessages(userId, sessionId, agentId, inputs));
    }
    return toSquad(await saveTrimmed(store, checkKey(userId, sessionId, agentId), inputs, limit, 'newMessages'));
  }

  async fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number): Promise<SquadMessage[]> {
    const store = await this.#source.get();
    // Under `trim`, 0 and 1 are no limit (Agent Squad's trimConversation), not an empty window.
    return toSquad(await store.fetchChat(userId, sessionId, agentId, this.#trim ? squadLimit(maxHistorySize) : maxHistorySize));
  }

  async fetchAllChats(userId: string, sessionId: string): Promise<SquadMessage[]> {
    const store = await this.#source.get();
    return toSquad(await store.fetchAllChats(userId, sessionId));
  }

  /** Releases the store if this adapter opened it from a URL; a store you passed in stays open. */
  close(): Promise<void> {
    return this.#source.close();
  }
}

/**
 * Agent Squad types `content` as `any[] | undefined`; undefined is stored as no blocks. Anything else,
 * including a `timestamp` carried over from another store, goes to convostore's own validation.
 */
function toInput(message: SquadMessage): MessageInput {
  if (typeof message === 'object' && message !== null && message.content === undefined) {
    return { ...message, content: [] } as MessageInput;
  }
  return message as MessageInput;
}

function toSquad(messages: ConversationMessage[]): SquadMessage[] {
  return messages as SquadMessage[];
}
