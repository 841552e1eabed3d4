/**
 * What the studio's server and its page say to each other: JSON over HTTP, types only (the page is
 * type-checked against this file too). Reads are GETs with query parameters; writes are POSTs with a
 * JSON body, accepted only when the studio runs with `--write`.
 */
import type { JsonValue, Page, SessionMessage, SessionSummary } from '../types.js';

export type { JsonValue, Page, SessionMessage, SessionSummary };

/** GET /api/info */
export interface StudioInfo {
  /** The store's backend name (`sqlite`, `libsql`, `dynamodb`, `memory`). */
  backend: string;
  /** The database as the CLI prints it: redacted of every credential. */
  source: string;
  write: boolean;
  /** How often the page asks for new messages, in ms. */
  pollMs: number;
}

/** Every error answer: `{ error, code }`, `code` being convostore's error code or an HTTP reason. */
export interface StudioError {
  error: string;
  code: string;
}

/** POST /api/session: rename (`title`, `null` removes it) and/or merge metadata keys (`null` removes one). */
export interface SessionUpdateBody {
  user: string;
  session: string;
  title?: string | null;
  metadata?: { [key: string]: JsonValue };
}

/** POST /api/delete */
export interface DeleteBody {
  user: string;
  session: string;
  ids: string[];
}

/** POST /api/truncate: removes every message of `id`'s conversation (its agent's) written after it. */
export interface TruncateBody {
  user: string;
  session: string;
  id: string;
}

/** POST /api/fork: a new session `to` holding the session up to and including `id`. */
export interface ForkBody {
  user: string;
  session: string;
  id: string;
  to: string;
}

/** POST answers: what the operation reports. */
export interface WriteResult {
  removed?: number;
  session?: SessionSummary;
}
