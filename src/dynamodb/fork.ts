import type { ForkRequest } from '../core/backend.js';
import { ConflictError, NotFoundError } from '../errors.js';
import {
  idItem,
  keyOf,
  nextVersion,
  readMessageItem,
  rehome,
  sessionPut,
  userUpsert,
  type AgentHead,
  type Item,
  type Key,
  type SessionState,
} from './items.js';
import { ensureIdItems, findWithLegacyIds } from './legacy.js';
import { conversationPrefix, messagesPk, ATTR } from './keys.js';
import { readState, type Ctx } from './lanes.js';
import { isConditionFailure } from './retry.js';

/**
 * forkSession: copies the source's message and id items, as they are (ids, seqs, positions,
 * timestamps, TTL), into the new session's partition, a page at a time; then one transaction creates
 * the session item (on condition that none exists) and counts the session for the user. Reads of a
 * session as a whole (getSession, listSessions, fetchSessionPage, fetchAllChats, another fork) start
 * from its session item, so the fork is invisible to them until that last write; if it is refused
 * or anything fails, the copied items are deleted again. (A fetchChat of the new session's id while
 * the copy runs can see a prefix of a conversation, in order; nobody has been told that id yet.)
 */
export async function forkSession(ctx: Ctx, userId: string, fromSessionId: string, toSessionId: string, request: ForkRequest): Promise<void> {
  const source = await ensureIdItems(ctx, userId, fromSessionId, await readState(ctx, userId, fromSessionId));
  if (!source) throw new NotFoundError(`fromSessionId: no session '${fromSessionId}'`);
  let upTo = Number.MAX_SAFE_INTEGER;
  if (request.upToMessageId !== undefined) {
    const anchor = await findWithLegacyIds(ctx, userId, fromSessionId, request.upToMessageId);
    if (!anchor) throw new NotFoundError(`options.upToMessageId: no message '${request.upToMessageId}' in the session`);
    upTo = anchor.position;
  }
  if (await readState(ctx, userId, toSessionId)) throw new ConflictError(`toSessionId: the session '${toSessionId}' already exists`);

  const copied: Key[] = [];
  try {
    const heads: AgentHead[] = [];
    for (const head of source.ag) {
      const copy: AgentHead = { a: head.a, s: 0, r: head.r, n: 0, at: 0, lo: Number.MAX_SAFE_INTEGER, f: 1 };
      const pages = ctx.io.pages({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
        ExpressionAttributeValues: { ':pk': messagesPk(userId, fromSessionId), ':prefix': conversationPrefix(head.a) },
      });
      for await (const page of pages) {
        const items: Item[] = [];
        for (const item of page) {
          const row = readMessageItem(item);
          if (row.position > upTo) continue;
          items.push(rehome(item, userId, toSessionId), idItem(userId, toSessionId, row, ctx.ttlMs));
          if (copy.n === 0) copy.f = row.seq;
          copy.n++;
          copy.s = row.seq;
          copy.r = row.role;
          copy.at = Math.max(copy.at, row.timestamp);
          copy.lo = Math.min(copy.lo, row.timestamp);
        }
        copied.push(...items.map(keyOf));
        await ctx.io.putItems(items);
      }
      if (copy.n > 0) heads.push(copy);
    }
    const fork: SessionState = {
      sessionId: toSessionId,
      v: nextVersion(),
      o: source.o,
      ca: request.now,
      la: request.now,
      ag: heads,
      title: request.title ?? source.title,
      metadata: source.metadata,
      hasIdItems: true,
    };
    await ctx.io.transact([sessionPut(ctx.io.table, userId, fork, undefined), userUpsert(ctx.io.table, userId)], 'forking a DynamoDB session');
  } catch (error) {
    await ctx.io.deleteKeys(copied);
    if (isConditionFailure(error)) throw new ConflictError(`toSessionId: the session '${toSessionId}' already exists`);
    throw error;
  }
}
