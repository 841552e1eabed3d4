import { appendable } from '../core/agent-squad.js';
import type { EncodedMessage, MessageChange, RawMessage, SessionChange, WriteRequest, WriteResult } from '../core/backend.js';
import type { SessionSummary } from '../types.js';
import { conflictMessage } from '../core/conflicts.js';
import { mergeSessionMetadata } from '../core/session-metadata.js';
import { utf8Length } from '../core/bytes.js';
import { ConflictError, TooLargeError } from '../errors.js';
import {
  decodeSessionMetadata,
  idKey,
  messageKey,
  messageUpdate,
  newSessionState,
  nextVersion,
  sessionKey,
  sessionPut,
  sessionUpdateExpression,
  activityUpdate,
  userKey,
  userUpsert,
  sessionCount,
  readSessionItem,
  type IdPointer,
  type SessionState,
  type StoredRow,
} from './items.js';
import { ensureIdItems, findWithLegacyIds } from './legacy.js';
import { unlessForking } from './fork.js';
import { findMessages, laneRows, newestRemaining, readState, resolveIdItems, type Ctx } from './lanes.js';
import { readPage, summarise } from './reads.js';
import { isConditionFailure } from './retry.js';
import type { TableIo } from './table-io.js';
import { cloneState, headOf, settleNewest, transactions, type Plan, type Unit } from './write-plan.js';

/** What earlier transactions of one call already committed, when a write needs several. */
interface Progress {
  committed: boolean;
  appended: Set<string>;
  deleted: number;
}

/** saveChatMessage(s), upsertMessages, importSession: see StorageBackend.write. */
export async function write(ctx: Ctx, request: WriteRequest): Promise<WriteResult> {
  const { key } = request;
  const progress: Progress = { committed: false, appended: new Set(), deleted: 0 };
  const result = await ctx.io.serial(key.userId, key.sessionId, () => ctx.io.optimistic(() => writeRound(ctx, request, progress)));
  const window =
    request.window === 0
      ? []
      : (await readPage(ctx, key, { order: 'newest', afterSeq: undefined, limit: request.window, cutoff: request.cutoff })).reverse();
  return { ...result, window };
}

/**
 * One optimistic round: read the session item and the batch's id items (one BatchGetItem), decide
 * everything the memory backend decides, in the same order, and send the transaction(s), each
 * conditioned on the session's version. A lost race makes the caller run the round again.
 */
