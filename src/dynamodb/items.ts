import { randomBytes } from 'node:crypto';
import type { EncodedMessage, RawSessionMessage } from '../core/backend.js';
import { compareIds } from '../core/validate.js';
import type { ConversationKey, JsonValue, Metadata, Role } from '../types.js';
import {
  ATTR,
  MESSAGE_SK_PREFIX,
  USERS_PARTITION,
  USER_SK,
  activityKey,
  messageIdSk,
  messageSk,
  messagesPk,
  sessionSk,
  userPk,
} from './keys.js';

/**
 * The items convostore writes, as the document client sees them. Attribute names are short because
 * DynamoDB bills them with every item; this file is the only place that spells them.
 */

export type Item = Record<string, unknown>;
export type Key = Record<string, string>;

/** One conversation's head, kept inside its session item. */
export interface AgentHead {
  /** agentId */
  a: string;
  /** Last stored seq; the next message gets s + 1. */
  s: number;
  /** Role of the last stored message, for the consecutive-role check. */
  r: Role;
  /** Messages stored. */
  n: number;
  /** Latest and earliest timestamp among the messages written (bounds for the TTL cutoff). */
  at: number;
  lo: number;
  /** The oldest stored seq (every seq below f has been deleted). */
  f: number;
  /**
   * Set when `at` may be above the newest stored timestamp: a deletion removed a message that may
   * have held it. Listing then reads the timestamps (see reads.ts).
   */
  x?: 1;
  /**
   * Set when the last stored message may be below `s`/`r`: a long deletion was interrupted between
   * two transactions. The next write then reads the lane's newest message instead of trusting them.
   */
  u?: 1;
  /**
   * Set while timestamps never decreased along the lane (every message written so far had a
   * timestamp at or above `at`): the newest timestamp is then the last message's, so deleting
   * messages keeps `at` exact (the last one's deletion takes the new last one's) instead of marking
   * `x`, which makes every listing read the lane. Heads written before it have no `m`: they mark `x`.
   */
  m?: 1;
}

/**
 * A session: its version (the optimistic-concurrency token every write is conditioned on; random,
 * not a counter, so a session deleted and created again never shows an old version — no ABA), its
 * session-wide write counter `o`, times, one head per conversation, and the user's title and
 * metadata. Keeping the heads here makes an append read and write one small item, and a page of
 * listSessions one Query.
 */
export interface SessionState {
  sessionId: string;
  v: string;
  o: number;
  ca: number;
  la: number;
  ag: AgentHead[];
  title: string | undefined;
  /** Stored form: `k` + key → the value's JSON text (see encodeMetadataKey). */
  metadata: Record<string, string> | undefined;
  /**
   * Every message of the session has its id item. Sessions written before message ids (v1) lack it
   * until their id items are filled in (legacy.ts).
   */
  hasIdItems: boolean;
  /**
   * Set while a fork copies messages into this (new) session (fork.ts): the item is a claim, not yet
   * a session. Readers treat it as absent; writers wait until the fork publishes or abandons it.
   * `t` is the claim's token, `n` counts its renewals (each copy transaction bumps it).
   */
  forking?: ForkClaim;
}

export interface ForkClaim {
  t: string;
  n: number;
}

/** Expression names of the claim on a session item (`fk`, its token and renewal count), for fork.ts's conditions. */
export function claimNames(withCount: boolean): Record<string, string> {
  return { '#fk': 'fk', '#t': 't', ...(withCount ? { '#n': 'n' } : {}) };
}

/** Where an id item points: its message's conversation and seq, and what a conflict check needs. */
export interface IdPointer {
  agentId: string;
  seq: number;
  role: Role;
}

/** A message read back: the contract's fields, plus where it sits (for deletes and heads). */
export type StoredRow = RawSessionMessage & {
  metadata: string | undefined;
  /** Written before message ids: no stored id, only the one derived from its position. */
  legacy: boolean;
};

const IDS_VERSION = 2;

