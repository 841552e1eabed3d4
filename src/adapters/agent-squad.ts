/**
 * `convostore/agent-squad`: Agent Squad's `ChatStorage` over any convostore backend.
 *
 *   new AgentSquad({ storage: new ConvostoreChatStorage(process.env.CONVOSTORE_URL), classifier, ... })
 *
 * This module imports `agent-squad` (an optional peer dependency); the root `convostore` entry never does.
 */
import { ChatStorage, type ConversationMessage as SquadMessage, type ParticipantRole } from 'agent-squad';
import type { ChatStore } from '../core/store.js';
import type { OpenOptions } from '../open.js';
import type { ConversationMessage, MessageInput, Role } from '../types.js';
import { StoreSource } from './store-source.js';

// Agent Squad's roles are a string enum whose values are among convostore's roles (which add
// `system` and `tool`), so its messages pass through unchanged. This fails to compile if Agent Squad
// ever gains a role convostore lacks.
type Within<A, B> = [A] extends [B] ? true : false;
const rolesFit: Within<`${ParticipantRole}`, Role> = true;
void rolesFit;

/**
 * Agent Squad storage backed by convostore: SQLite, libSQL/Turso, DynamoDB or memory, chosen by the
 * store (or URL) it is given. Agent Squad's rules hold (consecutive same-role messages skipped by
 * default, even windows, `[agentId] ` prefixes in `fetchAllChats`), because `ChatStore` applies them.
 */
export class ConvostoreChatStorage extends ChatStorage {
  readonly #source: StoreSource;

  /**
   * @param store a convostore store you opened (you close it), or a URL for `openStorage` (this
   *   adapter opens it on first use and `close()` releases it); nothing means CONVOSTORE_URL, else
   *   ./data/convostore.db.
   * @param options passed to `openStorage` when a URL is given.
   */
  constructor(store?: ChatStore | string, options?: OpenOptions) {
    super();
    this.#source = new StoreSource(store, options);
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
    return toSquad(await store.saveChatMessage(userId, sessionId, agentId, toInput(newMessage), maxHistorySize));
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
    return toSquad(await store.saveChatMessages(userId, sessionId, agentId, inputs, maxHistorySize));
  }

  async fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number): Promise<SquadMessage[]> {
    const store = await this.#source.get();
    return toSquad(await store.fetchChat(userId, sessionId, agentId, maxHistorySize));
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
