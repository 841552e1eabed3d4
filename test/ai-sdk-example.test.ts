/**
 * examples/ai-sdk.ts runs as a user would run it (on `memory:`, its offline model): a chat posted to
 * it streams back and is stored, GET loads it, and an answer whose client went away is still saved
 * whole.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UIMessage } from 'ai';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ask = (id: string, text: string): UIMessage => ({ id, role: 'user', parts: [{ type: 'text', text }] });

test('examples/ai-sdk.ts answers POST /api/chat with the UI message stream, stores the chat, loads it with GET, and saves an answer whose client disconnected', async (t) => {
  const server = spawn(process.execPath, ['--import', 'tsx', 'examples/ai-sdk.ts', 'memory:', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const [first] = (await once(server.stdout, 'data')) as [Buffer];
    const base = /on (http:\/\/127\.0\.0\.1:\d+) \(memory, memory:\)/.exec(first.toString())?.[1];
    t.truthy(base, first.toString());
    const post = (body: unknown, signal?: AbortSignal) =>
      fetch(`${base}/api/chat`, { method: 'POST', body: JSON.stringify(body), headers: { 'x-user-id': 'ada' }, signal });
    const load = async (id: string) => (await (await fetch(`${base}/api/chat?id=${id}`, { headers: { 'x-user-id': 'ada' } })).json()) as UIMessage[];

    const answer = await post({ id: 'chat-1', message: ask('u1', 'What is the weather in Rome?') });
    t.is(answer.headers.get('x-vercel-ai-ui-message-stream'), 'v1');
    const events = (await answer.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { type: string; [k: string]: unknown });
    const messageId = events.find((e) => e.type === 'start')?.messageId as string;
    t.truthy(messageId);
    t.true(events.some((e) => e.type === 'tool-output-available'));

    const chat = await load('chat-1');
    t.deepEqual(chat, [
      ask('u1', 'What is the weather in Rome?'),
      {
        id: messageId,
        role: 'assistant',
        parts: [
          { type: 'step-start' },
          { type: 'tool-weather', toolCallId: (chat[1]!.parts[1] as { toolCallId: string }).toolCallId, state: 'output-available', input: { city: 'Rome' }, output: { city: 'Rome', sky: 'sunny', celsius: 24 } },
          { type: 'step-start' },
          { type: 'text', text: 'It is sunny in Rome, 24°C.', state: 'done' },
        ],
      },
    ]);
    t.deepEqual(await load('other-chat'), []);

    // The client reads one event and goes away; the answer still runs to its end and is saved.
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const controller = new AbortController();
    const partial = await post({ id: 'chat-1', message: ask('u2', words) }, controller.signal);
    await partial.body!.getReader().read();
    controller.abort();
    const expected = `You said: ${words}`;
    let saved: UIMessage[] = [];
    for (let i = 0; i < 100 && saved.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      saved = await load('chat-1');
    }
    t.is(saved.length, 4);
    t.deepEqual(saved.slice(0, 3), [...chat, ask('u2', words)]);
    t.deepEqual(saved[3]!.parts, [{ type: 'step-start' }, { type: 'text', text: expected, state: 'done' }]);
  } finally {
    server.kill();
    await once(server, 'exit');
  }
  t.is(stderr, '');
});