export function nextVersion(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * The id of a message written before ids existed: a UUIDv7-shaped string from its session write
 * position, as the SQL migration makes them for old rows (`00000000-0000-7000-8000-` + 12 hex digits).
 * The position never changes and is unique within the session, so the id is stable and unique.
 */
export function legacyMessageId(order: number): string {
  return `00000000-0000-7000-8000-${order.toString(16).padStart(12, '0')}`;
}

export function sessionKey(userId: string, sessionId: string): Key {
  return { [ATTR.pk]: userPk(userId), [ATTR.sk]: sessionSk(sessionId) };
}

export function userKey(userId: string): Key {
  return { [ATTR.pk]: userPk(userId), [ATTR.sk]: USER_SK };
}

export function messageKey(userId: string, sessionId: string, agentId: string, seq: number): Key {
  return { [ATTR.pk]: messagesPk(userId, sessionId), [ATTR.sk]: messageSk(agentId, seq) };
}

export function idKey(userId: string, sessionId: string, messageId: string): Key {
  return { [ATTR.pk]: messagesPk(userId, sessionId), [ATTR.sk]: messageIdSk(messageId) };
}

export function keyOf(item: Item): Key {
  return { [ATTR.pk]: item[ATTR.pk] as string, [ATTR.sk]: item[ATTR.sk] as string };
}

// ---- sessions ---------------------------------------------------------------------------------

export function newSessionState(sessionId: string, createdAt: number, now: number): SessionState {
  return {
    sessionId,
    v: '',
    o: 0,
    ca: createdAt,
    la: Math.max(createdAt, now),
    ag: [],
    title: undefined,
    metadata: undefined,
    hasIdItems: true,
  };
}

export function sessionItem(userId: string, state: SessionState): Item {
  return {
    ...sessionKey(userId, state.sessionId),
    // A fork's claim has no activity key, so the byActivity index (listSessions) does not hold it.
    ...(state.forking ? { fk: { ...state.forking } } : { [ATTR.activity]: activityKey(state.la, state.sessionId) }),
    sid: state.sessionId,
    v: state.v,
    o: state.o,
    ca: state.ca,
    la: state.la,
    // Copies: a plan builds several transactions' items before sending the first.
    ag: state.ag.map((h) => ({ ...h })).sort((x, y) => compareIds(x.a, y.a)),
    ...(state.title === undefined ? {} : { ti: state.title }),
    ...(state.metadata === undefined || Object.keys(state.metadata).length === 0 ? {} : { md: { ...state.metadata } }),
    ...(state.hasIdItems ? { iv: IDS_VERSION } : {}),
  };
}

export function readSessionItem(item: Item): SessionState {
  const md = item.md as Record<string, string> | undefined;
  return {
    sessionId: item.sid as string,
    v: item.v as string,
    o: item.o as number,
    ca: item.ca as number,
    la: item.la as number,
    ag: (item.ag as AgentHead[]).map((h) => ({ ...h })),
    title: item.ti as string | undefined,
    metadata: md === undefined || Object.keys(md).length === 0 ? undefined : md,
    hasIdItems: item.iv === IDS_VERSION,
    ...(item.fk === undefined ? {} : { forking: { ...(item.fk as ForkClaim) } }),
  };
}

/** A session with a title or metadata stays when its last message goes. */
export function isKept(state: SessionState): boolean {
  return state.title !== undefined || state.metadata !== undefined;
}

export function decodeSessionMetadata(state: SessionState): Metadata | undefined {
  if (state.metadata === undefined) return undefined;
  const out: Metadata = {};
  // Defined, not assigned: a key named `__proto__` stays a key (as in core/session-metadata.ts).
  for (const [k, json] of Object.entries(state.metadata)) {
    Object.defineProperty(out, k.slice(1), { value: JSON.parse(json) as JsonValue, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Metadata keys are map keys of `md`, prefixed so that an empty key is a valid DynamoDB name; values
 * are JSON text, so numbers DynamoDB cannot hold (1e300) and deep nesting round-trip exactly.
 */
function metadataKey(key: string): string {
  return `k${key}`;
}

/**
 * updateSession: one UpdateItem that sets or removes the title and each top-level metadata key on
 * its own (names as placeholders, so any key is safe), conditioned on the version read, against
 * which the merged size was checked. Two concurrent updates of different keys: one commits, the
 * other is re-read, re-checked and re-sent, so both survive. A session without metadata gets its
 * map whole (a key-wise SET needs the map to exist).
 */
export function sessionUpdateExpression(
  userId: string,
  previous: SessionState,
  change: { title: string | null | undefined; metadata: { [key: string]: JsonValue } | undefined },
) {
  const names: Record<string, string> = { '#v': 'v' };
  const values: Record<string, unknown> = { ':v': nextVersion(), ':previous': previous.v };
  const set = ['#v = :v'];
  const remove: string[] = [];
  if (change.title !== undefined) {
    names['#ti'] = 'ti';
    if (change.title === null) remove.push('#ti');
    else {
      values[':ti'] = change.title;
      set.push('#ti = :ti');
    }
  }
  const entries = Object.entries(change.metadata ?? {});
  if (previous.metadata === undefined) {
    const whole = Object.fromEntries(entries.filter(([, v]) => v !== null).map(([k, v]) => [metadataKey(k), JSON.stringify(v)]));
    if (Object.keys(whole).length > 0) {
      names['#md'] = 'md';
      values[':md'] = whole;
      set.push('#md = :md');
    }
  } else {
    entries.forEach(([key, value], i) => {
      names['#md'] = 'md';
      names[`#k${i}`] = metadataKey(key);
      if (value === null) remove.push(`#md.#k${i}`);
      else {
        values[`:k${i}`] = JSON.stringify(value);
        set.push(`#md.#k${i} = :k${i}`);
      }
    });
  }
  return {
    Key: sessionKey(userId, previous.sessionId),
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: '#v = :previous',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** importSession: the last activity moves forward to `at` (never back), with its place in byActivity. */
export function activityUpdate(userId: string, sessionId: string, at: number) {
  return {
    Key: sessionKey(userId, sessionId),
    UpdateExpression: 'SET #la = :la, #act = :act, #v = :v',
    ConditionExpression: '#la < :la',
    ExpressionAttributeNames: { '#la': 'la', '#act': ATTR.activity, '#v': 'v' },
    ExpressionAttributeValues: { ':la': at, ':act': activityKey(at, sessionId), ':v': nextVersion() },
  };
}

/** legacy.ts: every message of the session now has its id item (unless the session changed meanwhile). */
export function markHasIdItems(userId: string, previous: SessionState) {
  return {
    Key: sessionKey(userId, previous.sessionId),
    UpdateExpression: 'SET #iv = :iv',
    ConditionExpression: '#v = :v',
    ExpressionAttributeNames: { '#iv': 'iv', '#v': 'v' },
    ExpressionAttributeValues: { ':iv': IDS_VERSION, ':v': previous.v },
  };
}

/** The user item exists while the user has sessions; `ns` counts them, the GSI lists users. */
export function userUpsert(tableName: string, userId: string) {
  return {
    Update: {
      TableName: tableName,
      Key: userKey(userId),
      UpdateExpression: 'SET #g = :g, #u = :u ADD #ns :one',
      ExpressionAttributeNames: { '#g': ATTR.usersPk, '#u': ATTR.userId, '#ns': 'ns' },
      ExpressionAttributeValues: { ':g': USERS_PARTITION, ':u': userId, ':one': 1 },
    },
  };
}

export function sessionCount(user: Item | undefined): number {
  return (user?.ns as number | undefined) ?? 0;
}

/** One session fewer: the user item goes with its last session. Conditioned on the count read. */
export function userRelease(tableName: string, userId: string, sessions: number) {
  return sessions <= 1
    ? {
        Delete: {
          TableName: tableName,
          Key: userKey(userId),
          ConditionExpression: '#ns = :ns',
          ExpressionAttributeNames: { '#ns': 'ns' },
          ExpressionAttributeValues: { ':ns': sessions },
        },
      }
    : {
        Update: {
          TableName: tableName,
          Key: userKey(userId),
          UpdateExpression: 'SET #ns = :next',
          ConditionExpression: '#ns = :ns',
          ExpressionAttributeNames: { '#ns': 'ns' },
          ExpressionAttributeValues: { ':ns': sessions, ':next': sessions - 1 },
        },
      };
}

/** The condition every session write carries: nobody wrote the session since it was read. */
export function sessionCondition(previous: SessionState | undefined) {
  return previous === undefined
    ? { ConditionExpression: `attribute_not_exists(${ATTR.pk})` }
    : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'v' }, ExpressionAttributeValues: { ':v': previous.v } };
}

export function sessionPut(tableName: string, userId: string, state: SessionState, previous: SessionState | undefined) {
  return { Put: { TableName: tableName, Item: sessionItem(userId, state), ...sessionCondition(previous) } };
}

export function sessionDelete(tableName: string, userId: string, previous: SessionState) {
  return { Delete: { TableName: tableName, Key: sessionKey(userId, previous.sessionId), ...sessionCondition(previous) } };
}

// ---- messages ---------------------------------------------------------------------------------

/** The attributes a read of messages asks for (ProjectionExpression and its names). */
export const MESSAGE_PROJECTION = {
  ProjectionExpression: '#pk, #sk, #i, #a, #q, #ord, #r, #c, #md, #ts',
  names: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#i': 'i', '#a': 'a', '#q': 'q', '#ord': ATTR.order, '#r': 'r', '#c': 'c', '#md': 'md', '#ts': 'ts' },
};

/** Just enough to delete a message and its id item, and to rebuild a head. */
export const MESSAGE_KEY_PROJECTION = {
  ProjectionExpression: '#pk, #sk, #i, #a, #q, #ord, #r, #ts',
  names: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#i': 'i', '#a': 'a', '#q': 'q', '#ord': ATTR.order, '#r': 'r', '#ts': 'ts' },
};

/** The name of the timestamp attribute, for the TTL filter on reads. */
export const TIMESTAMP_ATTR = 'ts';

export function messageItem(key: ConversationKey, seq: number, order: number, m: EncodedMessage, ttlMs: number | undefined): Item {
  return {
    ...messageKey(key.userId, key.sessionId, key.agentId, seq),
    [ATTR.order]: order,
    i: m.id,
    a: key.agentId,
    q: seq,
    r: m.role,
    c: m.json,
    ...(m.metadata === undefined ? {} : { md: m.metadata }),
    ts: m.timestamp,
    ...expiry(m.timestamp, ttlMs),
  };
}

/** The id item: unique per session by its key; written and deleted together with its message. */
export function idItem(userId: string, sessionId: string, row: Pick<StoredRow, 'id' | 'agentId' | 'seq' | 'role' | 'timestamp'>, ttlMs: number | undefined): Item {
  return {
    ...idKey(userId, sessionId, row.id),
    a: row.agentId,
    q: row.seq,
    r: row.role,
    ...expiry(row.timestamp, ttlMs),
  };
}

/** Copies a stored item (message or id) into another session's partition, as it is. */
export function rehome(item: Item, userId: string, sessionId: string): Item {
  return { ...item, [ATTR.pk]: messagesPk(userId, sessionId) };
}

/** Message items (not id items) among a partition's keys. */
export function isMessageItem(item: Item): boolean {
  return (item[ATTR.sk] as string).startsWith(MESSAGE_SK_PREFIX);
}

export function readIdItem(item: Item): IdPointer {
  return { agentId: item.a as string, seq: item.q as number, role: item.r as Role };
}

/** DynamoDB's TTL attribute (epoch seconds) when the store has a TTL; id items expire with their message. */
function expiry(timestamp: number, ttlMs: number | undefined): Item {
  return ttlMs === undefined ? {} : { [ATTR.expires]: Math.ceil((timestamp + ttlMs) / 1000) };
}

/** A message item as the backend's row; a v1 item (no `i`) gets its legacy id. */
export function readMessageItem(item: Item): StoredRow {
  const order = item[ATTR.order] as number;
  return {
    id: (item.i as string | undefined) ?? legacyMessageId(order),
    seq: item.q as number,
    role: item.r as Role,
    json: item.c as string,
    metadata: item.md as string | undefined,
    timestamp: item.ts as number,
    agentId: item.a as string,
    position: order,
    legacy: item.i === undefined,
  };
}

/** The message's id, from the few attributes a key read fetches. */
export function messageIdOf(item: Item): string {
  return (item.i as string | undefined) ?? legacyMessageId(item[ATTR.order] as number);
}

/**
 * Replaces content and/or metadata of a message in place. The condition names the message by its
 * id (a v1 item: by having none), so a seq reused after a deletion is never overwritten by mistake.
 */
export function messageUpdate(tableName: string, key: Key, id: string, legacy: boolean, json: string, metadata: string | undefined) {
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: metadata === undefined ? 'SET #c = :c REMOVE #md' : 'SET #c = :c, #md = :md',
      ConditionExpression: legacy ? 'attribute_exists(#c) AND attribute_not_exists(#i)' : '#i = :id',
      ExpressionAttributeNames: { '#c': 'c', '#md': 'md', '#i': 'i' },
      ExpressionAttributeValues: { ':c': json, ...(metadata === undefined ? {} : { ':md': metadata }), ...(legacy ? {} : { ':id': id }) },
    },
  };
}

export interface Condition {
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** A message item is deleted only while it still is the message read (its seq may have been reused). */
export function rowCondition(row: StoredRow): Condition {
  return row.legacy
    ? { ConditionExpression: 'attribute_not_exists(#i) AND #ord = :ord', ExpressionAttributeNames: { '#i': 'i', '#ord': ATTR.order }, ExpressionAttributeValues: { ':ord': row.position } }
    : { ConditionExpression: '#i = :id', ExpressionAttributeNames: { '#i': 'i' }, ExpressionAttributeValues: { ':id': row.id } };
}

/** A stale id item (its message went without it, e.g. by DynamoDB's TTL) is overwritten only as it was read. */
export function staleCondition(stale: IdPointer): Condition {
  return {
    ConditionExpression: '#a = :a AND #q = :q',
    ExpressionAttributeNames: { '#a': 'a', '#q': 'q' },
    ExpressionAttributeValues: { ':a': stale.agentId, ':q': stale.seq },
  };
}

/**
 * DynamoDB's billed size of an item: attribute names and string values in UTF-8 bytes, numbers at
 * most 21 bytes, one byte per list/map element overhead plus 3 per container.
 */
export function itemBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number') return 21;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + 1 + itemBytes(v), 3);
  let n = 3;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) n += 1 + Buffer.byteLength(k, 'utf8') + itemBytes(v);
  return n;
}
