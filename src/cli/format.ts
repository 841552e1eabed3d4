/**
 * convostore's export format, JSON Lines, version 2 (documented in docs/cli.md):
 *
 *   {"format":"convostore","version":2,"exportedAt":"…","source":"sqlite"}
 *   {"type":"session","userId":"u","sessionId":"s","createdAt":1700000000000,"lastActivityAt":1700000005000,"title":"Printer","metadata":{…}}
 *   {"type":"message","userId":"u","sessionId":"s","agentId":"a","id":"0193…","seq":1,"role":"user","content":[{"text":"hi"}],"metadata":{…},"timestamp":1700000000000}
 *   …
 *   {"type":"end","sessions":1,"messages":1}
 *
 * A session's lines are contiguous; its messages come in the session's write order across its agents
 * (as `fetchSessionPage` reads it). `title` and `metadata` are left out when absent.
 *
 * Version 1 files (no ids, no metadata, no titles, written by convostore 0.1) are still read: their
 * messages get ids derived from their position (see derived-ids.ts).
 */
import { checkId, checkMetadata, checkRole, checkTitle } from '../core/validate.js';
import { ConvostoreError } from '../errors.js';
import type { ContentBlock, ConversationKey, Metadata, Role } from '../types.js';

export const FORMAT = 'convostore';
export const FORMAT_VERSION = 2;
/** Versions `import` reads. */
const READABLE_VERSIONS: readonly number[] = [1, 2];

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
  title?: string;
  metadata?: Metadata;
}

export interface MessageRecord extends ConversationKey {
  type: 'message';
  /** The message's id; absent in sources that have none (version 1 files, Agent Squad rows). */
  id?: string;
  /** Position in the source conversation; only its increase is checked. */
  seq?: number;
  role: Role;
  content: ContentBlock[];
  metadata?: Metadata;
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
        title: record.title,
        metadata: record.metadata,
      });
    case 'message':
      return JSON.stringify({
        type: record.type,
        userId: record.userId,
        sessionId: record.sessionId,
        agentId: record.agentId,
        id: record.id,
        seq: record.seq,
        role: record.role,
        content: record.content,
        metadata: record.metadata,
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
  if (!READABLE_VERSIONS.includes(h.version as number)) {
    throw new ConvostoreError(
      'VALIDATION',
      `export format version ${String(h.version)} is not supported; this convostore reads versions ${READABLE_VERSIONS.join(' and ')}`,
    );
  }
  return h as Header;
}

/**
 * One line after the header of a file of the given version. Throws BadRecord naming what is wrong.
 * Version 2 requires message ids; version 1 has none (a version 1 line carrying v2 fields is read
 * as version 2 would read it: nothing is dropped silently).
 */
export function parseRecord(line: string, version: number): DataRecord | EndRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new BadRecord(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRecord('not a JSON object');
  const r = value as Record<string, unknown>;
  switch (r.type) {
    case 'session': {
      const record: SessionRecord = {
        type: 'session',
        userId: field(() => checkId('userId', r.userId)),
        sessionId: field(() => checkId('sessionId', r.sessionId)),
        createdAt: optionalTime('createdAt', r.createdAt),
        lastActivityAt: optionalTime('lastActivityAt', r.lastActivityAt),
      };
      if (r.title !== undefined) record.title = field(() => checkTitle('title', r.title));
      if (r.metadata !== undefined) record.metadata = field(() => checkMetadata('metadata', r.metadata));
      return record;
    }
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
      if (r.id === undefined && version >= 2) throw new BadRecord('id: is missing (every message of a version 2 export has one)', key);
      const record: MessageRecord = { type: 'message', ...key, seq, role: field(() => checkRole('role', r.role), key), content, timestamp };
      if (r.id !== undefined) record.id = field(() => checkId('id', r.id), key);
      if (r.metadata !== undefined) record.metadata = field(() => checkMetadata('metadata', r.metadata), key);
      return record;
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
