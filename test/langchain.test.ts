/**
 * convostore/langchain with the real @langchain/core: messages of every type round-trip through the
 * history class on every backend, on a store opened with convostore's defaults (consecutive roles
 * skipped), are visible through convostore's API (and plain SQL on the files), and
 * RunnableWithMessageHistory drives @langchain/core's own FakeChatModel over them. Histories the first
 * version of the adapter stored (every type but `ai` as `user`, on a `keep` store) still read back.
 */
import test from 'ava';
import {
  AIMessage,
  AIMessageChunk,
  ChatMessage,
  FunctionMessage,
  HumanMessage,
  RemoveMessage,
  SystemMessage,
  ToolMessage,
  type BaseMessage,
} from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeChatModel } from '@langchain/core/utils/testing';
import { ConvostoreChatStorage } from '../src/adapters/agent-squad.js';
import { ConvostoreChatMessageHistory, DEFAULT_LANGCHAIN_AGENT_ID } from '../src/adapters/langchain.js';
import { ValidationError, type MessageInput, type StoreOptions } from '../src/index.js';
import { byConversation, frameworkBackends, withStore } from './frameworks/backends.js';
import { tempDir, tempFile } from './helpers/tmp.js';

/** convostore's defaults: consecutive `user`/`assistant` messages are skipped unless a write says otherwise. */
const DEFAULTS = {} satisfies StoreOptions;
/** What the first version of the adapter required. */
const KEEP = { consecutiveRoles: 'keep', logger: null } satisfies StoreOptions;

/** One of every message type LangChain can rebuild, with the fields each one carries. */
function everyKind(): BaseMessage[] {
  return [
    new SystemMessage('You are terse.'),
    new HumanMessage({
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
      id: 'human-1',
      name: 'alice',
      // An `lc` key in user data: LangChain's own toDict()/mapStoredMessagesToChatMessages round trip
      // returns it wrapped in { __lc_escaped__ }; the history must not.
      additional_kwargs: { locale: 'fr-FR', trace: { lc: 7, note: 'user data' } },
    }),
    new AIMessage({
      content: '',
      id: 'ai-1',
      tool_calls: [
        { id: 'call-1', name: 'weather', args: { city: 'Paris' }, type: 'tool_call' },
        { id: 'call-2', name: 'weather', args: { city: 'Rome', days: [1, 2] }, type: 'tool_call' },
      ],
      invalid_tool_calls: [{ id: 'call-3', name: 'weather', args: '{"city":', error: 'truncated JSON', type: 'invalid_tool_call' }],
      usage_metadata: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
      response_metadata: { model_name: 'fake-1', finish_reason: 'tool_calls' },
      additional_kwargs: { refusal: null },
    }),
    // Two tool results in a row (parallel tool calls): two `tool` messages in convostore.
    new ToolMessage({
      content: 'sun, 24°C',
      tool_call_id: 'call-1',
      name: 'weather',
      artifact: { source: 'met-office', readings: [24, 23.5] },
      status: 'success',
    }),
    new ToolMessage({ content: [{ type: 'text', text: 'service down' }], tool_call_id: 'call-2', status: 'error' }),
    new AIMessage({
      content: [
        { type: 'text', text: 'Paris: sun.' },
        { type: 'text', text: 'Rome: unknown.' },
      ],
      response_metadata: { finish_reason: 'stop' },
    }),
    new FunctionMessage({ content: '{"ok":true}', name: 'legacy_fn' }),
    new ChatMessage({ content: 'Looks right.', role: 'critic' }),
    new ChatMessage({ content: 'Noted.', role: 'assistant' }),
    new AIMessageChunk({
      content: 'streamed',
      tool_call_chunks: [{ name: 'search', args: '{"q":"convostore"}', id: 'call-4', index: 0, type: 'tool_call_chunk' }],
    }),
    new HumanMessage('Ünïcödé 🎉 "quotes" \u2028 and a [bracket]'),
  ];
}

/** convostore role of each message of everyKind(). */
const EVERY_KIND_ROLES = ['system', 'user', 'assistant', 'tool', 'tool', 'assistant', 'tool', 'user', 'assistant', 'assistant', 'user'];
/** The class each one comes back as: chunks come back whole. */
const EVERY_KIND_CLASSES = [
  'SystemMessage',
  'HumanMessage',
  'AIMessage',
  'ToolMessage',
  'ToolMessage',
  'AIMessage',
  'FunctionMessage',
  'ChatMessage',
  'ChatMessage',
  'AIMessage',
  'HumanMessage',
];

