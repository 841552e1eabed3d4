import type { ForkRequest } from '../core/backend.js';
import { backoffMs, sleep, type Backoff } from '../core/retry.js';
import { ConflictError, NotFoundError, UnavailableError } from '../errors.js';
import type { SessionSummary } from '../types.js';
import {
  claimNames,
  idItem,
  itemBytes,
  keyOf,
  nextVersion,
  readMessageItem,
  readSessionItem,
  rehome,
  sessionItem,
  sessionKey,
  userUpsert,
  type AgentHead,
  type Condition,
  type ForkClaim,
  type Item,
  type SessionState,
} from './items.js';
import { ensureIdItems, findWithLegacyIds } from './legacy.js';
import { conversationPrefix, messagesPk, ATTR } from './keys.js';
import { readState, type Ctx } from './lanes.js';
import { summarise } from './reads.js';
import { isConditionFailure } from './retry.js';
import { SessionBusy } from './table-io.js';
import { SESSION_ITEM_MAX_BYTES, TX_MAX_BYTES, TX_MAX_ITEMS } from './write-plan.js';

/** Copied items per transaction: the other two of its 100 are the session item and the user item. */
const COPY_ITEMS = TX_MAX_ITEMS - 2;
const COPY_BYTES = TX_MAX_BYTES - SESSION_ITEM_MAX_BYTES;
/**
 * A claim whose renewal count has not moved for this long, by the waiting writer's own clock, is
 * taken to be abandoned (its fork died): the writer removes it and what it copied, then goes on.
 */
export const FORK_LEASE_MS = 30_000;
/** A writer waiting for a fork looks again after a wait from [0, 50 ms), doubling up to 500 ms. */
const FORK_POLL: Backoff = { baseMs: 50, capMs: 500 };

/**
 * forkSession: copies the source's message and id items, as they are (ids, seqs, positions,
 * timestamps, TTL), into the new session's partition, in transactions.
 *
 * A copy that fits one transaction (up to 49 messages) is one: the fork's session item, put on
 * condition that none exists, the user's session count, and every copied item — all or nothing.
 *
 * A larger copy claims the target first: its first transaction puts the session item as a claim
 * (`fk`: a token and a renewal count; no activity key, so listSessions does not see it) on
 * condition that no session item exists, together with the first copied items. Every further
 * transaction renews the claim (conditioned on its token) with the next items, and the last one
 * replaces the claim by the fork's session item (conditioned on the token) and counts the session
 * for the user. While the claim stands, readers of the session as a whole (getSession,
 * fetchSessionPage, fetchAllChats) see no session, other forks onto the id are a ConflictError,
 * and writers of the session (appends, updateSession, deletes, prune) wait until it is published —
 * their messages then come after the copy — or gone. A writer that committed before the claim makes
 * the fork a ConflictError, with nothing written. If the fork fails after claiming, it deletes what
 * its partition holds and the claim (each transaction conditioned on its token); if it dies, a
 * waiting writer takes the claim over once it has not moved for FORK_LEASE_MS and does the same.
 * (fetchChat, fetchChatPage and getMessage read message items directly: while a large fork runs
 * they can see a prefix of its copy, in order.)
 */
export async function forkSession(ctx: Ctx, userId: string, fromSessionId: string, toSessionId: string, request: ForkRequest): Promise<SessionSummary> {
  const found = await readState(ctx, userId, fromSessionId);
  const source = found?.forking ? undefined : await ensureIdItems(ctx, userId, fromSessionId, found);
  if (!source) throw new NotFoundError(`fromSessionId: no session '${fromSessionId}'`);
  let upTo = Number.MAX_SAFE_INTEGER;
  if (request.upToMessageId !== undefined) {
    const anchor = await findWithLegacyIds(ctx, userId, fromSessionId, request.upToMessageId);
    if (!anchor) throw new NotFoundError(`options.upToMessageId: no message '${request.upToMessageId}' in the session`);
    upTo = anchor.position;
  }
  const fork = await ctx.io.serial(userId, toSessionId, () => copy(ctx, userId, fromSessionId, source, toSessionId, upTo, request));
  // The summary of what was written: no read, unless a head's counts depend on the TTL cutoff.
  return summarise(ctx, userId, fork, request.cutoff);
}

