import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
  QueryCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { KeyedMutex } from '../core/mutex.js';
import { retry, type Backoff } from '../core/retry.js';
import { UnavailableError } from '../errors.js';
import { ATTR } from './keys.js';
import { TIMESTAMP_ATTR, type Item, type Key } from './items.js';
import { MAX_ATTEMPTS, isConditionFailure, retrying } from './retry.js';

/** The largest Query `Limit` we send (DynamoDB takes a 32-bit integer; larger means "all"). */
const MAX_QUERY_LIMIT = 1_000_000;
/** BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests. */
const BATCH_GET_SIZE = 100;
const BATCH_WRITE_SIZE = 25;
/** Batches in flight at once when deleting or copying many items. */
const PARALLEL_REQUESTS = 4;
/** Optimistic-concurrency rounds before a write gives up: several processes hammering one session. */
export const MAX_CONFLICTS = 100;
/** Waits before resending a batch's unprocessed items: from [0, 20 ms), doubling up to 1 s. */
const UNPROCESSED_BACKOFF: Backoff = { baseMs: 20, capMs: 1_000 };
/** Waits after a failed condition: from [0, 10 ms), doubling up to 250 ms (the other writer is quick). */
const CONFLICT_BACKOFF: Backoff = { baseMs: 10, capMs: 250 };

export type QueryInput = Omit<QueryCommandInput, 'TableName' | 'ConsistentRead'>;

/**
 * Thrown by an optimistic round that found its session busy (a fork copying into it): `settle`
 * waits until the round can run again, and the round is run again without counting as a conflict.
 */
export class SessionBusy extends Error {
  readonly settle: () => Promise<void>;

  constructor(settle: () => Promise<void>) {
    super('the session is being created by a fork');
    this.settle = settle;
  }
}

/**
 * Every request the backend sends goes through here: strongly consistent reads that follow
 * LastEvaluatedKey, transactions, batches with their unprocessed items resubmitted, transient
 * failures retried. It knows DynamoDB, not convostore's items.
 */
export class TableIo {
  readonly doc: DynamoDBDocumentClient;
  readonly table: string;
  readonly #sessions = new KeyedMutex();

