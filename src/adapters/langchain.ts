/**
 * `convostore/langchain`: a LangChain.js chat message history over any convostore backend.
 *
 *   getMessageHistory: (sessionId) => new ConvostoreChatMessageHistory({ store, userId, sessionId })
 *
 * This module imports `@langchain/core` (an optional peer dependency); the root `convostore` entry
 * never does.
 */
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import type { BaseMessage } from '@langchain/core/messages';
import type { ChatStore } from '../core/store.js';
import { checkKey } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { OpenOptions } from '../open.js';
import { fromConvostore, toConvostore } from './langchain-messages.js';
import { StoreSource } from './store-source.js';

export { fromConvostore, toConvostore, roleOf, type LangchainBlock } from './langchain-messages.js';

export interface ConvostoreChatMessageHistoryInput {
  /**
   * A store you opened (with any options) and close yourself. Share one store across all histories:
   * a history is cheap, a store is a database connection.
   */
  store?: ChatStore;
  /** Instead of `store`: a URL for `openStorage`, opened on first use and released by `close()`. */
  url?: string;
  /** `openStorage` options for `url`. */
  storeOptions?: OpenOptions;
  userId: string;
  sessionId: string;
  /** Default `langchain`. One session may hold several agents' conversations. */
  agentId?: string;
}

export const DEFAULT_LANGCHAIN_AGENT_ID = 'langchain';

/**
 * LangChain's list chat history, stored as one convostore conversation (userId, sessionId, agentId).
 * LangChain histories hold runs of same-role messages (two AI messages, two human messages, a retried
 * turn) that a store's default policy (`skip`, as Agent Squad does) would drop, so every write names
 * `consecutiveRoles: 'keep'` itself: the history works on a store opened with any policy.
 */
export class ConvostoreChatMessageHistory extends BaseListChatMessageHistory {
  lc_namespace = ['langchain', 'stores', 'message', 'convostore'];

  readonly userId: string;
  readonly sessionId: string;
  readonly agentId: string;
  readonly #source: StoreSource;

  constructor(input: ConvostoreChatMessageHistoryInput) {
    // Nothing goes to Serializable's kwargs: the store must never be serialised with the history.
    super();
    if (typeof input !== 'object' || input === null) {
      throw new ValidationError('input', 'must be an object with userId, sessionId and a store or url');
    }
    const key = checkKey(input.userId, input.sessionId, input.agentId ?? DEFAULT_LANGCHAIN_AGENT_ID);
    this.userId = key.userId;
    this.sessionId = key.sessionId;
    this.agentId = key.agentId;
    if (input.store !== undefined) {
      if (input.url !== undefined) throw new ValidationError('input', 'give either store or url, not both');
      this.#source = new StoreSource(input.store);
    } else {
      this.#source = new StoreSource(input.url, input.storeOptions);
    }
  }

  /** The convostore store behind this history. */
  store(): Promise<ChatStore> {
    return this.#source.get();
  }

  async getMessages(): Promise<BaseMessage[]> {
    const store = await this.#source.get();
    const messages = await store.fetchChat(this.userId, this.sessionId, this.agentId);
    return messages.map(fromConvostore);
  }

  async addMessage(message: BaseMessage): Promise<void> {
    await this.#append([message], 'message');
  }

  /** One atomic write: every message is stored or none is. */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    if (!Array.isArray(messages)) throw new ValidationError('messages', 'must be an array of LangChain messages');
    await this.#append(messages, 'messages');
  }

  /** Deletes this conversation; the session's other agents and the user's other sessions stay. */
  override async clear(): Promise<void> {
    const store = await this.#source.get();
    await store.deleteConversation(this.userId, this.sessionId, this.agentId);
  }

  /** Releases the store if this history opened it from a URL; a store you passed in stays open. */
  close(): Promise<void> {
    return this.#source.close();
  }

  async #append(messages: BaseMessage[], field: string): Promise<void> {
    if (messages.length === 0) return;
    const inputs = messages.map((m, i) => toConvostore(field === 'message' ? field : `${field}[${i}]`, m));
    const store = await this.#source.get();
    // An upsert of messages without ids appends them all, in one atomic write, whatever the store's
    // own policy is.
    await store.upsertMessages(this.userId, this.sessionId, this.agentId, inputs, { consecutiveRoles: 'keep' });
  }
}