async function copy(ctx: Ctx, userId: string, fromSessionId: string, source: SessionState, toSessionId: string, upTo: number, request: ForkRequest): Promise<SessionState> {
  const table = ctx.io.table;
  const fork: SessionState = {
    sessionId: toSessionId,
    v: nextVersion(),
    o: source.o,
    ca: request.now,
    la: request.now,
    ag: [],
    title: request.title ?? source.title,
    metadata: source.metadata,
    hasIdItems: true,
  };
  const claim: ForkClaim = { t: nextVersion(), n: 0 };
  let claimed = false;
  let sent = false;
  let chunk: Item[] = [];
  let bytes = 0;
  const puts = () => chunk.map((Item) => ({ Put: { TableName: table, Item } }));

  /** A transaction of copied items before the last: the first claims the target, the others renew the claim. */
  const flush = async () => {
    const head = claimed
      ? { Update: { TableName: table, Key: sessionKey(userId, toSessionId), UpdateExpression: 'SET #fk.#n = :next', ...claimCondition(claim.t, { ':next': claim.n + 1 }) } }
      : { Put: { TableName: table, Item: sessionItem(userId, { ...fork, ag: [], forking: claim }), ConditionExpression: `attribute_not_exists(${ATTR.pk})` } };
    sent = true;
    await ctx.io.transact([head, ...puts()], 'forking a DynamoDB session');
    if (claimed) claim.n++;
    claimed = true;
    chunk = [];
    bytes = 0;
  };
  const add = async (item: Item) => {
    const size = itemBytes(item);
    if (chunk.length >= COPY_ITEMS || bytes + size > COPY_BYTES) await flush();
    chunk.push(item);
    bytes += size;
  };

  try {
    for (const head of source.ag) {
      const copied: AgentHead = { a: head.a, s: 0, r: head.r, n: 0, at: 0, lo: Number.MAX_SAFE_INTEGER, f: 1 };
      const pages = ctx.io.pages({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
        ExpressionAttributeValues: { ':pk': messagesPk(userId, fromSessionId), ':prefix': conversationPrefix(head.a) },
      });
      for await (const page of pages) {
        for (const item of page) {
          const row = readMessageItem(item);
          if (row.position > upTo) continue;
          await add(rehome(item, userId, toSessionId));
          await add(idItem(userId, toSessionId, row, ctx.ttlMs));
          if (copied.n === 0) copied.f = row.seq;
          copied.n++;
          copied.s = row.seq;
          copied.r = row.role;
          copied.at = Math.max(copied.at, row.timestamp);
          copied.lo = Math.min(copied.lo, row.timestamp);
        }
      }
      if (copied.n > 0) fork.ag.push(copied);
    }
    const condition = claimed ? claimCondition(claim.t) : { ConditionExpression: `attribute_not_exists(${ATTR.pk})` };
    // A version the claim never had: a write conditioned on the claim's version cannot match the session.
    fork.v = nextVersion();
    sent = true;
    await ctx.io.transact([{ Put: { TableName: table, Item: sessionItem(userId, fork), ...condition } }, userUpsert(table, userId), ...puts()], 'forking a DynamoDB session');
    return fork;
  } catch (error) {
    if (!claimed && isConditionFailure(error)) throw new ConflictError(`toSessionId: the session '${toSessionId}' already exists`);
    if (claimed && isConditionFailure(error)) {
      throw new UnavailableError(`forking into '${toSessionId}': the copy stalled for longer than ${FORK_LEASE_MS} ms and a writer of the session took its claim over`, error);
    }
    // The claim may have committed even when its answer was lost: release it (a no-op when it did not).
    if (sent) await release(ctx, userId, toSessionId, claim.t).catch(() => undefined);
    throw error;
  }
}

/** The claim still holds this token (extra values for the update that carries it). */
function claimCondition(token: string, values: Record<string, unknown> = {}): Required<Condition> {
  return {
    ConditionExpression: '#fk.#t = :token',
    ExpressionAttributeNames: claimNames(Object.keys(values).length > 0),
    ExpressionAttributeValues: { ':token': token, ...values },
  };
}

/**
 * Writers of a session call this on the session item they read: on a fork's claim, the round is
 * run again once the fork has published the session or let go of it (see forkSession).
 */
export function unlessForking<T extends SessionState | undefined>(ctx: Ctx, userId: string, state: T): T {
  const claim = state?.forking;
  if (state && claim) throw new SessionBusy(() => waitForFork(ctx, userId, state.sessionId, claim));
  return state;
}

async function waitForFork(ctx: Ctx, userId: string, sessionId: string, seen: ForkClaim): Promise<void> {
  let since = Date.now();
  for (let attempt = 1; ; attempt++) {
    await sleep(backoffMs(attempt, FORK_POLL));
    const item = await ctx.io.getOne(sessionKey(userId, sessionId));
    const claim = item && readSessionItem(item).forking;
    if (!claim) return;
    if (claim.t !== seen.t || claim.n !== seen.n) {
      seen = claim;
      since = Date.now();
    } else if (Date.now() - since >= FORK_LEASE_MS) {
      return abandon(ctx, userId, sessionId, seen);
    }
  }
}

/** Takes over a claim that stopped moving (its fork is gone) and removes it with what it copied. */
async function abandon(ctx: Ctx, userId: string, sessionId: string, stale: ForkClaim): Promise<void> {
  const token = nextVersion();
  try {
    await ctx.io.update(
      {
        Key: sessionKey(userId, sessionId),
        UpdateExpression: 'SET #fk = :mine',
        ConditionExpression: '#fk.#t = :t AND #fk.#n = :n',
        ExpressionAttributeNames: claimNames(true),
        ExpressionAttributeValues: { ':mine': { t: token, n: 0 }, ':t': stale.t, ':n': stale.n },
      },
      'taking over an abandoned DynamoDB fork',
    );
  } catch (error) {
    if (isConditionFailure(error)) return; // it moved, or somebody else took it over
    throw error;
  }
  await release(ctx, userId, sessionId, token);
}

/**
 * Deletes what the claimed session's partition holds (only the fork writes there while the claim
 * stands), then the claim; every transaction is conditioned on the claim's token, so nothing is
 * deleted once the claim is published or taken over.
 */
async function release(ctx: Ctx, userId: string, sessionId: string, token: string): Promise<void> {
  const key = sessionKey(userId, sessionId);
  const check = { ConditionCheck: { TableName: ctx.io.table, Key: key, ...claimCondition(token) } };
  try {
    const pages = ctx.io.pages(
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
        ExpressionAttributeValues: { ':pk': messagesPk(userId, sessionId) },
        ProjectionExpression: '#pk, #sk',
      },
      { pageSize: TX_MAX_ITEMS - 1 },
    );
    for await (const page of pages) {
      const deletes = page.map((item) => ({ Delete: { TableName: ctx.io.table, Key: keyOf(item) } }));
      await ctx.io.transact(deletes.length > 0 ? [check, ...deletes] : [], 'abandoning a DynamoDB fork');
    }
    await ctx.io.transact([{ Delete: { TableName: ctx.io.table, Key: key, ...claimCondition(token) } }], 'abandoning a DynamoDB fork');
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
