import type { ChatStore, MessageInput } from '../../src/index.js';

/**
 * A varied data set written through the public API with a ticking clock: odd ids, several agents per
 * session interleaved, non-text blocks, unicode, a conversation longer than every page and batch size.
 */
export async function seed(store: ChatStore, options: { long?: number } = {}): Promise<number> {
  let written = 0;
  const save = async (u: string, s: string, a: string, messages: MessageInput[]) => {
    await store.saveChatMessages(u, s, a, messages);
    written += messages.length;
  };
  await save('alice', 'support', 'tech', [
    { role: 'user', content: 'my printer is on fire' },
    { role: 'assistant', content: [{ text: 'checking' }, { toolUse: { toolUseId: 't1', name: 'lookup', input: { q: 'fire' } } }] },
  ]);
  await save('alice', 'support', 'billing', [
    { role: 'user', content: 'and refund me' },
    { role: 'assistant', content: [{ text: 'refund issued' }] },
  ]);
  await save('alice', 'support', 'tech', [
    { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { ok: true, n: 1.5, none: null } }] } }] },
    { role: 'assistant', content: 'résumé ✓ 日本語 😀' },
  ]);
  await save('a#b', 'c', 'x', [{ role: 'user', content: 'separator one' }]);
  await save('a', 'b#c', 'x', [{ role: 'user', content: 'separator two' }]);
  await save('bob', 's/1?x=%20', 'agent:"quoted"', [
    { role: 'user', content: 'ids with / ? % : and quotes' },
    { role: 'assistant', content: [{ image: { format: 'png', source: { bytes: 'aGVsbG8=' } } }] },
  ]);
  const long = options.long ?? 1250;
  const messages: MessageInput[] = Array.from({ length: long }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `long ${i}`,
  }));
  for (let i = 0; i < messages.length; i += 400) await save('carol', 'long', 'a', messages.slice(i, i + 400));
  return written;
}

/** A clock that moves one second per reading, so every message has its own timestamp. */
export function tickingClock(start = 1_700_000_000_000): () => number {
  let now = start;
  return () => (now += 1000);
}
