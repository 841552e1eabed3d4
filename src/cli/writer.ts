/**
 * Writes a stream of sessions and their messages (in session write order) into a store through
 * `importSession`, which sets ids, timestamps and session times explicitly and is idempotent by id.
 *
 * The rule: a destination session must hold a prefix of the source session. Before anything of a
 * session is written, its destination is read in write order alongside the incoming messages: a
 * message equal to the destination's one at the same position is already there and is not sent;
 * once the destination runs out, the rest goes in chunks (at most `batchSize` messages or about
 * `batchBytes` bytes, so memory stays bounded). A destination session that differs (other writes,
 * retention trimmed it) is reported and left as it is. So re-running an import or a copy writes
 * nothing twice, and an interrupted one resumes where it stopped.
 *
 * The unit that fails is the session, not the conversation: writing one agent's later messages
 * after another agent's bad one would put the fixed message, when imported again, after them.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ChatStore } from '../core/store.js';
import { ConflictError, TooLargeError, ValidationError } from '../errors.js';
import type { ConversationKey, ImportMessage, ImportSessionInput, SessionMessage } from '../types.js';
import { derivedMessageId } from './derived-ids.js';
import type { MessageRecord, SessionRecord } from './format.js';
import { sessionMessages, type Item } from './source.js';

export interface WriterOptions {
  /** Most messages per `importSession` call. */
  batchSize: number;
  /** A call is also cut once its messages reach this many bytes of JSON, to bound memory. */
  batchBytes: number;
  /** Called for every problem: where it is (a line, a row) and what is wrong. */
  report: (where: string, problem: string) => void;
}

export interface WriterStats {
  sessions: number;
  /** Distinct (session, agent) pairs read. */
  conversations: number;
  /** Messages read from the source. */
  messages: number;
  written: number;
  /** Already at the destination. */
  present: number;
  /** Sessions left incomplete because of a bad line, a refused write or a differing destination. */
  failed: number;
  problems: number;
}

interface Session {
  record: SessionRecord;
  /** Per agent: the last seq seen (it must increase) and how many lines came. */
  agents: Map<string, { lastSeq: number; lines: number }>;
  /** The destination's messages not yet matched; undefined once it has run out. */
  dest: AsyncGenerator<SessionMessage> | undefined;
  position: number;
  failed: boolean;
  /** An importSession call was made for this session (title and metadata went with the first). */
  written: boolean;
}

interface Chunk {
  messages: ImportMessage[];
  wheres: string[];
  bytes: number;
}

export class Writer {
  readonly stats: WriterStats = { sessions: 0, conversations: 0, messages: 0, written: 0, present: 0, failed: 0, problems: 0 };
  readonly #store: ChatStore;
  readonly #options: WriterOptions;
  #session: Session | undefined;
  #chunk: Chunk | undefined;

  constructor(store: ChatStore, options: WriterOptions) {
    this.#store = store;
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
    const session = await this.#sessionOf(record);
    if (session.failed) return;
    let agent = session.agents.get(record.agentId);
    if (!agent) {
      agent = { lastSeq: 0, lines: 0 };
      session.agents.set(record.agentId, agent);
      this.stats.conversations++;
    }
    if (record.seq !== undefined) {
      if (record.seq <= agent.lastSeq) return this.#fail(session, where, `seq ${record.seq} does not follow ${agent.lastSeq} in its conversation`);
      agent.lastSeq = record.seq;
    }
    agent.lines++;
    const message = toImport(record, record.id ?? derivedMessageId(record, record.seq !== undefined ? { seq: record.seq } : { line: agent.lines }));
    session.position++;
    if (session.dest) {
      const next = await session.dest.next();
      if (!next.done) {
        if (sameMessage(next.value, message, record.id !== undefined)) {
          this.stats.present++;
          return;
        }
        await this.#closeDestination(session);
        const { userId, sessionId } = record;
        return this.#fail(
          session,
          where,
          `the destination's message ${session.position} of (${userId}, ${sessionId}) differs from this one; that session has other writes and is left as it is`,
        );
      }
      session.dest = undefined;
    }
    const chunk = (this.#chunk ??= { messages: [], wheres: [], bytes: 0 });
    chunk.messages.push(message);
    chunk.wheres.push(where);
    chunk.bytes += approximateBytes(message);
    if (chunk.messages.length >= this.#options.batchSize || chunk.bytes >= this.#options.batchBytes) await this.#flush();
  }

  async #bad(where: string, reason: string, key: ConversationKey | undefined): Promise<void> {
    // A line that names its session fails that one; one that cannot be read at all fails the
    // session being written, since it most likely belonged there.
    const session = key ? await this.#sessionOf(key) : this.#session;
    if (session && !session.failed) return this.#fail(session, where, reason);
    this.#problem(where, reason);
  }

