/**
 * convostore/ai-sdk with the real `ai` package and its own MockLanguageModelV4 (no network), on every
 * framework backend: turns run through streamText → toUIMessageStream → onEnd → saveChat, are read
 * back with loadChat, and are compared with what the SDK itself holds (onEnd's messages, the client's
 * message rebuilt by readUIMessageStream, convertToModelMessages).
 *
 * What the SDK hands over holds keys set to `undefined` (`providerMetadata: undefined`); JSON, which
 * is what reaches the client and what convostore stores, drops them, so originals are compared as JSON.
 */
import test, { type ExecutionContext } from 'ava';
import {
  consumeStream,
  convertToModelMessages,
  readUIMessageStream,
  stepCountIs,
  streamText,
  toUIMessageStream,
  tool,
  validateUIMessages,
  type ToolSet,
  type UIMessage,
} from 'ai';
import { MockLanguageModelV4, convertArrayToReadableStream } from 'ai/test';
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { z } from 'zod';
import { DEFAULT_AI_SDK_AGENT_ID, loadChat, loadChatEntries, saveChat } from '../src/adapters/ai-sdk.js';
import { ConflictError, ValidationError, type ChatStorage, type ChatStore, type StoreOptions } from '../src/index.js';
import { frameworkBackends, withStore } from './frameworks/backends.js';

/** The store as opened by default (consecutive roles skipped): saveChat must not depend on 'keep'. */
const DEFAULTS = { logger: null } satisfies StoreOptions;
const USER = 'ada';
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 5, text: 5, reasoning: 0 } };
const finish = (reason: 'stop' | 'tool-calls' = 'stop'): LanguageModelV4StreamPart => ({ type: 'finish', finishReason: { unified: reason, raw: reason }, usage });
const text = (id: string, ...deltas: string[]): LanguageModelV4StreamPart[] => [
  { type: 'text-start', id },
  ...deltas.map((delta): LanguageModelV4StreamPart => ({ type: 'text-delta', id, delta })),
  { type: 'text-end', id },
];
const call = (toolCallId: string, toolName: string, input: unknown): LanguageModelV4StreamPart => ({
  type: 'tool-call',
  toolCallId,
  toolName,
  input: JSON.stringify(input),
});

/** A model whose every streamText step answers the next script, in order. */
function scripted(...steps: LanguageModelV4StreamPart[][]): MockLanguageModelV4 {
  return new MockLanguageModelV4({
    doStream: steps.map((parts) => ({ stream: convertArrayToReadableStream([{ type: 'stream-start', warnings: [] }, ...parts]) })),
  });
}

const tools = {
  weather: tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, sky: 'sun', celsius: 24 }),
  }),
  // No execute: the client answers it (addToolOutput), and the SDK continues the same message.
  confirm: tool({ description: 'Ask the user to confirm', inputSchema: z.object({ question: z.string() }), outputSchema: z.string() }),
} satisfies ToolSet;

let ids = 0;
const nextId = () => `msg-${++ids}`;
const userMessage = (words: string): UIMessage => ({ id: nextId(), role: 'user', parts: [{ type: 'text', text: words }] });

interface Turn {
  /** onEnd's event, as the SDK gave it. */
  end: Parameters<NonNullable<Parameters<typeof toUIMessageStream>[0]['onEnd']>>[0];
  /** The response as the client rebuilds it from the stream (readUIMessageStream). */
  client: UIMessage | undefined;
}

/**
 * One request of the persistence guide's route: stream `originalMessages` through the model, the
 * client reading the UI message stream, and `saveChat` from onEnd. Resolves once the save is done.
 */
