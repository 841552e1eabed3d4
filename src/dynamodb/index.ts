/**
 * `convostore/dynamodb`: the store on one DynamoDB table, through the AWS SDK v3 (@aws-sdk/client-dynamodb
 * and @aws-sdk/lib-dynamodb, installed by the application).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ChatStore } from '../core/store.js';
import { checkOptions, checkPositiveInt } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { StoreOptions } from '../types.js';
import { DynamoDbBackend } from './dynamodb-backend.js';
import { assertTable, createDynamoDbTable } from './table.js';

export { dynamoDbTableDefinition, createDynamoDbTable, type CreateTableOptions } from './table.js';

/**
 * DynamoDB's item limit is 400 KB (409,600 bytes) including attribute names and keys; a message item
 * holds at most about 3.3 KB besides its content (two 256-unit ids in its keys, the agent id, numbers).
 */
export const DYNAMODB_MAX_MESSAGE_BYTES = 400_000;

export interface DynamoDbOptions extends StoreOptions {
  /**
   * A client you configured (a DynamoDBClient or a DynamoDBDocumentClient); it is not destroyed by
   * close() unless `closeDriver: true`. Otherwise one is made from the fields below.
   */
  client?: DynamoDBClient | DynamoDBDocumentClient;
  /** For a `client` you gave: destroy it when the store closes. Default false: it stays yours. */
  closeDriver?: boolean;
  region?: string;
  /** e.g. http://127.0.0.1:8000 for DynamoDB Local. */
  endpoint?: string;
  /** Default: the AWS SDK's credential chain (environment, shared config, SSO, instance role...). */
  credentials?: DynamoDBClientConfig['credentials'];
  /** Largest message content in UTF-8 bytes of JSON; default and maximum 400,000. */
  maxMessageBytes?: number;
}

export interface DynamoDbOpenOptions extends DynamoDbOptions {
  /** Create the table (and enable TTL) when it does not exist; default false: a missing table is an error. */
  createTable?: boolean;
  /**
   * Give every message written by convostore 0.1 its id item now (backfillMessageIds), rather than
   * the first time a v2 operation needs it; resumable. `convostore migrate` does this. Default false.
   */
  migrate?: boolean;
}

/** The store on one DynamoDB table; see docs/dynamodb.md for the table design. */
export class DynamoDbChatStorage extends ChatStore {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly #backend: DynamoDbBackend;

  constructor(tableName: string, options: DynamoDbOptions = {}) {
    const opts = checkOptions<DynamoDbOptions>('options', options);
    const { client, closeDriver, region, endpoint, credentials, maxMessageBytes, ...storeOptions } = opts;
    if (typeof tableName !== 'string' || !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
      throw new ValidationError('tableName', 'must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ - .');
    }
    const maxBytes = checkPositiveInt('options.maxMessageBytes', maxMessageBytes, DYNAMODB_MAX_MESSAGE_BYTES, DYNAMODB_MAX_MESSAGE_BYTES);
    if (client !== undefined && typeof (client as { send?: unknown }).send !== 'function') {
      throw new ValidationError('options.client', 'must be a DynamoDBClient or a DynamoDBDocumentClient');
    }
    // A DynamoDBDocumentClient is a DynamoDBClient's config and middleware under another class: it
    // sends plain commands too, which is all the backend asks of `client`.
    const ddb = (client as DynamoDBClient | undefined) ?? new DynamoDBClient({ region, endpoint, credentials });
    const ttlMs = storeOptions.retention?.ttlMs;
    const backend = new DynamoDbBackend({
      client: ddb,
      tableName,
      maxMessageBytes: maxBytes,
      ttlMs: typeof ttlMs === 'number' ? ttlMs : undefined,
      ownsClient: client === undefined || closeDriver === true,
    });
    try {
      super(backend, storeOptions);
    } catch (error) {
      // The store's own options are checked by ChatStore, after the client exists: one made here
      // and abandoned by a failed check would keep its sockets and timers.
      if (client === undefined) ddb.destroy();
      throw error;
    }
    this.#backend = backend;
    this.tableName = tableName;
    this.client = ddb;
  }

  /**
   * Tables written before message ids keep working as they are: a session's id items are filled in
   * the first time a v2 operation needs them. This fills them in for every session now (for
   * `convostore migrate`); resumable, and a no-op on a migrated table. Returns the sessions migrated.
   */
  backfillMessageIds(): Promise<number> {
    return this.#backend.backfillMessageIds();
  }

  /** Opens the store after checking (or, with `createTable`, creating) the table. */
  static async open(tableName: string, options: DynamoDbOpenOptions = {}): Promise<DynamoDbChatStorage> {
    const { createTable, migrate, ...rest } = checkOptions<DynamoDbOpenOptions>('options', options);
    const store = new DynamoDbChatStorage(tableName, rest);
    try {
      if (createTable) await createDynamoDbTable(store.client, tableName);
      else await assertTable(store.client, tableName);
      if (migrate === true) await store.backfillMessageIds();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }
}