/** Messages of each type whose role changed since the first version of the adapter. */
function firstVersionMessages(): BaseMessage[] {
  return [
    new SystemMessage('You are terse.'),
    new HumanMessage({ content: 'Weather in Paris and Rome?', id: 'human-1' }),
    new AIMessage({
      content: '',
      id: 'ai-1',
      tool_calls: [
        { id: 'call-1', name: 'weather', args: { city: 'Paris' }, type: 'tool_call' },
        { id: 'call-2', name: 'weather', args: { city: 'Rome' }, type: 'tool_call' },
      ],
    }),
    new ToolMessage({ content: 'sun, 24°C', tool_call_id: 'call-1', name: 'weather', artifact: { source: 'met-office' }, status: 'success' }),
    new ToolMessage({ content: [{ type: 'text', text: 'service down' }], tool_call_id: 'call-2', status: 'error' }),
    new AIMessage('Paris: sun. Rome: unknown.'),
    new FunctionMessage({ content: '{"ok":true}', name: 'legacy_fn' }),
    new ChatMessage({ content: 'Looks right.', role: 'critic' }),
    new ChatMessage({ content: 'Noted.', role: 'assistant' }),
  ];
}

/** firstVersionMessages() as the first version stored them (the output of its toConvostore, verbatim). */
const FIRST_VERSION_INPUTS: MessageInput[] = [
  { role: 'user', content: [{ text: 'You are terse.' }, { langchain: { v: 1, type: 'system', content: 'text', data: { additional_kwargs: {}, response_metadata: {} } } }] },
  { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }, { langchain: { v: 1, type: 'human', content: 'text', data: { id: 'human-1', additional_kwargs: {}, response_metadata: {} } } }] },
  {
    role: 'assistant',
    content: [
      { text: '' },
      {
        langchain: {
          v: 1,
          type: 'ai',
          content: 'text',
          data: {
            id: 'ai-1',
            tool_calls: [
              { id: 'call-1', name: 'weather', args: { city: 'Paris' }, type: 'tool_call' },
              { id: 'call-2', name: 'weather', args: { city: 'Rome' }, type: 'tool_call' },
            ],
            invalid_tool_calls: [],
            additional_kwargs: {},
            response_metadata: {},
          },
        },
      },
    ],
  },
  {
    role: 'user',
    content: [
      { text: 'sun, 24°C' },
      {
        langchain: {
          v: 1,
          type: 'tool',
          content: 'text',
          data: { tool_call_id: 'call-1', name: 'weather', artifact: { source: 'met-office' }, status: 'success', additional_kwargs: {}, response_metadata: {} },
        },
      },
    ],
  },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'service down' },
      { langchain: { v: 1, type: 'tool', content: 'parts', data: { tool_call_id: 'call-2', status: 'error', additional_kwargs: {}, response_metadata: {} } } },
    ],
  },
  {
    role: 'assistant',
    content: [
      { text: 'Paris: sun. Rome: unknown.' },
      { langchain: { v: 1, type: 'ai', content: 'text', data: { tool_calls: [], invalid_tool_calls: [], additional_kwargs: {}, response_metadata: {} } } },
    ],
  },
  { role: 'user', content: [{ text: '{"ok":true}' }, { langchain: { v: 1, type: 'function', content: 'text', data: { name: 'legacy_fn', additional_kwargs: {}, response_metadata: {} } } }] },
  { role: 'user', content: [{ text: 'Looks right.' }, { langchain: { v: 1, type: 'generic', content: 'text', data: { role: 'critic', additional_kwargs: {}, response_metadata: {} } } }] },
  { role: 'assistant', content: [{ text: 'Noted.' }, { langchain: { v: 1, type: 'generic', content: 'text', data: { role: 'assistant', additional_kwargs: {}, response_metadata: {} } } }] },
];

/** LangChain's own serialisation of a message, as JSON (which drops keys whose value is undefined). */
const serialised = (messages: BaseMessage[]) => messages.map((m) => JSON.parse(JSON.stringify(m.toDict())) as unknown);

