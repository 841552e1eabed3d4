import { appendable } from '../core/agent-squad.js';
import { compareIds } from '../core/validate.js';
import { utf8Length } from '../core/bytes.js';
import { mergeSessionMetadata } from '../core/session-metadata.js';
import { ConflictError, NotFoundError, TooLargeError } from '../errors.js';
import type { ConversationKey, DeleteResult, Metadata, SessionSummary } from '../types.js';
import type {
  EncodedMessage,
  ForkRequest,
  ListRequest,
  MessageChange,
  PruneRequest,
  RawMessage,
  RawSessionMessage,
  ReadRequest,
  SessionChange,
  SessionReadRequest,
  StorageBackend,
  WindowMessage,
  WriteRequest,
  WriteResult,
} from '../core/backend.js';
import { conflictMessage } from '../core/conflicts.js';

/** A stored message; `position` is the store-wide write counter that orders a session across agents. */
interface Message extends RawSessionMessage {
  metadata: string | undefined;
}

interface Session {
  createdAt: number;
  lastActivityAt: number;
  title: string | undefined;
  metadata: Metadata | undefined;
  /** Per agent, oldest first (seq and position both increase along each array). */
  conversations: Map<string, Message[]>;
  /** Every message of the session by id: ids are unique per session, across agents. */
  byId: Map<string, Message>;
}

/**
 * Map-based backend. Nested maps (user → session → agent) keep ids apart without building keys,
 * so no separator can make two triples collide. Content stays JSON text, as in the other
 * backends, which also gives every reader its own copy. Every operation runs to completion without
 * awaiting, so each is atomic, and a refused one has changed nothing (checks come before changes).
 */
export class MemoryBackend implements StorageBackend {
  readonly name = 'memory';
  readonly maxMessageBytes: number;
  readonly #users = new Map<string, Map<string, Session>>();
  #writes = 0;

  constructor(maxMessageBytes = 1024 * 1024) {
    this.maxMessageBytes = maxMessageBytes;
  }

