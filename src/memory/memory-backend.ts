import { ConsecutiveRoleError } from '../errors.js';
import { compareIds } from '../core/validate.js';
import type { ConversationKey, DeleteResult, SessionSummary } from '../types.js';
import type { AppendRequest, AppendResult, ListRequest, PruneRequest, RawMessage, RawSessionMessage, ReadRequest, StorageBackend } from '../core/backend.js';

interface Conversation {
  /**
   * Oldest first; `order` is the store-wide write counter that orders a session across agents. A new
   * message follows the last stored one's seq, so an emptied conversation starts at 1 again, as in SQL.
   */
  messages: Array<RawMessage & { order: number }>;
}

interface Session {
  createdAt: number;
  lastActivityAt: number;
  conversations: Map<string, Conversation>;
}

/**
 * Map-based backend. Nested maps (user → session → agent) keep ids apart without building keys,
 * so no separator can make two triples collide. Content stays JSON text, as in the other
 * backends, which also gives every reader its own copy.
 */
export class MemoryBackend implements StorageBackend {
  readonly name = 'memory';
  readonly maxMessageBytes: number;
  readonly #users = new Map<string, Map<string, Session>>();
  #writes = 0;

  constructor(maxMessageBytes = 1024 * 1024) {
    this.maxMessageBytes = maxMessageBytes;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { key, policy, now } = request;
    const existing = this.#conversation(key);
    const last = existing?.messages.findLast((m) => live(m, request.cutoff));
    let messages = request.messages;
    if (policy !== 'keep' && last && last.role === messages[0]!.role) {
      if (policy === 'throw') throw new ConsecutiveRoleError(last.role);
      messages = messages.slice(1);
    }
    const conversation = existing ?? this.#create(key, now);
    const session = this.#users.get(key.userId)!.get(key.sessionId)!;
    session.lastActivityAt = Math.max(session.lastActivityAt, now);
    let seq = conversation.messages[conversation.messages.length - 1]?.seq ?? 0;
    for (const m of messages) {
      conversation.messages.push({ seq: ++seq, role: m.role, json: m.json, timestamp: m.timestamp, order: this.#writes++ });
    }
    if (request.keepLast !== undefined && conversation.messages.length > request.keepLast) {
      conversation.messages.splice(0, conversation.messages.length - request.keepLast);
    }
    const window = await this.readPage(key, { order: 'newest', afterSeq: undefined, limit: request.window, cutoff: request.cutoff });
    return { appended: messages.length, window: window.reverse() };
  }

  async readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]> {
    const all = this.#conversation(key)?.messages ?? [];
    const limit = request.limit ?? Infinity;
    const out: RawMessage[] = [];
    // Walk from the requested end and stop after `limit`: O(window), not O(history), for the newest
    // window; a cursor is found by binary search since seq grows along the array.
    if (request.order === 'newest') {
      let i = request.afterSeq === undefined ? all.length - 1 : lowerBound(all, request.afterSeq) - 1;
      for (; i >= 0 && out.length < limit; i--) if (live(all[i]!, request.cutoff)) out.push(strip(all[i]!));
    } else {
      let i = request.afterSeq === undefined ? 0 : lowerBound(all, request.afterSeq + 1);
      for (; i < all.length && out.length < limit; i++) if (live(all[i]!, request.cutoff)) out.push(strip(all[i]!));
    }
    return out;
  }

  async readSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<RawSessionMessage[]> {
    const session = this.#users.get(userId)?.get(sessionId);
    if (!session) return [];
    // Each conversation is already in write order: merge them by `order` rather than sort the session.
    const lanes = [...session.conversations].map(([agentId, c]) => ({ agentId, messages: c.messages, next: 0 }));
    const rows: RawSessionMessage[] = [];
    for (;;) {
      let lane: (typeof lanes)[number] | undefined;
      for (const l of lanes) {
        if (l.next < l.messages.length && (!lane || l.messages[l.next]!.order < lane.messages[lane.next]!.order)) lane = l;
      }
      if (!lane) return rows;
      const m = lane.messages[lane.next++]!;
      if (live(m, cutoff)) rows.push({ seq: m.seq, role: m.role, json: m.json, timestamp: m.timestamp, agentId: lane.agentId });
    }
  }

  async listSessions(userId: string, request: ListRequest): Promise<SessionSummary[]> {
    const sessions = this.#users.get(userId);
    if (!sessions) return [];
    const after = request.after;
    const page = [...sessions]
      .filter(
        ([id, s]) =>
          !after ||
          s.lastActivityAt < after.lastActivityAt ||
          (s.lastActivityAt === after.lastActivityAt && compareIds(id, after.sessionId) < 0),
      )
      .sort(([ia, a], [ib, b]) => b.lastActivityAt - a.lastActivityAt || compareIds(ib, ia))
      .slice(0, request.limit);
    return page.map(([sessionId, s]) => {
      const agents = [...s.conversations]
        .map(([agentId, c]) => {
          const liveMessages = c.messages.filter((m) => live(m, request.cutoff));
          return {
            agentId,
            messageCount: liveMessages.length,
            lastMessageAt: Math.max(...liveMessages.map((m) => m.timestamp)),
          };
        })
        .filter((a) => a.messageCount > 0)
        .sort((a, b) => compareIds(a.agentId, b.agentId));
      return {
        sessionId,
        createdAt: s.createdAt,
        lastActivityAt: s.lastActivityAt,
        messageCount: agents.reduce((n, a) => n + a.messageCount, 0),
        agents,
      };
    });
  }

  async listUsers(after: string | undefined, limit: number): Promise<string[]> {
    return [...this.#users.keys()]
      .filter((id) => after === undefined || compareIds(id, after) > 0)
      .sort(compareIds)
      .slice(0, limit);
  }

  async deleteConversation(key: ConversationKey): Promise<DeleteResult> {
    const sessions = this.#users.get(key.userId);
    const session = sessions?.get(key.sessionId);
    if (!sessions || !session) return { messages: 0, sessions: 0 };
    const removed = session.conversations.get(key.agentId)?.messages.length ?? 0;
    session.conversations.delete(key.agentId);
    let removedSessions = 0;
    // The session goes with its last stored message: conversations emptied by prune do not keep it.
    if (countMessages(session) === 0) {
      sessions.delete(key.sessionId);
      removedSessions = 1;
      if (sessions.size === 0) this.#users.delete(key.userId);
    }
    return { messages: removed, sessions: removedSessions };
  }

  async deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    const sessions = this.#users.get(userId);
    const session = sessions?.get(sessionId);
    if (!sessions || !session) return { messages: 0, sessions: 0 };
    sessions.delete(sessionId);
    if (sessions.size === 0) this.#users.delete(userId);
    return { messages: countMessages(session), sessions: 1 };
  }

  async deleteUser(userId: string): Promise<DeleteResult> {
    const sessions = this.#users.get(userId);
    if (!sessions) return { messages: 0, sessions: 0 };
    this.#users.delete(userId);
    let messages = 0;
    for (const s of sessions.values()) messages += countMessages(s);
    return { messages, sessions: sessions.size };
  }

  async prune(request: PruneRequest): Promise<number> {
    let removed = 0;
    for (const sessions of this.#users.values()) {
      for (const session of sessions.values()) {
        for (const c of session.conversations.values()) {
          const before = c.messages.length;
          if (request.cutoff !== undefined) c.messages = c.messages.filter((m) => live(m, request.cutoff));
          if (request.keepLast !== undefined && c.messages.length > request.keepLast) {
            c.messages.splice(0, c.messages.length - request.keepLast);
          }
          removed += before - c.messages.length;
        }
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#users.clear();
  }

  #conversation(key: ConversationKey): Conversation | undefined {
    return this.#users.get(key.userId)?.get(key.sessionId)?.conversations.get(key.agentId);
  }

  #create(key: ConversationKey, now: number): Conversation {
    let sessions = this.#users.get(key.userId);
    if (!sessions) this.#users.set(key.userId, (sessions = new Map()));
    let session = sessions.get(key.sessionId);
    if (!session) sessions.set(key.sessionId, (session = { createdAt: now, lastActivityAt: now, conversations: new Map() }));
    const conversation: Conversation = { messages: [] };
    session.conversations.set(key.agentId, conversation);
    return conversation;
  }
}

function live(m: RawMessage, cutoff: number | undefined): boolean {
  return cutoff === undefined || m.timestamp >= cutoff;
}

function strip(m: RawMessage & { order?: number }): RawMessage {
  return { seq: m.seq, role: m.role, json: m.json, timestamp: m.timestamp };
}

/** First index whose seq is >= target. */
function lowerBound(messages: readonly RawMessage[], target: number): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]!.seq < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function countMessages(session: Session): number {
  let n = 0;
  for (const c of session.conversations.values()) n += c.messages.length;
  return n;
}