for (const factory of frameworkBackends) {
  const title = (what: string) => `langchain on ${factory.label} › ${what}`;

  test(title('every message type round-trips through the history and shows in convostore'), (t) =>
    withStore(factory, DEFAULTS, async (store, backend) => {
      const written = everyKind();
      const history = new ConvostoreChatMessageHistory({ store, userId: 'u1', sessionId: 's1' });
      await history.addMessages(written);

      for (const reader of [history, new ConvostoreChatMessageHistory({ store, userId: 'u1', sessionId: 's1' })]) {
        const read = await reader.getMessages();
        t.deepEqual(read.map((m) => m.constructor.name), EVERY_KIND_CLASSES);
        t.deepEqual(serialised(read), serialised(written));
      }
      const [, human, ai, tool] = await history.getMessages();
      t.deepEqual((ai as AIMessage).tool_calls, (written[2] as AIMessage).tool_calls);
      t.deepEqual((ai as AIMessage).usage_metadata, { input_tokens: 12, output_tokens: 7, total_tokens: 19 });
      t.is((tool as ToolMessage).tool_call_id, 'call-1');
      t.deepEqual((tool as ToolMessage).artifact, { source: 'met-office', readings: [24, 23.5] });
      t.is((tool as ToolMessage).status, 'success');
      t.deepEqual(human!.content, (written[1] as HumanMessage).content);
      t.deepEqual(human!.additional_kwargs, { locale: 'fr-FR', trace: { lc: 7, note: 'user data' } });

      // Through convostore's own API: LangChain types map to roles, text sits in the first block.
      const stored = await store.fetchChat('u1', 's1', DEFAULT_LANGCHAIN_AGENT_ID);
      t.deepEqual(stored.map((m) => m.role), EVERY_KIND_ROLES);
      t.deepEqual(stored[3], {
        role: 'tool',
        content: [
          { text: 'sun, 24°C' },
          {
            langchain: {
              v: 1,
              type: 'tool',
              content: 'text',
              data: {
                tool_call_id: 'call-1',
                name: 'weather',
                artifact: { source: 'met-office', readings: [24, 23.5] },
                status: 'success',
                additional_kwargs: {},
                response_metadata: {},
              },
            },
          },
        ],
      });
      t.deepEqual(stored[1]!.content.slice(0, 2), (written[1] as HumanMessage).content as unknown);
      t.deepEqual(
        stored.map((m) => m.content[0]?.text),
        ['You are terse.', 'What is in this picture?', '', 'sun, 24°C', 'service down', 'Paris: sun.', '{"ok":true}', 'Looks right.', 'Noted.', 'streamed', 'Ünïcödé 🎉 "quotes" \u2028 and a [bracket]'],
      );
      const page = await store.fetchChatPage('u1', 's1', DEFAULT_LANGCHAIN_AGENT_ID, { order: 'oldest', limit: 4 });
      t.deepEqual(page.items.map(({ role, content }) => ({ role, content })), stored.slice(0, 4));

      if (backend.rawMessages) {
        const rows = (await backend.rawMessages()).sort(byConversation);
        t.deepEqual(
          rows.map(({ role, content }) => ({ role, content })),
          stored,
        );
        t.true(rows.every((r) => r.userId === 'u1' && r.sessionId === 's1' && r.agentId === 'langchain'));
        t.deepEqual(rows.map((r) => r.seq), written.map((_, i) => i + 1));
      }
    }),
  );

  test(title('addMessage one at a time stores what addMessages stores'), (t) =>
    withStore(factory, DEFAULTS, async (store) => {
      const one = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 'single' });
      for (const message of everyKind()) await one.addMessage(message);
      await one.addUserMessage('via addUserMessage');
      await one.addAIMessage('via addAIMessage');
      const batch = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 'batch' });
      await batch.addMessages([...everyKind(), new HumanMessage('via addUserMessage'), new AIMessage('via addAIMessage')]);
      await batch.addMessages([]);
      const a = await store.fetchChat('u', 'single', DEFAULT_LANGCHAIN_AGENT_ID);
      t.is(a.length, everyKind().length + 2);
      t.deepEqual(a, await store.fetchChat('u', 'batch', DEFAULT_LANGCHAIN_AGENT_ID));
    }),
  );

  test(title('a message that is not plain JSON, or not a chat message, is refused and nothing is written'), (t) =>
    withStore(factory, DEFAULTS, async (store) => {
      const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's' });
      await history.addMessage(new HumanMessage('first'));
      const dated = new ToolMessage({ content: 'x', tool_call_id: 'c1', artifact: { at: new Date(0) } });
      const error = await t.throwsAsync(history.addMessages([new AIMessage('lost'), dated]), { instanceOf: ValidationError });
      t.regex(error!.message, /messages\[1\]\.content\[1\]\.langchain\.data\.artifact\.at: a Date/);
      // LangChain's toDict() would have turned these bytes into { '0': 1, '1': 2 }; they are refused.
      const bytes = new HumanMessage({ content: [{ type: 'image', data: new Uint8Array([1, 2]), mimeType: 'image/png' }] });
      await t.throwsAsync(history.addMessages([bytes]), { instanceOf: ValidationError, message: /content\[0\]\.data: a Uint8Array/ });
      await t.throwsAsync(history.addMessage(new AIMessage({ content: 'x', additional_kwargs: { n: 1n } })), {
        instanceOf: ValidationError,
        message: /additional_kwargs\.n: the BigInt/,
      });
      await t.throwsAsync(history.addMessages([new AIMessage('lost'), new RemoveMessage({ id: 'x' })]), {
        instanceOf: ValidationError,
        message: /'remove' message cannot be stored/,
      });
      await t.throwsAsync(history.addMessages([{ role: 'user', content: 'not a BaseMessage' } as unknown as BaseMessage]), {
        instanceOf: ValidationError,
      });
      t.deepEqual(serialised(await history.getMessages()), serialised([new HumanMessage('first')]));
    }),
  );

  test(title('clear() removes this conversation only'), (t) =>
    withStore(factory, DEFAULTS, async (store) => {
      const target = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's1' });
      const otherAgent = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's1', agentId: 'critic' });
      const otherSession = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's2' });
      for (const h of [target, otherAgent, otherSession]) await h.addMessages([new HumanMessage(`hi ${h.agentId} ${h.sessionId}`), new AIMessage('hello')]);
      await target.clear();
      t.deepEqual(await target.getMessages(), []);
      t.is((await otherAgent.getMessages()).length, 2);
      t.is((await otherSession.getMessages()).length, 2);
      await target.addMessage(new HumanMessage('after clear'));
      t.deepEqual(serialised(await target.getMessages()), serialised([new HumanMessage('after clear')]));
    }),
  );

  test(title('RunnableWithMessageHistory drives FakeChatModel over the stored history'), (t) =>
    withStore(factory, DEFAULTS, async (store, backend) => {
      const prompt = ChatPromptTemplate.fromMessages([
        ['system', 'You are a parrot.'],
        new MessagesPlaceholder('history'),
        ['human', '{input}'],
      ]);
      const chain = new RunnableWithMessageHistory({
        runnable: prompt.pipe(new FakeChatModel({})),
        getMessageHistory: (sessionId: string) => new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId }),
        inputMessagesKey: 'input',
        historyMessagesKey: 'history',
      });
      // FakeChatModel answers with the contents of every message it was given, one per line, so
      // each answer shows exactly what history reached the model.
      const first = await chain.invoke({ input: 'hello' }, { configurable: { sessionId: 's1' } });
      t.is(first.content, 'You are a parrot.\nhello');
      const other = await chain.invoke({ input: 'elsewhere' }, { configurable: { sessionId: 's2' } });
      t.is(other.content, 'You are a parrot.\nelsewhere');
      const second = await chain.invoke({ input: 'again' }, { configurable: { sessionId: 's1' } });
      t.is(second.content, 'You are a parrot.\nhello\nYou are a parrot.\nhello\nagain');

      const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's1' });
      const messages = await history.getMessages();
      t.deepEqual(messages.map((m) => [m.type, m.content]), [
        ['human', 'hello'],
        ['ai', 'You are a parrot.\nhello'],
        ['human', 'again'],
        ['ai', 'You are a parrot.\nhello\nYou are a parrot.\nhello\nagain'],
      ]);
      t.deepEqual(serialised(messages.slice(1, 2)), serialised([first]));
      t.deepEqual((await store.fetchChat('u', 's2', DEFAULT_LANGCHAIN_AGENT_ID)).map((m) => [m.role, m.content[0]?.text]), [
        ['user', 'elsewhere'],
        ['assistant', 'You are a parrot.\nelsewhere'],
      ]);

      // Without historyMessagesKey the runnable gets history + input as one list, and the history
      // class stores only the new messages.
      const bare = new RunnableWithMessageHistory({
        runnable: new FakeChatModel({}),
        getMessageHistory: (sessionId: string) => new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId, agentId: 'bare' }),
      });
      await bare.invoke([new HumanMessage('one')], { configurable: { sessionId: 's1' } });
      const reply = await bare.invoke([new HumanMessage('two')], { configurable: { sessionId: 's1' } });
      t.is(reply.content, 'one\none\ntwo');
      t.deepEqual((await store.fetchChat('u', 's1', 'bare')).map((m) => [m.role, m.content[0]?.text]), [
        ['user', 'one'],
        ['assistant', 'one'],
        ['user', 'two'],
        ['assistant', 'one\none\ntwo'],
      ]);

      if (backend.rawMessages) {
        const rows = (await backend.rawMessages()).sort(byConversation).filter((r) => r.sessionId === 's1' && r.agentId === 'langchain');
        t.deepEqual(rows.map((r) => (r.content as Array<{ text?: string }>)[0]?.text), messages.map((m) => m.content));
      }
    }),
  );

  test(title('Agent Squad and LangChain read each other’s messages in one conversation'), (t) =>
    withStore(factory, DEFAULTS, async (store) => {
      // Written the Agent Squad way: text and a non-text block, no LangChain block.
      await store.saveChatMessages('u', 's', 'shared', [
        { role: 'user', content: [{ text: 'look' }, { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
        { role: 'assistant', content: 'a cat' },
        { role: 'user', content: [] },
      ]);
      const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's', agentId: 'shared' });
      const read = await history.getMessages();
      t.deepEqual(serialised(read), [
        {
          type: 'human',
          data: {
            content: 'look',
            additional_kwargs: { convostore_content: [{ text: 'look' }, { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
            response_metadata: {},
          },
        },
        { type: 'ai', data: { content: 'a cat', additional_kwargs: {}, response_metadata: {}, tool_calls: [], invalid_tool_calls: [] } },
        { type: 'human', data: { content: '', additional_kwargs: {}, response_metadata: {} } },
      ]);
      // Other writers' system and tool messages (the roles convostore v2 added).
      const toolResult = { toolResult: { toolUseId: 't1', content: [{ json: { temp: 24 } }] } };
      await store.upsertMessages('u', 's', 'foreign', [
        { role: 'system', content: 'be brief' },
        { role: 'tool', content: [toolResult] },
      ]);
      const foreign = await new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's', agentId: 'foreign' }).getMessages();
      t.deepEqual(serialised(foreign), [
        { type: 'system', data: { content: 'be brief', additional_kwargs: {}, response_metadata: {} } },
        { type: 'human', data: { content: '', additional_kwargs: { convostore_role: 'tool', convostore_content: [toolResult] }, response_metadata: {} } },
      ]);

      // Written the LangChain way, read by Agent Squad's storage: the text is in the first block.
      await history.addMessages([new AIMessage({ content: 'a tabby', tool_calls: [{ id: 'c', name: 'zoom', args: {} }] })]);
      const squad = new ConvostoreChatStorage(store);
      const last = (await squad.fetchChat('u', 's', 'shared')).at(-1)!;
      t.is(String(last.role), 'assistant');
      t.is(last.content![0].text, 'a tabby');
      t.is((await squad.fetchAllChats('u', 's')).at(-1)!.content![0].text, '[shared] a tabby');
    }),
  );

  test(title('runs of one role are all stored on a default store, which still skips its own repeats'), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's' });
      const turn = [
        new SystemMessage('rules'),
        new SystemMessage('more rules'),
        new HumanMessage('first try'),
        new HumanMessage('second try'),
        new AIMessage({ content: '', tool_calls: [{ id: 'c1', name: 'f', args: {} }] }),
        new AIMessage({ content: '', tool_calls: [{ id: 'c2', name: 'g', args: {} }] }),
        new ToolMessage({ content: 'one', tool_call_id: 'c1' }),
        new ToolMessage({ content: 'two', tool_call_id: 'c2' }),
        new AIMessage('done'),
      ];
      await history.addMessages(turn.slice(0, 5));
      for (const message of turn.slice(5)) await history.addMessage(message);
      t.deepEqual(serialised(await history.getMessages()), serialised(turn));
      t.deepEqual(
        (await store.fetchChat('u', 's', DEFAULT_LANGCHAIN_AGENT_ID)).map((m) => m.role),
        ['system', 'system', 'user', 'user', 'assistant', 'assistant', 'tool', 'tool', 'assistant'],
      );
      // The history's writes name their own policy; the store's stays what it was opened with.
      t.is(store.consecutiveRoles, 'skip');
      t.is((await store.saveChatMessage('u', 's', DEFAULT_LANGCHAIN_AGENT_ID, { role: 'assistant', content: 'repeat' })).length, turn.length);
    }),
  );

  test(title('a history stored by the first version (system, tool, function as user) reads back equal'), (t) =>
    withStore(factory, KEEP, async (store) => {
      // What the first version wrote: saveChatMessages of these inputs on a `keep` store. Produced by
      // its toConvostore from the messages of firstVersionMessages(), kept here as they were stored.
      await store.saveChatMessages('u', 'old', DEFAULT_LANGCHAIN_AGENT_ID, FIRST_VERSION_INPUTS);
      const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 'old' });
      const read = await history.getMessages();
      t.deepEqual(read.map((m) => m.constructor.name), firstVersionMessages().map((m) => m.constructor.name));
      t.deepEqual(serialised(read), serialised(firstVersionMessages()));

      // Carried on with this version: old and new encodings side by side in one conversation.
      const more = [new SystemMessage('New rules.'), new ToolMessage({ content: 'late', tool_call_id: 'call-9' })];
      await history.addMessages(more);
      t.deepEqual(serialised(await history.getMessages()), serialised([...firstVersionMessages(), ...more]));
      const roles = (await store.fetchChat('u', 'old', DEFAULT_LANGCHAIN_AGENT_ID)).map((m) => m.role);
      t.deepEqual(roles, [...FIRST_VERSION_INPUTS.map((m) => m.role), 'system', 'tool']);
    }),
  );
}

