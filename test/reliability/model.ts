/**
 * The reference model for the model-based and isolation properties: the contract's semantics written
 * as plainly as possible, over one flat list of messages in write order. It is deliberately NOT
 * src/memory (that is one of the backends under test) and shares no code with src/.
 *
 * Semantics it encodes (CONTRACT.md plus the choices the project documents):
 * - a conversation's positions count from 1: a new message gets the highest stored seq + 1, or 1 when
 *   the conversation holds none (so a deleted or fully pruned conversation starts again at 1);
 * - message ids are unique per session; a write names each id once (else VALIDATION);
 * - consecutive roles (only `user`/`assistant` repeat): `keep` stores them, `skip` drops a message
 *   whose role repeats the previous one in the batch, `throw` refuses the whole call; then, after
 *   expectLastIds (newest live ids), deleteIds and the id checks (another agent or role: CONFLICT;
 *   save: same content and metadata is a retry, else CONFLICT; upsert: replaced in place), the
 *   new messages (an upsert's stored ones are replaced in place and take no part) are compared each
 *   with the new one before it, the first with the conversation's last live message; under `skip`,
 *   new messages before the write's last message stored identically are dropped (the write is being
 *   sent again) and the comparison starts after it;
 * - windows are even (odd rounds down), 0 and 1 give nothing, absent gives everything;
 * - retention: maxMessages trims on write; messages with timestamp < now - ttl are never returned and
 *   are removed by prune, which also applies maxMessages;
 * - a session exists from its first write of at least one message (even when every message is
 *   skipped; an empty batch creates none and is no activity) or updateSession
 *   until it is deleted, or an explicit delete leaves it without stored messages while it has no
 *   title and no metadata; prune never removes one;
 * - lastActivityAt is the maximum clock time of the writes that reached the session, never earlier;
 *   updateSession, updateMessage and deletes do not move it;
 * - sessions list by lastActivityAt desc, then sessionId desc by UTF-8 bytes; agents with live
 *   messages by agentId; users with a session by UTF-8 bytes;
 * - fetchAllChats and session pages are the session's live messages in write order, assistant
 *   text tagged `[agentId] ` in fetchAllChats;
 * - a fork copies every stored message of the source (up to a message's write position) with its
 *   id, seq and timestamp, and the title and metadata; created and last active at the clock's time.
 */
import type {
  ConsecutiveRolePolicy,
  ContentBlock,
  ConversationMessage,
  DeleteResult,
  JsonValue,
  MessageInput,
  Metadata,
  Role,
  SessionMessage,
  SessionSummary,
  StoredMessage,
} from '../../src/index.js';

interface ModelMessage {
  userId: string;
  sessionId: string;
  agentId: string;
  id: string;
  seq: number;
  role: Role;
  json: string;
  metadata: string | undefined;
  timestamp: number;
}

interface ModelSession {
  userId: string;
  sessionId: string;
  createdAt: number;
  lastActivityAt: number;
  title: string | undefined;
  metadata: Metadata | undefined;
}

export interface ModelConfig {
  policy: ConsecutiveRolePolicy;
  maxMessages?: number;
  ttlMs?: number;
}

export interface UpsertModelOptions {
  policy?: ConsecutiveRolePolicy;
  deleteIds?: string[];
  expectLastIds?: string[];
}

/** What a call produced: its value, or the `code` of the typed error it failed with. */
export type Outcome = { ok: unknown } | { error: string };

export const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const repeats = (last: string | undefined, next: string) => last === next && (next === 'user' || next === 'assistant');

export class Model {
  now: number;
  readonly #config: ModelConfig;
  /** Every stored message, in the store's write order (a fork's copies are appended). */
  #messages: ModelMessage[] = [];
  #sessions: ModelSession[] = [];

  constructor(config: ModelConfig, now: number) {
    this.#config = config;
    this.now = now;
  }

