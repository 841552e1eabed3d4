/**
 * Scale, DynamoDB Local: a conversation of SIZES.dynamodb.big messages (100,000 with SCALE_FULL=1),
 * and a user of many sessions. DynamoDB Local writes a few hundred items a second, so each fill is
 * used for several operations: the first table for the reads, prune, deleteUser and then
 * deleteSession of what prune left; a second one for deleteConversation of the whole conversation.
 */
import test from 'ava';
import { SIZES } from './data.js';
import { BASE_HEAP_MB, SCENARIO_TIMEOUT_MS, check, runScenario } from './support.js';
import type { Op } from './child.js';
import { startDynamoDbLocal, type DynamoDbLocal } from '../helpers/dynamodb-local.js';
import { dropTable, freshTable } from '../helpers/dynamodb.js';
import { tempDir } from '../helpers/tmp.js';

const sizes = SIZES.dynamodb;
const dir = tempDir('scale-dynamodb');
let local: Promise<DynamoDbLocal> | undefined;
test.after.always(async () => (await local)?.stop());

async function scenario(t: Parameters<typeof check>[0], parts: { big: boolean; many: boolean }, ops: Op[]) {
  const server = await (local ??= startDynamoDbLocal());
  const table = await freshTable(server, 'scale');
  try {
    const url = `dynamodb://${table}?${new URLSearchParams({ endpoint: server.endpoint, region: server.region })}`;
    const env = { AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey };
    check(t, 'dynamodb', sizes, await runScenario({ backend: 'dynamodb', url, sizes, parts, chunk: 1_000, ops: ['fill', ...ops], dir }, env, BASE_HEAP_MB));
  } finally {
    await dropTable(server, table);
  }
}

test.serial(`dynamodb, ${sizes.big} messages: listSessions, session and chat pages, export, copy, prune, deleteUser of ${sizes.many.sessions} sessions and deleteSession in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, { big: true, many: true }, ['listSessions', 'fetchSessionPage', 'fetchChatPage', 'export', 'copy', 'prune', 'deleteUser', 'deleteSession']);
});

test.serial(`dynamodb, ${sizes.big} messages: deleteConversation in bounded memory`, async (t) => {
  t.timeout(SCENARIO_TIMEOUT_MS);
  await scenario(t, { big: true, many: false }, ['deleteConversation']);
});
