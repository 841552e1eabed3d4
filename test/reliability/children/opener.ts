/**
 * `opener.ts <name>`: for each database URL read from stdin, opens (and so migrates) it, writes once,
 * reads back, closes, and reports `done-<n>`. One process serves several rounds, so a round costs an
 * open, not a process start.
 */
import { createInterface } from 'node:readline';
import { openStorage } from '../../../src/index.js';
import { describeError, send } from './protocol.js';

const [name] = process.argv.slice(2) as [string];
send({ event: 'ready' });
let round = 0;
for await (const url of createInterface({ input: process.stdin })) {
  const event = `done-${round++}`;
  try {
    const store = await openStorage(url, { logger: null });
    await store.saveChatMessage(name, 's', 'a', { role: 'user', content: name });
    const read = await store.fetchChat(name, 's', 'a');
    await store.close();
    send({ event, read: read.length });
  } catch (error) {
    send({ event, error: describeError(error) });
  }
}