async function writeRound(ctx: Ctx, request: WriteRequest, progress: Progress): Promise<Omit<WriteResult, 'window'>> {
  const { key, cutoff } = request;
  const { userId, sessionId, agentId } = key;
  const ids = [...new Set([...request.messages.map((m) => m.id), ...(request.deleteIds ?? [])])];
  const [sessionFound, ...idItems] = await ctx.io.get([sessionKey(userId, sessionId), ...ids.map((id) => idKey(userId, sessionId, id))]);
  const state = unlessForking(ctx, userId, sessionFound && readSessionItem(sessionFound));
  if (state && !state.hasIdItems) {
    await ensureIdItems(ctx, userId, sessionId, state);
    return writeRound(ctx, request, progress);
  }
  const { found, stale } = await resolveIdItems(ctx, userId, sessionId, ids, idItems);
  const head = headOf(state, agentId);

  if (request.expectLastIds !== undefined && !progress.committed) {
    const expected = request.expectLastIds;
    const newest = await laneRows(ctx, userId, sessionId, agentId, { order: 'newest', limit: Math.max(1, expected.length), cutoff, keysOnly: true });
    const actual = newest.reverse().map((r) => r.id);
    if (expected.length === 0 ? actual.length > 0 : actual.join('\0') !== expected.join('\0')) {
      throw new ConflictError(conflictMessage('expectLastIds'));
    }
  }
  const deleting = new Map<string, StoredRow>();
  for (const id of request.deleteIds ?? []) {
    const row = found.get(id);
    if (row && row.agentId === agentId) deleting.set(id, row);
  }

  // Sort the batch: replaced in place, unchanged (a retry), or new; any disagreement refuses it all.
  const replace: Array<[StoredRow, EncodedMessage]> = [];
  const fresh: EncodedMessage[] = [];
  let unchanged = 0;
  let appendedBefore = 0;
  const identical = new Set<string>();
  for (const m of request.messages) {
    const stored = deleting.has(m.id) ? undefined : found.get(m.id);
    if (!stored) {
      fresh.push(m);
      continue;
    }
    if (stored.agentId !== agentId) throw new ConflictError(conflictMessage('otherAgent', m.id));
    if (stored.role !== m.role) throw new ConflictError(conflictMessage('role', m.id));
    const same = stored.json === m.json && stored.metadata === m.metadata;
    if (same) identical.add(m.id);
    if (request.mode === 'upsert') replace.push([stored, m]);
    else if (!same) throw new ConflictError(conflictMessage('changed', m.id));
    else if (progress.appended.has(m.id)) appendedBefore++;
    else unchanged++;
  }

  // The conversation's last live message after the deletions: its role for the consecutive-role
  // rule, and the last stored seq, after which new messages are numbered.
  const skip = new Set([...deleting.values()].map((r) => r.seq));
  let lastRole: RawMessage['role'] | undefined;
  let lastSeq = 0;
  let tail: StoredRow | undefined;
  if (head && head.n > 0) {
    if (skip.size === 0 && !head.u && (cutoff === undefined || head.lo >= cutoff)) {
      lastRole = head.r;
      lastSeq = head.s;
    } else {
      const newest = await newestRemaining(ctx, userId, sessionId, agentId, skip, cutoff);
      lastRole = newest.live?.role;
      tail = newest.stored;
      lastSeq = skip.size === 0 && !head.u ? head.s : (tail?.seq ?? 0);
    }
  }
  const appended = appendable(request.messages, fresh, lastRole, request.policy, identical);
  // Only deletes, and nothing to delete: no session is created or touched (as on every backend).
  if (request.messages.length === 0 && deleting.size === 0) return { appended: 0, replaced: 0, unchanged: 0, stored: [] };

  // Retention: the newest keepLast stay; the batch's own oldest messages are never written when
  // they would go at once.
  const storedAfterDeletes = (head?.n ?? 0) - deleting.size;
  const excess = request.keepLast === undefined ? 0 : Math.max(0, storedAfterDeletes + appended.length - request.keepLast);
  const trimStored = Math.min(excess, storedAfterDeletes);
  const passes = excess - trimStored;
  const trimmed =
    trimStored === 0
      ? []
      : (await laneRows(ctx, userId, sessionId, agentId, { order: 'oldest', limit: trimStored + skip.size, keysOnly: true }))
          .filter((r) => !skip.has(r.seq))
          .slice(0, trimStored);

  const units: Unit[] = [];
  for (const row of deleting.values()) units.push({ kind: 'delete', row });
  for (const [row, m] of replace) units.push({ kind: 'replace', row, json: m.json, metadata: m.metadata });
  const seqs = new Map<string, number>();
  appended.forEach((m, i) => {
    const seq = lastSeq + 1 + i;
    seqs.set(m.id, seq);
    const staleId: IdPointer | undefined = deleting.has(m.id) ? undefined : stale.get(m.id);
    units.push(i < passes ? { kind: 'pass', agentId, seq, message: m } : { kind: 'append', agentId, seq, message: m, staleId });
  });
  for (const row of trimmed) units.push({ kind: 'delete', row });

  // Nothing changes but the clock: write only when the last activity moves.
  if (units.length === 0 && state && state.la >= request.now) return tally();
  const plan: Plan = {
    ...planFor(ctx, userId, sessionId, state, state ?? newSessionState(sessionId, request.createdAt ?? request.now, request.now)),
    units,
    now: request.now,
    finish: (s) => {
      const h = headOf(s, agentId);
      if (!h) return;
      if (h.u && appended.length === 0) {
        if (tail) Object.assign(h, { s: tail.seq, r: tail.role });
        delete h.u;
      }
      settleNewest(h, tail, appended.length > passes);
    },
  };
  if (deleting.size > 0) plan.dropWhenEmpty = { userSessions: sessionCount(await ctx.io.getOne(userKey(userId))) };
  await commit(ctx, plan, progress);
  return tally();

  function tally(): Omit<WriteResult, 'window'> {
    const gone = new Set(trimmed.map((r) => r.id));
    const stored: RawMessage[] = [];
    const replaced = new Map(replace.map(([row, m]) => [m.id, m]));
    appended.forEach((m, i) => {
      if (i >= passes) stored.push({ id: m.id, seq: seqs.get(m.id)!, role: m.role, json: m.json, metadata: m.metadata, timestamp: m.timestamp });
    });
    const byId = new Map(stored.map((r) => [r.id, r]));
    const out = request.messages.flatMap((m): RawMessage[] => {
      const written = byId.get(m.id);
      if (written) return [written];
      const row = deleting.has(m.id) ? undefined : found.get(m.id);
      if (!row || row.agentId !== agentId || gone.has(m.id)) return [];
      const next = replaced.get(m.id);
      return [{ id: row.id, seq: row.seq, role: row.role, json: next?.json ?? row.json, metadata: next ? next.metadata : row.metadata, timestamp: row.timestamp }];
    });
    return { appended: appended.length + appendedBefore, replaced: replace.length, unchanged, stored: out };
  }
}

