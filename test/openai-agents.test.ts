/**
 * convostore/openai-agents with the real @openai/agents-core: the SDK's own `run()` drives its
 * `ScriptedModel` (no network) over a `ConvostoreSession` on every backend, and after each script the
 * session holds, item by item, what the SDK's own `MemorySession` holds after the same script: a turn
 * with parallel function calls (after reasoning) and their results, a streamed second turn, a tool
 * approval resumed from its serialised `RunState`, a model failure mid-run. Every `AgentInputItem` type
 * round-trips deep-equal as one message with one content block; getItems(limit), popItem,
 * clearSession and applyHistoryTransaction (retries, conflicts) behave as MemorySession's do.
 * Store calls are counted per run (t.log) and the reads and writes of a turn asserted.
 */
import test, { type ExecutionContext } from 'ava';
import { Agent, MemorySession, RunState, protocol, run, setTracingDisabled, tool, type AgentInputItem, type Session } from '@openai/agents-core';
import { ScriptedModel, assistantMessage, functionCall, modelError, type ScriptedModelInput } from '@openai/agents-core/testing';
import { z } from 'zod';
import { BLOCK_KEY, ConvostoreSession, DEFAULT_OPENAI_AGENTS_AGENT_ID } from '../src/adapters/openai-agents.js';
import { ConflictError, ValidationError, type ChatStore } from '../src/index.js';
import { frameworkBackends, withStore } from './frameworks/backends.js';

setTracingDisabled(true);

const USER = 'ada';

