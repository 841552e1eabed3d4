import type { PageOrder } from '../types.js';
import { ATTR, INDEX, USERS_PARTITION, conversationPrefix, messagesPk, pad } from './keys.js';
import {
  MESSAGE_KEY_PROJECTION,
  MESSAGE_PROJECTION,
  idKey,
  messageKey,
  readIdItem,
  readMessageItem,
  readSessionItem,
  sessionKey,
  type IdPointer,
  type Item,
  type SessionState,
  type StoredRow,
} from './items.js';
import type { TableIo } from './table-io.js';

/**
 * Reads shared by writes, reads and maintenance: a session's state item, one conversation's
 * messages (a "lane": one agent's items, in seq order) and messages looked up by id.
 */
export interface Ctx {
  io: TableIo;
  /** The store's TTL, so message and id items carry DynamoDB's TTL attribute. */
  ttlMs: number | undefined;
}

export async function readState(ctx: Ctx, userId: string, sessionId: string): Promise<SessionState | undefined> {
  const item = await ctx.io.getOne(sessionKey(userId, sessionId));
  return item && readSessionItem(item);
}

export interface LaneRange {
  order: PageOrder;
  /** Inclusive seq bounds; default the whole lane. */
  fromSeq?: number;
  toSeq?: number;
  /** Live items wanted (after the TTL filter); undefined reads to the end. */
  limit?: number;
  cutoff?: number;
  /** Only what deletes and heads need, not the content. */
  keysOnly?: boolean;
}

/** The Query of one lane's items between two seqs, in the given order. */
function laneQuery(userId: string, sessionId: string, agentId: string, range: LaneRange) {
  const prefix = conversationPrefix(agentId);
  const projection = range.keysOnly ? MESSAGE_KEY_PROJECTION : MESSAGE_PROJECTION;
  return {
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { ...projection.names },
    ExpressionAttributeValues: {
      ':pk': messagesPk(userId, sessionId),
      ':from': prefix + pad(Math.max(0, range.fromSeq ?? 0)),
      ':to': prefix + pad(Math.min(Number.MAX_SAFE_INTEGER, range.toSeq ?? Number.MAX_SAFE_INTEGER)),
    },
    ProjectionExpression: projection.ProjectionExpression,
    ScanIndexForward: range.order === 'oldest',
  };
}

export async function laneRows(ctx: Ctx, userId: string, sessionId: string, agentId: string, range: LaneRange): Promise<StoredRow[]> {
  if ((range.fromSeq ?? 0) > (range.toSeq ?? Number.MAX_SAFE_INTEGER)) return [];
  const items = await ctx.io.query(laneQuery(userId, sessionId, agentId, range), range.limit, range.cutoff);
  return items.map((item) => ({ ...readMessageItem(item), agentId }));
}

/** The lane page by page (bounded memory), for deletes and prune. */
export async function* lanePages(ctx: Ctx, userId: string, sessionId: string, agentId: string, range: LaneRange): AsyncGenerator<StoredRow[]> {
  for await (const page of ctx.io.pages(laneQuery(userId, sessionId, agentId, range), { cutoff: range.cutoff, pageSize: range.limit })) {
    yield page.map((item) => ({ ...readMessageItem(item), agentId }));
  }
}

/**
 * The lane's newest stored messages that are not in `skip` (seqs being deleted), newest first:
 * the first is the new last stored message, `live` the newest with a timestamp >= cutoff.
 */
export async function newestRemaining(
  ctx: Ctx,
  userId: string,
  sessionId: string,
  agentId: string,
  skip: ReadonlySet<number>,
  cutoff: number | undefined,
): Promise<{ stored: StoredRow | undefined; live: StoredRow | undefined }> {
  let stored: StoredRow | undefined;
  for await (const page of lanePages(ctx, userId, sessionId, agentId, { order: 'newest', keysOnly: true, limit: skip.size + 1 })) {
    for (const row of page) {
      if (skip.has(row.seq)) continue;
      stored ??= row;
      if (cutoff === undefined || row.timestamp >= cutoff) return { stored, live: row };
    }
  }
  return { stored, live: undefined };
}

/**
 * Messages of the session by id: the id item says where each one is, and the message item, read
 * next, must still hold that id (an id item whose message expired or went is stale and ignored).
 * Returns the found rows by id, and the stale pointers (to be overwritten, not trusted).
 */
export async function findMessages(
  ctx: Ctx,
  userId: string,
  sessionId: string,
  ids: readonly string[],
): Promise<{ found: Map<string, StoredRow>; stale: Map<string, IdPointer> }> {
  if (ids.length === 0) return { found: new Map(), stale: new Map() };
  return resolveIdItems(ctx, userId, sessionId, ids, await ctx.io.get(ids.map((id) => idKey(userId, sessionId, id))));
}

/** findMessages after the id items were read (a write reads them in one batch with its session item). */
export async function resolveIdItems(
  ctx: Ctx,
  userId: string,
  sessionId: string,
  ids: readonly string[],
  idItems: ReadonlyArray<Item | undefined>,
): Promise<{ found: Map<string, StoredRow>; stale: Map<string, IdPointer> }> {
  const found = new Map<string, StoredRow>();
  const stale = new Map<string, IdPointer>();
  const pointers = idItems
    .map((item, i) => (item ? { id: ids[i]!, at: readIdItem(item) } : undefined))
    .filter((p) => p !== undefined);
  if (pointers.length === 0) return { found, stale };
  const messages = await ctx.io.get(pointers.map((p) => messageKey(userId, sessionId, p.at.agentId, p.at.seq)));
  pointers.forEach((p, i) => {
    const item = messages[i];
    const row = item && readMessageItem(item);
    if (row && row.id === p.id) found.set(p.id, row);
    else stale.set(p.id, p.at);
  });
  return { found, stale };
}

export async function findMessage(ctx: Ctx, userId: string, sessionId: string, id: string): Promise<StoredRow | undefined> {
  return (await findMessages(ctx, userId, sessionId, [id])).found.get(id);
}

/** The first message of a lane at or after (oldest) / at or before (newest) a seq. */
export async function probe(ctx: Ctx, userId: string, sessionId: string, agentId: string, seq: number, order: PageOrder): Promise<StoredRow | undefined> {
  const range = order === 'oldest' ? { fromSeq: seq } : { toSeq: seq };
  const [row] = await laneRows(ctx, userId, sessionId, agentId, { ...range, order, limit: 1, keysOnly: true });
  return row;
}

/** User ids after `after` in UTF-8 byte order, from the users index (eventually consistent). */
export async function listUsers(ctx: Ctx, after: string | undefined, limit: number): Promise<string[]> {
  const items = await ctx.io.query(
    {
      IndexName: INDEX.users,
      KeyConditionExpression: after === undefined ? '#g = :g' : '#g = :g AND #u > :after',
      ExpressionAttributeNames: { '#g': ATTR.usersPk, '#u': ATTR.userId },
      ExpressionAttributeValues: { ':g': USERS_PARTITION, ...(after === undefined ? {} : { ':after': after }) },
      ProjectionExpression: '#u',
    },
    limit,
    undefined,
    false,
  );
  return items.map((item) => item[ATTR.userId] as string);
}