test('langchain › a store opened with skip or throw, or a URL with skip, keeps every LangChain message', async (t) => {
  const runs = () => [new HumanMessage('one'), new HumanMessage('one, again'), new AIMessage('a'), new AIMessage('b')];
  for (const consecutiveRoles of ['skip', 'throw'] as const) {
    const store = await (await frameworkBackends[0]!.create()).open({ consecutiveRoles, logger: null });
    const history = new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: consecutiveRoles });
    await history.addMessages(runs());
    for (const message of runs()) await history.addMessage(message);
    t.deepEqual(serialised(await history.getMessages()), serialised([...runs(), ...runs()]), consecutiveRoles);
    await store.close();
  }
  const fromUrl = new ConvostoreChatMessageHistory({ url: 'memory:', storeOptions: { consecutiveRoles: 'skip' }, userId: 'u', sessionId: 's' });
  await fromUrl.addMessages(runs());
  t.is((await fromUrl.store()).consecutiveRoles, 'skip');
  t.deepEqual(serialised(await fromUrl.getMessages()), serialised(runs()));
  await fromUrl.close();
});

test('langchain › ids and arguments are checked when the history is made', async (t) => {
  const store = await frameworkBackends[0]!.create().then((b) => b.open(DEFAULTS));
  t.throws(() => new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: '' }), { instanceOf: ValidationError, message: /sessionId/ });
  t.throws(() => new ConvostoreChatMessageHistory({ store, userId: 'u\0', sessionId: 's' }), { instanceOf: ValidationError, message: /userId/ });
  t.throws(() => new ConvostoreChatMessageHistory({ store, userId: 'u', sessionId: 's', agentId: 'x'.repeat(257) }), {
    instanceOf: ValidationError,
    message: /agentId/,
  });
  t.throws(() => new ConvostoreChatMessageHistory({ store, url: 'memory:', userId: 'u', sessionId: 's' }), {
    instanceOf: ValidationError,
    message: /either store or url/,
  });
  t.throws(() => new ConvostoreChatMessageHistory(undefined as never), { instanceOf: ValidationError });
  // Ids that would collide if joined with a separator stay apart.
  await new ConvostoreChatMessageHistory({ store, userId: 'a#b', sessionId: 'c' }).addUserMessage('one');
  t.deepEqual(await new ConvostoreChatMessageHistory({ store, userId: 'a', sessionId: 'b#c' }).getMessages(), []);
  await store.close();
});

test('langchain › a URL history opens its store on first use (with the options given); close() releases it', async (t) => {
  const url = `file:${tempFile(tempDir('langchain-url'))}`;
  const first = new ConvostoreChatMessageHistory({ url, storeOptions: { logger: null }, userId: 'u', sessionId: 's' });
  await first.addMessages([new SystemMessage('rules'), new HumanMessage('hi')]);
  const store = await first.store();
  t.is(store.backend, 'libsql');
  t.is(store.consecutiveRoles, 'skip');
  await first.close();
  t.true(store.closed);

  const again = new ConvostoreChatMessageHistory({ url, userId: 'u', sessionId: 's' });
  t.deepEqual(serialised(await again.getMessages()), serialised([new SystemMessage('rules'), new HumanMessage('hi')]));
  await again.close();
});
