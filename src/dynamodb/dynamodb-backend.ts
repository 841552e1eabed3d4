import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  TransactWriteCommand,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type * as core from '../core/backend.js';
import { compareIds } from '../core/validate.js';
import { ConsecutiveRoleError, UnavailableError } from '../errors.js';
import type { ConversationKey, DeleteResult, SessionSummary } from '../types.js';
import { hasGaps, headOf, planAppendStep, toTrim, type AppendContext } from './append-plan.js';
import {
  nextVersion,
  readSessionItem,
  sessionCondition,
  sessionItem,
  sessionKey,
  userKey,
  userRelease,
  type AgentHead,
  type SessionState,
} from './items.js';
import {
  ATTR,
  INDEX,
  SESSION_SK_PREFIX,
  USERS_PARTITION,
  activityKey,
  conversationPrefix,
  messagesPk,
  pad,
  userPk,
} from './keys.js';
import { MAX_ATTEMPTS, backoff, deleteKeys, isConditionFailure, retrying, type Key } from './retry.js';

export interface DynamoDbBackendConfig {
  client: DynamoDBClient;
  tableName: string;
  maxMessageBytes: number;
  /** The store's TTL, so message items carry DynamoDB's TTL attribute. */
  ttlMs: number | undefined;
  /** Destroy the client on close (we created it). */
  ownsClient: boolean;
}

/** Optimistic-concurrency rounds before a write gives up: several processes hammering one session. */
const MAX_CONFLICTS = 100;
/** The largest Query `Limit` we send (DynamoDB takes a 32-bit integer; larger means "all"). */
const MAX_QUERY_LIMIT = 1_000_000;
const MESSAGE_FIELDS = { '#q': 'q', '#r': 'r', '#c': 'c', '#ts': 'ts' };

type Item = Record<string, unknown>;

/**
 * DynamoDB backend on one table (see keys.ts for the key schema). Every write of a session is a
 * transaction conditioned on the session item's version, so writers in several processes serialise
 * on it: the loser re-reads and retries. Inside one process, writers to one session queue up first,
 * which spares DynamoDB the conflicts. Every read is a strongly consistent Query, except listing
 * users (a global index).
 */
export class DynamoDbBackend implements core.StorageBackend {
  readonly name = 'dynamodb';
  readonly maxMessageBytes: number;
  readonly #client: DynamoDBClient;
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #ttlMs: number | undefined;
  readonly #ownsClient: boolean;
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(config: DynamoDbBackendConfig) {
    this.#client = config.client;
    this.#doc = DynamoDBDocumentClient.from(config.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#table = config.tableName;
    this.maxMessageBytes = config.maxMessageBytes;
    this.#ttlMs = config.ttlMs;
    this.#ownsClient = config.ownsClient;
  }

  async append(request: core.AppendRequest): Promise<core.AppendResult> {
    const { key } = request;
    const ctx: AppendContext = {
      tableName: this.#table,
      key,
      now: request.now,
      keepLast: request.keepLast,
      ttlMs: this.#ttlMs,
    };
    const appended = await this.#serial(key.userId, key.sessionId, async () => {
      let state = await this.#readSession(key.userId, key.sessionId);
      let remaining: readonly core.EncodedMessage[] | undefined;
      let written = 0;
      for (let conflicts = 0; ; ) {
        // The role check belongs to the first transaction: it is redone whenever that one lost a race.
        const work = remaining ?? (await this.#firstMessages(request, state));
        // Every message skipped: the write still reached the session, so its last activity moves on.
        if (work.length === 0 && remaining === undefined && (!state || state.la >= request.now)) return 0;
        // Only a conversation that pruning left with gaps in seq needs its oldest seqs read to trim.
        const head = headOf(state, key.agentId);
        const trim = toTrim(head, work.length, request.keepLast);
        const storedSeqs = trim > 0 && hasGaps(head) ? await this.#oldestSeqs(key, trim) : undefined;
        const step = planAppendStep(ctx, state, work, storedSeqs);
        try {
          await retrying('appending to DynamoDB', () => this.#doc.send(new TransactWriteCommand({ TransactItems: step.items as never })));
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          if (++conflicts > MAX_CONFLICTS) throw new UnavailableError(`the session is written by too many writers at once; gave up after ${MAX_CONFLICTS} attempts`, error);
          await backoff(conflicts, 5, 250);
          state = await this.#readSession(key.userId, key.sessionId);
          continue;
        }
        written += step.consumed;
        remaining = work.slice(step.consumed);
        state = step.state;
        if (step.done) return written;
      }
    });
    const window =
      request.window === 0
        ? []
        : (await this.readPage(key, { order: 'newest', afterSeq: undefined, limit: request.window, cutoff: request.cutoff })).reverse();
    return { appended, window };
  }

