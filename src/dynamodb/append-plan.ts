import type { EncodedMessage } from '../core/backend.js';
import { ValidationError } from '../errors.js';
import type { ConversationKey } from '../types.js';
import { ATTR } from './keys.js';
import {
  itemBytes,
  messageKey,
  nextVersion,
  sessionCondition,
  sessionItem,
  userUpsert,
  type AgentHead,
  type SessionState,
} from './items.js';

/** TransactWriteItems takes at most 100 items and 4 MB; we keep a margin under the size. */
export const TX_MAX_ITEMS = 100;
export const TX_MAX_BYTES = 3_900_000;
/**
 * A session item holding many agents' heads must fit in DynamoDB's 400 KB together with its copy in
 * the byActivity index (an LSI projection counts towards the item's size).
 */
const SESSION_ITEM_MAX_BYTES = 190_000;

export interface AppendContext {
  tableName: string;
  key: ConversationKey;
  now: number;
  keepLast: number | undefined;
  /** When set, message items get the TTL attribute: expiry in epoch seconds. */
  ttlMs: number | undefined;
}

export interface AppendStep {
  /** TransactWriteItems' items, in document-client form. */
  items: Array<Record<string, unknown>>;
  /** How many of the remaining messages this step consumes (written, or dropped by retention). */
  consumed: number;
  /** The session after the step commits. */
  state: SessionState;
  /** Nothing is left to write or trim after this step. */
  done: boolean;
}

/**
 * The next transaction of an append, from the session as last read and the messages not yet written.
 * It updates the session item (conditioned on its version, so concurrent writers serialise), creates
 * the user item with a new session, puts as many messages as fit, and deletes what retention drops.
 *
 * Retention keeps exactly the newest N stored messages (by count, not by seq arithmetic: pruning can
 * leave gaps in seq). It never writes a message it would delete in the same call: when the batch
 * alone exceeds N, its oldest messages only take their seq. Older stored messages are deleted, oldest
 * first, in this transaction if they fit, else in the next ones. `storedSeqs` lists the oldest stored
 * seqs (ascending) when the conversation has gaps (see `hasGaps`); without gaps they are f, f+1, ….
 */
export function planAppendStep(
  ctx: AppendContext,
  previous: SessionState | undefined,
  remaining: readonly EncodedMessage[],
  storedSeqs?: readonly number[],
): AppendStep {
  const { key, now, keepLast, tableName } = ctx;
  const state: SessionState = previous
    ? { ...previous, ag: previous.ag.map((h) => ({ ...h })) }
    : { sessionId: key.sessionId, v: '', o: 0, ca: now, la: now, ag: [] };
  let head = state.ag.find((h) => h.a === key.agentId);
  if (!head) {
    head = { a: key.agentId, s: 0, r: remaining[0]?.role ?? 'user', n: 0, at: 0, lo: Number.MAX_SAFE_INTEGER, f: 1 };
    state.ag.push(head);
  }
  const stored = head.n;
  const drop = keepLast === undefined ? 0 : Math.max(0, stored + remaining.length - keepLast);
  let dropStored = Math.min(drop, stored);
  let dropBatch = drop - dropStored;
  const oldest = storedSeqs ? storedSeqs.filter((q) => q >= head.f) : undefined;
  if (oldest && oldest.length < dropStored) throw new Error('planAppendStep: fewer stored seqs than messages to trim');
  const oldestSeq = (i: number) => (oldest ? oldest[i]! : head.f + i);

  const items: Array<Record<string, unknown>> = [];
  let budgetItems = TX_MAX_ITEMS - 1 - (previous ? 0 : 1);
  let budgetBytes = TX_MAX_BYTES - SESSION_ITEM_MAX_BYTES;
  let consumed = 0;
  let firstWritten: number | undefined;
  const previousAt = head.at;
  let newestWritten = -Infinity;
  for (const m of remaining) {
    const seq = head.s + 1;
    if (dropBatch > 0) {
      dropBatch--;
    } else {
      const item = messageItem(ctx, seq, state.o + 1, m);
      const bytes = itemBytes(item);
      if (budgetItems < 1 || bytes > budgetBytes) break;
      items.push({ Put: { TableName: tableName, Item: item } });
      budgetItems--;
      budgetBytes -= bytes;
      firstWritten ??= seq;
      newestWritten = Math.max(newestWritten, m.timestamp);
      head.n++;
      head.at = Math.max(head.at, m.timestamp);
      head.lo = Math.min(head.lo, m.timestamp);
    }
    head.s = seq;
    head.r = m.role;
    state.o++;
    consumed++;
  }
  // Retention: the oldest stored messages go, oldest first.
  let deleted = 0;
  while (deleted < dropStored && budgetItems > 0) {
    const keyItem = messageKey(key.userId, key.sessionId, key.agentId, oldestSeq(deleted));
    const bytes = itemBytes(keyItem);
    if (bytes > budgetBytes) break;
    items.push({ Delete: { TableName: tableName, Key: keyItem } });
    budgetItems--;
    budgetBytes -= bytes;
    deleted++;
    head.n--;
  }
  dropStored -= deleted;
  // A deleted message may have held the newest timestamp, unless a message written now is newer.
  if (newestWritten >= previousAt) delete head.x;
  else if (deleted > 0) head.x = 1;
  // The first stored seq: the oldest kept of the earlier ones, else the first written now.
  if (deleted > 0 || stored === 0) head.f = deleted < stored ? oldestSeq(deleted) : (firstWritten ?? head.s + 1);

  state.la = Math.max(state.la, now);
  state.v = nextVersion();
  const sessionPut = sessionItem(key.userId, state);
  if (itemBytes(sessionPut) > SESSION_ITEM_MAX_BYTES) {
    throw new ValidationError('agentId', `the session holds too many conversations (${state.ag.length}) for one DynamoDB session item`);
  }
  items.unshift({ Put: { TableName: tableName, Item: sessionPut, ...sessionCondition(previous) } });
  if (!previous) items.splice(1, 0, userUpsert(tableName, key.userId));
  return { items, consumed, state, done: consumed === remaining.length && dropStored === 0 };
}

/** Seqs between the first and the last stored one are missing: pruning deleted some in the middle. */
export function hasGaps(head: AgentHead | undefined): boolean {
  return head !== undefined && head.n > 0 && head.n < head.s - head.f + 1;
}

/** How many stored messages an append of `count` must trim. */
export function toTrim(head: AgentHead | undefined, count: number, keepLast: number | undefined): number {
  return keepLast === undefined || !head ? 0 : Math.max(0, Math.min(head.n, head.n + count - keepLast));
}

function messageItem(ctx: AppendContext, seq: number, order: number, m: EncodedMessage): Record<string, unknown> {
  const { userId, sessionId, agentId } = ctx.key;
  return {
    ...messageKey(userId, sessionId, agentId, seq),
    [ATTR.order]: order,
    a: agentId,
    q: seq,
    r: m.role,
    c: m.json,
    ts: m.timestamp,
    ...(ctx.ttlMs === undefined ? {} : { [ATTR.expires]: Math.ceil((m.timestamp + ctx.ttlMs) / 1000) }),
  };
}

export function headOf(state: SessionState | undefined, agentId: string): AgentHead | undefined {
  return state?.ag.find((h) => h.a === agentId);
}