  #fail(session: Session, where: string, reason: string): void {
    session.failed = true;
    this.stats.failed++;
    // The chunk being assembled belongs to this session: the write the bad line was part of is not made.
    this.#chunk = undefined;
    this.#problem(where, `${reason}; the rest of this session is not imported`);
  }

  #problem(where: string, reason: string): void {
    this.stats.problems++;
    this.#options.report(where, reason);
  }

  /** The current session, or the one a message names (messages without a session line start theirs). */
  async #sessionOf(key: { userId: string; sessionId: string }): Promise<Session> {
    const current = this.#session;
    if (current && current.record.userId === key.userId && current.record.sessionId === key.sessionId) return current;
    await this.#endSession();
    return this.#startSession({ type: 'session', userId: key.userId, sessionId: key.sessionId });
  }

  #startSession(record: SessionRecord): Session {
    const dest = sessionMessages(this.#store, record.userId, record.sessionId);
    this.#session = { record, agents: new Map(), dest, position: 0, failed: false, written: false };
    this.stats.sessions++;
    return this.#session;
  }

  async #endSession(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    await this.#flush();
    await this.#closeDestination(session);
    // A session whose messages were all there already (or that has none) still gets its title and
    // metadata: a titled session may be empty, and the source's title may have changed since.
    const { title, metadata } = session.record;
    if (!session.failed && !session.written && (title !== undefined || metadata !== undefined)) {
      await this.#import(session, { messages: [], wheres: [], bytes: 0 });
    }
    this.#session = undefined;
  }

  async #closeDestination(session: Session): Promise<void> {
    await session.dest?.return(undefined);
    session.dest = undefined;
  }

  async #flush(): Promise<void> {
    const chunk = this.#chunk;
    this.#chunk = undefined;
    const session = this.#session;
    if (!chunk || !session || session.failed) return;
    await this.#import(session, chunk);
  }

  async #import(session: Session, chunk: Chunk): Promise<void> {
    const { userId, sessionId, createdAt, lastActivityAt, title, metadata } = session.record;
    const input: ImportSessionInput = { messages: chunk.messages };
    if (createdAt !== undefined) input.createdAt = createdAt;
    if (lastActivityAt !== undefined) input.lastActivityAt = lastActivityAt;
    if (!session.written) {
      if (title !== undefined) input.title = title;
      if (metadata !== undefined) input.metadata = metadata;
    }
    session.written = true;
    const where = (index: number) => chunk.wheres[index] ?? chunk.wheres[0] ?? `session (${userId}, ${sessionId})`;
    try {
      const result = await this.#store.importSession(userId, sessionId, input);
      this.stats.written += result.imported;
      this.stats.present += result.unchanged;
    } catch (error) {
      if (error instanceof ValidationError) {
        const index = Number(/^input\.messages\[(\d+)\]/.exec(error.field)?.[1] ?? 0);
        return this.#fail(session, where(index), error.message.replace(/^input\.messages\[\d+\]\./, '').replace(/^input\./, ''));
      }
      if (error instanceof TooLargeError) {
        const index = chunk.messages.findIndex((m) => approximateBytes(m) > error.limit);
        return this.#fail(session, where(Math.max(index, 0)), error.message);
      }
      if (error instanceof ConflictError) {
        // importSession writes one agent's run at a time; the runs before the conflicting one are in.
        return this.#fail(session, where(0), `${error.message} (a message of the write that starts here)`);
      }
      throw error;
    }
  }
}

function toImport(record: MessageRecord, id: string): ImportMessage {
  const message: ImportMessage = { agentId: record.agentId, id, role: record.role, content: record.content, timestamp: record.timestamp };
  if (record.metadata !== undefined) message.metadata = record.metadata;
  return message;
}

/**
 * Same agent, role, time, content and metadata, and the same id when the source has ids (an id-less
 * source, a v1 file or Agent Squad, may have been imported before the store had ids). Content is
 * compared as data, since a backend need not keep key order.
 */
function sameMessage(stored: SessionMessage, message: ImportMessage, compareIds: boolean): boolean {
  return (
    (!compareIds || stored.id === message.id) &&
    stored.agentId === message.agentId &&
    stored.role === message.role &&
    stored.timestamp === message.timestamp &&
    isDeepStrictEqual(stored.content, message.content) &&
    isDeepStrictEqual(stored.metadata, message.metadata)
  );
}

/** UTF-8 bytes of content plus metadata as JSON, what the stores' size limit counts. */
function approximateBytes(message: ImportMessage): number {
  return Buffer.byteLength(JSON.stringify(message.content)) + (message.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(message.metadata)));
}
