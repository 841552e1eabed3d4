/**
 * Writes a stream of sessions and messages into a store, idempotently and resumably, through the
 * public API only.
 *
 * The rule: a destination conversation must hold a prefix of the source conversation. Each incoming
 * message is compared with the destination's message at the same position (role, timestamp and
 * content); equal means it is already there and is skipped; once the destination runs out, the rest
 * is appended. A destination conversation that differs (other writes, retention trimmed it) is
 * reported and left untouched. So re-running an import or a copy writes nothing twice, and an
 * interrupted one resumes where it stopped.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ChatStore } from '../core/store.js';
import { ConsecutiveRoleError, TooLargeError, ValidationError } from '../errors.js';
import type { ConversationKey, MessageInput, StoredMessage } from '../types.js';
import type { MessageRecord, SessionRecord } from './format.js';
import { storedMessages, type Item } from './source.js';

export interface WriterOptions {
  /** Most messages per write; each write is atomic. */
  batchSize: number;
  /** A write is also cut once its content reaches this many bytes of JSON, to bound memory. */
  batchBytes: number;
  /** Called for every problem: where it is (a line, a row) and what is wrong. */
  report: (where: string, problem: string) => void;
}

export interface WriterStats {
  sessions: number;
  conversations: number;
  /** Messages read from the source. */
  messages: number;
  written: number;
  /** Already at the destination. */
  present: number;
  /** Conversations left incomplete because of a bad line or a differing destination. */
  failed: number;
  problems: number;
}

/** The destination store's clock; the writer sets it so sessions keep their source times. */
export interface WriterClock {
  now: number;
}

interface Conversation {
  agentId: string;
  /** The destination's messages not yet matched; undefined once it has run out. */
  dest: AsyncGenerator<StoredMessage> | undefined;
  lastSeq: number;
  position: number;
  failed: boolean;
}

interface Session {
  record: SessionRecord;
  conversations: Map<string, Conversation>;
  /** The destination already holds or has been given a message of this session. */
  started: boolean;
  lastConversation: Conversation | undefined;
}

interface Pending {
  conversation: Conversation;
  records: MessageRecord[];
  wheres: string[];
  bytes: number;
}

export class Writer {
  readonly stats: WriterStats = { sessions: 0, conversations: 0, messages: 0, written: 0, present: 0, failed: 0, problems: 0 };
  readonly #store: ChatStore;
  readonly #clock: WriterClock;
  readonly #options: WriterOptions;
  #session: Session | undefined;
  #pending: Pending | undefined;

  constructor(store: ChatStore, clock: WriterClock, options: WriterOptions) {
    this.#store = store;
    this.#clock = clock;
    this.#options = options;
  }

  async add(item: Item): Promise<void> {
    switch (item.kind) {
      case 'session':
        await this.#endSession();
        this.#startSession(item.record);
        return;
      case 'message':
        return this.#message(item.record, item.where);
      case 'bad':
        return this.#bad(item.where, item.reason, item.key);
      case 'problem':
        return this.#problem(item.where, item.reason);
    }
  }

  /** Writes what is pending. Call once at the end. */
  async finish(): Promise<void> {
    await this.#endSession();
  }

