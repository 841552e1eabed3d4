import { ConvostoreError, ValidationError } from '../errors.js';
import type { ContentBlock, ConversationKey, JsonValue, MessageInput, Metadata, Role } from '../types.js';
import type { EncodedMessage } from './backend.js';
import type { IdGenerator } from './ids.js';
import { utf8Length } from './bytes.js';

export const MAX_ID_LENGTH = 256;
/** Deeper content is refused rather than risking a stack overflow in JSON.stringify or a driver. */
export const MAX_CONTENT_DEPTH = 128;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;
/** Session titles: the same characters as ids, 1 to 1,000 UTF-16 units. */
export const MAX_TITLE_LENGTH = 1000;
/** Session metadata, in UTF-8 bytes of its JSON. */
export const MAX_SESSION_METADATA_BYTES = 16 * 1024;
/** Ids in one `deleteIds`, `expectLastIds` or `deleteMessages` call. */
export const MAX_ID_LIST = 10_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function checkId(field: string, value: unknown, maxLength = MAX_ID_LENGTH): string {
  if (typeof value !== 'string') throw new ValidationError(field, `must be a string, got ${describe(value)}`);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > maxLength) {
    throw new ValidationError(field, `is ${value.length} UTF-16 units long; the limit is ${maxLength}`);
  }
  if (value.includes('\0')) throw new ValidationError(field, 'must not contain a NUL character');
  if (LONE_SURROGATE.test(value)) throw new ValidationError(field, 'must not contain a lone surrogate');
  return value;
}

export function checkKey(userId: unknown, sessionId: unknown, agentId: unknown): ConversationKey {
  return {
    userId: checkId('userId', userId),
    sessionId: checkId('sessionId', sessionId),
    agentId: checkId('agentId', agentId),
  };
}

const ROLES: readonly Role[] = ['user', 'assistant', 'system', 'tool'];

export function checkRole(field: string, value: unknown): Role {
  if (ROLES.includes(value as Role)) return value as Role;
  throw new ValidationError(field, `must be 'user', 'assistant', 'system' or 'tool', got ${describe(value)}`);
}

/**
 * Checks that a message is plain JSON data and serialises its content and metadata. Anything
 * JSON.stringify would silently change (NaN to null, a Date to a string, undefined in an array to
 * null) is refused, so what is read back is what was written. An object key whose value is
 * undefined is dropped, as JSON does. A message without an id gets one from `newId`.
 */
export function encodeMessage(field: string, input: unknown, clock: () => number, newId: IdGenerator): EncodedMessage {
  return readInput(field, () => encode(field, input, clock, newId));
}

function encode(field: string, input: unknown, clock: () => number, newId: IdGenerator): EncodedMessage {
  if (!isPlainObject(input)) throw new ValidationError(field, `must be a message object, got ${describe(input)}`);
  const message = { ...input } as Partial<MessageInput>;
  const id = message.id === undefined ? newId() : checkId(`${field}.id`, message.id);
  const role = checkRole(`${field}.role`, message.role);
  return {
    id,
    idMade: message.id === undefined,
    role,
    json: encodeContent(`${field}.content`, message.content),
    metadata: message.metadata === undefined ? undefined : encodeMetadata(`${field}.metadata`, message.metadata),
    timestamp: message.timestamp === undefined ? checkClock(clock()) : checkTimestamp(`${field}.timestamp`, message.timestamp),
  };
}

/** Content blocks (or a string, stored as `[{ text }]`) as JSON text. */
export function encodeContent(field: string, value: unknown): string {
  const content: unknown = typeof value === 'string' ? [{ text: value }] : value;
  if (!Array.isArray(content)) {
    throw new ValidationError(field, `must be an array of content blocks or a string, got ${describe(content)}`);
  }
  content.forEach((block, i) => {
    if (!isPlainObject(block)) {
      throw new ValidationError(`${field}[${i}]`, `must be a plain object such as { text }, got ${describe(block)}`);
    }
    checkJson(`${field}[${i}]`, block, new Set(), 1);
  });
  return JSON.stringify(content as ContentBlock[]);
}

/** A metadata object (plain JSON object) as JSON text. */
export function encodeMetadata(field: string, value: unknown): string {
  return JSON.stringify(checkMetadata(field, value));
}

export function checkMetadata(field: string, value: unknown): Metadata {
  if (!isPlainObject(value)) throw new ValidationError(field, `must be a plain JSON object, got ${describe(value)}`);
  checkJson(field, value, new Set(), 1);
  return value as Metadata;
}

/**
 * Session metadata, as JSON text, within MAX_SESSION_METADATA_BYTES. Checked on the update's own keys
 * by the store and on the merged result by each backend, which alone sees what is stored.
 */