export async function updateMessage(ctx: Ctx, maxBytes: number, backend: string, userId: string, sessionId: string, messageId: string, change: MessageChange, cutoff: number | undefined) {
  return ctx.io.optimistic(async () => {
    const row = await findWithLegacyIds(ctx, userId, sessionId, messageId);
    if (!row || (cutoff !== undefined && row.timestamp < cutoff)) return null;
    const json = change.json ?? row.json;
    const metadata = change.metadata === undefined ? row.metadata : (change.metadata ?? undefined);
    const size = utf8Length(json) + (metadata === undefined ? 0 : utf8Length(metadata));
    if (size > maxBytes) throw new TooLargeError(size, maxBytes, backend);
    const { Update } = messageUpdate(ctx.io.table, messageKey(userId, sessionId, row.agentId, row.seq), row.id, row.legacy, json, metadata);
    const { TableName: _table, ...input } = Update;
    await ctx.io.update(input, 'updating a DynamoDB message');
    return { ...row, json, metadata };
  });
}

/** deleteMessages: the session's messages with these ids, in transactions of at most 100 items. */
export async function deleteMessages(ctx: Ctx, userId: string, sessionId: string, messageIds: string[]): Promise<number> {
  const progress: Progress = { committed: false, appended: new Set(), deleted: 0 };
  return ctx.io.serial(userId, sessionId, () =>
    ctx.io.optimistic(async () => {
      const state = unlessForking(ctx, userId, await ensureIdItems(ctx, userId, sessionId, await readState(ctx, userId, sessionId)));
      if (!state) return progress.deleted;
      const { found } = await findMessages(ctx, userId, sessionId, [...new Set(messageIds)]);
      const rows = [...found.values()];
      if (rows.length === 0) return progress.deleted;
      await commitDeletes(ctx, userId, sessionId, state, rows, progress);
      return progress.deleted;
    }),
  );
}

/** truncateAfter: a suffix of one conversation, deleted newest first so that what stays is a prefix. */
export async function truncateAfter(ctx: Ctx, userId: string, sessionId: string, messageId: string, inclusive: boolean): Promise<number | null> {
  const progress: Progress = { committed: false, appended: new Set(), deleted: 0 };
  return ctx.io.serial(userId, sessionId, () =>
    ctx.io.optimistic(async () => {
      const anchor = await findWithLegacyIds(ctx, userId, sessionId, messageId);
      if (!anchor) return progress.committed ? progress.deleted : null;
      const state = unlessForking(ctx, userId, await readState(ctx, userId, sessionId));
      if (!state) return null;
      const rows = await laneRows(ctx, userId, sessionId, anchor.agentId, { order: 'newest', fromSeq: anchor.seq + (inclusive ? 0 : 1), keysOnly: true });
      if (rows.length === 0) return progress.deleted;
      await commitDeletes(ctx, userId, sessionId, state, rows, progress);
      return progress.deleted;
    }),
  );
}

/**
 * Deletes rows (in the given order) with their id items, rewriting each touched head: count, and
 * the last stored message where the deletion took it.
 */
