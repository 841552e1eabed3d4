import { ValidationError } from '../errors.js';
import type { PageOrder } from '../types.js';
import { fromBase64url, sha256Base64url, toBase64url } from './bytes.js';

/**
 * Cursors are opaque to callers: base64url JSON with a version and a short digest of what they page
 * through, so a cursor from one conversation (or one order) handed to another is refused, not misread.
 */
const VERSION = 1;

interface MessageCursor {
  v: number;
  o: PageOrder;
  s: number;
  h: string;
}

interface SessionCursor {
  v: number;
  t: number;
  i: string;
  h: string;
}

function digest(parts: readonly string[]): string {
  return sha256Base64url(JSON.stringify(parts)).slice(0, 12);
}

function encode(value: object): string {
  return toBase64url(JSON.stringify(value));
}

function decode(cursor: unknown): Record<string, unknown> {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 2048) {
    throw new ValidationError('cursor', 'must be a nextCursor string returned by this store');
  }
  try {
    const value: unknown = JSON.parse(fromBase64url(cursor));
    if (typeof value === 'object' && value !== null && (value as { v?: unknown }).v === VERSION) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through to the one error below
  }
  throw new ValidationError('cursor', 'is not a cursor this store issued');
}

export function messageCursor(scope: readonly string[], order: PageOrder, seq: number): string {
  return encode({ v: VERSION, o: order, s: seq, h: digest(scope) } satisfies MessageCursor);
}

export function readMessageCursor(cursor: unknown, scope: readonly string[], order: PageOrder): number {
  const c = decode(cursor);
  if (c.h !== digest(scope)) throw new ValidationError('cursor', 'belongs to another conversation');
  if (c.o !== order) throw new ValidationError('cursor', `was issued for order '${String(c.o)}', not '${order}'`);
  if (typeof c.s !== 'number' || !Number.isSafeInteger(c.s)) throw new ValidationError('cursor', 'is damaged');
  return c.s;
}

/** A page of a session's messages across agents: the scope is (userId, sessionId), the bound a position. */
export function sessionMessageCursor(userId: string, sessionId: string, order: PageOrder, position: number): string {
  return messageCursor(['session', userId, sessionId], order, position);
}

export function readSessionMessageCursor(cursor: unknown, userId: string, sessionId: string, order: PageOrder): number {
  return readMessageCursor(cursor, ['session', userId, sessionId], order);
}

export function sessionCursor(userId: string, lastActivityAt: number, sessionId: string): string {
  return encode({ v: VERSION, t: lastActivityAt, i: sessionId, h: digest([userId]) } satisfies SessionCursor);
}

export function readSessionCursor(cursor: unknown, userId: string): { lastActivityAt: number; sessionId: string } {
  const c = decode(cursor);
  if (c.h !== digest([userId])) throw new ValidationError('cursor', "belongs to another user's session list");
  if (typeof c.t !== 'number' || !Number.isSafeInteger(c.t) || typeof c.i !== 'string') {
    throw new ValidationError('cursor', 'is damaged');
  }
  return { lastActivityAt: c.t, sessionId: c.i };
}

export function userCursor(userId: string): string {
  return encode({ v: VERSION, u: userId, h: digest(['users']) });
}

export function readUserCursor(cursor: unknown): string {
  const c = decode(cursor);
  if (c.h !== digest(['users']) || typeof c.u !== 'string') throw new ValidationError('cursor', 'is not a user-list cursor');
  return c.u;
}