/** Store methods called through a proxy, by name: what one run costs in store calls. */
function counted(store: ChatStore): { store: ChatStore; calls: Map<string, number>; reset(): Record<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        calls.set(key, (calls.get(key) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: proxy,
    calls,
    reset() {
      const snapshot = Object.fromEntries(calls);
      calls.clear();
      return snapshot;
    },
  };
}

const weather = tool({
  name: 'weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});
const refund = tool({
  name: 'refund',
  description: 'Refunds an order; a human approves it first',
  parameters: z.object({ order: z.string() }),
  needsApproval: true,
  execute: async ({ order }) => `refunded ${order}`,
});

const reasoning = (text: string): AgentInputItem => ({ type: 'reasoning', id: 'rs_1', content: [{ type: 'input_text', text }] });

/** Each scenario's model steps, made fresh for each session so both sessions see the same script. */
const SCRIPTS = {
  toolTurn: (): ScriptedModelInput[] => [
    // Reasoning, then two parallel calls: three assistant items in a row, then two tool results.
    [reasoning('Two cities: call the tool twice.'), functionCall('weather', { city: 'Paris' }, { callId: 'call-1' }), functionCall('weather', { city: 'Rome' }, { callId: 'call-2' })],
    [assistantMessage('Paris and Rome are sunny.')],
    // The second turn, streamed.
    [assistantMessage('You asked about Paris and Rome.')],
  ],
  approval: (): ScriptedModelInput[] => [[functionCall('refund', { order: 'A-17' }, { callId: 'call-r' })], [assistantMessage('Order A-17 is refunded.')]],
  failure: (): ScriptedModelInput[] => [
    [functionCall('weather', { city: 'Oslo' }, { callId: 'call-o' })],
    modelError(new Error('model unavailable (scripted)')),
    [assistantMessage('Oslo is sunny.')],
  ],
};

type Scenario = (session: Session, model: ScriptedModel, log: (label: string) => void) => Promise<void>;

/** The same scenario on MemorySession and on a ConvostoreSession; their items must be deep-equal. */
async function sameAsMemorySession(t: ExecutionContext, store: ChatStore, script: () => ScriptedModelInput[], scenario: Scenario): Promise<AgentInputItem[]> {
  const reference = new MemorySession();
  await scenario(reference, new ScriptedModel(script()), () => {});
  const meter = counted(store);
  const session = new ConvostoreSession({ store: meter.store, userId: USER, sessionId: 'chat-1' });
  await scenario(session, new ScriptedModel(script()), (label) => t.log(`${label}: ${JSON.stringify(meter.reset())}`));
  const expected = await reference.getItems();
  const items = await session.getItems();
  t.is(items.length, expected.length);
  items.forEach((item, i) => t.deepEqual(item, expected[i]!, `item ${i} (${expected[i]!.type ?? 'message'})`));
  // A second session object on the same ids reads the same history: it is in the store, not the object.
  t.deepEqual(await new ConvostoreSession({ store, userId: USER, sessionId: 'chat-1' }).getItems(), expected);
  return items;
}

/** The stored messages of the scenario's conversation: role and one block per item. */
async function storedRoles(store: ChatStore): Promise<string[]> {
  const messages = await store.fetchChat(USER, 'chat-1', DEFAULT_OPENAI_AGENTS_AGENT_ID);
  for (const m of messages) {
    if (m.content.length !== 1 || !(BLOCK_KEY in m.content[0]!)) throw new Error(`not one ${BLOCK_KEY} block: ${JSON.stringify(m)}`);
  }
  return messages.map((m) => m.role);
}

/** One of every AgentInputItem type, with the optional fields each can carry (checked against the SDK's schema). */
function everyItem(): AgentInputItem[] {
  const items: AgentInputItem[] = [
    { type: 'message', role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'A string message without a type.' },
    {
      type: 'message',
      role: 'user',
      id: 'msg_u1',
      content: [
        { type: 'input_text', text: 'What is in this picture? ☀️', promptCacheBreakpoint: { mode: 'explicit' } },
        { type: 'input_image', image: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
        { type: 'input_file', file: { id: 'file_1' }, filename: 'a.pdf' },
        { type: 'audio', audio: 'UklGRg==', format: 'wav', transcript: null },
      ],
      providerData: { locale: 'fr-FR', nested: { lc: 7, list: [1, 'two', null] } },
    },
    {
      type: 'message',
      role: 'assistant',
      id: 'msg_a1',
      status: 'completed',
      phase: 'commentary',
      content: [
        { type: 'output_text', text: 'Looking.' },
        { type: 'refusal', refusal: 'Not that.' },
        { type: 'audio', audio: { id: 'audio_1' } },
        { type: 'image', image: 'iVBORw0KGgo=' },
      ],
    },
    { type: 'reasoning', id: 'rs_1', content: [{ type: 'input_text', text: 'Think.' }], rawContent: [{ type: 'reasoning_text', text: 'raw thought' }], providerData: { encrypted_content: 'xyz' } },
    { type: 'function_call', id: 'fc_1', callId: 'call-1', name: 'weather', namespace: 'tools', status: 'completed', arguments: '{"city":"Paris"}', caller: { type: 'direct' } },
    { type: 'function_call', callId: 'call-2', name: 'weather', arguments: '{"city":"Rome"}', providerData: undefined, namespace: undefined },
    // Parallel results: two `tool` messages in a row; bytes in a tool output image and file.
    { type: 'function_call_result', callId: 'call-1', name: 'weather', status: 'completed', output: { type: 'image', image: { data: new Uint8Array([0, 1, 254, 255]), mediaType: 'image/png' } } },
    {
      type: 'function_call_result',
      callId: 'call-2',
      name: 'weather',
      status: 'incomplete',
      output: [
        { type: 'input_text', text: 'partly' },
        { type: 'input_image', image: { id: 'file_img' } },
        { type: 'input_file', file: 'https://example.com/a.txt' },
      ],
    },
    { type: 'function_call_result', callId: 'call-3', name: 'files', status: 'completed', output: { type: 'file', file: { data: new Uint8Array([104, 105]), mediaType: 'text/plain', filename: 'hi.txt' } } },
    { type: 'hosted_tool_call', id: 'ws_1', name: 'web_search_call', arguments: '{"q":"x"}', status: 'completed', output: 'results', providerData: { action: { type: 'search' } }, caller: { type: 'program', callerId: 'prog-1' } },
    { type: 'computer_call', id: 'cu_1', callId: 'cc-1', status: 'completed', action: { type: 'click', x: 10, y: 20, button: 'left' } },
    { type: 'computer_call', callId: 'cc-2', status: 'in_progress', actions: [{ type: 'keypress', keys: ['CTRL', 'C'] }, { type: 'drag', path: [{ x: 1, y: 2 }] }] },
    { type: 'computer_call_result', callId: 'cc-1', output: { type: 'computer_screenshot', data: 'data:image/png;base64,AAAA' } },
    { type: 'shell_call', callId: 'sh-1', status: 'completed', action: { commands: ['ls -la'], timeoutMs: 1000, maxOutputLength: 4096 } },
    { type: 'shell_call_output', callId: 'sh-1', maxOutputLength: 4096, output: [{ stdout: 'a\nb\n', stderr: '', outcome: { type: 'exit', exitCode: 0 } }, { stdout: '', stderr: 'slow', outcome: { type: 'timeout' } }] },
    { type: 'apply_patch_call', callId: 'ap-1', status: 'completed', operation: { type: 'update_file', path: 'a.ts', diff: '@@ -1 +1 @@\n-a\n+b', moveTo: 'b.ts' } },
    { type: 'apply_patch_call_output', callId: 'ap-1', status: 'failed', output: 'conflict' },
    { type: 'tool_search_call', id: 'ts_1', callId: 'ts-1', execution: 'client', arguments: { query: 'billing', paths: ['crm'] }, status: 'completed' },
    { type: 'tool_search_output', callId: 'ts-1', execution: 'client', status: 'completed', tools: [{ type: 'tool_reference', functionName: 'refund' }], toolSearchAgentName: 'support', toolSearchMcpToolNames: ['crm.refund'] },
    { type: 'program', id: 'pg_1', callId: 'prog-1', code: 'await tools.weather({ city: "Paris" })', fingerprint: 'sha256:abc' },
    { type: 'program_output', callId: 'prog-1', output: 'sunny', status: 'completed' },
    { type: 'compaction', id: 'cmp_1', encrypted_content: 'gAAAA…', created_by: 'compactor' },
    { type: 'unknown', id: 'u_1', providerData: { type: 'future_item', payload: { deep: [true, false] } } },
  ];
  for (const [i, item] of items.entries()) {
    const parsed = protocol.ModelItem.safeParse(item);
    if (!parsed.success) throw new Error(`everyItem()[${i}] is not a valid AgentInputItem: ${parsed.error.message}`);
  }
  return items;
}

/** The convostore role each of everyItem() is stored with. */
const EVERY_ITEM_ROLES = [
  'system',
  'user',
  'user',
  'assistant',
  'assistant', // reasoning
  'assistant', // function_call
  'assistant',
  'tool', // function_call_result
  'tool',
  'tool',
  'assistant', // hosted_tool_call
  'assistant', // computer_call
  'assistant',
  'tool', // computer_call_result
  'assistant', // shell_call
  'tool',
  'assistant', // apply_patch_call
  'tool',
  'assistant', // tool_search_call
  'tool',
  'assistant', // program
  'tool',
  'assistant', // compaction
  'assistant', // unknown
];

for (const backend of frameworkBackends) {
  const title = (what: string) => `openai-agents on ${backend.label} › ${what}`;

  test(title('run(): a turn with reasoning, two parallel function calls and their results, then a streamed turn, stored as MemorySession stores them'), (t) =>
    withStore(backend, {}, async (store) => {
      const items = await sameAsMemorySession(t, store, SCRIPTS.toolTurn, async (session, model, log) => {
        const agent = new Agent({ name: 'weather', model, tools: [weather] });
        const first = await run(agent, 'Weather in Paris and Rome?', { session });
        t.is(first.finalOutput, 'Paris and Rome are sunny.');
        log('turn 1 (2 model calls, 2 tool calls)');
        const second = await run(agent, 'What did I ask?', { session, stream: true });
        for await (const event of second) void event;
        await second.completed;
        t.is(second.finalOutput, 'You asked about Paris and Rome.');
        log('turn 2 (streamed)');
        model.assertComplete();
      });
      t.deepEqual(
        items.map((i) => i.type),
        ['message', 'reasoning', 'function_call', 'function_call', 'function_call_result', 'function_call_result', 'message', 'message', 'message'],
      );
      // Repeated roles kept (a default store skips them), whatever the store's own policy.
      t.deepEqual(await storedRoles(store), ['user', 'assistant', 'assistant', 'assistant', 'tool', 'tool', 'assistant', 'user', 'assistant']);
    }),
  );

  test(title('run(): a tool approval, resumed from its serialised RunState, stored as MemorySession stores it'), (t) =>
    withStore(backend, {}, async (store) => {
      const items = await sameAsMemorySession(t, store, SCRIPTS.approval, async (session, model, log) => {
        const agent = new Agent({ name: 'support', model, tools: [refund] });
        const paused = await run(agent, 'Refund order A-17', { session });
        t.is(paused.interruptions.length, 1);
        log('turn paused for approval');
        // As an app does between two requests: the state goes to a string, and back.
        const state = await RunState.fromString(agent, paused.state.toString());
        state.approve(state.getInterruptions()[0]!);
        const resumed = await run(agent, state, { session });
        t.is(resumed.finalOutput, 'Order A-17 is refunded.');
        log('turn resumed after approval');
      });
      t.deepEqual(
        items.map((i) => i.type),
        ['message', 'function_call', 'function_call_result', 'message'],
      );
      t.like(items[2], { callId: 'call-r', output: { type: 'text', text: 'refunded A-17' } });
    }),
  );

  test(title('run(): a model failure mid-run leaves what MemorySession keeps, and the next run carries on from it'), (t) =>
    withStore(backend, {}, async (store) => {
      await sameAsMemorySession(t, store, SCRIPTS.failure, async (session, model, log) => {
        const agent = new Agent({ name: 'weather', model, tools: [weather] });
        const error = await t.throwsAsync(run(agent, 'Weather in Oslo?', { session }));
        t.regex(error.message, /model unavailable \(scripted\)/);
        log('failed turn');
        const retried = await run(agent, 'Try again', { session });
        t.is(retried.finalOutput, 'Oslo is sunny.');
        log('next turn');
      });
      t.true((await storedRoles(store)).length > 0);
    }),
  );

  test(title('every AgentInputItem type round-trips deep-equal, one message and one content block each, with its role'), (t) =>
    withStore(backend, {}, async (store) => {
      const session = new ConvostoreSession({ store, userId: USER, sessionId: 'chat-1' });
      const reference = new MemorySession();
      const written = everyItem();
      await session.addItems(written);
      await reference.addItems(everyItem());
      const read = await session.getItems();
      t.deepEqual(read, await reference.getItems());
      t.deepEqual(read, everyItem());
      const result = read[7] as { output: { image: { data: unknown } } };
      t.true(result.output.image.data instanceof Uint8Array, 'bytes come back as a Uint8Array');
      const call = read[6]!;
      t.true('providerData' in call && call.providerData === undefined, 'a key set to undefined comes back as such');
      t.deepEqual(await storedRoles(store), EVERY_ITEM_ROLES);
      const page = await store.fetchChatPage(USER, 'chat-1', DEFAULT_OPENAI_AGENTS_AGENT_ID, { order: 'oldest', limit: 100 });
      t.is(page.items.length, written.length, 'one stored message per item');
    }),
  );

  test(title('getItems(limit) is the newest N oldest first, in one read; popItem removes and returns the newest; clearSession only this conversation'), (t) =>
    withStore(backend, {}, async (store) => {
      const meter = counted(store);
      const session = new ConvostoreSession({ store: meter.store, userId: USER, sessionId: 'chat-1' });
      const other = new ConvostoreSession({ store, userId: USER, sessionId: 'chat-1', agentId: 'other-agent' });
      const items = everyItem();
      await session.addItems(items);
      await other.addItems(items.slice(0, 2));
      t.deepEqual(meter.reset(), { upsertMessages: 1 }, 'addItems is one write');
      t.deepEqual(await session.getItems(3), items.slice(-3));
      t.deepEqual(await session.getItems(1), items.slice(-1));
      t.deepEqual(await session.getItems(1000), items);
      t.deepEqual(await session.getItems(0), []);
      t.deepEqual(await session.getItems(-2), []);
      t.deepEqual(meter.reset(), { fetchChatPage: 3 }, 'one read each; 0 and less read nothing');
      await t.throwsAsync(session.getItems(1.5), { instanceOf: ValidationError });

      t.deepEqual(await session.popItem(), items.at(-1));
      t.deepEqual(await session.popItem(), items.at(-2));
      t.deepEqual(meter.reset(), { fetchChatPage: 2, upsertMessages: 2 }, 'a pop is a read and a conditional delete');
      t.deepEqual(await session.getItems(), items.slice(0, -2));

      // Two concurrent pops never return the same item.
      const [a, b] = await Promise.all([session.popItem(), session.popItem()]);
      t.deepEqual(new Set([JSON.stringify(a), JSON.stringify(b)]).size, 2);
      t.is((await session.getItems()).length, items.length - 4);

      await session.clearSession();
      t.deepEqual(await session.getItems(), []);
      t.is(await session.popItem(), undefined);
      t.deepEqual(await other.getItems(), items.slice(0, 2), "the session's other agent keeps its items");
    }),
  );

  test(title('applyHistoryTransaction: append and replace_suffix are atomic, a retried operationId stores nothing twice, a conflicting one changes nothing'), (t) =>
    withStore(backend, {}, async (store) => {
      const session = new ConvostoreSession({ store, userId: USER, sessionId: 'chat-1' });
      const reference = new MemorySession();
      const items = everyItem();
      const both = async (args: Parameters<MemorySession['applyHistoryTransaction']>[0]) => {
        await reference.applyHistoryTransaction(structuredClone(args));
        await session.applyHistoryTransaction(args);
        t.deepEqual(await session.getItems(), await reference.getItems());
      };
      await both({ operationId: 'op-1', transaction: { type: 'append_items', items: items.slice(0, 4) } });
      await both({ operationId: 'op-1', transaction: { type: 'append_items', items: items.slice(0, 4) } });
      t.is((await session.getItems()).length, 4, 'the retry stored nothing');
      await both({ operationId: 'op-2', transaction: { type: 'replace_suffix', expectedSuffix: items.slice(2, 4), replacement: items.slice(7, 10) } });
      await both({ operationId: 'op-2', transaction: { type: 'replace_suffix', expectedSuffix: items.slice(2, 4), replacement: items.slice(7, 10) } });
      t.deepEqual(await session.getItems(), [...items.slice(0, 2), ...items.slice(7, 10)]);
      // An empty expected suffix appends.
      await both({ operationId: 'op-3', transaction: { type: 'replace_suffix', expectedSuffix: [], replacement: [items[0]!] } });

      const before = await session.getItems();
      // The same operationId with another transaction: refused, nothing written.
      await t.throwsAsync(session.applyHistoryTransaction({ operationId: 'op-1', transaction: { type: 'append_items', items: items.slice(5, 6) } }), { instanceOf: ConflictError });
      // A suffix that no longer matches: refused, nothing written.
      await t.throwsAsync(
        session.applyHistoryTransaction({ operationId: 'op-4', transaction: { type: 'replace_suffix', expectedSuffix: items.slice(0, 1).concat(items.slice(1, 2)), replacement: [] } }),
        { instanceOf: ConflictError },
      );
      // Not an item, not a transaction: refused before anything is written.
      await t.throwsAsync(session.applyHistoryTransaction({ operationId: ' ', transaction: { type: 'append_items', items: [] } }), { instanceOf: ValidationError });
      await t.throwsAsync(session.applyHistoryTransaction({ operationId: 'op-5', transaction: { type: 'append_items', items: [{ type: 'function_call' } as unknown as AgentInputItem] } }), { instanceOf: ValidationError });
      await t.throwsAsync(session.applyHistoryTransaction({ operationId: 'op-6', transaction: { type: 'swap' } as never }), { instanceOf: ValidationError });
      t.deepEqual(await session.getItems(), before);

      // Two concurrent transactions replacing the same suffix: exactly one wins, the other conflicts.
      const suffix = before.slice(-1);
      const results = await Promise.allSettled([
        session.applyHistoryTransaction({ operationId: 'op-a', transaction: { type: 'replace_suffix', expectedSuffix: suffix, replacement: [items[10]!] } }),
        session.applyHistoryTransaction({ operationId: 'op-b', transaction: { type: 'replace_suffix', expectedSuffix: suffix, replacement: [items[11]!, items[12]!] } }),
      ]);
      t.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected')!;
      t.true(rejected.reason instanceof ConflictError, String(rejected.reason));
      const winner = results[0]!.status === 'fulfilled' ? [items[10]!] : [items[11]!, items[12]!];
      t.deepEqual(await session.getItems(), [...before.slice(0, -1), ...winner]);

      // The same operation sent twice at once (a retry racing its first attempt): stored once.
      const op = { operationId: 'op-c', transaction: { type: 'append_items' as const, items: items.slice(13, 15) } };
      await Promise.all([session.applyHistoryTransaction(op), session.applyHistoryTransaction(structuredClone(op))]);
      t.deepEqual((await session.getItems()).slice(-3), [...winner.slice(-1), ...items.slice(13, 15)]);
    }),
  );

  test(title('addItems: bad items are refused with a ValidationError naming the path, and nothing of the batch is written'), (t) =>
    withStore(backend, {}, async (store) => {
      const session = new ConvostoreSession({ store, userId: USER, sessionId: 'chat-1' });
      const good: AgentInputItem = { role: 'user', content: 'hi' };
      const cases: [unknown, RegExp][] = [
        [{ type: 'message', role: 'tool', content: 'x' }, /items\[1\]\.role/],
        [{ type: 'function_call_result', callId: 'c', name: 'n', status: 'completed', output: { at: new Date(0) } }, /items\[1\]\.output\.at: a Date is not JSON data/],
        [{ type: 'function_call', callId: 'c', name: 'n', arguments: '{}', providerData: { n: Number.NaN } }, /items\[1\]\.providerData\.n: NaN is not a finite number/],
      ];
      for (const [bad, message] of cases) {
        const error = await t.throwsAsync(session.addItems([good, bad as AgentInputItem]), { instanceOf: ValidationError });
        t.regex(error.message, message);
      }
      await t.throwsAsync(session.addItems('hi' as never), { instanceOf: ValidationError });
      t.deepEqual(await session.getItems(), []);
    }),
  );
}

test('openai-agents › a message written by another interface reads back as a message item; options are checked', async (t) => {
  const { openStorage } = await import('../src/index.js');
  const store = await openStorage('memory:', { logger: null });
  try {
    await store.saveChatMessages(USER, 's', DEFAULT_OPENAI_AGENTS_AGENT_ID, [
      { role: 'user', content: 'from Agent Squad' },
      { role: 'assistant', content: [{ text: 'an answer' }, { image: 'iVBORw0KGgo=' }] },
    ]);
    const session = new ConvostoreSession({ store, userId: USER, sessionId: 's' });
    t.deepEqual(await session.getItems(), [
      { type: 'message', role: 'user', content: 'from Agent Squad' },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'an answer' }], providerData: { convostoreContent: [{ text: 'an answer' }, { image: 'iVBORw0KGgo=' }] } },
    ]);
    t.regex(await new ConvostoreSession({ store, userId: USER }).getSessionId(), /^[0-9a-f-]{36}$/);
    t.throws(() => new ConvostoreSession({ store, userId: '' }), { instanceOf: ValidationError });
    t.throws(() => new ConvostoreSession({ store, url: 'memory:', userId: USER }), { instanceOf: ValidationError });
    t.throws(() => new ConvostoreSession(null as never), { instanceOf: ValidationError });
    // A URL session opens its own store on first use and close() releases it.
    const own = new ConvostoreSession({ url: 'memory:', userId: USER, sessionId: 's' });
    await own.addItems([{ role: 'user', content: 'hi' }]);
    t.deepEqual(await own.getItems(), [{ role: 'user', content: 'hi' }]);
    await own.close();
    await t.throwsAsync(own.getItems(), { code: 'CLOSED' } as never);
  } finally {
    await store.close();
  }
});