async function commitDeletes(ctx: Ctx, userId: string, sessionId: string, state: SessionState, rows: StoredRow[], progress: Progress): Promise<void> {
  const byLane = new Map<string, Set<number>>();
  for (const row of rows) {
    const seqs = byLane.get(row.agentId) ?? new Set<number>();
    seqs.add(row.seq);
    byLane.set(row.agentId, seqs);
  }
  const tails = new Map<string, StoredRow | undefined>();
  for (const [agentId, seqs] of byLane) {
    const head = headOf(state, agentId);
    if (head && (seqs.has(head.s) || head.u)) tails.set(agentId, (await newestRemaining(ctx, userId, sessionId, agentId, seqs, undefined)).stored);
  }
  const plan: Plan = {
    ...planFor(ctx, userId, sessionId, state, cloneState(state)),
    units: rows.map((row) => ({ kind: 'delete', row })),
    now: undefined,
    finish: (s) => {
      for (const [agentId, tail] of tails) {
        const h = headOf(s, agentId);
        if (!h) continue;
        if (tail) Object.assign(h, { s: tail.seq, r: tail.role });
        delete h.u;
        settleNewest(h, tail, false);
      }
    },
    dropWhenEmpty: { userSessions: sessionCount(await ctx.io.getOne(userKey(userId))) },
  };
  await commit(ctx, plan, progress);
}

function planFor(ctx: Ctx, userId: string, sessionId: string, previous: SessionState | undefined, start: SessionState) {
  return { userId, sessionId, tableName: ctx.io.table, ttlMs: ctx.ttlMs, previous, start };
}

/** Sends a plan's transactions in order, noting what each committed for the call's totals. */
async function commit(ctx: Ctx, plan: Plan, progress: Progress): Promise<void> {
  for (const tx of transactions(plan)) {
    await ctx.io.transact(tx.items, 'writing to DynamoDB');
    progress.committed = true;
    for (const id of tx.appended) progress.appended.add(id);
    progress.deleted += tx.deleted;
  }
}

/**
 * updateSession: creates the session when missing, then one UpdateItem sets or removes the title
 * and each metadata key on its own, conditioned on the version read (see sessionUpdateExpression).
 * Resolves to the summary of the session item as the write left it (ReturnValues ALL_NEW), not
 * read again.
 */
export async function updateSession(ctx: Ctx, userId: string, sessionId: string, change: SessionChange): Promise<SessionSummary | undefined> {
  const changesFields = change.title !== undefined || Object.keys(change.metadata ?? {}).length > 0;
  const written = await ctx.io.optimistic(async (): Promise<SessionState | undefined> => {
    let state = unlessForking(ctx, userId, await readState(ctx, userId, sessionId));
    if (!state) {
      // Created empty first (a chat can be named before its first message), then updated as any other.
      state = newSessionState(sessionId, change.now, Math.max(change.now, change.activityAt ?? change.now));
      state.v = nextVersion();
      await ctx.io.transact([sessionPut(ctx.io.table, userId, state, undefined), userUpsert(ctx.io.table, userId)], 'creating a DynamoDB session');
    }
    if (change.metadata !== undefined) {
      // The merge the other backends store, here only to check its size: DynamoDB applies the keys itself.
      mergeSessionMetadata(decodeSessionMetadata(state), change.metadata);
    }
    if (changesFields) state = await updateAndRead(ctx, sessionUpdateExpression(userId, state, change));
    if (change.activityAt !== undefined && state.la < change.activityAt) {
      try {
        state = await updateAndRead(ctx, activityUpdate(userId, sessionId, change.activityAt));
      } catch (error) {
        // Another write moved the last activity at least as far: nothing to do but read where it is.
        if (!isConditionFailure(error)) throw error;
        return undefined;
      }
    }
    return state;
  });
  if (!change.summary) return undefined;
  const state = written ?? (await readState(ctx, userId, sessionId));
  return summarise(ctx, userId, state ?? newSessionState(sessionId, change.now, change.now), change.cutoff);
}

/** One UpdateItem of a session item; the item as it left it. */
async function updateAndRead(ctx: Ctx, input: Parameters<TableIo['update']>[0]): Promise<SessionState> {
  return readSessionItem((await ctx.io.update({ ...input, ReturnValues: 'ALL_NEW' }, 'updating a DynamoDB session'))!);
}
