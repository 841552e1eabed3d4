/**
 * The reference model for the model-based and isolation properties: the contract's semantics written
 * as plainly as possible, over one flat list of messages in write order. It is deliberately NOT
 * src/memory (that is one of the backends under test) and shares no code with src/.
 *
 * Semantics it encodes (CONTRACT.md plus the choices the project documents):
 * - a conversation's positions count from 1: a new message gets the highest stored seq + 1, or 1 when
 *   the conversation holds none (so a deleted or fully pruned conversation starts again at 1);
 * - consecutive roles: `keep` stores them, `skip` drops a message whose role repeats the previous one
 *   (in the batch, or the conversation's last live message for the batch's first), `throw` refuses
 *   the whole call;
 * - windows are even (odd rounds down), 0 and 1 give nothing, absent gives everything;
 * - retention: maxMessages trims on write; messages with timestamp < now - ttl are never returned and
 *   are removed by prune, which also applies maxMessages;
 * - a session exists from its first write (even when every message is skipped) until it is deleted,
 *   or the deletion of a conversation leaves it without stored messages; prune never removes one;
 * - lastActivityAt is the maximum clock time of the writes that reached the session, never earlier;
 * - sessions list by lastActivityAt desc, then sessionId desc by UTF-8 bytes; agents with live
 *   messages by agentId; users with a session by UTF-8 bytes;
 * - fetchAllChats is the session's live messages in write order, assistant text tagged `[agentId] `.
 */
import type {
  ConsecutiveRolePolicy,
  ContentBlock,
  ConversationMessage,
  DeleteResult,
  MessageInput,
  SessionSummary,
  StoredMessage,
} from '../../src/index.js';

interface ModelMessage {
  userId: string;
  sessionId: string;
  agentId: string;
  seq: number;
  role: 'user' | 'assistant';
  json: string;
  timestamp: number;
}

interface ModelSession {
  userId: string;
  sessionId: string;
  createdAt: number;
  lastActivityAt: number;
}

export interface ModelConfig {
  policy: ConsecutiveRolePolicy;
  maxMessages?: number;
  ttlMs?: number;
}

/** What a call produced: its value, or the `code` of the typed error it failed with. */
export type Outcome = { ok: unknown } | { error: string };

export const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export class Model {
  now: number;
  readonly #config: ModelConfig;
  /** Every stored message, in write order. */
  #messages: ModelMessage[] = [];
  #sessions: ModelSession[] = [];

  constructor(config: ModelConfig, now: number) {
    this.#config = config;
    this.now = now;
  }

  save(userId: string, sessionId: string, agentId: string, inputs: MessageInput[], window: number | undefined): Outcome {
    const encoded = inputs.map((m) => ({
      role: m.role as 'user' | 'assistant',
      json: JSON.stringify(typeof m.content === 'string' ? [{ text: m.content }] : m.content),
      timestamp: m.timestamp === undefined ? this.now : Number(m.timestamp),
    }));
    if (encoded.length === 0) return { ok: this.#window(userId, sessionId, agentId, window) };
    let kept = encoded;
    if (this.#config.policy !== 'keep') {
      kept = [];
      for (const m of encoded) {
        if (kept.length > 0 && kept[kept.length - 1]!.role === m.role) {
          if (this.#config.policy === 'throw') return { error: 'CONSECUTIVE_ROLE' };
          continue;
        }
        kept.push(m);
      }
      const live = this.#conversation(userId, sessionId, agentId).filter((m) => this.#live(m));
      const last = live[live.length - 1];
      if (last && last.role === kept[0]!.role) {
        if (this.#config.policy === 'throw') return { error: 'CONSECUTIVE_ROLE' };
        kept = kept.slice(1);
      }
    }
    const session = this.#session(userId, sessionId);
    if (session) session.lastActivityAt = Math.max(session.lastActivityAt, this.now);
    else this.#sessions.push({ userId, sessionId, createdAt: this.now, lastActivityAt: this.now });
    let seq = Math.max(0, ...this.#conversation(userId, sessionId, agentId).map((m) => m.seq));
    for (const m of kept) this.#messages.push({ userId, sessionId, agentId, seq: ++seq, ...m });
    if (this.#config.maxMessages !== undefined) this.#trim(userId, sessionId, agentId, this.#config.maxMessages);
    return { ok: this.#window(userId, sessionId, agentId, window) };
  }

  fetchChat(userId: string, sessionId: string, agentId: string, window: number | undefined): Outcome {
    return { ok: this.#window(userId, sessionId, agentId, window) };
  }

  fetchAllChats(userId: string, sessionId: string): Outcome {
    const rows = this.#messages.filter((m) => m.userId === userId && m.sessionId === sessionId && this.#live(m));
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
    const all: StoredMessage[] = (order === 'newest' ? live.reverse() : live).map((m) => ({
      ...toMessage(m),
      seq: m.seq,
      timestamp: m.timestamp,
    }));
    return { ok: chunk(all, limit) };
  }

  sessions(userId: string, limit: number): Outcome {
    const summaries: SessionSummary[] = this.#sessions
      .filter((s) => s.userId === userId)
      .sort((a, b) => b.lastActivityAt - a.lastActivityAt || bytes(b.sessionId, a.sessionId))
      .map((s) => {
        const live = this.#messages.filter((m) => m.userId === userId && m.sessionId === s.sessionId && this.#live(m));
        const agentIds = [...new Set(live.map((m) => m.agentId))].sort(bytes);
        return {
          sessionId: s.sessionId,
          createdAt: s.createdAt,
          lastActivityAt: s.lastActivityAt,
          messageCount: live.length,
          agents: agentIds.map((agentId) => {
            const mine = live.filter((m) => m.agentId === agentId);
            return { agentId, messageCount: mine.length, lastMessageAt: Math.max(...mine.map((m) => m.timestamp)) };
          }),
        };
      });
    return { ok: chunk(summaries, limit) };
  }

  users(limit: number): Outcome {
    return { ok: chunk([...new Set(this.#sessions.map((s) => s.userId))].sort(bytes), limit) };
  }

  deleteConversation(userId: string, sessionId: string, agentId: string): Outcome {
    const messages = this.#remove((m) => m.userId === userId && m.sessionId === sessionId && m.agentId === agentId);
    const empty = !this.#messages.some((m) => m.userId === userId && m.sessionId === sessionId);
    const sessions = empty ? this.#removeSessions((s) => s.userId === userId && s.sessionId === sessionId) : 0;
    return { ok: { messages, sessions } satisfies DeleteResult };
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

  #session(userId: string, sessionId: string): ModelSession | undefined {
    return this.#sessions.find((s) => s.userId === userId && s.sessionId === sessionId);
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

/** Pages of `limit` as a paging API returns them: one empty page when there is nothing. */
function chunk<T>(items: T[], limit: number): T[][] {
  if (items.length === 0) return [[]];
  const pages: T[][] = [];
  for (let i = 0; i < items.length; i += limit) pages.push(items.slice(i, i + limit));
  return pages;
}