  async write(request: WriteRequest): Promise<WriteResult> {
    const { key, now, cutoff } = request;
    let session = this.#session(key.userId, key.sessionId);
    const existing = session?.conversations.get(key.agentId) ?? [];

    if (request.expectLastIds !== undefined) {
      const expected = request.expectLastIds;
      const newest = newestLive(existing, expected.length === 0 ? 1 : expected.length, cutoff);
      const actual = newest.map((m) => m.id);
      if (expected.length === 0 ? actual.length > 0 : actual.join('\0') !== expected.join('\0')) {
        throw new ConflictError(conflictMessage('expectLastIds'));
      }
    }
    const deleting = new Set((request.deleteIds ?? []).filter((id) => session?.byId.get(id)?.agentId === key.agentId));
    const kept = deleting.size === 0 ? existing : existing.filter((m) => !deleting.has(m.id));

    // Sort the batch: replaced in place, unchanged (a retry), or new; any disagreement refuses it all.
    const replace: Array<[Message, EncodedMessage]> = [];
    const fresh: EncodedMessage[] = [];
    const identical = new Set<string>();
    for (const m of request.messages) {
      const stored = deleting.has(m.id) ? undefined : session?.byId.get(m.id);
      if (!stored) {
        fresh.push(m);
        continue;
      }
      if (stored.agentId !== key.agentId) throw new ConflictError(conflictMessage('otherAgent', m.id));
      if (stored.role !== m.role) throw new ConflictError(conflictMessage('role', m.id));
      const same = stored.json === m.json && stored.metadata === m.metadata;
      if (same) identical.add(m.id);
      if (request.mode === 'upsert') replace.push([stored, m]);
      else if (!same) throw new ConflictError(conflictMessage('changed', m.id));
    }
    const unchanged = request.mode === 'append' ? identical.size : 0;
    const lastRole = newestLive(kept, 1, cutoff)[0]?.role;
    const appended = appendable(request.messages, fresh, lastRole, request.policy, identical);
    if (request.messages.length === 0) {
      // Only deletes: no session is created or touched, and one emptied by them goes.
      if (!session || deleting.size === 0) return { appended: 0, replaced: 0, unchanged: 0, stored: [], window: [] };
      for (const id of deleting) session.byId.delete(id);
      if (kept.length === 0) session.conversations.delete(key.agentId);
      else session.conversations.set(key.agentId, kept);
      this.#dropIfEmpty(key.userId, key.sessionId);
      return { appended: 0, replaced: 0, unchanged: 0, stored: [], window: [] };
    }

    session ??= this.#create(key.userId, key.sessionId, request.createdAt ?? now, now);
    session.lastActivityAt = Math.max(session.lastActivityAt, now);
    let conversation = session.conversations.get(key.agentId);
    if (!conversation) session.conversations.set(key.agentId, (conversation = []));
    if (deleting.size > 0) {
      for (const id of deleting) session.byId.delete(id);
      conversation = kept;
      session.conversations.set(key.agentId, conversation);
    }
    for (const [stored, m] of replace) {
      stored.json = m.json;
      stored.metadata = m.metadata;
    }
    let seq = conversation[conversation.length - 1]?.seq ?? 0;
    for (const m of appended) {
      // A literal, not a spread of `m`: one object shape for every stored message, and no stray fields.
      const message: Message = {
        id: m.id,
        seq: ++seq,
        role: m.role,
        json: m.json,
        metadata: m.metadata,
        timestamp: m.timestamp,
        agentId: key.agentId,
        position: this.#writes++,
      };
      conversation.push(message);
      session.byId.set(m.id, message);
    }
    if (request.keepLast !== undefined && conversation.length > request.keepLast) {
      for (const m of conversation.splice(0, conversation.length - request.keepLast)) session.byId.delete(m.id);
    }
    if (conversation.length === 0) session.conversations.delete(key.agentId);

    // Only an upsert resolves to what it stored (as in the SQL backend); an append returns its window.
    const stored =
      request.mode === 'upsert'
        ? request.messages.flatMap((m) => {
            const s = session.byId.get(m.id);
            return s && s.agentId === key.agentId ? [strip(s)] : [];
          })
        : [];
    const window = request.window === 0 ? [] : windowOf(conversation, request.window ?? Infinity, cutoff);
    return { appended: appended.length, replaced: replace.length, unchanged, stored, window };
  }

