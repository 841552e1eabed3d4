/**
 * A separate writer process for the concurrency test: appends `count` messages, one at a time, to
 * conversation (u, s, a) of TABLE on ENDPOINT, texts `${writer}-${i}`.
 * Usage: node --import=tsx dynamodb-appender.ts ENDPOINT TABLE WRITER COUNT
 * It prints `ready` once loaded and starts writing when a line arrives on stdin, so that all writers
 * start together.
 */
import { once } from 'node:events';
import { DynamoDbChatStorage } from '../../src/dynamodb/index.js';

const [endpoint, table, writer, count] = process.argv.slice(2) as [string, string, string, string];
const store = new DynamoDbChatStorage(table, {
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  consecutiveRoles: 'keep',
  logger: null,
});
process.stdout.write('ready\n');
await once(process.stdin, 'data');
for (let i = 0; i < Number(count); i++) await store.saveChatMessage('u', 's', 'a', { role: 'user', content: `${writer}-${i}` }, 0);
await store.close();
