import type { ListRequest, RawMessage, RawSessionMessage, ReadRequest, SessionReadRequest } from '../core/backend.js';
import { compareIds } from '../core/validate.js';
import type { AgentSummary, ConversationKey, PageOrder, SessionSummary } from '../types.js';
import { sessionsByActivity } from './activity.js';
import { decodeSessionMetadata, type AgentHead, type SessionState, type StoredRow } from './items.js';
import { findWithLegacyIds } from './legacy.js';
import { lanePages, laneRows, probe, readState, type Ctx } from './lanes.js';

export { listUsers } from './lanes.js';

/** A conversation page: one Query of its seq range, newest or oldest first. */
export async function readPage(ctx: Ctx, key: ConversationKey, request: ReadRequest): Promise<RawMessage[]> {
  if (request.limit === 0) return [];
  const newest = request.order === 'newest';
  const rows = await laneRows(ctx, key.userId, key.sessionId, key.agentId, {
    order: request.order,
    fromSeq: newest ? 1 : (request.afterSeq ?? 0) + 1,
    toSeq: newest && request.afterSeq !== undefined ? request.afterSeq - 1 : undefined,
    limit: request.limit,
    cutoff: request.cutoff,
  });
  return rows.map(toRawMessage);
}

/**
 * A session page in write order: each conversation ("lane") is already in write order, so the lanes
 * are read from the bound and merged by position, as the memory backend does; a page costs one
 * Query per agent of at most `limit` items, not a read of the session. Where a lane starts for a
 * bound (a cursor or an anchor's position) is found by binary search over its seqs (positions grow
 * with seq), a few Limit-1 Queries, skipped when the bound lies outside the lane.
 */
export async function readSession(ctx: Ctx, userId: string, sessionId: string, request: SessionReadRequest): Promise<RawSessionMessage[] | null> {
  let bound = request.afterPosition;
  if (request.afterId !== undefined) {
    const anchor = await findWithLegacyIds(ctx, userId, sessionId, request.afterId);
    if (!anchor) return null;
    bound = anchor.position;
  }
  const state = await readState(ctx, userId, sessionId);
  // A fork's claim (fork.ts) is no session yet.
  if (!state || state.forking) return [];
  const limit = request.limit;
  const order = request.order;
  const lanes = await Promise.all(
    state.ag.map(async (head) => {
      const range = bound === undefined ? {} : await laneRange(ctx, userId, sessionId, head, bound, order);
      if (range === undefined) return [];
      return laneRows(ctx, userId, sessionId, head.a, { ...range, order, limit, cutoff: request.cutoff });
    }),
  );
  return mergeByPosition(lanes, order, limit).map(toRawSessionMessage);
}

/**
 * The seq range of a lane holding the positions after `bound` in `order`; undefined when none does.
 * Positions grow with seq along a lane, so "the first message at or after seq x has a position
 * above the bound" is false then true as x grows (and the mirror for newest first): a binary search
 * over seqs, each step one Limit-1 Query, jumping over gaps left by deletions.
 */
async function laneRange(ctx: Ctx, userId: string, sessionId: string, head: AgentHead, bound: number, order: PageOrder): Promise<{ fromSeq?: number; toSeq?: number } | undefined> {
  const at = (seq: number, dir: PageOrder) => probe(ctx, userId, sessionId, head.a, seq, dir);
  if (order === 'oldest') {
    const last = await at(Number.MAX_SAFE_INTEGER, 'newest');
    if (!last || last.position <= bound) return undefined;
    let lo = 0;
    let hi = last.seq;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = await at(mid, 'oldest');
      if (!row || row.position > bound) hi = mid;
      else lo = row.seq + 1;
    }
    return { fromSeq: lo };
  }
  const first = await at(0, 'oldest');
  if (!first || first.position >= bound) return undefined;
  const last = await at(Number.MAX_SAFE_INTEGER, 'newest');
  if (!last || last.position < bound) return {};
  let lo = first.seq;
  let hi = last.seq;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await at(mid, 'newest');
    if (row && row.position < bound) lo = mid;
    else hi = row ? row.seq : mid;
  }
  return { toSeq: lo };
}

