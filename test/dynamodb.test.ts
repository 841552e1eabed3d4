import test from 'ava';
import { DynamoDbChatStorage } from '../src/dynamodb/index.js';
import { contractSuite } from './contract/suite.js';
import { startDynamoDbLocal } from './helpers/dynamodb-local.js';
import { countItems, dropTable, freshTable, localOptions } from './helpers/dynamodb.js';

const local = await startDynamoDbLocal();
test.after.always(() => local.stop());

contractSuite('dynamodb (DynamoDB Local)', async (options) => {
  const table = await freshTable(local, 'contract');
  try {
    const store = new DynamoDbChatStorage(table, { ...options, ...localOptions(local) });
    return { store, rawCount: () => countItems(local.client, table), dispose: async () => void (await dropTable(local, table)) };
  } catch (error) {
    await dropTable(local, table);
    throw error;
  }
});
