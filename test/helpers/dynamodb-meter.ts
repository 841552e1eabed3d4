import { DynamoDBClient, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { DynamoDbLocal } from './dynamodb-local.js';

export interface Call {
  command: string;
  /** Capacity units DynamoDB reported as consumed, all indexes included. */
  read: number;
  write: number;
  detail: ConsumedCapacity[];
}

const WRITES = /^(TransactWriteItems|BatchWriteItem|PutItem|UpdateItem|DeleteItem)$/;

/**
 * A client that records every request the store sends and asks DynamoDB for the capacity each one
 * consumed (ReturnConsumedCapacity: TOTAL), so tests can count requests and units per operation.
 */
export function meteredClient(local: DynamoDbLocal): { client: DynamoDBClient; calls: Call[]; reset(): Call[] } {
  const client = new DynamoDBClient({ endpoint: local.endpoint, region: local.region, credentials: local.credentials });
  const calls: Call[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = (context.commandName ?? '?').replace(/Command$/, '');
      if (!/Table|TimeToLive/.test(command)) input.ReturnConsumedCapacity = 'INDEXES';
      const out = await next(args);
      const consumed = (out.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
      const writes = WRITES.test(command);
      const units = list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      calls.push({ command, read: writes ? 0 : units, write: writes ? units : 0, detail: list });
      return out;
    },
    { step: 'initialize', name: 'convostoreMeter' },
  );
  return {
    client,
    calls,
    reset() {
      return calls.splice(0, calls.length);
    },
  };
}

export function summarise(calls: Call[]): { requests: string; read: number; write: number } {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(c.command, (counts.get(c.command) ?? 0) + 1);
  return {
    requests: [...counts].map(([name, n]) => `${n} ${name}`).join(' + '),
    read: calls.reduce((n, c) => n + c.read, 0),
    write: calls.reduce((n, c) => n + c.write, 0),
  };
}