  async readWindow(key: ConversationKey, limit: number, cutoff: number | undefined): Promise<WindowMessage[]> {
    return windowOf(this.#session(key.userId, key.sessionId)?.conversations.get(key.agentId) ?? [], limit, cutoff);
  }

  async readPage(key: ConversationKey, request: ReadRequest): Promise<RawMessage[]> {
    const all = this.#session(key.userId, key.sessionId)?.conversations.get(key.agentId) ?? [];
    const limit = request.limit ?? Infinity;
    const out: RawMessage[] = [];
    // Walk from the requested end and stop after `limit`: O(window), not O(history), for the newest
    // window; a cursor is found by binary search since seq grows along the array.
    if (request.order === 'newest') {
      let i = request.afterSeq === undefined ? all.length - 1 : lowerBound(all, request.afterSeq, 'seq') - 1;
      for (; i >= 0 && out.length < limit; i--) if (live(all[i]!, request.cutoff)) out.push(strip(all[i]!));
    } else {
      let i = request.afterSeq === undefined ? 0 : lowerBound(all, request.afterSeq + 1, 'seq');
      for (; i < all.length && out.length < limit; i++) if (live(all[i]!, request.cutoff)) out.push(strip(all[i]!));
    }
    return out;
  }

  async readSession(userId: string, sessionId: string, request: SessionReadRequest): Promise<RawSessionMessage[] | null> {
    const session = this.#session(userId, sessionId);
    let bound = request.afterPosition;
    if (request.afterId !== undefined) {
      const anchor = session?.byId.get(request.afterId);
      if (!anchor) return null;
      bound = anchor.position;
    }
    if (!session) return [];
    // Each conversation is already in write order: merge them by position, starting each lane at the
    // bound by binary search, so a page costs O(page × agents), not O(session).
    const newest = request.order === 'newest';
    const lanes = [...session.conversations.values()].map((messages) => {
      let next: number;
      if (newest) next = (bound === undefined ? messages.length : lowerBound(messages, bound, 'position')) - 1;
      else next = bound === undefined ? 0 : lowerBound(messages, bound + 1, 'position');
      return { messages, next };
    });
    const limit = request.limit ?? Infinity;
    const rows: RawSessionMessage[] = [];
    while (rows.length < limit) {
      let lane: (typeof lanes)[number] | undefined;
      for (const l of lanes) {
        const m = l.messages[l.next];
        if (!m) continue;
        const best = lane?.messages[lane.next];
        if (!best || (newest ? m.position > best.position : m.position < best.position)) lane = l;
      }
      if (!lane) break;
      const m = lane.messages[lane.next]!;
      lane.next += newest ? -1 : 1;
      if (live(m, request.cutoff)) rows.push(stripSession(m));
    }
    return rows;
  }

  async getMessage(userId: string, sessionId: string, messageId: string, cutoff: number | undefined): Promise<RawSessionMessage | null> {
    const m = this.#session(userId, sessionId)?.byId.get(messageId);
    return m && live(m, cutoff) ? stripSession(m) : null;
  }

  async updateMessage(
    userId: string,
    sessionId: string,
    messageId: string,
    change: MessageChange,
    cutoff: number | undefined,
  ): Promise<RawSessionMessage | null> {
    const m = this.#session(userId, sessionId)?.byId.get(messageId);
    if (!m || !live(m, cutoff)) return null;
    const json = change.json ?? m.json;
    const metadata = change.metadata === undefined ? m.metadata : (change.metadata ?? undefined);
    const size = utf8Length(json) + (metadata === undefined ? 0 : utf8Length(metadata));
    if (size > this.maxMessageBytes) throw new TooLargeError(size, this.maxMessageBytes, this.name);
    m.json = json;
    m.metadata = metadata;
    return stripSession(m);
  }

  async deleteMessages(userId: string, sessionId: string, messageIds: string[]): Promise<number> {
    const session = this.#session(userId, sessionId);
    if (!session) return 0;
    const doomed = new Set(messageIds.filter((id) => session.byId.has(id)));
    if (doomed.size === 0) return 0;
    for (const [agentId, messages] of session.conversations) {
      const kept = messages.filter((m) => !doomed.has(m.id));
      if (kept.length === 0) session.conversations.delete(agentId);
      else if (kept.length !== messages.length) session.conversations.set(agentId, kept);
    }
    for (const id of doomed) session.byId.delete(id);
    this.#dropIfEmpty(userId, sessionId);
    return doomed.size;
  }

  async truncateAfter(userId: string, sessionId: string, messageId: string, inclusive: boolean): Promise<number | null> {
    const session = this.#session(userId, sessionId);
    const anchor = session?.byId.get(messageId);
    if (!session || !anchor) return null;
    const messages = session.conversations.get(anchor.agentId)!;
    const from = lowerBound(messages, anchor.seq + (inclusive ? 0 : 1), 'seq');
    const removed = messages.splice(from);
    for (const m of removed) session.byId.delete(m.id);
    if (messages.length === 0) session.conversations.delete(anchor.agentId);
    this.#dropIfEmpty(userId, sessionId);
    return removed.length;
  }

  async getSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<SessionSummary | null> {
    const session = this.#session(userId, sessionId);
    return session ? summarise(sessionId, session, cutoff) : null;
  }

  async updateSession(userId: string, sessionId: string, change: SessionChange): Promise<SessionSummary | undefined> {
    const session = this.#session(userId, sessionId) ?? this.#create(userId, sessionId, change.now, change.now);
    if (change.title !== undefined) session.title = change.title ?? undefined;
    if (change.metadata !== undefined) {
      session.metadata = mergeSessionMetadata(session.metadata, change.metadata);
    }
    if (change.activityAt !== undefined) session.lastActivityAt = Math.max(session.lastActivityAt, change.activityAt);
    return change.summary ? summarise(sessionId, session, change.cutoff) : undefined;
  }

  async forkSession(userId: string, fromSessionId: string, toSessionId: string, request: ForkRequest): Promise<SessionSummary> {
    const source = this.#session(userId, fromSessionId);
    if (!source) throw new NotFoundError(`fromSessionId: no session '${fromSessionId}'`);
    let upTo = Infinity;
    if (request.upToMessageId !== undefined) {
      const anchor = source.byId.get(request.upToMessageId);
      if (!anchor) throw new NotFoundError(`options.upToMessageId: no message '${request.upToMessageId}' in the session`);
      upTo = anchor.position;
    }
    if (this.#session(userId, toSessionId)) throw new ConflictError(`toSessionId: the session '${toSessionId}' already exists`);
    const copies = [...source.byId.values()].filter((m) => m.position <= upTo).sort((a, b) => a.position - b.position);
    const fork = this.#create(userId, toSessionId, request.now, request.now);
    fork.title = request.title ?? source.title;
    fork.metadata = source.metadata === undefined ? undefined : structuredClone(source.metadata);
    for (const m of copies) {
      const copy: Message = { ...m, position: this.#writes++ };
      let conversation = fork.conversations.get(m.agentId);
      if (!conversation) fork.conversations.set(m.agentId, (conversation = []));
      conversation.push(copy);
      fork.byId.set(copy.id, copy);
    }
    return summarise(toSessionId, fork, request.cutoff);
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
    return page.map(([sessionId, s]) => summarise(sessionId, s, request.cutoff));
  }

  async listUsers(after: string | undefined, limit: number): Promise<string[]> {
    return [...this.#users.keys()]
      .filter((id) => after === undefined || compareIds(id, after) > 0)
      .sort(compareIds)
      .slice(0, limit);
  }

  async deleteConversation(key: ConversationKey): Promise<DeleteResult> {
    const session = this.#session(key.userId, key.sessionId);
    if (!session) return { messages: 0, sessions: 0 };
    const removed = session.conversations.get(key.agentId) ?? [];
    session.conversations.delete(key.agentId);
    for (const m of removed) session.byId.delete(m.id);
    return { messages: removed.length, sessions: this.#dropIfEmpty(key.userId, key.sessionId) ? 1 : 0 };
  }

  async deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    const sessions = this.#users.get(userId);
    const session = sessions?.get(sessionId);
    if (!sessions || !session) return { messages: 0, sessions: 0 };
    sessions.delete(sessionId);
    if (sessions.size === 0) this.#users.delete(userId);
    return { messages: session.byId.size, sessions: 1 };
  }

  async deleteUser(userId: string): Promise<DeleteResult> {
    const sessions = this.#users.get(userId);
    if (!sessions) return { messages: 0, sessions: 0 };
    this.#users.delete(userId);
    let messages = 0;
    for (const s of sessions.values()) messages += s.byId.size;
    return { messages, sessions: sessions.size };
  }

  async prune(request: PruneRequest): Promise<number> {
    if (request.cutoff === undefined && request.keepLast === undefined) return 0;
    let removed = 0;
    for (const sessions of this.#users.values()) {
      for (const session of sessions.values()) {
        for (const [agentId, messages] of session.conversations) {
          removed += pruneConversation(messages, session.byId, request);
          // Prune never removes a session: an emptied conversation just has no messages.
          if (messages.length === 0) session.conversations.delete(agentId);
        }
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#users.clear();
  }

  #session(userId: string, sessionId: string): Session | undefined {
    return this.#users.get(userId)?.get(sessionId);
  }

  #create(userId: string, sessionId: string, createdAt: number, now: number): Session {
    let sessions = this.#users.get(userId);
    if (!sessions) this.#users.set(userId, (sessions = new Map()));
    const session: Session = {
      createdAt,
      lastActivityAt: Math.max(createdAt, now),
      title: undefined,
      metadata: undefined,
      conversations: new Map(),
      byId: new Map(),
    };
    sessions.set(sessionId, session);
    return session;
  }

  /** A session goes with its last message unless it has a title or metadata; true when it went. */
  #dropIfEmpty(userId: string, sessionId: string): boolean {
    const sessions = this.#users.get(userId);
    const session = sessions?.get(sessionId);
    if (!sessions || !session || session.byId.size > 0 || session.title !== undefined || session.metadata !== undefined) {
      return false;
    }
    sessions.delete(sessionId);
    if (sessions.size === 0) this.#users.delete(userId);
    return true;
  }
}

function summarise(sessionId: string, s: Session, cutoff: number | undefined): SessionSummary {
  const agents = [];
  for (const [agentId, messages] of s.conversations) {
    let messageCount = 0;
    let lastMessageAt = -Infinity;
    for (const m of messages) {
      if (!live(m, cutoff)) continue;
      messageCount++;
      if (m.timestamp > lastMessageAt) lastMessageAt = m.timestamp;
    }
    if (messageCount > 0) agents.push({ agentId, messageCount, lastMessageAt });
  }
  agents.sort((a, b) => compareIds(a.agentId, b.agentId));
  const summary: SessionSummary = {
    sessionId,
    createdAt: s.createdAt,
    lastActivityAt: s.lastActivityAt,
    messageCount: agents.reduce((n, a) => n + a.messageCount, 0),
    agents,
  };
  if (s.title !== undefined) summary.title = s.title;
  if (s.metadata !== undefined) summary.metadata = structuredClone(s.metadata);
  return summary;
}

/**
 * Removes the expired messages of a conversation and the live ones older than its newest `keepLast`,
 * in place (no copy of the conversation, no set of ids: constant extra memory); returns how many went.
 */
function pruneConversation(messages: Message[], byId: Map<string, Message>, request: PruneRequest): number {
  const keepLast = request.keepLast ?? Infinity;
  // The oldest index that may stay: that of the keepLast-th newest live message.
  let first = messages.length;
  for (let kept = 0; first > 0 && kept < keepLast; ) if (live(messages[--first]!, request.cutoff)) kept++;
  let length = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (i >= first && live(m, request.cutoff)) messages[length++] = m;
    else byId.delete(m.id);
  }
  const removed = messages.length - length;
  messages.length = length;
  return removed;
}

/** The newest `n` live messages of a conversation, oldest first. */
function newestLive(messages: readonly Message[], n: number, cutoff: number | undefined): Message[] {
  const out: Message[] = [];
  for (let i = messages.length - 1; i >= 0 && out.length < n; i--) if (live(messages[i]!, cutoff)) out.push(messages[i]!);
  return out.reverse();
}

function live(m: RawMessage, cutoff: number | undefined): boolean {
  return cutoff === undefined || m.timestamp >= cutoff;
}

/** The newest `limit` live messages of a conversation, oldest first, as a window returns them. */
function windowOf(messages: readonly Message[], limit: number, cutoff: number | undefined): WindowMessage[] {
  const out: WindowMessage[] = [];
  for (let i = messages.length - 1; i >= 0 && out.length < limit; i--) {
    const m = messages[i]!;
    if (live(m, cutoff)) out.push({ role: m.role, json: m.json });
  }
  return out.reverse();
}

function strip(m: Message): RawMessage {
  return { id: m.id, seq: m.seq, role: m.role, json: m.json, metadata: m.metadata, timestamp: m.timestamp };
}

function stripSession(m: Message): RawSessionMessage {
  // A literal, not a spread of strip(m): spreading was a third of fetchAllChats' time.
  return { id: m.id, seq: m.seq, role: m.role, json: m.json, metadata: m.metadata, timestamp: m.timestamp, agentId: m.agentId, position: m.position };
}

/** First index whose `field` is >= target (both seq and position grow along a conversation). */
function lowerBound(messages: readonly Message[], target: number, field: 'seq' | 'position'): number {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (messages[mid]![field] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
