import { DeleteTableCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbTable } from '../../src/dynamodb/index.js';
import type { DynamoDbLocal } from './dynamodb-local.js';

let tables = 0;

/** A fresh table on DynamoDB Local, created by the exported createDynamoDbTable(). */
export async function freshTable(local: DynamoDbLocal, prefix = 't'): Promise<string> {
  const name = `${prefix}-${process.pid}-${++tables}`;
  await createDynamoDbTable(local.client, name);
  return name;
}

export function dropTable(local: DynamoDbLocal, name: string): Promise<unknown> {
  return local.client.send(new DeleteTableCommand({ TableName: name }));
}

/** Every item in the table, counted around the store (a Scan is fine in a test, never in the store). */
export async function countItems(client: DynamoDBClient, tableName: string): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ExclusiveStartKey: start }));
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey as typeof start;
  } while (start);
  return count;
}

/** Options that point a store at DynamoDB Local with dummy credentials. */
export function localOptions(local: DynamoDbLocal) {
  return { endpoint: local.endpoint, region: local.region, credentials: local.credentials };
}
