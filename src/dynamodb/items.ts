import { randomBytes } from 'node:crypto';
import type { Role } from '../types.js';
import { compareIds } from '../core/validate.js';
import {
  ATTR,
  USERS_PARTITION,
  USER_SK,
  activityKey,
  messageSk,
  messagesPk,
  sessionSk,
  userPk,
} from './keys.js';

/**
 * The items convostore writes, as the document client sees them. Attribute names are short because
 * DynamoDB bills them with every item.
 */

/** One conversation's head, kept inside its session item. */
export interface AgentHead {
  /** agentId */
  a: string;
  /** Last seq given out; the next message gets s + 1. Never reset while the conversation exists. */
  s: number;
  /** Role of the last message, for the consecutive-role check. */
  r: Role;
  /** Messages stored. */
  n: number;
  /** Latest and earliest timestamp among the messages written (bounds for the TTL cutoff). */
  at: number;
  lo: number;
  /** The oldest stored seq (every seq below f has been deleted). */
  f: number;
  /**
   * Set when `at` may be above the newest stored timestamp: retention deleted messages while the
   * newly written ones were older than `at`. Listing then reads the timestamps (see #summary).
   */
  x?: 1;
}

/**
 * A session: its version (the optimistic-concurrency token every write is conditioned on; random,
 * not a counter, so a session deleted and created again never shows an old version — no ABA), its
 * session-wide write counter `o`, times, and one head per conversation. Keeping the heads here makes
 * an append read and write one small item, and a page of listSessions one Query.
 */
export interface SessionState {
  sessionId: string;
  v: string;
  o: number;
  ca: number;
  la: number;
  ag: AgentHead[];
}

export interface MessageItem {
  a: string;
  q: number;
  r: Role;
  c: string;
  ts: number;
}

export function nextVersion(): string {
  return randomBytes(12).toString('base64url');
}

export function sessionKey(userId: string, sessionId: string): Record<string, string> {
  return { [ATTR.pk]: userPk(userId), [ATTR.sk]: sessionSk(sessionId) };
}

export function userKey(userId: string): Record<string, string> {
  return { [ATTR.pk]: userPk(userId), [ATTR.sk]: USER_SK };
}

export function messageKey(userId: string, sessionId: string, agentId: string, seq: number): Record<string, string> {
  return { [ATTR.pk]: messagesPk(userId, sessionId), [ATTR.sk]: messageSk(agentId, seq) };
}

export function sessionItem(userId: string, state: SessionState): Record<string, unknown> {
  return {
    ...sessionKey(userId, state.sessionId),
    [ATTR.activity]: activityKey(state.la, state.sessionId),
    sid: state.sessionId,
    v: state.v,
    o: state.o,
    ca: state.ca,
    la: state.la,
    ag: [...state.ag].sort((x, y) => compareIds(x.a, y.a)),
  };
}

export function readSessionItem(item: Record<string, unknown>): SessionState {
  return {
    sessionId: item.sid as string,
    v: item.v as string,
    o: item.o as number,
    ca: item.ca as number,
    la: item.la as number,
    ag: (item.ag as AgentHead[]).map((h) => ({ ...h })),
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