  async #message(record: MessageRecord, where: string): Promise<void> {
    this.stats.messages++;
    const conversation = await this.#conversation(record);
    if (conversation.failed) return;
    if (record.seq !== undefined) {
      if (record.seq <= conversation.lastSeq) {
        return this.#fail(conversation, where, `seq ${record.seq} does not follow ${conversation.lastSeq} in its conversation`);
      }
      conversation.lastSeq = record.seq;
    }
    conversation.position++;
    if (conversation.dest) {
      const next = await conversation.dest.next();
      if (!next.done) {
        if (sameMessage(next.value, record)) {
          this.stats.present++;
          this.#session!.started = true;
          return;
        }
        conversation.dest = undefined;
        return this.#fail(
          conversation,
          where,
          `the destination's message ${conversation.position} of (${record.userId}, ${record.sessionId}, ${record.agentId}) differs from this one; that conversation has other writes and is left as it is`,
        );
      }
      conversation.dest = undefined;
    }
    if (this.#pending && this.#pending.conversation !== conversation) await this.#flush();
    const pending = (this.#pending ??= { conversation, records: [], wheres: [], bytes: 0 });
    pending.records.push(record);
    pending.wheres.push(where);
    pending.bytes += approximateBytes(record);
    if (pending.records.length >= this.#options.batchSize || pending.bytes >= this.#options.batchBytes) await this.#flush();
  }

  async #bad(where: string, reason: string, key: ConversationKey | undefined): Promise<void> {
    // A line that names its conversation fails that one; one that cannot be read at all fails the
    // conversation being assembled, since it most likely belonged there.
    const conversation = key ? await this.#conversation(key) : (this.#pending?.conversation ?? this.#session?.lastConversation);
    if (conversation && !conversation.failed) return this.#fail(conversation, where, reason);
    this.#problem(where, reason);
  }

  #fail(conversation: Conversation, where: string, reason: string): void {
    conversation.failed = true;
    this.stats.failed++;
    if (this.#pending?.conversation === conversation) this.#pending = undefined;
    this.#problem(where, `${reason}; the rest of this conversation is not imported`);
  }

  #problem(where: string, reason: string): void {
    this.stats.problems++;
    this.#options.report(where, reason);
  }

  async #conversation(key: ConversationKey): Promise<Conversation> {
    const session = this.#session;
    if (!session || session.record.userId !== key.userId || session.record.sessionId !== key.sessionId) {
      // Messages without a session line start their session implicitly.
      await this.#endSession();
      this.#startSession({ type: 'session', userId: key.userId, sessionId: key.sessionId });
    }
    const current = this.#session!;
    let conversation = current.conversations.get(key.agentId);
    if (!conversation) {
      conversation = { agentId: key.agentId, dest: storedMessages(this.#store, key), lastSeq: 0, position: 0, failed: false };
      current.conversations.set(key.agentId, conversation);
      this.stats.conversations++;
    }
    current.lastConversation = conversation;
    return conversation;
  }

  #startSession(record: SessionRecord): void {
    this.#session = { record, conversations: new Map(), started: false, lastConversation: undefined };
    this.stats.sessions++;
  }

  async #endSession(): Promise<void> {
    await this.#flush();
    for (const conversation of this.#session?.conversations.values() ?? []) await conversation.dest?.return(undefined);
    this.#session = undefined;
  }

  async #flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending || pending.conversation.failed) return;
    const session = this.#session!;
    const { records, wheres } = pending;
    // The destination session takes its createdAt from the clock of its first write and its
    // lastActivityAt from the latest: so the very first message goes alone at the source's createdAt.
    let start = 0;
    if (!session.started) {
      session.started = true;
      if (!(await this.#write(pending.conversation, records.slice(0, 1), wheres.slice(0, 1), session.record.createdAt ?? records[0]!.timestamp))) return;
      start = 1;
    }
    if (start < records.length) {
      const last = session.record.lastActivityAt ?? Math.max(...records.map((r) => r.timestamp));
      await this.#write(pending.conversation, records.slice(start), wheres.slice(start), last);
    }
  }

  async #write(conversation: Conversation, records: MessageRecord[], wheres: string[], now: number): Promise<boolean> {
    const { userId, sessionId, agentId } = records[0]!;
    this.#clock.now = now;
    try {
      // A window of 0: the write returns nothing instead of re-reading the conversation.
      await this.#store.saveChatMessages(userId, sessionId, agentId, records.map(toInput), 0);
      this.stats.written += records.length;
      return true;
    } catch (error) {
      if (error instanceof ValidationError && !(error instanceof ConsecutiveRoleError)) {
        const index = Number(/^messages\[(\d+)\]/.exec(error.field)?.[1] ?? 0);
        this.#fail(conversation, wheres[index] ?? wheres[0]!, error.message.replace(/^messages\[\d+\]\./, ''));
        return false;
      }
      if (error instanceof TooLargeError) {
        const index = records.findIndex((r) => Buffer.byteLength(JSON.stringify(r.content)) > error.limit);
        this.#fail(conversation, wheres[Math.max(index, 0)]!, error.message);
        return false;
      }
      throw error;
    }
  }
}

function toInput(record: MessageRecord): MessageInput {
  return { role: record.role, content: record.content, timestamp: record.timestamp };
}

/** Same role, time and content; content compared as data, since a backend need not keep key order. */
function sameMessage(stored: StoredMessage, record: MessageRecord): boolean {
  return stored.role === record.role && stored.timestamp === record.timestamp && isDeepStrictEqual(stored.content, record.content);
}

function approximateBytes(record: MessageRecord): number {
  return JSON.stringify(record.content).length;
}
