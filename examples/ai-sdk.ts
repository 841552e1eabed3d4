/**
 * A Vercel AI SDK chat backend keeping its chats in convostore: a plain Node HTTP server (no
 * framework) with the two routes a `useChat` app needs.
 *
 *   npx tsx examples/ai-sdk.ts [storage-url] [port]     # default memory: and port 3000
 *
 *   POST /api/chat      { id, message }   the persistence guide's "send only the last message" body
 *                                          (useChat's prepareSendMessagesRequest); answers the UI
 *                                          message stream (server-sent events)
 *   GET  /api/chat?id=…                   the stored chat as UIMessage[] (useChat's initial messages)
 *
 * No model and no network by default: a MockLanguageModelV4 answers, calling a weather tool when
 * asked about the weather. With AI_GATEWAY_API_KEY set it asks a real model through the Vercel AI
 * Gateway (which `ai` ships with; AI_MODEL picks it, default openai/gpt-4.1-mini). For a provider
 * package instead, `npm install @ai-sdk/openai` and set `model = openai('gpt-4.1-mini')`.
 *
 * In an app, import from 'convostore/ai-sdk' and 'convostore' instead of the source paths.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  consumeStream,
  convertToModelMessages,
  createIdGenerator,
  createUIMessageStreamResponse,
  simulateReadableStream,
  stepCountIs,
  streamText,
  toUIMessageStream,
  tool,
  validateUIMessages,
  type LanguageModel,
  type UIMessage,
} from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { loadChat, saveChat } from '../src/adapters/ai-sdk.js';
import { openStorage } from '../src/index.js';

const url = process.argv[2] ?? process.env.CONVOSTORE_URL ?? 'memory:';
const port = Number(process.argv[3] ?? process.env.PORT ?? 3000);

// One store for the whole server; chats are sessions of it (listSessions lists a user's chats).
const store = await openStorage(url);

const tools = {
  weather: tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, sky: 'sunny', celsius: 24 }),
  }),
};

const model: LanguageModel = process.env.AI_GATEWAY_API_KEY ? (process.env.AI_MODEL ?? 'openai/gpt-4.1-mini') : mockModel();

// Ids the server gives the answers it stores (useChat makes the user messages' ids).
const generateMessageId = createIdGenerator({ prefix: 'msg', size: 16 });

async function postChat(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { id, message } = JSON.parse(await readBody(request)) as { id: string; message: UIMessage };
  const userId = userOf(request);
  // The newest 50 messages are context enough; the older ones stay stored (saveChat keeps them).
  const previous = await loadChat(store, { userId, chatId: id, limit: 50 });
  const messages = await validateUIMessages({ messages: [...previous, message], tools });

  const result = streamText({ model, messages: await convertToModelMessages(messages), tools, stopWhen: stepCountIs(5) });
  const answer = createUIMessageStreamResponse({
    stream: toUIMessageStream({
      stream: result.stream,
      tools,
      originalMessages: messages,
      generateMessageId,
      onEnd: async ({ messages, isAborted }) => {
        try {
          await saveChat(store, { userId, chatId: id, messages, aborted: isAborted });
        } catch (error) {
          console.error(`chat ${id}: not saved:`, error);
        }
      },
    }),
    // A second reader of the stream runs it to its end even when the client goes away, so the
    // answer is still complete, and saved, when the user comes back.
    consumeSseStream: consumeStream,
  });
  await send(response, answer);
}

async function getChat(request: IncomingMessage, response: ServerResponse, id: string): Promise<void> {
  const messages = await loadChat(store, { userId: userOf(request), chatId: id, tools });
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(messages));
}

/** Who is asking: in an app, from your authentication. */
function userOf(request: IncomingMessage): string {
  const header = request.headers['x-user-id'];
  return typeof header === 'string' && header !== '' ? header : 'demo-user';
}

const server = createServer((request, response) => {
  const { pathname, searchParams } = new URL(request.url ?? '/', 'http://localhost');
  const route =
    pathname !== '/api/chat'
      ? undefined
      : request.method === 'POST'
        ? postChat(request, response)
        : request.method === 'GET' && searchParams.get('id')
          ? getChat(request, response, searchParams.get('id')!)
          : undefined;
  if (!route) {
    response.writeHead(404).end();
    return;
  }
  route.catch((error: unknown) => {
    console.error(error);
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    else response.destroy();
  });
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`convostore AI SDK example on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port} (${store.backend}, ${url})`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void store.close();
  });
}

// ---- plumbing ------------------------------------------------------------------------------------

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A web Response (what the SDK builds) written to Node's response. */
async function send(response: ServerResponse, answer: Response): Promise<void> {
  answer.headers.forEach((value, name) => response.setHeader(name, value));
  response.writeHead(answer.status);
  if (!answer.body) return void response.end();
  // A client that disconnects ends this pipe early; the answer goes on through consumeSseStream.
  await pipeline(Readable.fromWeb(answer.body as never), response).catch(() => undefined);
}

/**
 * The offline model: asked about the weather it calls the tool, then answers from its result;
 * otherwise it says what it heard. It streams a word every 20 ms, as a model would.
 */
function mockModel(): MockLanguageModelV4 {
  const usage = { inputTokens: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 10, text: 10, reasoning: 0 } };
  return new MockLanguageModelV4({
    doStream: async ({ prompt }) => {
      const last = prompt.at(-1);
      const heard = last?.role === 'user' ? last.content.map((p) => (p.type === 'text' ? p.text : '')).join(' ') : '';
      const result = last?.role === 'tool' ? last.content.find((p) => p.type === 'tool-result') : undefined;
      if (/weather/i.test(heard)) {
        const city = /in ([A-Z][a-z]+)/.exec(heard)?.[1] ?? 'Paris';
        return {
          stream: simulateReadableStream({
            chunks: [
              { type: 'stream-start', warnings: [] },
              { type: 'tool-call', toolCallId: `call-${Date.now()}`, toolName: 'weather', input: JSON.stringify({ city }) },
              { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage },
            ],
          }),
        };
      }
      const output = result?.output.type === 'json' ? (result.output.value as { city: string; sky: string; celsius: number }) : undefined;
      const words = (output ? `It is ${output.sky} in ${output.city}, ${output.celsius}°C.` : `You said: ${heard}`).split(/(?<= )/);
      return {
        stream: simulateReadableStream({
          chunkDelayInMs: 20,
          chunks: [
            { type: 'stream-start', warnings: [] },
            { type: 'text-start', id: 'text' },
            ...words.map((delta) => ({ type: 'text-delta' as const, id: 'text', delta })),
            { type: 'text-end', id: 'text' },
            { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
          ],
        }),
      };
    },
  });
}