  save(userId: string, sessionId: string, agentId: string, inputs: MessageInput[], window: number | undefined): Outcome {
    const result = this.#write(userId, sessionId, agentId, inputs, 'append', this.#config.policy, {});
    return 'error' in result ? result : { ok: this.#window(userId, sessionId, agentId, window) };
  }

  upsert(userId: string, sessionId: string, agentId: string, inputs: MessageInput[], options: UpsertModelOptions): Outcome {
    return this.#write(userId, sessionId, agentId, inputs, 'upsert', options.policy ?? this.#config.policy, options);
  }

  #write(
    userId: string,
    sessionId: string,
    agentId: string,
    inputs: MessageInput[],
    mode: 'append' | 'upsert',
    policy: ConsecutiveRolePolicy,
    options: UpsertModelOptions,
  ): Outcome {
    const encoded = inputs.map((m) => ({
      id: m.id!,
      role: m.role as Role,
      json: JSON.stringify(typeof m.content === 'string' ? [{ text: m.content }] : m.content),
      metadata: m.metadata === undefined ? undefined : JSON.stringify(m.metadata),
      timestamp: m.timestamp === undefined ? this.now : Number(m.timestamp),
    }));
    if (new Set(encoded.map((m) => m.id)).size !== encoded.length) return { error: 'VALIDATION' };
    if (options.expectLastIds && new Set(options.expectLastIds).size !== options.expectLastIds.length) return { error: 'VALIDATION' };
    let batch = encoded;
    // An append's own repeats go first; an upsert's rule waits until its new messages are known.
    if (policy !== 'keep' && mode === 'append') {
      batch = [];
      for (const m of encoded) {
        if (batch.length > 0 && repeats(batch[batch.length - 1]!.role, m.role)) {
          if (policy === 'throw') return { error: 'CONSECUTIVE_ROLE' };
          continue;
        }
        batch.push(m);
      }
    }
    const conversation = this.#conversation(userId, sessionId, agentId);
    if (options.expectLastIds) {
      const live = conversation.filter((m) => this.#live(m));
      const n = options.expectLastIds.length;
      const newest = n === 0 ? live.slice(-1) : live.slice(-n);
      if (n === 0 ? newest.length > 0 : newest.map((m) => m.id).join('\0') !== options.expectLastIds.join('\0')) return { error: 'CONFLICT' };
    }
    const deleting = new Set((options.deleteIds ?? []).filter((id) => conversation.some((m) => m.id === id)));
    const sessionMessages = this.#sessionMessages(userId, sessionId).filter((m) => !deleting.has(m.id));
    let fresh: typeof batch = [];
    const replace: Array<[ModelMessage, (typeof batch)[number]]> = [];
    for (const m of batch) {
      const stored = sessionMessages.find((s) => s.id === m.id);
      if (!stored) fresh.push(m);
      else if (stored.agentId !== agentId || stored.role !== m.role) return { error: 'CONFLICT' };
      else if (mode === 'upsert') replace.push([stored, m]);
      else if (stored.json !== m.json || stored.metadata !== m.metadata) return { error: 'CONFLICT' };
    }
    const kept = conversation.filter((m) => !deleting.has(m.id) && this.#live(m));
    if (policy !== 'keep') {
      // Under skip, a write sent again: new messages before its last message stored as it is were
      // skipped when it was first applied, and are skipped again; the rule restarts after it.
      let lastSame = -1;
      if (policy === 'skip') {
        batch.forEach((m, i) => {
          if (sessionMessages.some((s) => s.id === m.id && s.agentId === agentId && s.role === m.role && s.json === m.json && s.metadata === m.metadata)) lastSame = i;
        });
      }
      const appended: typeof batch = [];
      let previous = kept[kept.length - 1]?.role;
      for (const m of fresh) {
        if (batch.indexOf(m) < lastSame) continue;
        if (repeats(previous, m.role)) {
          if (policy === 'throw') return { error: 'CONSECUTIVE_ROLE' };
          continue;
        }
        appended.push(m);
        previous = m.role;
      }
      fresh = appended;
    }

    // A write of no message at all (an empty batch, an upsert that only deletes) creates no session
    // and is no activity, as in v1; any other write is, even when every message is skipped.
    const session = this.#session(userId, sessionId);
    if (encoded.length === 0) {
      // nothing to create or touch
    } else if (session) session.lastActivityAt = Math.max(session.lastActivityAt, this.now);
    else this.#sessions.push({ userId, sessionId, createdAt: this.now, lastActivityAt: this.now, title: undefined, metadata: undefined });
    this.#remove((m) => m.userId === userId && m.sessionId === sessionId && deleting.has(m.id));
    for (const [stored, m] of replace) {
      stored.json = m.json;
      stored.metadata = m.metadata;
    }
    let seq = Math.max(0, ...this.#conversation(userId, sessionId, agentId).map((m) => m.seq));
    for (const m of fresh) this.#messages.push({ userId, sessionId, agentId, seq: ++seq, ...m });
    if (this.#config.maxMessages !== undefined) this.#trim(userId, sessionId, agentId, this.#config.maxMessages);
    if (deleting.size > 0) this.#dropIfEmpty(userId, sessionId);
    const after = this.#sessionMessages(userId, sessionId);
    return { ok: batch.flatMap((m) => after.filter((s) => s.id === m.id && s.agentId === agentId).map(toStored)) };
  }

  /** The agent holding a message id in a session, if any (to build an owned update). */
  agentOf(userId: string, sessionId: string, id: string): string | undefined {
    return this.#sessionMessages(userId, sessionId).find((m) => m.id === id)?.agentId;
  }

  fetchChat(userId: string, sessionId: string, agentId: string, window: number | undefined): Outcome {
    return { ok: this.#window(userId, sessionId, agentId, window) };
  }

  fetchAllChats(userId: string, sessionId: string): Outcome {
    const rows = this.#sessionMessages(userId, sessionId).filter((m) => this.#live(m));
    return {
      ok: rows.map((m) => {
        const message = toMessage(m);
        if (m.role !== 'assistant') return message;
        const tag = `[${m.agentId}] `;
        const i = message.content.findIndex((b) => typeof b.text === 'string');
        if (i === -1) return { role: m.role, content: [{ text: tag }, ...message.content] };
        message.content[i] = { ...message.content[i], text: tag + (message.content[i]!.text as string) };
        return message;
      }),
    };
  }

  /** Every page of a walk through a conversation. */
  pages(userId: string, sessionId: string, agentId: string, limit: number, order: 'newest' | 'oldest'): Outcome {
    const live = this.#conversation(userId, sessionId, agentId).filter((m) => this.#live(m));
    return { ok: chunk((order === 'newest' ? live.reverse() : live).map(toStored), limit) };
  }

  /** Every page of a walk through a session, from the start or after a message. */
  sessionPages(userId: string, sessionId: string, limit: number, order: 'newest' | 'oldest', after: string | undefined): Outcome {
    let all = this.#sessionMessages(userId, sessionId);
    if (order === 'newest') all = all.reverse();
    if (after !== undefined) {
      const at = all.findIndex((m) => m.id === after);
      if (at === -1) return { error: 'NOT_FOUND' };
      all = all.slice(at + 1);
    }
    return { ok: chunk(all.filter((m) => this.#live(m)).map(toSessionMessage), limit) };
  }

  getMessage(userId: string, sessionId: string, id: string): Outcome {
    const m = this.#sessionMessages(userId, sessionId).find((s) => s.id === id);
    return { ok: m && this.#live(m) ? toSessionMessage(m) : null };
  }

  updateMessage(userId: string, sessionId: string, id: string, content: ContentBlock[] | undefined, metadata: Metadata | null | undefined): Outcome {
    if (content === undefined && metadata === undefined) return { error: 'VALIDATION' };
    const m = this.#sessionMessages(userId, sessionId).find((s) => s.id === id);
    if (!m || !this.#live(m)) return { error: 'NOT_FOUND' };
    if (content !== undefined) m.json = JSON.stringify(content);
    if (metadata !== undefined) m.metadata = metadata === null ? undefined : JSON.stringify(metadata);
    return { ok: toSessionMessage(m) };
  }

  deleteMessages(userId: string, sessionId: string, ids: string[]): Outcome {
    const removed = this.#remove((m) => m.userId === userId && m.sessionId === sessionId && ids.includes(m.id));
    if (removed > 0) this.#dropIfEmpty(userId, sessionId);
    return { ok: removed };
  }

  truncateAfter(userId: string, sessionId: string, id: string, inclusive: boolean): Outcome {
    const anchor = this.#sessionMessages(userId, sessionId).find((m) => m.id === id);
    if (!anchor) return { error: 'NOT_FOUND' };
    const removed = this.#remove(
      (m) => m.userId === userId && m.sessionId === sessionId && m.agentId === anchor.agentId && (inclusive ? m.seq >= anchor.seq : m.seq > anchor.seq),
    );
    this.#dropIfEmpty(userId, sessionId);
    return { ok: removed };
  }

  getSession(userId: string, sessionId: string): Outcome {
    const session = this.#session(userId, sessionId);
    return { ok: session ? this.#summary(session) : null };
  }

  updateSession(userId: string, sessionId: string, title: string | null | undefined, metadata: { [key: string]: JsonValue } | undefined): Outcome {
    let session = this.#session(userId, sessionId);
    if (!session) {
      session = { userId, sessionId, createdAt: this.now, lastActivityAt: this.now, title: undefined, metadata: undefined };
      this.#sessions.push(session);
    }
    if (title !== undefined) session.title = title ?? undefined;
    if (metadata !== undefined) {
      const merged: Metadata = { ...session.metadata };
      for (const [k, v] of Object.entries(metadata)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      session.metadata = Object.keys(merged).length > 0 ? merged : undefined;
    }
    return { ok: this.#summary(session) };
  }

  fork(userId: string, from: string, to: string, upTo: string | undefined): Outcome {
    const source = this.#session(userId, from);
    if (!source) return { error: 'NOT_FOUND' };
    let copies = this.#sessionMessages(userId, from);
    if (upTo !== undefined) {
      const at = copies.findIndex((m) => m.id === upTo);
      if (at === -1) return { error: 'NOT_FOUND' };
      copies = copies.slice(0, at + 1);
    }
    if (this.#session(userId, to)) return { error: 'CONFLICT' };
    const fork: ModelSession = { userId, sessionId: to, createdAt: this.now, lastActivityAt: this.now, title: source.title, metadata: source.metadata };
    this.#sessions.push(fork);
    for (const m of copies) this.#messages.push({ ...m, sessionId: to });
    return { ok: this.#summary(fork) };
  }

  sessions(userId: string, limit: number): Outcome {
    const summaries = this.#sessions
      .filter((s) => s.userId === userId)
      .sort((a, b) => b.lastActivityAt - a.lastActivityAt || bytes(b.sessionId, a.sessionId))
      .map((s) => this.#summary(s));
    return { ok: chunk(summaries, limit) };
  }

  users(limit: number): Outcome {
    return { ok: chunk([...new Set(this.#sessions.map((s) => s.userId))].sort(bytes), limit) };
  }

  deleteConversation(userId: string, sessionId: string, agentId: string): Outcome {
    const messages = this.#remove((m) => m.userId === userId && m.sessionId === sessionId && m.agentId === agentId);
    return { ok: { messages, sessions: this.#dropIfEmpty(userId, sessionId) } satisfies DeleteResult };
  }

  deleteSession(userId: string, sessionId: string): Outcome {
    const messages = this.#remove((m) => m.userId === userId && m.sessionId === sessionId);
    const sessions = this.#removeSessions((s) => s.userId === userId && s.sessionId === sessionId);
    return { ok: { messages, sessions } satisfies DeleteResult };
  }

  deleteUser(userId: string): Outcome {
    const messages = this.#remove((m) => m.userId === userId);
    const sessions = this.#removeSessions((s) => s.userId === userId);
    return { ok: { messages, sessions } satisfies DeleteResult };
  }

  prune(): Outcome {
    const before = this.#messages.length;
    this.#messages = this.#messages.filter((m) => this.#live(m));
    if (this.#config.maxMessages !== undefined) {
      const keys = new Set(this.#messages.map((m) => JSON.stringify([m.userId, m.sessionId, m.agentId])));
      for (const key of keys) {
        const [u, s, a] = JSON.parse(key) as [string, string, string];
        this.#trim(u, s, a, this.#config.maxMessages);
      }
    }
    return { ok: before - this.#messages.length };
  }

  #summary(s: ModelSession): SessionSummary {
    const live = this.#sessionMessages(s.userId, s.sessionId).filter((m) => this.#live(m));
    const agentIds = [...new Set(live.map((m) => m.agentId))].sort(bytes);
    const summary: SessionSummary = {
      sessionId: s.sessionId,
      createdAt: s.createdAt,
      lastActivityAt: s.lastActivityAt,
      messageCount: live.length,
      agents: agentIds.map((agentId) => {
        const mine = live.filter((m) => m.agentId === agentId);
        return { agentId, messageCount: mine.length, lastMessageAt: Math.max(...mine.map((m) => m.timestamp)) };
      }),
    };
    if (s.title !== undefined) summary.title = s.title;
    if (s.metadata !== undefined) summary.metadata = structuredClone(s.metadata);
    return summary;
  }

  #window(userId: string, sessionId: string, agentId: string, window: number | undefined): ConversationMessage[] {
    const live = this.#conversation(userId, sessionId, agentId).filter((m) => this.#live(m));
    const size = window === undefined ? live.length : window - (window % 2);
    return size === 0 ? [] : live.slice(-size).map(toMessage);
  }

  #trim(userId: string, sessionId: string, agentId: string, keep: number): void {
    const conversation = this.#conversation(userId, sessionId, agentId);
    const drop = new Set(conversation.slice(0, Math.max(0, conversation.length - keep)));
    this.#messages = this.#messages.filter((m) => !drop.has(m));
  }

  #conversation(userId: string, sessionId: string, agentId: string): ModelMessage[] {
    return this.#messages
      .filter((m) => m.userId === userId && m.sessionId === sessionId && m.agentId === agentId)
      .sort((a, b) => a.seq - b.seq);
  }

  /** Every stored message of a session (expired too), in write order. */
  #sessionMessages(userId: string, sessionId: string): ModelMessage[] {
    return this.#messages.filter((m) => m.userId === userId && m.sessionId === sessionId);
  }

  #session(userId: string, sessionId: string): ModelSession | undefined {
    return this.#sessions.find((s) => s.userId === userId && s.sessionId === sessionId);
  }

  /** After an explicit delete: a session without stored messages, title or metadata goes; 1 when it went. */
  #dropIfEmpty(userId: string, sessionId: string): number {
    const session = this.#session(userId, sessionId);
    if (!session || session.title !== undefined || session.metadata !== undefined) return 0;
    if (this.#sessionMessages(userId, sessionId).length > 0) return 0;
    return this.#removeSessions((s) => s === session);
  }

  #live(m: ModelMessage): boolean {
    return this.#config.ttlMs === undefined || m.timestamp >= this.now - this.#config.ttlMs;
  }

  #remove(match: (m: ModelMessage) => boolean): number {
    const before = this.#messages.length;
    this.#messages = this.#messages.filter((m) => !match(m));
    return before - this.#messages.length;
  }

  #removeSessions(match: (s: ModelSession) => boolean): number {
    const before = this.#sessions.length;
    this.#sessions = this.#sessions.filter((s) => !match(s));
    return before - this.#sessions.length;
  }
}

function toMessage(m: ModelMessage): ConversationMessage {
  return { role: m.role, content: JSON.parse(m.json) as ContentBlock[] };
}

function toStored(m: ModelMessage): StoredMessage {
  const stored: StoredMessage = { id: m.id, role: m.role, content: JSON.parse(m.json) as ContentBlock[], seq: m.seq, timestamp: m.timestamp };
  if (m.metadata !== undefined) stored.metadata = JSON.parse(m.metadata) as Metadata;
  return stored;
}

function toSessionMessage(m: ModelMessage): SessionMessage {
  return { ...toStored(m), agentId: m.agentId };
}

/** Pages of `limit` as a paging API returns them: one empty page when there is nothing. */
function chunk<T>(items: T[], limit: number): T[][] {
  if (items.length === 0) return [[]];
  const pages: T[][] = [];
  for (let i = 0; i < items.length; i += limit) pages.push(items.slice(i, i + limit));
  return pages;
}
