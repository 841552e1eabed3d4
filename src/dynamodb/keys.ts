/**
 * The single-table key schema. Every key is built here and nowhere else.
 *
 * | item         | PK                 | SK                   | index keys                                  |
 * |--------------|--------------------|----------------------|---------------------------------------------|
 * | user         | `U` enc(user)      | `u`                  | users GSI: gpk = `users`, uid = userId      |
 * | session      | `U` enc(user)      | `s` enc(session)     | byActivity LSI: act = pad(lastActivity) sid |
 * | message      | `S` enc(user) enc(session) | `m` enc(agent) pad(seq) | (none; `ord` = session write order) |
 * | message id   | `S` enc(user) enc(session) | `i` enc(messageId)      | (none; points at the message's agent and seq) |
 *
 * `enc(id)` is `<length in UTF-16 units>:<id>`. A length prefix makes the code prefix-free, so a
 * concatenation of encoded ids is injective (`("a#b","c")` and `("a","b#c")` give different keys)
 * and `begins_with(m enc(agent))` never matches another agent's messages. Unlike JSON or percent
 * escaping it never grows an id beyond 4 ASCII bytes, which keeps the largest partition key (two
 * 256-unit ids, up to 1,545 bytes of UTF-8) under DynamoDB's 2,048-byte limit and the largest sort
 * key (789 bytes) under 1,024.
 */

export const ATTR = {
  pk: 'PK',
  sk: 'SK',
  /** byActivity LSI sort key on session items. */
  activity: 'act',
  /** The session-wide write counter on message items: fetchAllChats sorts a session's messages by it. */
  order: 'ord',
  /** users GSI partition and sort keys on user items. */
  usersPk: 'gpk',
  userId: 'uid',
  /** DynamoDB TTL attribute (epoch seconds) on message items, when a TTL is configured. */
  expires: 'exp',
} as const;

export const INDEX = {
  byActivity: 'byActivity',
  users: 'users',
} as const;

/** The users GSI has one partition: listing users in id order needs them under one key. */
export const USERS_PARTITION = 'users';
export const USER_SK = 'u';
export const SESSION_SK_PREFIX = 's';
export const MESSAGE_SK_PREFIX = 'm';
/** Id items sort before every message item (`i` < `m`), so a message range never meets them. */
export const ID_SK_PREFIX = 'i';

/** 16 digits hold Number.MAX_SAFE_INTEGER, so fixed-width decimal strings sort as numbers. */
const WIDTH = 16;

export function pad(n: number): string {
  return String(n).padStart(WIDTH, '0');
}

export function enc(id: string): string {
  return `${id.length}:${id}`;
}

export function userPk(userId: string): string {
  return `U${enc(userId)}`;
}

export function sessionSk(sessionId: string): string {
  return `${SESSION_SK_PREFIX}${enc(sessionId)}`;
}

export function messagesPk(userId: string, sessionId: string): string {
  return `S${enc(userId)}${enc(sessionId)}`;
}

/** All of one agent's message sort keys start with this. */
export function conversationPrefix(agentId: string): string {
  return `${MESSAGE_SK_PREFIX}${enc(agentId)}`;
}

export function messageSk(agentId: string, seq: number): string {
  return `${conversationPrefix(agentId)}${pad(seq)}`;
}

export function messageIdSk(messageId: string): string {
  return `${ID_SK_PREFIX}${enc(messageId)}`;
}

/**
 * How coarse the byActivity index key is. An append rewrites the session item; when its index key
 * stays the same, DynamoDB only updates the item's projection in the LSI instead of deleting and
 * putting it (DynamoDB Local: 2 write units instead of 4). So the key holds the last activity rounded
 * down to this step, and moves only when an append crosses a step; the exact time stays in the item
 * (`la`) and listSessions orders by it, reading past its page the sessions whose rounded key could
 * still hide a later activity (see activity.ts). A larger step saves more appends' index moves and
 * makes that extra read longer; one minute covers a chat turn (a message and its reply).
 */
export const ACTIVITY_STEP_MS = 60_000;

/**
 * Sessions sort by this string: fixed-width time (rounded down to ACTIVITY_STEP_MS), then the raw
 * session id. DynamoDB compares strings by their UTF-8 bytes, which is the order the contract asks
 * for on ties. Items written before the rounding hold the exact time; both satisfy
 * `key time <= la < key time + ACTIVITY_STEP_MS`, which is all a reader relies on.
 */
export function activityKey(lastActivityAt: number, sessionId: string): string {
  return activityBound(Math.floor(lastActivityAt / ACTIVITY_STEP_MS) * ACTIVITY_STEP_MS, sessionId);
}

/** The exact (not rounded) key of a listSessions cursor: every session after it sorts below. */
export function activityBound(lastActivityAt: number, sessionId: string): string {
  return `${pad(lastActivityAt)}${sessionId}`;
}

/** The time part of an index key (rounded or, for older items, exact). */
export function activityTimeOf(key: string): number {
  return Number(key.slice(0, WIDTH));
}
