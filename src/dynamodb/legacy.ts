import { ATTR, MESSAGE_SK_PREFIX, SESSION_SK_PREFIX, messagesPk, userPk } from './keys.js';
import { MESSAGE_KEY_PROJECTION, idItem, markHasIdItems, readMessageItem, readSessionItem, type SessionState, type StoredRow } from './items.js';
import { findMessage, listUsers, readState, type Ctx } from './lanes.js';
import { isConditionFailure } from './retry.js';

/**
 * Sessions written before message ids (v1) have message items without an `i` attribute and no id
 * items. Their messages get the ids the SQL migration gives old rows, derived from the stored write
 * position (`legacyMessageId`), so nothing has to be rewritten; only the id items that make ids
 * unique per session and findable by GetItem are missing. They are filled in, page by page, the
 * first time a v2 operation needs them on that session (or by `backfillMessageIds` for a whole
 * table); then the session item is marked, on condition that nobody wrote the session meanwhile
 * (else the pass runs again: id items are idempotent puts). Interrupted, it simply runs again.
 */
export async function ensureIdItems(ctx: Ctx, userId: string, sessionId: string, state: SessionState | undefined): Promise<SessionState | undefined> {
  let current = state;
  for (let round = 0; current && !current.hasIdItems; round++) {
    await fillIdItems(ctx, userId, sessionId);
    try {
      await ctx.io.update(markHasIdItems(userId, current), 'marking a DynamoDB session as migrated');
    } catch (error) {
      if (!isConditionFailure(error) || round > 20) throw error;
    }
    current = await readState(ctx, userId, sessionId);
  }
  return current;
}

async function fillIdItems(ctx: Ctx, userId: string, sessionId: string): Promise<number> {
  let written = 0;
  const pages = ctx.io.pages({
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :m)',
    ExpressionAttributeNames: MESSAGE_KEY_PROJECTION.names,
    ExpressionAttributeValues: { ':pk': messagesPk(userId, sessionId), ':m': MESSAGE_SK_PREFIX },
    ProjectionExpression: MESSAGE_KEY_PROJECTION.ProjectionExpression,
  });
  for await (const page of pages) {
    const rows = page.map(readMessageItem);
    await ctx.io.putItems(rows.map((row) => idItem(userId, sessionId, row, ctx.ttlMs)));
    written += rows.length;
  }
  return written;
}

/**
 * Fills in the id items of every session of the table written before message ids. Resumable: a
 * session already marked is skipped, so running it again after an interruption continues.
 * Returns how many sessions it migrated.
 */
export async function backfillMessageIds(ctx: Ctx): Promise<number> {
  let migrated = 0;
  let after: string | undefined;
  for (;;) {
    const users = await listUsers(ctx, after, 100);
    for (const userId of users) {
      const sessions = ctx.io.pages({
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :s)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk },
        ExpressionAttributeValues: { ':pk': userPk(userId), ':s': SESSION_SK_PREFIX },
      });
      for await (const page of sessions) {
        for (const item of page) {
          const state = readSessionItem(item);
          if (state.hasIdItems) continue;
          await ensureIdItems(ctx, userId, state.sessionId, state);
          migrated++;
        }
      }
    }
    if (users.length < 100) return migrated;
    after = users[users.length - 1];
  }
}

/** What a legacy id looks like (see legacyMessageId). */
const LEGACY_ID = /^00000000-0000-7000-8000-[0-9a-f]{12}$/;

/**
 * A message by id; on a session not yet migrated, an id shaped like a legacy one fills in the
 * session's id items first (other ids cannot be there: v2 writes migrate the session before writing).
 */
export async function findWithLegacyIds(ctx: Ctx, userId: string, sessionId: string, id: string): Promise<StoredRow | undefined> {
  const row = await findMessage(ctx, userId, sessionId, id);
  if (row || !LEGACY_ID.test(id)) return row;
  const state = await readState(ctx, userId, sessionId);
  if (!state || state.hasIdItems) return undefined;
  await ensureIdItems(ctx, userId, sessionId, state);
  return findMessage(ctx, userId, sessionId, id);
}