export function checkSessionMetadataSize(field: string, json: string): void {
  const size = utf8Length(json);
  if (size > MAX_SESSION_METADATA_BYTES) {
    throw new ValidationError(field, `would be ${size} bytes as JSON; session metadata holds at most ${MAX_SESSION_METADATA_BYTES}`);
  }
}

/** A session title: the characters of an id, at most MAX_TITLE_LENGTH units. */
export function checkTitle(field: string, value: unknown): string {
  return checkId(field, value, MAX_TITLE_LENGTH);
}

/** A list of message ids (`deleteIds`, `expectLastIds`, `deleteMessages`). */
export function checkIdList(field: string, value: unknown, { distinct = false } = {}): string[] {
  return readInput(field, () => {
    if (!Array.isArray(value)) throw new ValidationError(field, `must be an array of message ids, got ${describe(value)}`);
    if (value.length > MAX_ID_LIST) throw new ValidationError(field, `holds ${value.length} ids; the limit is ${MAX_ID_LIST}`);
    const ids = Array.from(value as unknown[], (id, i) => checkId(`${field}[${i}]`, id));
    if (distinct && new Set(ids).size !== ids.length) throw new ValidationError(field, 'names the same id twice');
    return ids;
  });
}

function checkJson(path: string, value: unknown, ancestors: Set<object>, depth: number): asserts value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(path, `${value} is not a finite number`);
      return;
    case 'object':
      break;
    default:
      throw new ValidationError(path, `${describe(value)} is not JSON data`);
  }
  if (value === null) return;
  if (depth > MAX_CONTENT_DEPTH) throw new ValidationError(path, `is nested deeper than ${MAX_CONTENT_DEPTH} levels`);
  if (ancestors.has(value)) throw new ValidationError(path, 'contains a cycle');
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (value[i] === undefined) throw new ValidationError(`${path}[${i}]`, 'undefined is not JSON data');
      checkJson(`${path}[${i}]`, value[i], ancestors, depth + 1);
    }
  } else if (isPlainObject(value)) {
    for (const k of Object.keys(value)) {
      // A getter could answer differently when JSON.stringify reads it again after this check.
      const { value: v, get, set } = Object.getOwnPropertyDescriptor(value, k)!;
      if (get || set) throw new ValidationError(`${path}.${k}`, 'is an accessor (getter/setter), not JSON data');
      if (v !== undefined) checkJson(`${path}.${k}`, v, ancestors, depth + 1);
    }
  } else {
    throw new ValidationError(path, `${describe(value)} is not plain JSON data`);
  }
  ancestors.delete(value);
}

export function checkTimestamp(field: string, value: unknown): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new ValidationError(field, `must be epoch milliseconds (a non-negative integer) or a valid Date, got ${describe(value)}`);
  }
  return ms;
}

export function checkClock(value: number): number {
  return checkTimestamp('clock()', value);
}

/**
 * Agent Squad keeps whole user/assistant pairs: an odd window is rounded down to even. A window no
 * conversation can reach (above 2^53, e.g. 1e300) means everything; SQLite cannot bind it as a LIMIT.
 */
export function checkWindow(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationError('maxHistorySize', `must be a non-negative integer, got ${describe(value)}`);
  }
  if (value > Number.MAX_SAFE_INTEGER) return undefined;
  return value - (value % 2);
}

export function checkPositiveInt(field: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(field, `must be an integer from 1 to ${max}, got ${describe(value)}`);
  }
  return value;
}

/** A copy, read once here: a getter or Proxy in the caller's object cannot throw or change later. */
export function checkOptions<T extends object>(field: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  return readInput(field, () => {
    if (!isPlainObject(value)) throw new ValidationError(field, `must be an options object, got ${describe(value)}`);
    return { ...value } as Partial<T>;
  });
}

/**
 * Reading caller input can run caller code (a getter, a Proxy trap). Whatever that throws is bad
 * input, reported as a validation error naming the field, not as a failing backend.
 */
export function readInput<T>(field: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConvostoreError) throw error;
    throw new ValidationError(field, `could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `the BigInt ${value}n`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default: {
      const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
      return name && name !== 'Object' ? `a ${name}` : 'an object';
    }
  }
}

/**
 * Ids sort by their UTF-8 bytes everywhere, as SQLite's BINARY collation and DynamoDB's string keys
 * do; JS's `<` compares UTF-16 units, which disagrees once astral characters meet U+E000..U+FFFF.
 */
export function compareIds(a: string, b: string): number {
  // UTF-8 byte order is code point order. Units compare as code points except when exactly one of
  // them is a surrogate: that one starts a code point above U+FFFF, so it sorts last. Comparing
  // units spares encoding both strings on every comparison of a sort.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
