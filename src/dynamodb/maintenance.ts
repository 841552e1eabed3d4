import type { PruneRequest } from '../core/backend.js';
import type { DeleteResult } from '../types.js';
import { ATTR, SESSION_SK_PREFIX, messagesPk, userPk } from './keys.js';
import {
  idKey,
  isKept,
  isMessageItem,
  keyOf,
  messageKey,
  nextVersion,
  readSessionItem,
  sessionCount,
  sessionDelete,
  sessionKey,
  sessionPut,
  userKey,
  userRelease,
  type AgentHead,
  type Key,
  type StoredRow,
} from './items.js';
import { unlessForking } from './fork.js';
import { lanePages, type Ctx } from './lanes.js';
import { listUsers } from './reads.js';
import { headOf } from './write-plan.js';

/** Keys deleted per round while paging through a session: memory stays bounded by this. */
const FLUSH_AT = 500;

/**
 * Deletes collected page by page: message items first, then their id items, so that an interruption
 * leaves at worst an id item whose message is gone (ignored as stale), never a message without one.
 */
class Deleter {
  readonly #ctx: Ctx;
  #messages: Key[] = [];
  #ids: Key[] = [];
  count = 0;

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  async message(userId: string, sessionId: string, row: StoredRow): Promise<void> {
    this.#messages.push(messageKey(userId, sessionId, row.agentId, row.seq));
    this.#ids.push(idKey(userId, sessionId, row.id));
    this.count++;
    if (this.#messages.length >= FLUSH_AT) await this.flush();
  }

  async other(key: Key, isMessage: boolean): Promise<void> {
    (isMessage ? this.#messages : this.#ids).push(key);
    if (isMessage) this.count++;
    if (this.#messages.length + this.#ids.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    const [messages, ids] = [this.#messages, this.#ids];
    this.#messages = [];
    this.#ids = [];
    await this.#ctx.io.deleteKeys(messages);
    await this.#ctx.io.deleteKeys(ids);
  }
}

/**
 * Deletes one conversation (agentId given) or the whole session. Messages go first, page by page;
 * then one transaction removes the conversation's head — or the session item and, with the user's
 * last session, the user item — on condition that nobody wrote the session meanwhile. If somebody
 * did, their messages are deleted by the next round.
 */
export function removeFromSession(ctx: Ctx, userId: string, sessionId: string, agentId: string | undefined): Promise<DeleteResult> {
  const deleter = new Deleter(ctx);
  return ctx.io.serial(userId, sessionId, () =>
    ctx.io.optimistic(async () => {
      const [session, user] = await ctx.io.get([sessionKey(userId, sessionId), userKey(userId)]);
      const state = unlessForking(ctx, userId, session && readSessionItem(session));
      if (!state) return { messages: deleter.count, sessions: 0 };
      const others = state.ag.filter((h) => h.a !== agentId);
      // The session goes with its last stored message (also when pruning emptied the other
      // conversations), unless it has a title or metadata.
      const wholeSession = agentId === undefined || (others.every((h) => h.n === 0) && !isKept(state));
      if (!wholeSession && !headOf(state, agentId!)) return { messages: deleter.count, sessions: 0 };
      if (agentId !== undefined) {
        for await (const page of lanePages(ctx, userId, sessionId, agentId, { order: 'oldest', keysOnly: true })) {
          for (const row of page) await deleter.message(userId, sessionId, row);
        }
      } else {
        const pages = ctx.io.pages({
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
          ExpressionAttributeValues: { ':pk': messagesPk(userId, sessionId) },
          ProjectionExpression: '#pk, #sk',
        });
        for await (const page of pages) for (const item of page) await deleter.other(keyOf(item), isMessageItem(item));
      }
      await deleter.flush();
      const items = wholeSession
        ? [sessionDelete(ctx.io.table, userId, state), userRelease(ctx.io.table, userId, sessionCount(user))]
        : [sessionPut(ctx.io.table, userId, { ...state, v: nextVersion(), ag: others }, state)];
      await ctx.io.transact(items, 'deleting from DynamoDB');
      return { messages: deleter.count, sessions: wholeSession ? 1 : 0 };
    }),
  );
}

export async function deleteUser(ctx: Ctx, userId: string): Promise<DeleteResult> {
  const total = { messages: 0, sessions: 0 };
  // A page of the user's sessions at a time; sessions created while we delete are found by the next page.
  for (;;) {
    const sessions = await sessionIds(ctx, userId, 100);
    if (sessions.length === 0) return total;
    for (const sessionId of sessions) {
      const removed = await removeFromSession(ctx, userId, sessionId, undefined);
      total.messages += removed.messages;
      total.sessions += removed.sessions;
    }
  }
}

async function sessionIds(ctx: Ctx, userId: string, limit: number | undefined): Promise<string[]> {
  const items = await ctx.io.query(
    {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :s)',
      ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
      ExpressionAttributeValues: { ':pk': userPk(userId), ':s': SESSION_SK_PREFIX },
    },
    limit,
  );
  return items.map((item) => readSessionItem(item).sessionId);
}

export async function prune(ctx: Ctx, request: PruneRequest): Promise<number> {
  if (request.keepLast === undefined && request.cutoff === undefined) return 0;
  let removed = 0;
  let after: string | undefined;
  for (;;) {
    const users = await listUsers(ctx, after, 100);
    for (const userId of users) {
      let from: string | undefined;
      for (;;) {
        const page = await ctx.io.query(
          {
            KeyConditionExpression: from === undefined ? '#pk = :pk AND begins_with(#sk, :s)' : '#pk = :pk AND #sk > :from',
            ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
            ExpressionAttributeValues: { ':pk': userPk(userId), ...(from === undefined ? { ':s': SESSION_SK_PREFIX } : { ':from': from }) },
          },
          100,
        );
        const sessions = page.filter((item) => (item[ATTR.sk] as string).startsWith(SESSION_SK_PREFIX));
        for (const item of sessions) removed += await pruneSession(ctx, userId, readSessionItem(item).sessionId, request);
        if (page.length < 100 || sessions.length < page.length) break;
        from = page[page.length - 1]![ATTR.sk] as string;
      }
    }
    if (users.length < 100) return removed;
    after = users[users.length - 1];
  }
}

/**
 * Retention over one session, a conversation at a time, newest first and page by page: the first
 * keepLast live messages stay, the expired and older ones go. Each head is rewritten from what
 * stays (last stored seq and role, count, bounds); a conversation left without messages loses its
 * head, so it numbers from 1 again. The session itself stays (pruning never removes a session).
 */
function pruneSession(ctx: Ctx, userId: string, sessionId: string, request: PruneRequest): Promise<number> {
  const deleter = new Deleter(ctx);
  return ctx.io.serial(userId, sessionId, () =>
    ctx.io.optimistic(async () => {
      const [session] = await ctx.io.get([sessionKey(userId, sessionId)]);
      const state = unlessForking(ctx, userId, session && readSessionItem(session));
      if (!state) return deleter.count;
      const before = deleter.count;
      const heads: AgentHead[] = [];
      for (const head of state.ag) {
        let kept = 0;
        let newest: StoredRow | undefined;
        let oldest: StoredRow | undefined;
        let at = -Infinity;
        let lo = Infinity;
        for await (const page of lanePages(ctx, userId, sessionId, head.a, { order: 'newest', keysOnly: true })) {
          for (const row of page) {
            const live = request.cutoff === undefined || row.timestamp >= request.cutoff;
            if (live && (request.keepLast === undefined || kept < request.keepLast)) {
              kept++;
              newest ??= row;
              oldest = row;
              at = Math.max(at, row.timestamp);
              lo = Math.min(lo, row.timestamp);
            } else await deleter.message(userId, sessionId, row);
          }
        }
        if (!newest || !oldest) continue;
        const { x: _inexact, u: _unknown, ...exact } = head;
        heads.push({ ...exact, s: newest.seq, r: newest.role, n: kept, at, lo, f: oldest.seq });
      }
      await deleter.flush();
      const same = heads.length === state.ag.length && heads.every((h, i) => JSON.stringify(h) === JSON.stringify(state.ag[i]));
      if (deleter.count === before && same) return deleter.count;
      await ctx.io.transact([sessionPut(ctx.io.table, userId, { ...state, v: nextVersion(), ag: heads }, state)], 'pruning DynamoDB');
      return deleter.count;
    }),
  );
}