/** Merges lanes that are each sorted in `order` by position; at most `limit` rows. */
function mergeByPosition(lanes: StoredRow[][], order: PageOrder, limit: number | undefined): StoredRow[] {
  const next = lanes.map(() => 0);
  const out: StoredRow[] = [];
  const newest = order === 'newest';
  while (limit === undefined || out.length < limit) {
    let best = -1;
    for (let i = 0; i < lanes.length; i++) {
      const row = lanes[i]![next[i]!];
      if (!row) continue;
      const current = best === -1 ? undefined : lanes[best]![next[best]!]!;
      if (!current || (newest ? row.position > current.position : row.position < current.position)) best = i;
    }
    if (best === -1) break;
    out.push(lanes[best]![next[best]!++]!);
  }
  return out;
}

export async function getMessage(ctx: Ctx, userId: string, sessionId: string, messageId: string, cutoff: number | undefined): Promise<RawSessionMessage | null> {
  const row = await findWithLegacyIds(ctx, userId, sessionId, messageId);
  return row && (cutoff === undefined || row.timestamp >= cutoff) ? toRawSessionMessage(row) : null;
}

export async function getSession(ctx: Ctx, userId: string, sessionId: string, cutoff: number | undefined): Promise<SessionSummary | null> {
  const state = await readState(ctx, userId, sessionId);
  return state && !state.forking ? summarise(ctx, userId, state, cutoff) : null;
}

export async function listSessions(ctx: Ctx, userId: string, request: ListRequest): Promise<SessionSummary[]> {
  const sessions = await sessionsByActivity(ctx, userId, request);
  return Promise.all(sessions.map((state) => summarise(ctx, userId, state, request.cutoff)));
}

/** A session's summary from its session item; a Query per conversation only where the head's counts are inexact. */
export async function summarise(ctx: Ctx, userId: string, state: SessionState, cutoff: number | undefined): Promise<SessionSummary> {
  const agents = await Promise.all(
    [...state.ag].sort((x, y) => compareIds(x.a, y.a)).map(async (head): Promise<AgentSummary> => {
      // A head's counts are exact while none of its messages can have expired, and its newest
      // timestamp unless a deletion removed a message that may have held it (x).
      if (!head.x && (cutoff === undefined || head.n === 0 || head.lo >= cutoff)) return { agentId: head.a, messageCount: head.n, lastMessageAt: head.at };
      let messageCount = 0;
      let lastMessageAt = 0;
      for await (const page of lanePages(ctx, userId, state.sessionId, head.a, { order: 'oldest', cutoff, keysOnly: true })) {
        for (const row of page) {
          messageCount++;
          if (row.timestamp > lastMessageAt) lastMessageAt = row.timestamp;
        }
      }
      return { agentId: head.a, messageCount, lastMessageAt };
    }),
  );
  const withMessages = agents.filter((a) => a.messageCount > 0);
  const summary: SessionSummary = {
    sessionId: state.sessionId,
    createdAt: state.ca,
    lastActivityAt: state.la,
    messageCount: withMessages.reduce((n, a) => n + a.messageCount, 0),
    agents: withMessages,
  };
  if (state.title !== undefined) summary.title = state.title;
  const metadata = decodeSessionMetadata(state);
  if (metadata !== undefined) summary.metadata = metadata;
  return summary;
}

function toRawMessage(row: StoredRow): RawMessage {
  return { id: row.id, seq: row.seq, role: row.role, json: row.json, metadata: row.metadata, timestamp: row.timestamp };
}

function toRawSessionMessage(row: StoredRow): RawSessionMessage {
  return { ...toRawMessage(row), agentId: row.agentId, position: row.position };
}
