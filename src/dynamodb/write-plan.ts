import type { EncodedMessage } from '../core/backend.js';
import { ValidationError } from '../errors.js';
import type { ConversationKey } from '../types.js';
import { ATTR } from './keys.js';
import {
  idItem,
  idKey,
  itemBytes,
  messageItem,
  messageKey,
  messageUpdate,
  nextVersion,
  sessionDelete,
  sessionPut,
  userRelease,
  userUpsert,
  type AgentHead,
  rowCondition,
  staleCondition,
  type Condition,
  type IdPointer,
  type Item,
  type Key,
  type SessionState,
  type StoredRow,
} from './items.js';

/** TransactWriteItems takes at most 100 items and 4 MB; we keep a margin under the size. */
export const TX_MAX_ITEMS = 100;
export const TX_MAX_BYTES = 3_900_000;
/**
 * A session item holding many agents' heads (and a title and metadata) must fit in DynamoDB's
 * 400 KB together with its copy in the byActivity index (an LSI projection counts towards it).
 */
export const SESSION_ITEM_MAX_BYTES = 190_000;

/**
 * One change to a session's messages. A write, a delete or a truncation is a list of units in the
 * order they must land: deletions, replacements, appends, then retention trims. Units are packed
 * into transactions of at most 100 items, each together with the session item as it stands after
 * that transaction, conditioned on the version the previous one wrote.
 */
export type Unit =
  | { kind: 'append'; agentId: string; seq: number; message: EncodedMessage; staleId: IdPointer | undefined }
  /** An append that retention would delete at once: it takes its seq and position, and is not written. */
  | { kind: 'pass'; agentId: string; seq: number; message: EncodedMessage }
  | { kind: 'delete'; row: StoredRow }
  | { kind: 'replace'; row: StoredRow; json: string; metadata: string | undefined };

export interface Plan {
  userId: string;
  sessionId: string;
  tableName: string;
  ttlMs: number | undefined;
  /** The session as read; undefined: this plan creates it from `start`. */
  previous: SessionState | undefined;
  start: SessionState;
  units: Unit[];
  /** Clock time of a write: the session's last activity becomes at least this. Deletes leave it. */
  now: number | undefined;
  /** With the last transaction: exact heads where the plan knows them. */
  finish?: (state: SessionState) => void;
  /** The session goes when the plan leaves it without messages, title or metadata (explicit deletes). */
  dropWhenEmpty?: { userSessions: number };
}

export interface Transaction {
  items: object[];
  /** Ids of the messages it appends, and how many messages it deletes (for a call's totals). */
  appended: string[];
  deleted: number;
  /** The session afterwards; undefined when this transaction deletes it. */
  state: SessionState | undefined;
}

/** Packs the plan's units into transactions; every one is conditioned on the version before it. */
export function transactions(plan: Plan): Transaction[] {
  const out: Transaction[] = [];
  let previous = plan.previous;
  let state = cloneState(plan.start);
  let i = 0;
  do {
    const chunk = new Chunk(plan);
    const reserve = 1 + (previous ? 0 : 1) + (plan.dropWhenEmpty ? 1 : 0);
    while (i < plan.units.length && chunk.fits(plan.units[i]!, reserve)) chunk.add(plan.units[i++]!, state);
    if (chunk.size === 0 && i < plan.units.length) throw new ValidationError('messages', 'one message does not fit in a DynamoDB transaction');
    if (plan.now !== undefined) state.la = Math.max(state.la, plan.now);
    const last = i === plan.units.length;
    if (last) {
      plan.finish?.(state);
      state.ag = state.ag.filter((h) => h.n > 0);
    }
    const drop = last && plan.dropWhenEmpty !== undefined && state.ag.length === 0 && state.title === undefined && state.metadata === undefined;
    if (drop && previous) {
      chunk.items.push(sessionDelete(plan.tableName, plan.userId, previous));
      chunk.items.push(userRelease(plan.tableName, plan.userId, plan.dropWhenEmpty!.userSessions));
      out.push({ items: chunk.items, state: undefined, appended: chunk.appended, deleted: chunk.deleted });
      return out;
    }
    state.v = nextVersion();
    const put = sessionPut(plan.tableName, plan.userId, state, previous);
    if (itemBytes(put.Put.Item) > SESSION_ITEM_MAX_BYTES) {
      throw new ValidationError('agentId', `the session holds too many conversations (${state.ag.length}) for one DynamoDB session item`);
    }
    chunk.items.unshift(put);
    if (!previous) chunk.items.splice(1, 0, userUpsert(plan.tableName, plan.userId));
    out.push({ items: chunk.items, state: cloneState(state), appended: chunk.appended, deleted: chunk.deleted });
    previous = out[out.length - 1]!.state;
  } while (i < plan.units.length);
  return out;
}

class Chunk {
  readonly items: Array<Record<string, unknown>> = [];
  readonly appended: string[] = [];
  deleted = 0;
  readonly #byKey = new Map<string, number>();
  #bytes = 0;
  readonly #plan: Plan;

  constructor(plan: Plan) {
    this.#plan = plan;
  }

  get size(): number {
    return this.items.length;
  }

