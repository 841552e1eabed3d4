/** Numbers the SQL statements and the backend share; no Drizzle here, so the store path can load it. */
import type { Param } from './driver.js';

/** Rows per multi-row INSERT: 6 parameters each keeps a statement far below SQLite's variable limit. */
export const INSERT_CHUNK = 500;

/**
 * writeMessages' parameters for message `i` of a chunk (id, role, content, metadata, timestamp) are
 * named by number, 5i to 5i + 4: the backend sets them as integer keys of a plain object, which V8
 * keeps as elements. 2,500 named keys per chunk (`id0`…) cost 1.7 µs per message to build and bind
 * here, numbers 0.35 µs.
 */
export const MESSAGE_PARAMS = 5;
export const messageParam = (i: number, column: number): string => String(i * MESSAGE_PARAMS + column);

/** Row `i` of writeMessages' VALUES list: its position from 1 (a literal), then message i's five parameters. */
export function messageRowParams(i: number): Param[] {
  const params: Param[] = [i + 1];
  for (let column = 0; column < MESSAGE_PARAMS; column++) params.push({ name: messageParam(i, column) });
  return params;
}

/** No bound at all, for the optional `created_at >= cutoff` and seq/position bounds. */
export const NO_CUTOFF = -Number.MAX_SAFE_INTEGER;
export const NO_SEQ_BOUND = Number.MAX_SAFE_INTEGER;
/** Sorts after every real (lastActivityAt, sessionId) pair. */
export const FIRST_SESSION_PAGE = { lastActivityAt: Number.MAX_SAFE_INTEGER, sessionId: '' };
