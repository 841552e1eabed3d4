import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../errors.js';
import { ATTR, INDEX } from './keys.js';

/**
 * The table convostore expects, as `CreateTableCommand` input: on-demand billing, a string partition
 * and sort key, one local secondary index (a user's sessions by last activity, strongly consistent)
 * and one keys-only global index listing users. Only session items carry the LSI's sort key: an
 * item projected into an LSI must fit in 400 KB together with its projection, which would halve the
 * largest message if message items were projected.
 */
export function dynamoDbTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ATTR.pk, AttributeType: 'S' },
      { AttributeName: ATTR.sk, AttributeType: 'S' },
      { AttributeName: ATTR.activity, AttributeType: 'S' },
      { AttributeName: ATTR.usersPk, AttributeType: 'S' },
      { AttributeName: ATTR.userId, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: ATTR.pk, KeyType: 'HASH' },
      { AttributeName: ATTR.sk, KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [index(INDEX.byActivity, ATTR.pk, ATTR.activity, 'ALL')],
    GlobalSecondaryIndexes: [index(INDEX.users, ATTR.usersPk, ATTR.userId, 'KEYS_ONLY')],
  };
}

function index(name: string, hash: string, range: string, projection: 'ALL' | 'KEYS_ONLY') {
  return {
    IndexName: name,
    KeySchema: [
      { AttributeName: hash, KeyType: 'HASH' as const },
      { AttributeName: range, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: projection },
  };
}

export interface CreateTableOptions {
  /** How long to wait for the table to become ACTIVE; default 300 s. */
  maxWaitSeconds?: number;
}

/**
 * Creates the table (if it does not exist yet), waits until it is ACTIVE and enables TTL on the
 * `exp` attribute. Safe to call on an existing table.
 */
export async function createDynamoDbTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<void> {
  try {
    await client.send(new CreateTableCommand(dynamoDbTableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw new UnavailableError(`creating the DynamoDB table ${tableName} failed`, error);
  }
  try {
    await waitUntilTableExists({ client, maxWaitTime: options.maxWaitSeconds ?? 300 }, { TableName: tableName });
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== 'ENABLED' && status !== 'ENABLING') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: ATTR.expires, Enabled: true },
        }),
      );
    }
  } catch (error) {
    throw new UnavailableError(`preparing the DynamoDB table ${tableName} failed`, error);
  }
}

/** Fails with a clear error when the table is missing or was not created from our definition. */
export async function assertTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let table: TableDescription | undefined;
  try {
    table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      throw new UnavailableError(
        `the DynamoDB table ${tableName} does not exist; create it with createDynamoDbTable() or from dynamoDbTableDefinition()`,
        error,
      );
    }
    throw new UnavailableError(`describing the DynamoDB table ${tableName} failed`, error);
  }
  const expected = dynamoDbTableDefinition(tableName);
  const names = [
    ...(table?.LocalSecondaryIndexes ?? []).map((i) => i.IndexName),
    ...(table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName),
  ];
  const keys = (table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join();
  const missing = [INDEX.byActivity, INDEX.users].filter((name) => !names.includes(name));
  if (keys !== expected.KeySchema!.map((k) => `${k.AttributeName}:${k.KeyType}`).join() || missing.length > 0) {
    throw new UnavailableError(
      `the DynamoDB table ${tableName} does not have convostore's key schema${missing.length ? ` (missing indexes: ${missing.join(', ')})` : ''}; ` +
        'create it from dynamoDbTableDefinition()',
    );
  }
}