  fits(unit: Unit, reserve: number): boolean {
    const count = unit.kind === 'pass' ? 0 : unit.kind === 'replace' ? 1 : 2;
    const bytes = unit.kind === 'append' ? unit.message.json.length * 3 + (unit.message.metadata?.length ?? 0) * 3 + 4_000 : unit.kind === 'replace' ? unit.json.length * 3 + 4_000 : 4_000;
    return this.items.length + count + reserve <= TX_MAX_ITEMS && this.#bytes + bytes <= TX_MAX_BYTES - SESSION_ITEM_MAX_BYTES;
  }

  add(unit: Unit, state: SessionState): void {
    const { userId, sessionId, tableName, ttlMs } = this.#plan;
    switch (unit.kind) {
      case 'append':
      case 'pass': {
        const key: ConversationKey = { userId, sessionId, agentId: unit.agentId };
        const head = headFor(state, unit.agentId, unit.message.role);
        state.o++;
        head.s = unit.seq;
        head.r = unit.message.role;
        delete head.u;
        if (unit.kind === 'pass') return;
        const item = messageItem(key, unit.seq, state.o, unit.message, ttlMs);
        this.#put(item, { ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': ATTR.sk } });
        const pointer = { id: unit.message.id, agentId: unit.agentId, seq: unit.seq, role: unit.message.role, timestamp: unit.message.timestamp };
        this.#put(idItem(userId, sessionId, pointer, ttlMs), unit.staleId ? staleCondition(unit.staleId) : { ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': ATTR.sk } });
        this.appended.push(unit.message.id);
        if (head.n === 0) head.f = unit.seq;
        head.n++;
        if (unit.message.timestamp < head.at) delete head.m;
        head.at = Math.max(head.at, unit.message.timestamp);
        head.lo = Math.min(head.lo, unit.message.timestamp);
        this.#bytes += itemBytes(item);
        return;
      }
      case 'delete': {
        const { row } = unit;
        this.#delete(messageKey(userId, sessionId, row.agentId, row.seq), rowCondition(row));
        this.#delete(idKey(userId, sessionId, row.id), {});
        this.deleted++;
        const head = state.ag.find((h) => h.a === row.agentId);
        if (!head) return;
        head.n--;
        // The deleted message may have held the newest timestamp, or been the last one. With ordered
        // timestamps (m) only the last one holds it, and the plan's finish takes the new last one's.
        if (row.timestamp >= head.at && !(head.m && row.seq < head.s)) head.x = 1;
        if (row.seq >= head.s) head.u = 1;
        return;
      }
      case 'replace': {
        const { row } = unit;
        const update = messageUpdate(tableName, messageKey(userId, sessionId, row.agentId, row.seq), row.id, row.legacy, unit.json, unit.metadata);
        this.items.push(update);
        this.#bytes += unit.json.length * 3;
        return;
      }
    }
  }

  /**
   * A Put onto a key this transaction already deletes (a seq freed by a deletion and taken again, or
   * an id deleted and written anew) becomes one Put carrying the delete's condition: DynamoDB takes
   * one action per item in a transaction.
   */
  #put(item: Item, condition: Condition): void {
    const k = keyString(item);
    const at = this.#byKey.get(k);
    if (at !== undefined) {
      const replaced = this.items[at]!.Delete as Condition;
      this.items[at] = { Put: { TableName: this.#plan.tableName, Item: item, ...conditionOf(replaced) } };
      return;
    }
    this.#byKey.set(k, this.items.length);
    this.items.push({ Put: { TableName: this.#plan.tableName, Item: item, ...condition } });
  }

  #delete(key: Key, condition: Condition): void {
    this.#byKey.set(keyString(key), this.items.length);
    this.items.push({ Delete: { TableName: this.#plan.tableName, Key: key, ...condition } });
  }
}

function conditionOf(c: Condition): Condition {
  const out: Condition = {};
  if (c.ConditionExpression) out.ConditionExpression = c.ConditionExpression;
  if (c.ExpressionAttributeNames) out.ExpressionAttributeNames = c.ExpressionAttributeNames;
  if (c.ExpressionAttributeValues) out.ExpressionAttributeValues = c.ExpressionAttributeValues;
  return out;
}

function headFor(state: SessionState, agentId: string, role: AgentHead['r']): AgentHead {
  let head = state.ag.find((h) => h.a === agentId);
  if (!head) {
    head = { a: agentId, s: 0, r: role, n: 0, at: 0, lo: Number.MAX_SAFE_INTEGER, f: 1, m: 1 };
    state.ag.push(head);
  }
  return head;
}

export function headOf(state: SessionState | undefined, agentId: string): AgentHead | undefined {
  return state?.ag.find((h) => h.a === agentId);
}

/**
 * After deletions that took a lane's last message, once the plan knows `tail` (the newest message
 * still stored): with ordered timestamps (m) the newest timestamp is the tail's, or that of a message
 * the same plan appended after it, so the head's `at` is exact again and `x` goes.
 */
export function settleNewest(head: AgentHead, tail: Pick<StoredRow, 'timestamp'> | undefined, appended: boolean): void {
  if (!head.m || !head.x || !(appended || tail)) return;
  if (!appended) head.at = tail!.timestamp;
  delete head.x;
}

export function cloneState(state: SessionState): SessionState {
  return { ...state, ag: state.ag.map((h) => ({ ...h })), metadata: state.metadata && { ...state.metadata } };
}

function keyString(item: Item): string {
  return `${item[ATTR.pk] as string}\0${item[ATTR.sk] as string}`;
}

