/**
 * Concurrent writer: `writer.ts <url> <writer> <count>` appends `count` messages to the shared
 * conversation and `count` to its own, interleaved, and reports every error it saw.
 */
import { openStorage } from '../../../src/index.js';
import { describeError, send, waitForGo } from './protocol.js';

const [url, writerArg, countArg] = process.argv.slice(2);
const writer = Number(writerArg);
const count = Number(countArg);
const errors: unknown[] = [];

// `keep`: writers interleave in the shared conversation, so equal neighbouring roles are expected.
const store = await openStorage(url, { consecutiveRoles: 'keep', logger: null }).catch((error) => {
  send({ event: 'error', phase: 'open', error: describeError(error) });
  process.exit(1);
});
send({ event: 'ready' });
await waitForGo();
for (let n = 0; n < count; n++) {
  const message = { role: n % 2 === 0 ? 'user' : 'assistant', content: [{ text: `w${writer}:${n}` }] };
  for (const [userId, agentId] of [['shared', 'a'], [`own-${writer}`, 'a']] as const) {
    const started = performance.now();
    try {
      // Every fifth write goes through the batch path (one-message batch, BEGIN IMMEDIATE as well).
      if (n % 5 === 4) await store.saveChatMessages(userId, 's', agentId, [message], 2);
      else await store.saveChatMessage(userId, 's', agentId, message, 2);
    } catch (error) {
      errors.push({ ...describeError(error), n, afterMs: Math.round(performance.now() - started) });
    }
  }
}
await store.close();
send({ event: 'done', errors });