  async readPage(key: ConversationKey, request: core.ReadRequest): Promise<core.RawMessage[]> {
    if (request.limit === 0) return [];
    const prefix = conversationPrefix(key.agentId);
    const newest = request.order === 'newest';
    const from = newest ? 1 : (request.afterSeq ?? 0) + 1;
    const to = newest && request.afterSeq !== undefined ? request.afterSeq - 1 : Number.MAX_SAFE_INTEGER;
    if (from > to) return [];
    const items = await this.#query(
      {
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk, ...MESSAGE_FIELDS },
        ExpressionAttributeValues: {
          ':pk': messagesPk(key.userId, key.sessionId),
          ':from': prefix + pad(from),
          ':to': prefix + pad(to),
        },
        ProjectionExpression: '#q, #r, #c, #ts',
        ScanIndexForward: !newest,
      },
      request.limit,
      request.cutoff,
    );
    return items.map(toRawMessage);
  }

  /**
   * A session's messages are its whole partition, so one Query (paged) reads them all; they come in
   * conversation order and are put in write order by their session-wide counter. An index on that
   * counter would cost a second copy of every message and halve the largest one (see table.ts).
   */
  async readSession(userId: string, sessionId: string, cutoff: number | undefined): Promise<core.RawSessionMessage[]> {
    const items = await this.#query(
      {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#a': 'a', '#ord': ATTR.order, ...MESSAGE_FIELDS },
        ExpressionAttributeValues: { ':pk': messagesPk(userId, sessionId) },
        ProjectionExpression: '#a, #ord, #q, #r, #c, #ts',
      },
      undefined,
      cutoff,
    );
    items.sort((x, y) => (x[ATTR.order] as number) - (y[ATTR.order] as number));
    return items.map((item) => ({ ...toRawMessage(item), agentId: item.a as string }));
  }

  async listSessions(userId: string, request: core.ListRequest): Promise<SessionSummary[]> {
    const after = request.after;
    const items = await this.#query(
      {
        IndexName: INDEX.byActivity,
        KeyConditionExpression: after ? '#pk = :pk AND #act < :after' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': ATTR.pk, ...(after ? { '#act': ATTR.activity } : {}) },
        ExpressionAttributeValues: {
          ':pk': userPk(userId),
          ...(after ? { ':after': activityKey(after.lastActivityAt, after.sessionId) } : {}),
        },
        ScanIndexForward: false,
      },
      request.limit,
      undefined,
    );
    return Promise.all(items.map((item) => this.#summary(userId, readSessionItem(item), request.cutoff)));
  }

  async listUsers(after: string | undefined, limit: number): Promise<string[]> {
    const items = await this.#query(
      {
        IndexName: INDEX.users,
        KeyConditionExpression: after === undefined ? '#g = :g' : '#g = :g AND #u > :after',
        ExpressionAttributeNames: { '#g': ATTR.usersPk, '#u': ATTR.userId },
        ExpressionAttributeValues: { ':g': USERS_PARTITION, ...(after === undefined ? {} : { ':after': after }) },
        ProjectionExpression: '#u',
      },
      limit,
      undefined,
      false,
    );
    return items.map((item) => item[ATTR.userId] as string);
  }

  deleteConversation(key: ConversationKey): Promise<DeleteResult> {
    return this.#removeFromSession(key.userId, key.sessionId, key.agentId);
  }

  deleteSession(userId: string, sessionId: string): Promise<DeleteResult> {
    return this.#removeFromSession(userId, sessionId, undefined);
  }

  async deleteUser(userId: string): Promise<DeleteResult> {
    const total = { messages: 0, sessions: 0 };
    // Sessions created while we delete are found by the next round.
    for (;;) {
      const sessions = await this.#sessionIds(userId);
      if (sessions.length === 0) return total;
      for (const sessionId of sessions) {
        const removed = await this.deleteSession(userId, sessionId);
        total.messages += removed.messages;
        total.sessions += removed.sessions;
      }
    }
  }

  async prune(request: core.PruneRequest): Promise<number> {
    if (request.keepLast === undefined && request.cutoff === undefined) return 0;
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const users = await this.listUsers(after, 100);
      for (const userId of users) {
        for (const sessionId of await this.#sessionIds(userId)) removed += await this.#pruneSession(userId, sessionId, request);
      }
      if (users.length < 100) return removed;
      after = users[users.length - 1];
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()]);
    if (this.#ownsClient) this.#client.destroy();
  }

  /** One session's writes in this process run one after another (see the class comment). */
  #serial<T>(userId: string, sessionId: string, operation: () => Promise<T>): Promise<T> {
    const id = JSON.stringify([userId, sessionId]);
    const run = (this.#queues.get(id) ?? Promise.resolve()).then(operation, operation);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(id, tail);
    void tail.then(() => {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    });
    return run;
  }

  /**
   * The batch after the consecutive-role check against the conversation's last LIVE message: an
   * expired one is invisible, so it cannot make a new one a repeat. The head's role is the last
   * stored message's; only when some stored message may have expired (its oldest timestamp is below
   * the cutoff) does one Query look for the newest live one.
   */
  async #firstMessages(request: core.AppendRequest, state: SessionState | undefined): Promise<readonly core.EncodedMessage[]> {
    const head = headOf(state, request.key.agentId);
    const first = request.messages[0]!;
    if (request.policy === 'keep' || !head || head.n === 0) return request.messages;
    let last: core.RawMessage['role'] | undefined = head.r;
    if (request.cutoff !== undefined && head.lo < request.cutoff) {
      const [newest] = await this.readPage(request.key, { order: 'newest', afterSeq: undefined, limit: 1, cutoff: request.cutoff });
      last = newest?.role;
    }
    if (last !== first.role) return request.messages;
    if (request.policy === 'throw') throw new ConsecutiveRoleError(last);
    return request.messages.slice(1);
  }

  /** The seqs of a conversation's `count` oldest stored messages, ascending. */
  async #oldestSeqs(key: ConversationKey, count: number): Promise<number[]> {
    const items = await this.#query(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#q': 'q' },
        ExpressionAttributeValues: { ':pk': messagesPk(key.userId, key.sessionId), ':prefix': conversationPrefix(key.agentId) },
        ProjectionExpression: '#q',
      },
      count,
      undefined,
    );
    return items.map((item) => item.q as number);
  }

  async #readSession(userId: string, sessionId: string): Promise<SessionState | undefined> {
    const [session] = await this.#get([sessionKey(userId, sessionId)]);
    return session ? readSessionItem(session) : undefined;
  }

  /** Strongly consistent BatchGetItem; results in the order of `keys`, undefined for missing items. */
  async #get(keys: Key[]): Promise<Array<Item | undefined>> {
    const found = new Map<string, Item>();
    let pending = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new UnavailableError(`reading from DynamoDB: keys still unprocessed after ${MAX_ATTEMPTS} attempts`);
      if (attempt > 0) await backoff(attempt);
      const out = await retrying('reading from DynamoDB', () =>
        this.#doc.send(new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } })),
      );
      for (const item of out.Responses?.[this.#table] ?? []) found.set(`${item[ATTR.pk]}\0${item[ATTR.sk]}`, item);
      pending = (out.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Key[];
    }
    return keys.map((k) => found.get(`${k[ATTR.pk]}\0${k[ATTR.sk]}`));
  }

  /**
   * Every page of a Query (following LastEvaluatedKey, so nothing is cut at 1 MB) until `limit`
   * items passed the TTL filter. Strongly consistent except on the global index.
   */
  async #query(input: Omit<QueryCommandInput, 'TableName'>, limit: number | undefined, cutoff: number | undefined, consistent = true): Promise<Item[]> {
    const query: QueryCommandInput = { ...input, TableName: this.#table, ConsistentRead: consistent };
    if (cutoff !== undefined) {
      query.FilterExpression = '#ts >= :cutoff';
      query.ExpressionAttributeNames = { ...query.ExpressionAttributeNames, '#ts': 'ts' };
      query.ExpressionAttributeValues = { ...query.ExpressionAttributeValues, ':cutoff': cutoff };
    }
    const out: Item[] = [];
    // DynamoDB's Limit is a 32-bit integer: a huge window (up to 2^53 - 1) reads whole 1 MB pages instead.
    const pageSize = limit !== undefined && limit <= MAX_QUERY_LIMIT ? limit : undefined;
    for await (const page of paginateQuery({ client: this.#doc, pageSize }, query)) {
      for (const item of page.Items ?? []) {
        out.push(item);
        if (limit !== undefined && out.length >= limit) return out;
      }
    }
    return out;
  }

  async #sessionIds(userId: string): Promise<string[]> {
    const items = await this.#query(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :s)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#sid': 'sid' },
        ExpressionAttributeValues: { ':pk': userPk(userId), ':s': SESSION_SK_PREFIX },
        ProjectionExpression: '#sid',
      },
      undefined,
      undefined,
    );
    return items.map((item) => item.sid as string);
  }

  /** The keys of a session's messages, or of one agent's. */
  async #messageKeys(userId: string, sessionId: string, agentId: string | undefined): Promise<Item[]> {
    return this.#query(
      {
        KeyConditionExpression: agentId === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#q': 'q', '#r': 'r', '#ts': 'ts' },
        ExpressionAttributeValues: {
          ':pk': messagesPk(userId, sessionId),
          ...(agentId === undefined ? {} : { ':prefix': conversationPrefix(agentId) }),
        },
        ProjectionExpression: '#pk, #sk, #q, #r, #ts',
      },
      undefined,
      undefined,
    );
  }

  /**
   * Deletes one conversation (agentId given) or the whole session. Messages go first, in batches;
   * then one transaction removes the conversation's head — or the session item and, with the user's
   * last session, the user item — on condition that nobody wrote the session meanwhile. If somebody
   * did, their messages are deleted by the next round.
   */
  #removeFromSession(userId: string, sessionId: string, agentId: string | undefined): Promise<DeleteResult> {
    return this.#serial(userId, sessionId, async () => {
      let messages = 0;
      for (let conflicts = 0; ; ) {
        const [session, user] = await this.#get([sessionKey(userId, sessionId), userKey(userId)]);
        const state = session && readSessionItem(session);
        if (!state) return { messages, sessions: 0 };
        const others = state.ag.filter((h) => h.a !== agentId);
        // The session goes with its last stored message, also when pruning emptied the other conversations.
        const wholeSession = agentId === undefined || others.every((h) => h.n === 0);
        if (!wholeSession && !headOf(state, agentId)) return { messages, sessions: 0 };
        const keys = await this.#messageKeys(userId, sessionId, agentId);
        await deleteKeys(this.#doc, this.#table, keys.map((k) => ({ [ATTR.pk]: k[ATTR.pk] as string, [ATTR.sk]: k[ATTR.sk] as string })));
        messages += keys.length;
        const items: Item[] = wholeSession
          ? [{ Delete: { TableName: this.#table, Key: sessionKey(userId, sessionId), ...sessionCondition(state) } }]
          : [
              {
                Put: {
                  TableName: this.#table,
                  Item: sessionItem(userId, { ...state, v: nextVersion(), ag: others }),
                  ...sessionCondition(state),
                },
              },
            ];
        if (wholeSession && user) items.push(userRelease(this.#table, userId, user.ns as number));
        try {
          await retrying('deleting from DynamoDB', () => this.#doc.send(new TransactWriteCommand({ TransactItems: items as never })));
          return { messages, sessions: wholeSession ? 1 : 0 };
        } catch (error) {
          if (!isConditionFailure(error) || ++conflicts > MAX_CONFLICTS) throw error;
          await backoff(conflicts, 5, 250);
        }
      }
    });
  }

  /**
   * Retention over one stored session: reads every message's seq and timestamp, deletes the expired
   * and those beyond keepLast, and rewrites the heads from what is left: the last kept message's seq
   * and role (a new message follows the last STORED one), counts and bounds. A conversation left
   * without messages loses its head, so it numbers from 1 again; the session itself stays.
   */
  #pruneSession(userId: string, sessionId: string, request: core.PruneRequest): Promise<number> {
    return this.#serial(userId, sessionId, async () => {
      let removed = 0;
      for (let conflicts = 0; ; ) {
        const state = await this.#readSession(userId, sessionId);
        if (!state) return removed;
        const all = await this.#messageKeys(userId, sessionId, undefined);
        const doomed: Key[] = [];
        const heads: AgentHead[] = state.ag.flatMap((head) => {
          const prefix = conversationPrefix(head.a);
          const mine = all.filter((m) => (m[ATTR.sk] as string).startsWith(prefix)).sort((x, y) => (x.q as number) - (y.q as number));
          let live = request.cutoff === undefined ? mine : mine.filter((m) => (m.ts as number) >= request.cutoff!);
          if (request.keepLast !== undefined && live.length > request.keepLast) live = live.slice(live.length - request.keepLast);
          const keep = new Set(live);
          for (const m of mine) if (!keep.has(m)) doomed.push({ [ATTR.pk]: m[ATTR.pk] as string, [ATTR.sk]: m[ATTR.sk] as string });
          if (live.length === 0) return [];
          const times = live.map((m) => m.ts as number);
          const last = live[live.length - 1]!;
          const { x: _inexact, ...exact } = head;
          return [{ ...exact, s: last.q as number, r: last.r as AgentHead['r'], n: live.length, at: Math.max(...times), lo: Math.min(...times), f: live[0]!.q as number }];
        });
        if (doomed.length === 0 && heads.length === state.ag.length && heads.every((h, i) => sameHead(h, state.ag[i]!))) return removed;
        await deleteKeys(this.#doc, this.#table, doomed);
        removed += doomed.length;
        try {
          await retrying('pruning DynamoDB', () =>
            this.#doc.send(
              new TransactWriteCommand({
                TransactItems: [
                  { Put: { TableName: this.#table, Item: sessionItem(userId, { ...state, v: nextVersion(), ag: heads }), ...sessionCondition(state) } },
                ] as never,
              }),
            ),
          );
          return removed;
        } catch (error) {
          if (!isConditionFailure(error) || ++conflicts > MAX_CONFLICTS) throw error;
          await backoff(conflicts, 5, 250);
        }
      }
    });
  }

  async #summary(userId: string, state: SessionState, cutoff: number | undefined): Promise<SessionSummary> {
    const agents = await Promise.all(
      [...state.ag].sort((x, y) => compareIds(x.a, y.a)).map(async (head) => {
        // A head's counts are exact while none of its messages can have expired, and its newest
        // timestamp unless retention deleted a message that may have held it (x).
        if (!head.x && (cutoff === undefined || head.n === 0 || head.lo >= cutoff)) return { agentId: head.a, messageCount: head.n, lastMessageAt: head.at };
        const live = await this.#query(
          {
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': ATTR.pk, '#sk': ATTR.sk, '#ts': 'ts' },
            ExpressionAttributeValues: { ':pk': messagesPk(userId, state.sessionId), ':prefix': conversationPrefix(head.a) },
            ProjectionExpression: '#ts',
          },
          undefined,
          cutoff,
        );
        return { agentId: head.a, messageCount: live.length, lastMessageAt: Math.max(0, ...live.map((m) => m.ts as number)) };
      }),
    );
    const withMessages = agents.filter((a) => a.messageCount > 0);
    return {
      sessionId: state.sessionId,
      createdAt: state.ca,
      lastActivityAt: state.la,
      messageCount: withMessages.reduce((n, a) => n + a.messageCount, 0),
      agents: withMessages,
    };
  }
}

function sameHead(a: AgentHead, b: AgentHead): boolean {
  return a.a === b.a && a.s === b.s && a.r === b.r && a.n === b.n && a.at === b.at && a.lo === b.lo && a.f === b.f && a.x === b.x;
}

function toRawMessage(item: Item): core.RawMessage {
  return { seq: item.q as number, role: item.r as core.RawMessage['role'], json: item.c as string, timestamp: item.ts as number };
}