async function turn(
  store: ChatStorage,
  chatId: string,
  originalMessages: UIMessage[],
  model: MockLanguageModelV4,
  options: { abortSignal?: AbortSignal; onChunk?: (type: string) => void; metadata?: unknown } = {},
): Promise<Turn> {
  const result = streamText({
    model,
    messages: await convertToModelMessages(originalMessages),
    tools,
    stopWhen: stepCountIs(4),
    abortSignal: options.abortSignal,
  });
  let saving: Promise<unknown> | undefined;
  let end: Turn['end'] | undefined;
  const stream = toUIMessageStream({
    stream: result.stream,
    tools,
    originalMessages,
    generateMessageId: nextId,
    messageMetadata: ({ part }) => (part.type === 'start' && options.metadata !== undefined ? options.metadata : undefined),
    onEnd: (event) => {
      end = event;
      saving = saveChat(store, { userId: USER, chatId, messages: event.messages, aborted: event.isAborted });
      return saving.then(() => undefined);
    },
  });
  const last = originalMessages.at(-1);
  let client: UIMessage | undefined;
  const [forClient, forChunks] = stream.tee();
  const chunks = (async () => {
    for await (const chunk of forChunks) options.onChunk?.(chunk.type);
  })();
  for await (const message of readUIMessageStream({ stream: forClient, message: last?.role === 'assistant' ? structuredClone(last) : undefined })) {
    client = message;
  }
  await chunks;
  await saving;
  return { end: end!, client };
}

