import type { ListRequest } from '../core/backend.js';
import { compareIds } from '../core/validate.js';
import { ACTIVITY_STEP_MS, ATTR, INDEX, activityBound, activityTimeOf, userPk } from './keys.js';
import { readSessionItem, type SessionState } from './items.js';
import type { Ctx } from './lanes.js';

/**
 * A page of a user's sessions, most recent activity first (ties: session id, descending), after the
 * cursor. The byActivity index key holds the last activity rounded down to ACTIVITY_STEP_MS (keys.ts),
 * so the index is in the right order only step by step: a session whose key time is t was last
 * active in [t, t + step). The Query reads newest first and keeps the best `limit` by exact time; it
 * stops at the first key whose time plus one step is at most the exact time of the page's last
 * session: nothing from there on can come before it. The usual page costs one Query of limit + 1
 * items (+ 1 after a cursor); sessions active within one step of the page's end are read as well.
 * Memory holds the page and one Query page (at most twice the sessions read past the page).
 */
export async function sessionsByActivity(ctx: Ctx, userId: string, request: Pick<ListRequest, 'limit' | 'after'>): Promise<SessionState[]> {
  const { after, limit } = request;
  if (limit <= 0) return [];
  const input = {
    IndexName: INDEX.byActivity,
    KeyConditionExpression: after ? '#pk = :pk AND #act < :after' : '#pk = :pk',
    ExpressionAttributeNames: { '#pk': ATTR.pk, ...(after ? { '#act': ATTR.activity } : {}) },
    ExpressionAttributeValues: {
      ':pk': userPk(userId),
      // A rounded key is at most its exact time: every session after the cursor sorts below this.
      ...(after ? { ':after': activityBound(after.lastActivityAt, after.sessionId) } : {}),
    },
    ScanIndexForward: false,
  };
  const top: SessionState[] = [];
  // One item past the page tells where to stop; after a cursor, the cursor's own session (its key is
  // at most its exact time) comes first and is skipped. When that is not enough (many sessions active
  // within one step), each further Query asks for twice as many: a few requests, not one per page.
  let pageSize = limit + (after ? 2 : 1);
  let start: Record<string, unknown> | undefined;
  for (;;) {
    let full = false;
    for await (const page of ctx.io.pages(start ? { ...input, ExclusiveStartKey: start } : input, { pageSize })) {
      for (const item of page) {
        const last = top.length >= limit ? top[top.length - 1] : undefined;
        if (last && activityTimeOf(item[ATTR.activity] as string) + ACTIVITY_STEP_MS <= last.la) return top;
        const state = readSessionItem(item);
        if (after && !before(state, after.lastActivityAt, after.sessionId)) continue;
        if (last && before(state, last.la, last.sessionId)) continue;
        top.splice(insertionPoint(top, state), 0, state);
        if (top.length > limit) top.pop();
      }
      if (page.length === pageSize) {
        const end = page[page.length - 1]!;
        start = { [ATTR.pk]: end[ATTR.pk], [ATTR.sk]: end[ATTR.sk], [ATTR.activity]: end[ATTR.activity] };
        full = true;
        break;
      }
    }
    if (!full) return top;
    pageSize *= 2;
  }
}

/** Whether a session comes after (below) the position (la, sessionId) in listing order. */
function before(state: SessionState, la: number, sessionId: string): boolean {
  return state.la < la || (state.la === la && compareIds(state.sessionId, sessionId) < 0);
}

/** Where a session goes in a list sorted in listing order (binary search). */
function insertionPoint(sorted: readonly SessionState[], state: SessionState): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const at = sorted[mid]!;
    if (before(state, at.la, at.sessionId)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
