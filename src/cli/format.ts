/**
 * convostore's export format, JSON Lines, version 1 (documented in docs/cli.md):
 *
 *   {"format":"convostore","version":1,"exportedAt":"…","source":"sqlite"}
 *   {"type":"session","userId":"u","sessionId":"s","createdAt":1700000000000,"lastActivityAt":1700000005000}
 *   {"type":"message","userId":"u","sessionId":"s","agentId":"a","seq":1,"role":"user","content":[{"text":"hi"}],"timestamp":1700000000000}
 *   …
 *   {"type":"end","sessions":1,"messages":1}
 *
 * A session's lines are contiguous; its messages come in write order across its agents.
 */
import { checkId, checkRole } from '../core/validate.js';
import { ConvostoreError } from '../errors.js';
import type { ContentBlock, ConversationKey, Role } from '../types.js';

export const FORMAT = 'convostore';
export const FORMAT_VERSION = 1;

export interface Header {
  format: typeof FORMAT;
  version: number;
  exportedAt: string;
  source: string;
  user?: string;
}

export interface SessionRecord {
  type: 'session';
  userId: string;
  sessionId: string;
  createdAt?: number;
  lastActivityAt?: number;
}

export interface MessageRecord extends ConversationKey {
  type: 'message';
  /** Position in the source conversation; only its increase is checked. */
  seq?: number;
  role: Role;
  content: ContentBlock[];
  timestamp: number;
}

export interface EndRecord {
  type: 'end';
  sessions: number;
  messages: number;
}

export type DataRecord = SessionRecord | MessageRecord;

/** A line that is not a valid record. `key` is set when the line still names its conversation. */
export class BadRecord extends Error {
  readonly key: ConversationKey | undefined;

  constructor(message: string, key?: ConversationKey) {
    super(message);
    this.key = key;
  }
}

export function header(source: string, user: string | undefined): string {
  const value: Header = { format: FORMAT, version: FORMAT_VERSION, exportedAt: new Date().toISOString(), source };
  if (user !== undefined) value.user = user;
  return JSON.stringify(value);
}

/** Fixed key order, so exports of the same data are byte-identical apart from the header. */
export function serialize(record: DataRecord | EndRecord): string {
  switch (record.type) {
    case 'session':
      return JSON.stringify({
        type: record.type,
        userId: record.userId,
        sessionId: record.sessionId,
        createdAt: record.createdAt,
        lastActivityAt: record.lastActivityAt,
      });
    case 'message':
      return JSON.stringify({
        type: record.type,
        userId: record.userId,
        sessionId: record.sessionId,
        agentId: record.agentId,
        seq: record.seq,
        role: record.role,
        content: record.content,
        timestamp: record.timestamp,
      });
    case 'end':
      return JSON.stringify({ type: record.type, sessions: record.sessions, messages: record.messages });
  }
}

/** Reads the first line; anything but a version this code understands is refused outright. */
export function parseHeader(line: string | undefined): Header {
  let value: unknown;
  try {
    value = line === undefined ? undefined : JSON.parse(line);
  } catch {
    // reported below
  }
  const h = value as Partial<Header> | undefined;
  if (typeof h !== 'object' || h === null || h.format !== FORMAT) {
    throw new ConvostoreError('VALIDATION', 'not a convostore export: the first line must be its header {"format":"convostore",…}');
  }
  if (h.version !== FORMAT_VERSION) {
    throw new ConvostoreError(
      'VALIDATION',
      `export format version ${String(h.version)} is not supported; this convostore reads version ${FORMAT_VERSION}`,
    );
  }
  return h as Header;
}

/** One line after the header. Throws BadRecord naming what is wrong. */
export function parseRecord(line: string): DataRecord | EndRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new BadRecord(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRecord('not a JSON object');
  const r = value as Record<string, unknown>;
  switch (r.type) {
    case 'session':
      return {
        type: 'session',
        userId: field(() => checkId('userId', r.userId)),
        sessionId: field(() => checkId('sessionId', r.sessionId)),
        createdAt: optionalTime('createdAt', r.createdAt),
        lastActivityAt: optionalTime('lastActivityAt', r.lastActivityAt),
      };
    case 'message': {
      const key = {
        userId: field(() => checkId('userId', r.userId)),
        sessionId: field(() => checkId('sessionId', r.sessionId)),
        agentId: field(() => checkId('agentId', r.agentId)),
      };
      const content = typeof r.content === 'string' ? [{ text: r.content }] : r.content;
      if (!Array.isArray(content)) throw new BadRecord('content: must be an array of content blocks', key);
      const timestamp = optionalTime('timestamp', r.timestamp, key);
      if (timestamp === undefined) throw new BadRecord('timestamp: is missing', key);
      const seq = r.seq;
      if (seq !== undefined && (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1)) {
        throw new BadRecord('seq: must be a positive integer', key);
      }
      return { type: 'message', ...key, seq, role: field(() => checkRole('role', r.role), key), content, timestamp };
    }
    case 'end': {
      const { sessions, messages } = r;
      if (!Number.isSafeInteger(sessions) || !Number.isSafeInteger(messages)) {
        throw new BadRecord('end record: sessions and messages must be counts');
      }
      return { type: 'end', sessions: sessions as number, messages: messages as number };
    }
    default:
      throw new BadRecord(`unknown record type ${JSON.stringify(r.type ?? null)}; expected "session", "message" or "end"`);
  }
}

function field<T>(check: () => T, key?: ConversationKey): T {
  try {
    return check();
  } catch (error) {
    throw new BadRecord((error as Error).message, key);
  }
}

function optionalTime(name: string, value: unknown, key?: ConversationKey): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new BadRecord(`${name}: must be epoch milliseconds (a non-negative integer)`, key);
  }
  return value;
}