  constructor(client: DynamoDBClient, table: string) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.table = table;
  }

  /**
   * The pages of a Query (following LastEvaluatedKey, so nothing is cut at 1 MB), with the TTL filter
   * when a cutoff is given. `pageSize` is DynamoDB's Limit (items evaluated per request).
   * Strongly consistent except on a global index.
   */
  async *pages(input: QueryInput, options: { cutoff?: number; pageSize?: number; consistent?: boolean } = {}): AsyncGenerator<Item[]> {
    const query: QueryCommandInput = { ...input, TableName: this.table, ConsistentRead: options.consistent ?? true };
    if (options.cutoff !== undefined) {
      query.FilterExpression = '#cutoffTs >= :cutoff';
      query.ExpressionAttributeNames = { ...query.ExpressionAttributeNames, '#cutoffTs': TIMESTAMP_ATTR };
      query.ExpressionAttributeValues = { ...query.ExpressionAttributeValues, ':cutoff': options.cutoff };
    }
    // DynamoDB's Limit is a 32-bit integer: a huge window (up to 2^53 - 1) reads whole 1 MB pages instead.
    const pageSize = options.pageSize !== undefined && options.pageSize <= MAX_QUERY_LIMIT ? options.pageSize : undefined;
    if (pageSize !== undefined) query.Limit = pageSize;
    for (;;) {
      const out = await retrying('reading from DynamoDB', () => this.doc.send(new QueryCommand(query)));
      yield out.Items ?? [];
      if (out.LastEvaluatedKey === undefined) return;
      query.ExclusiveStartKey = out.LastEvaluatedKey;
    }
  }

  /** Up to `limit` items of a Query (all when undefined), after the TTL filter. */
  async query(input: QueryInput, limit: number | undefined, cutoff?: number, consistent = true): Promise<Item[]> {
    if (limit === 0) return [];
    const out: Item[] = [];
    for await (const page of this.pages(input, { cutoff, pageSize: limit, consistent })) {
      for (const item of page) {
        out.push(item);
        if (limit !== undefined && out.length >= limit) return out;
      }
    }
    return out;
  }

  async getOne(key: Key): Promise<Item | undefined> {
    const out = await retrying('reading from DynamoDB', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true })),
    );
    return out.Item;
  }

  /** Strongly consistent BatchGetItem of any number of keys; results in the order of `keys`. */
  async get(keys: readonly Key[]): Promise<Array<Item | undefined>> {
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      await untilProcessed('reading from DynamoDB', keys.slice(i, i + BATCH_GET_SIZE), async (pending) => {
        const out = await retrying('reading from DynamoDB', () =>
          this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } })),
        );
        for (const item of out.Responses?.[this.table] ?? []) found.set(keyString(item), item);
        return (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
      });
    }
    return keys.map((k) => found.get(keyString(k)));
  }

  /** One TransactWriteItems; a failed condition surfaces as the SDK's error (see isConditionFailure). */
  async transact(items: readonly object[], what = 'writing to DynamoDB'): Promise<void> {
    if (items.length === 0) return;
    await retrying(what, () => this.doc.send(new TransactWriteCommand({ TransactItems: items as never })));
  }

  /** One UpdateItem; resolves to the attributes it asked back (ReturnValues), if any. */
  async update(input: Omit<UpdateCommandInput, 'TableName'>, what = 'writing to DynamoDB'): Promise<Item | undefined> {
    const out = await retrying(what, () => this.doc.send(new UpdateCommand({ ...input, TableName: this.table })));
    return out.Attributes;
  }

  /** Deletes every key, 25 per request, a few requests at once, resubmitting unprocessed items. */
  deleteKeys(keys: readonly Key[]): Promise<void> {
    return this.#batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /** Puts every item unconditionally (BatchWriteItem has no conditions: only for items nobody else writes). */
  putItems(items: readonly Item[]): Promise<void> {
    return this.#batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async #batchWrite(requests: readonly object[]): Promise<void> {
    const batches: object[][] = [];
    for (let i = 0; i < requests.length; i += BATCH_WRITE_SIZE) batches.push(requests.slice(i, i + BATCH_WRITE_SIZE));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        await untilProcessed('writing to DynamoDB', batches[next++]!, async (pending) => {
          const out = await retrying('writing to DynamoDB', () => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending as never } })));
          return (out.UnprocessedItems?.[this.table] ?? []) as object[];
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, batches.length) }, worker));
  }

  /**
   * Runs an optimistic round until it commits: `round` reads, plans and sends its conditioned
   * transaction; a failed condition means another writer came first, so it backs off and runs again.
   * A round that found the session busy (SessionBusy) runs again once that settles.
   */
  optimistic<T>(round: () => Promise<T>): Promise<T> {
    const untilSettled = async (): Promise<T> => {
      for (;;) {
        try {
          return await round();
        } catch (error) {
          if (!(error instanceof SessionBusy)) throw error;
          await error.settle();
        }
      }
    };
    return retry(untilSettled, {
      ...CONFLICT_BACKOFF,
      attempts: MAX_CONFLICTS + 1,
      retryable: isConditionFailure,
      giveUp: (error) =>
        isConditionFailure(error)
          ? new UnavailableError(`the session is written by too many writers at once; gave up after ${MAX_CONFLICTS} attempts`, error)
          : error,
    });
  }

  /**
   * One session's writes in this process run one after another, which spares DynamoDB the
   * conflicts (writers in other processes still serialise on the session item's version).
   */
  serial<T>(userId: string, sessionId: string, operation: () => Promise<T>): Promise<T> {
    return this.#sessions.run(JSON.stringify([userId, sessionId]), operation);
  }

  /** Waits for the queued writes. */
  drain(): Promise<void> {
    return this.#sessions.idle();
  }
}

/** Thrown (and retried) while a batch has unprocessed items. */
class Unprocessed extends Error {
  constructor(readonly count: number) {
    super(`${count} items unprocessed`);
  }
}

/**
 * Sends a batch until DynamoDB has processed all of it: `send` returns what it left unprocessed,
 * which is sent again after a backoff, at most MAX_ATTEMPTS times in all.
 */
async function untilProcessed<T>(what: string, batch: T[], send: (pending: T[]) => Promise<T[]>): Promise<void> {
  let pending = batch;
  await retry(
    async () => {
      pending = await send(pending);
      if (pending.length > 0) throw new Unprocessed(pending.length);
    },
    {
      ...UNPROCESSED_BACKOFF,
      attempts: MAX_ATTEMPTS,
      retryable: (error) => error instanceof Unprocessed,
      giveUp: (error, attempts) =>
        error instanceof Unprocessed ? new UnavailableError(`${what}: ${error.count} items still unprocessed after ${attempts} attempts`) : error,
    },
  );
}

function keyString(item: Item): string {
  return `${item[ATTR.pk] as string}\0${item[ATTR.sk] as string}`;
}