/** Counts the store calls a flow makes (the real store underneath answers them). */
function counting(store: ChatStore): { store: ChatStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

/** Every part type a UIMessage can hold, and metadata of every JSON kind. */
function everyPart(): UIMessage[] {
  return [
    { id: 'sys', role: 'system', parts: [{ type: 'text', text: 'Be terse.' }] },
    {
      id: 'u-1',
      role: 'user',
      metadata: 'a string',
      parts: [
        { type: 'text', text: 'What is in this picture? Ünïcödé 🎉 "quotes" \u2028' },
        { type: 'file', mediaType: 'image/png', filename: 'dot.png', url: 'data:image/png;base64,iVBORw0KGgo=' },
      ],
    },
    // Two user messages in a row (a resend after a failed answer): both are kept.
    { id: 'u-2', role: 'user', metadata: null, parts: [{ type: 'text', text: 'Hello?' }] },
    {
      id: 'a-1',
      role: 'assistant',
      metadata: { model: 'mock', usage: { inputTokens: 3 }, tags: ['a', 1, true, null] },
      parts: [
        { type: 'step-start' },
        { type: 'reasoning', text: 'The user wants the weather.', state: 'done', providerMetadata: { mock: { signature: 'sig' } } },
        { type: 'tool-weather', toolCallId: 'c1', state: 'output-available', input: { city: 'Paris' }, output: { city: 'Paris', sky: 'sun', celsius: 24 } },
        { type: 'tool-weather', toolCallId: 'c2', state: 'output-error', input: { city: 'Atlantis' }, errorText: 'no such city' },
        { type: 'tool-confirm', toolCallId: 'c3', state: 'input-available', input: { question: 'Book it?' } },
        {
          type: 'tool-confirm',
          toolCallId: 'c4',
          state: 'approval-requested',
          input: { question: 'Pay?' },
          approval: { id: 'ap-1' },
        },
        { type: 'tool-confirm', toolCallId: 'c5', state: 'output-denied', input: { question: 'Delete?' }, approval: { id: 'ap-2', approved: false, reason: 'no' } },
        { type: 'tool-weather', toolCallId: 'c6', state: 'input-streaming', input: { city: 'Ro' }, rawInput: '{"city":"Ro' },
        { type: 'dynamic-tool', toolName: 'mcp_search', toolCallId: 'c7', state: 'output-available', input: { q: 'x' }, output: [1, 2] },
        { type: 'step-start' },
        { type: 'source-url', sourceId: 's1', url: 'https://example.com/paris', title: 'Paris' },
        { type: 'source-document', sourceId: 's2', mediaType: 'application/pdf', title: 'Report', filename: 'r.pdf' },
        { type: 'data-weather', id: 'd1', data: { city: 'Paris', status: 'done' } },
        { type: 'reasoning-file', mediaType: 'image/png', url: 'data:image/png;base64,iVBORw0KGgo=' },
        { type: 'custom', kind: 'mock.compaction', providerMetadata: { mock: { summary: 'earlier turns' } } },
        { type: 'steering-message', id: 'steer-1', parts: [{ type: 'text', text: 'In Celsius, please.' }] },
        { type: 'text', text: 'Sunny, 24°C.', state: 'done' },
      ],
    },
    { id: 'a-2', role: 'assistant', metadata: 42, parts: [{ type: 'text', text: 'Anything else?' }] },
    { id: 'u-3', role: 'user', metadata: [1, 'two', { three: 3 }], parts: [{ type: 'text', text: 'No.' }] },
    { id: 'a-3', role: 'assistant', parts: [] },
  ];
}

for (const backend of frameworkBackends) {
  const title = (what: string) => `ai-sdk on ${backend.label} › ${what}`;
  const withChat = (body: (t: ExecutionContext, store: ChatStore) => Promise<void>) => (t: ExecutionContext) =>
    withStore(backend, DEFAULTS, (store) => body(t, store));

  test(
    title('a tool-call turn saved from onEnd loads back deep-equal, one stored message per UIMessage'),
    withChat(async (t, store) => {
      const original = [{ ...userMessage('Weather in Paris?'), metadata: { sentAt: 1 } }];
      const model = scripted([call('call-1', 'weather', { city: 'Paris' }), finish('tool-calls')], [...text('t1', 'Sunny ', 'in Paris.'), finish()]);
      const { end, client } = await turn(store, 'c1', original, model, { metadata: { model: 'mock-model-id' } });

      t.false(end.isAborted);
      const response = end.messages[1]!;
      t.deepEqual(
        response.parts.map((p) => p.type),
        ['step-start', 'tool-weather', 'step-start', 'text'],
      );
      t.like(response.parts[1], { state: 'output-available', input: { city: 'Paris' }, output: { city: 'Paris', sky: 'sun', celsius: 24 } });
      const loaded = await loadChat(store, { userId: USER, chatId: 'c1' });
      t.deepEqual(loaded, json(end.messages));
      t.deepEqual(loaded[1], json(client), 'what the client rebuilt from the stream');
      t.deepEqual(await convertToModelMessages(loaded), await convertToModelMessages(end.messages));
      // With the tools given, loadChat runs the SDK's validateUIMessages, which accepts them as stored.
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'c1', tools }), loaded);
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'no-such-chat', tools }), [], 'an empty chat is not validated (the SDK refuses [])');

      // Through convostore's own API: one message each, role as is, the parts as content blocks.
      const page = await store.fetchChatPage(USER, 'c1', DEFAULT_AI_SDK_AGENT_ID, { order: 'oldest' });
      t.deepEqual(
        page.items.map(({ id, role, content, metadata }) => ({ id, role, content, metadata })),
        [
          { id: original[0]!.id, role: 'user', content: original[0]!.parts, metadata: { uiMetadata: { sentAt: 1 } } },
          { id: response.id, role: 'assistant', content: json(response.parts), metadata: { uiMetadata: { model: 'mock-model-id' } } },
        ],
      );
    }),
  );

  test(
    title('every part type, and metadata of every JSON kind, round-trips exactly; saving it again writes nothing'),
    withChat(async (t, store) => {
      const messages = everyPart();
      t.deepEqual(await saveChat(store, { userId: USER, chatId: 'all', messages }), { appended: 7, replaced: 0, removed: 0, unchanged: 0 });
      const loaded = await loadChat(store, { userId: USER, chatId: 'all' });
      t.deepEqual(loaded, messages);
      t.deepEqual(await convertToModelMessages(loaded, { ignoreIncompleteToolCalls: true }), await convertToModelMessages(messages, { ignoreIncompleteToolCalls: true }));
      t.deepEqual(await saveChat(store, { userId: USER, chatId: 'all', messages: loaded }), { appended: 0, replaced: 0, removed: 0, unchanged: 7 });
      t.is((await store.getSession(USER, 'all'))!.messageCount, 7);
    }),
  );

  test(
    title('a continuation (a client-side tool answered) updates the same assistant message in place'),
    withChat(async (t, store) => {
      const first = await turn(store, 'c2', [userMessage('Book a table?')], scripted([call('call-c', 'confirm', { question: 'Book it?' }), finish('tool-calls')]));
      const asked = first.end.messages;
      t.like(asked[1]!.parts[1], { type: 'tool-confirm', state: 'input-available' });
      const before = (await store.fetchChatPage(USER, 'c2', DEFAULT_AI_SDK_AGENT_ID)).items;

      // The client answers the tool (what addToolOutput does) and sends the chat back.
      const answered = json(asked);
      Object.assign(answered[1]!.parts[1]!, { state: 'output-available', output: 'yes' });
      const counted = counting(store);
      const second = await turn(counted.store, 'c2', answered, scripted([...text('t', 'Booked.'), finish()]));
      t.deepEqual(counted.calls, ['fetchChatPage', 'upsertMessages']);
      t.true(second.end.isContinuation);
      t.is(second.end.messages[1]!.id, asked[1]!.id);

      const loaded = await loadChat(store, { userId: USER, chatId: 'c2' });
      t.deepEqual(loaded, json(second.end.messages));
      t.deepEqual(loaded[1]!.parts.map((p) => p.type), ['step-start', 'tool-confirm', 'step-start', 'text']);
      const after = (await store.fetchChatPage(USER, 'c2', DEFAULT_AI_SDK_AGENT_ID)).items;
      t.deepEqual(
        after.map(({ id, seq, timestamp }) => ({ id, seq, timestamp })),
        before.map(({ id, seq, timestamp }) => ({ id, seq, timestamp })),
        'same ids, places and timestamps: replaced in place',
      );
    }),
  );

  test(
    title('a regenerate replaces the answer; a chat loaded with limit and saved back keeps its older history'),
    withChat(async (t, store) => {
      const one = await turn(store, 'c3', [userMessage('One?')], scripted([...text('t', '1'), finish()]));
      const two = await turn(store, 'c3', [...one.end.messages, userMessage('Two?')], scripted([...text('t', '2'), finish()]));
      const [u1, a1, u2, a2] = two.end.messages;

      // Regenerate: the client drops the last answer and asks again.
      const counted = counting(store);
      const again = await turn(counted.store, 'c3', [u1!, a1!, u2!], scripted([...text('t', 'two'), finish()]));
      t.deepEqual(counted.calls, ['fetchChatPage', 'upsertMessages']);
      const regenerated = again.end.messages[3]!;
      t.not(regenerated.id, a2!.id);
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'c3' }), json(again.end.messages));
      t.is(await store.getMessage(USER, 'c3', a2!.id), null);

      // The newest two only, regenerated again: the first exchange stays.
      const window = await loadChat(store, { userId: USER, chatId: 'c3', limit: 2 });
      t.deepEqual(window, json([u2!, regenerated]));
      const third = await turn(store, 'c3', window.slice(0, 1), scripted([...text('t', 'TWO'), finish()]));
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'c3' }), json([u1!, a1!, ...third.end.messages]));
    }),
  );

  test(
    title('an aborted stream is saved with what it produced, marked beside the UI metadata, never inside it'),
    withChat(async (t, store) => {
      const controller = new AbortController();
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const model = new MockLanguageModelV4({
        doStream: async () => ({
          stream: new ReadableStream<LanguageModelV4StreamPart>({
            async start(c) {
              c.enqueue({ type: 'stream-start', warnings: [] });
              c.enqueue({ type: 'text-start', id: 't' });
              c.enqueue({ type: 'text-delta', id: 't', delta: 'Half an ans' });
              await held; // the rest never reaches the UI: the request is aborted first
              c.enqueue({ type: 'text-delta', id: 't', delta: 'wer' });
              c.enqueue({ type: 'text-end', id: 't' });
              c.enqueue(finish());
              c.close();
            },
          }),
        }),
      });
      const aborted = await turn(store, 'c4', [userMessage('Tell me')], model, {
        abortSignal: controller.signal,
        metadata: { model: 'mock' },
        onChunk: (type) => {
          if (type === 'text-delta') {
            controller.abort();
            release();
          }
        },
      });
      t.true(aborted.end.isAborted);
      const entries = await loadChatEntries(store, { userId: USER, chatId: 'c4' });
      t.deepEqual(entries.map((e) => e.message), json(aborted.end.messages));
      t.deepEqual(entries.map((e) => e.aborted), [false, true]);
      t.deepEqual(entries[1]!.message.metadata, { model: 'mock' }, 'the UI metadata is what the SDK set');
      t.like(entries[1]!.message.parts[1], { type: 'text', text: 'Half an ans', state: 'streaming' });
      const stored = await store.getMessage(USER, 'c4', entries[1]!.message.id);
      t.deepEqual(stored!.metadata, { uiMetadata: { model: 'mock' }, aborted: true });

      // The next turn saves the aborted answer again unchanged: it keeps its mark; the new one has none.
      const next = await turn(store, 'c4', [...entries.map((e) => e.message), userMessage('Go on')], scripted([...text('t', 'Done.'), finish()]));
      const after = await loadChatEntries(store, { userId: USER, chatId: 'c4' });
      t.deepEqual(after.map((e) => e.message), json(next.end.messages));
      t.deepEqual(after.map((e) => e.aborted), [false, true, false, false]);
    }),
  );

  test(
    title('sending only the last message (load, append, validate, stream, save) costs 1 read to load and 1 read + 1 write to save'),
    withChat(async (t, base) => {
      const { store, calls } = counting(base);
      const client: UIMessage[] = [];
      const perTurn: string[][] = [];
      const answers = [
        scripted([call('w1', 'weather', { city: 'Paris' }), finish('tool-calls')], [...text('t', 'Sunny.'), finish()]),
        scripted([...text('t', 'You are welcome.'), finish()]),
        scripted([call('w2', 'weather', { city: 'Rome' }), finish('tool-calls')], [...text('t', 'Sunny too.'), finish()]),
      ];
      for (const [i, model] of answers.entries()) {
        const message = userMessage(`question ${i}`);
        client.push(message);
        // The route: the client sends { id, message } only.
        const previous = await loadChat(store, { userId: USER, chatId: 'c5', limit: 50 });
        const validated = await validateUIMessages({ messages: [...previous, message], tools });
        const loadCalls = calls.splice(0);
        const { client: response } = await turn(store, 'c5', validated, model);
        client.push(response!);
        perTurn.push([...loadCalls, '|', ...calls.splice(0)]);
      }
      t.deepEqual(perTurn, Array(3).fill(['fetchChatPage', '|', 'fetchChatPage', 'upsertMessages']));
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'c5' }), json(client), 'the store holds what the client holds');
    }),
  );

  // DynamoDB Local writes about 80 messages a second on this (shared, loaded) machine: 10,000 would
  // take two minutes. The read under test is one fetchChatPage whatever the chat's size.
  const big = backend.id === 'dynamodb' ? 1_000 : 10_000;
  test(
    title(`a chat of ${big.toLocaleString('en')} messages loads its newest 50 with limit in one read; a turn saved on them keeps the rest`),
    withChat(async (t, base) => {
      const messages: UIMessage[] = Array.from({ length: big }, (_, i) => ({
        id: `m${String(i).padStart(5, '0')}`,
        role: i % 2 === 0 ? 'user' : 'assistant',
        parts: [{ type: 'text', text: `message ${i}` }],
      }));
      t.like(await saveChat(base, { userId: USER, chatId: 'big', messages }), { appended: big });
      const { store, calls } = counting(base);
      const window = await loadChat(store, { userId: USER, chatId: 'big', limit: 50 });
      t.deepEqual(calls, ['fetchChatPage']);
      t.deepEqual(window, messages.slice(-50));

      calls.length = 0;
      const next = await turn(store, 'big', [...window, userMessage('And now?')], scripted([...text('t', 'Now this.'), finish()]));
      t.deepEqual(calls, ['fetchChatPage', 'upsertMessages']);
      t.is((await base.getSession(USER, 'big'))!.messageCount, big + 2);
      t.deepEqual(await loadChat(base, { userId: USER, chatId: 'big', limit: 52 }), json(next.end.messages));
      calls.length = 0;
      t.deepEqual(await loadChat(store, { userId: USER, chatId: 'big', limit: 1_500 }), json([...messages, ...next.end.messages.slice(-2)].slice(-1_500)));
      t.deepEqual(calls, ['fetchChatPage', 'fetchChatPage'], 'above 1,000: a page of 1,000 at a time');
      calls.length = 0;
      const whole = await loadChat(store, { userId: USER, chatId: 'big' });
      t.is(whole.length, big + 2);
      t.is(whole[0]!.id, 'm00000');
      t.is(calls.length, Math.ceil((big + 2) / 1_000));
    }),
  );

  test(
    title('concurrent writes: a save raced between its read and its write reads again; expectLastIds refuses a stale save'),
    withChat(async (t, base) => {
      const first = await turn(base, 'c6', [userMessage('Hi')], scripted([...text('t', 'Hello.'), finish()]));
      const loaded = await loadChat(base, { userId: USER, chatId: 'c6' });

      // Another request stores a message right between this save's read and its write (a real
      // write through the same store, placed there by the proxy).
      const calls: string[] = [];
      let raced = false;
      const racing = new Proxy(base, {
        get(target, property) {
          const value = Reflect.get(target, property, target) as unknown;
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            calls.push(String(property));
            if (property === 'upsertMessages' && !raced) {
              raced = true;
              await target.saveChatMessages(USER, 'c6', DEFAULT_AI_SDK_AGENT_ID, [{ id: 'other-tab', role: 'user', content: [{ type: 'text', text: 'from another tab' }] }]);
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
      const mine = [...loaded, userMessage('Mine')];
      t.like(await saveChat(racing, { userId: USER, chatId: 'c6', messages: mine }), { appended: 1, removed: 1 });
      t.deepEqual(calls, ['fetchChatPage', 'upsertMessages', 'fetchChatPage', 'upsertMessages']);
      t.deepEqual(await loadChat(base, { userId: USER, chatId: 'c6' }), json(mine), 'the save applied whole, over what it read the second time');

      // With expectLastIds, a save over a chat another request changed since it was loaded is refused.
      const stale = [...json(first.end.messages), userMessage('Stale')];
      await t.throwsAsync(saveChat(base, { userId: USER, chatId: 'c6', messages: stale, expectLastIds: [first.end.messages[1]!.id] }), {
        instanceOf: ConflictError,
        message: /expectLastIds/,
      });
      t.deepEqual(await loadChat(base, { userId: USER, chatId: 'c6' }), json(mine), 'nothing written');
      t.like(await saveChat(base, { userId: USER, chatId: 'c6', messages: [userMessage('Fresh')], expectLastIds: [mine.at(-1)!.id] }), { appended: 1 });
    }),
  );
}

test('bad input is refused with a ValidationError naming the field, before anything is read or written', async (t) => {
  await withStore(frameworkBackends[0]!, DEFAULTS, async (base) => {
    const { store, calls } = counting(base);
    const save = (messages: unknown[]) => saveChat(store, { userId: USER, chatId: 'bad', messages: messages as UIMessage[] });
    const ok = userMessage('fine');
    await t.throwsAsync(save([ok, { id: '', role: 'assistant', parts: [] }]), { instanceOf: ValidationError, message: /messages\[1\]\.id: is empty: pass generateMessageId/ });
    await t.throwsAsync(save([{ ...ok, metadata: { at: new Date(0) } }]), { instanceOf: ValidationError, message: /messages\[0\]\.metadata\.at: a Date/ });
    await t.throwsAsync(save([ok, ok]), { instanceOf: ValidationError, message: /messages\[1\]\.id: '.*' is given twice/ });
    await t.throwsAsync(save([{ ...ok, role: 'tool' }]), { instanceOf: ValidationError, message: /messages\[0\]\.role/ });
    await t.throwsAsync(save([{ ...ok, parts: [{ text: 'no type' }] }]), { instanceOf: ValidationError, message: /messages\[0\]\.parts\[0\]\.type/ });
    await t.throwsAsync(loadChat(store, { userId: USER, chatId: 'bad', limit: 0 }), { instanceOf: ValidationError, message: /options\.limit/ });
    t.deepEqual(calls, [], 'no store call was made');

    // A conversation written through convostore's own API reads as text parts; a tool message cannot.
    await base.saveChatMessages(USER, 'plain', DEFAULT_AI_SDK_AGENT_ID, [{ id: 'p1', role: 'user', content: 'hi' }]);
    t.deepEqual(await loadChat(base, { userId: USER, chatId: 'plain' }), [{ id: 'p1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }]);
    await base.saveChatMessages(USER, 'plain', DEFAULT_AI_SDK_AGENT_ID, [{ id: 'p2', role: 'tool', content: 'result' }]);
    await t.throwsAsync(loadChat(base, { userId: USER, chatId: 'plain' }), { instanceOf: ValidationError, message: /'p2'.*role 'tool'/ });
  });
});
