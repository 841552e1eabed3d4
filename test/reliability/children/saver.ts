/**
 * Crash victim: `saver.ts <url> <userId> <count>` saves one batch of `count` messages to
 * (userId, 's', 'a') and says when it starts and when it is done; the parent kills it in between.
 */
import { openStorage } from '../../../src/index.js';
import { describeError, send, waitForGo } from './protocol.js';

const [url, userId, countArg] = process.argv.slice(2) as [string, string, string];
const count = Number(countArg);
const messages = Array.from({ length: count }, (_, n) => ({
  role: n % 2 === 0 ? 'user' : 'assistant',
  content: [{ text: `${userId}:${n}`, pad: 'x'.repeat(64) }],
}));

try {
  const store = await openStorage(url, { logger: null });
  send({ event: 'ready' });
  await waitForGo();
  const started = performance.now();
  send({ event: 'saving' });
  await store.saveChatMessages(userId, 's', 'a', messages, 0);
  send({ event: 'saved', ms: performance.now() - started });
  await store.close();
} catch (error) {
  send({ event: 'error', error: describeError(error) });
  process.exitCode = 1;
}
