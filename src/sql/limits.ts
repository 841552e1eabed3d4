/** Numbers the SQL statements and the backend share; no Drizzle here, so the store path can load it. */

/** Rows per multi-row INSERT: 6 parameters each keeps a statement far below SQLite's variable limit. */
export const INSERT_CHUNK = 500;

/** No bound at all, for the optional `created_at >= cutoff` and seq/position bounds. */
export const NO_CUTOFF = -Number.MAX_SAFE_INTEGER;
export const NO_SEQ_BOUND = Number.MAX_SAFE_INTEGER;
/** Sorts after every real (lastActivityAt, sessionId) pair. */
export const FIRST_SESSION_PAGE = { lastActivityAt: Number.MAX_SAFE_INTEGER, sessionId: '' };
