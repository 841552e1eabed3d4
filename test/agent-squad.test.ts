/**
 * convostore/agent-squad with the real `agent-squad` package: an AgentSquad orchestrator routes
 * requests to two scripted agents (no model, no network) over two sessions, on every backend, and what
 * the orchestrator reads back is compared with what convostore stores — through its API and, for the
 * SQLite files, with plain SQL.
 */
import test, { type ExecutionContext } from 'ava';
import { Agent, AgentSquad, ChatStorage as SquadChatStorage, Classifier, ParticipantRole, type ConversationMessage as SquadMessage } from 'agent-squad';
import { ConvostoreChatStorage } from '../src/adapters/agent-squad.js';
import { ClosedError, ValidationError, type ChatStore, type ConversationMessage } from '../src/index.js';
import { KeywordClassifier, ROUTES, mathAgent, weatherAgent, type ScriptedAgent } from '../examples/squad-agents.js';
import { byConversation, frameworkBackends, withStore, type BackendDatabase } from './frameworks/backends.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const USER = 'alice';
/** What the orchestrator passes as maxHistorySize when it saves: config.MAX_MESSAGE_PAIRS_PER_AGENT. */
const SAVE_WINDOW = 100;

interface Exchange {
  sessionId: string;
  input: string;
  agentId: string;
  output: string;
}

/** Two sessions, interleaved; follow-ups (no keyword) go to the session's last agent. */
const SCRIPT: Exchange[] = [
  { sessionId: 's1', input: 'What is 2 plus 3?', agentId: 'math-agent', output: 'Math #1: 2 + 3 = 5' },
  { sessionId: 's2', input: 'Will it rain in Paris?', agentId: 'weather-agent', output: 'Weather #1: sun in Paris' },
  { sessionId: 's1', input: 'Is it sunny in Rome?', agentId: 'weather-agent', output: 'Weather #1: sun in Rome' },
  { sessionId: 's1', input: 'And tomorrow?', agentId: 'weather-agent', output: 'Weather #2: rain in your town' },
  { sessionId: 's2', input: 'Add 10 and 32', agentId: 'math-agent', output: 'Math #1: 10 + 32 = 42' },
  { sessionId: 's2', input: 'And what else?', agentId: 'math-agent', output: 'Math #2: nothing to add' },
  { sessionId: 's1', input: 'Now 7 and 8', agentId: 'math-agent', output: 'Math #2: 7 + 8 = 15' },
];

const userMessage = (text: string): ConversationMessage => ({ role: 'user', content: [{ text }] });
const botMessage = (text: string): ConversationMessage => ({ role: 'assistant', content: [{ text }] });

/** One agent's conversation after `done`, as fetchChat returns it. */
function conversation(done: Exchange[], sessionId: string, agentId: string): ConversationMessage[] {
  return done
    .filter((e) => e.sessionId === sessionId && e.agentId === agentId)
    .flatMap((e) => [userMessage(e.input), botMessage(e.output)]);
}

/** The session after `done`, as fetchAllChats returns it: assistant text tagged with its agent. */
function session(done: Exchange[], sessionId: string): ConversationMessage[] {
  return done
    .filter((e) => e.sessionId === sessionId)
    .flatMap((e) => [userMessage(e.input), botMessage(`[${e.agentId}] ${e.output}`)]);
}

/** The adapter, recording each call the orchestrator makes and the window each save returned. */
class RecordingStorage extends ConvostoreChatStorage {
  readonly calls: string[] = [];
  readonly saved: SquadMessage[][] = [];

  override fetchAllChats(userId: string, sessionId: string) {
    this.calls.push(`fetchAllChats ${userId} ${sessionId}`);
    return super.fetchAllChats(userId, sessionId);
  }

  override fetchChat(userId: string, sessionId: string, agentId: string, maxHistorySize?: number) {
    this.calls.push(`fetchChat ${userId} ${sessionId} ${agentId} ${maxHistorySize}`);
    return super.fetchChat(userId, sessionId, agentId, maxHistorySize);
  }

  override async saveChatMessage(userId: string, sessionId: string, agentId: string, message: SquadMessage, maxHistorySize?: number) {
    this.calls.push(`saveChatMessage ${userId} ${sessionId} ${agentId} ${message.role} ${maxHistorySize}`);
    try {
      const window = await super.saveChatMessage(userId, sessionId, agentId, message, maxHistorySize);
      this.saved.push(window);
      for (const waiter of this.#waiters.filter((w) => this.saved.length >= w.count)) waiter.resolve();
      return window;
    } catch (error) {
      for (const waiter of this.#waiters) waiter.reject(error);
      throw error;
    }
  }

  readonly #waiters: Array<{ count: number; resolve: () => void; reject: (error: unknown) => void }> = [];

  /** Settles once `count` saves have completed, or one failed: streamed answers are saved in the background. */
  saves(count: number): Promise<void> {
    if (this.saved.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }));
  }
}

/** Streams its answer in chunks, as a Bedrock or OpenAI agent with streaming on does. */
class StreamingAgent extends Agent {
  override async processRequest(inputText: string, _userId: string, _sessionId: string, chatHistory: SquadMessage[]) {
    const turn = chatHistory.length / 2 + 1;
    return (async function* () {
      yield `Once (#${turn}) `;
      yield 'upon a time, ';
      yield `"${inputText}".`;
    })();
  }
}

/** Sends everything to the one agent there is. */
class OnlyAgent extends Classifier {
  override async processRequest() {
    return { selectedAgent: Object.values(this.agents)[0] ?? null, confidence: 1 };
  }
}

const quietLogger = {
  info() {},
  debug() {},
  log() {},
  warn() {},
  // routeRequest turns an error into its output, which the assertions compare; this shows the cause.
  error: (...args: unknown[]) => console.error(...args),
};

interface Squad {
  squad: AgentSquad;
  storage: RecordingStorage;
  classifier: KeywordClassifier;
  agents: Record<string, ScriptedAgent>;
}

function squadOn(store: ChatStore): Squad {
  const storage = new RecordingStorage(store);
  const classifier = new KeywordClassifier(ROUTES);
  const squad = new AgentSquad({ storage, classifier, logger: quietLogger });
  const agents: Record<string, ScriptedAgent> = {};
  for (const agent of [weatherAgent(), mathAgent()]) {
    squad.addAgent(agent);
    agents[agent.id] = agent;
  }
  return { squad, storage, classifier, agents };
}

/** Routes one request and checks everything the orchestrator read and wrote for it. */
async function route(t: ExecutionContext, { squad, storage, classifier, agents }: Squad, exchange: Exchange, done: Exchange[]) {
  const { sessionId, agentId, input } = exchange;
  const callsBefore = storage.calls.length;
  const response = await squad.routeRequest(input, USER, sessionId);

  t.is(response.output, exchange.output, `answer to "${input}"`);
  t.false(response.streaming);
  t.is(response.metadata.agentId, agentId);
  // The classifier saw the whole session, each assistant message tagged with its agent ...
  t.deepEqual(classifier.received.at(-1), session(done, sessionId), `session history the classifier got for "${input}"`);
  // ... and the chosen agent its own conversation so far.
  t.deepEqual(agents[agentId]!.received.at(-1), conversation(done, sessionId, agentId), `history ${agentId} got for "${input}"`);
  // Agent Squad 1.0.1 reads the session, then the agent's full history, then saves the exchange one
  // message at a time with MAX_MESSAGE_PAIRS_PER_AGENT as the window.
  t.deepEqual(storage.calls.slice(callsBefore), [
    `fetchAllChats ${USER} ${sessionId}`,
    `fetchChat ${USER} ${sessionId} ${agentId} undefined`,
    `saveChatMessage ${USER} ${sessionId} ${agentId} user ${SAVE_WINDOW}`,
    `saveChatMessage ${USER} ${sessionId} ${agentId} assistant ${SAVE_WINDOW}`,
  ]);
  t.deepEqual(storage.saved.at(-1), conversation([...done, exchange], sessionId, agentId), 'window returned by the last save');
  done.push(exchange);
}

/** What convostore holds after `done`: through its API, and around it (plain SQL on the file). */
async function checkStored(t: ExecutionContext, backend: BackendDatabase, store: ChatStore, done: Exchange[]) {
  for (const sessionId of ['s1', 's2']) {
    t.deepEqual(await store.fetchAllChats(USER, sessionId), session(done, sessionId), `fetchAllChats ${sessionId}`);
    for (const agentId of ['weather-agent', 'math-agent']) {
      t.deepEqual(await store.fetchChat(USER, sessionId, agentId), conversation(done, sessionId, agentId), `fetchChat ${sessionId} ${agentId}`);
    }
  }
  const { items } = await store.listSessions(USER);
  t.deepEqual(
    items.map((s) => ({ sessionId: s.sessionId, messageCount: s.messageCount, agents: s.agents.map((a) => [a.agentId, a.messageCount]) })).sort((a, b) => a.sessionId.localeCompare(b.sessionId)),
    ['s1', 's2'].map((sessionId) => ({
      sessionId,
      messageCount: session(done, sessionId).length,
      agents: ['math-agent', 'weather-agent']
        .map((agentId) => [agentId, conversation(done, sessionId, agentId).length] as [string, number])
        .filter(([, n]) => n > 0),
    })),
  );
  if (!backend.rawMessages) return;
  const seq = new Map<string, number>();
  const expected = done.flatMap((e) =>
    [userMessage(e.input), botMessage(e.output)].map((m) => {
      const key = `${e.sessionId}/${e.agentId}`;
      seq.set(key, (seq.get(key) ?? 0) + 1);
      return { userId: USER, sessionId: e.sessionId, agentId: e.agentId, seq: seq.get(key)!, role: m.role, content: m.content };
    }),
  );
  t.deepEqual((await backend.rawMessages()).sort(byConversation), expected.sort(byConversation), 'messages read around convostore');
}

for (const factory of frameworkBackends) {
  const title = (what: string) => `agent-squad on ${factory.label} › ${what}`;

  test(title('an AgentSquad routes two sessions; what it reads back is what convostore stores'), (t) =>
    withStore(factory, { logger: null }, async (store, backend) => {
      const squad = squadOn(store);
      const done: Exchange[] = [];
      for (const exchange of SCRIPT) await route(t, squad, exchange, done);
      await checkStored(t, backend, store, done);
      // Both agents were used in both sessions, so every path above was exercised.
      t.is(squad.agents['weather-agent']!.received.length + squad.agents['math-agent']!.received.length, SCRIPT.length);
    }),
  );

  // Only for backends whose data outlives the store; the in-memory one has nothing to come back to.
  if (factory.persistent) {
    test(title('a new AgentSquad on a reopened store carries on the conversations'), async (t) => {
      const backend = await factory.create();
      const done: Exchange[] = [];
      const first = await backend.open({ logger: null });
      try {
        const squad = squadOn(first);
        for (const exchange of SCRIPT.slice(0, 4)) await route(t, squad, exchange, done);
      } finally {
        await first.close();
      }
      const second = await backend.open({ logger: null });
      try {
        // Fresh orchestrator, agents and classifier: all they know comes from the database.
        const squad = squadOn(second);
        for (const exchange of SCRIPT.slice(4)) await route(t, squad, exchange, done);
        await route(t, squad, { sessionId: 's1', input: 'And the day after?', agentId: 'math-agent', output: 'Math #3: nothing to add' }, done);
        await route(t, squad, { sessionId: 's1', input: 'Sun in Oslo?', agentId: 'weather-agent', output: 'Weather #3: sun in Oslo' }, done);
        await checkStored(t, backend, second, done);
      } finally {
        await second.close();
        await backend.dispose?.();
      }
    });
  }

  test(title('a streamed answer is saved once the stream ends, and read back on the next request'), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const storage = new RecordingStorage(store);
      const squad = new AgentSquad({ storage, classifier: new OnlyAgent(), logger: quietLogger });
      squad.addAgent(new StreamingAgent({ name: 'Story Agent', description: 'tells stories' }));
      const expected: ConversationMessage[] = [];
      for (const [turn, input] of [[1, 'a dragon'], [2, 'a knight']] as const) {
        const response = await squad.routeRequest(input, USER, 'tales');
        t.true(response.streaming);
        let streamed = '';
        for await (const chunk of response.output as AsyncIterable<string>) streamed += chunk;
        const answer = `Once (#${turn}) upon a time, "${input}".`;
        t.is(streamed, answer);
        await storage.saves(turn * 2);
        expected.push(userMessage(input), botMessage(answer));
        t.deepEqual(await store.fetchChat(USER, 'tales', 'story-agent'), expected);
      }
      // The streaming path saves without a window.
      t.deepEqual(storage.calls.filter((c) => c.startsWith('save')), [
        `saveChatMessage ${USER} tales story-agent user undefined`,
        `saveChatMessage ${USER} tales story-agent assistant undefined`,
        `saveChatMessage ${USER} tales story-agent user undefined`,
        `saveChatMessage ${USER} tales story-agent assistant undefined`,
      ]);
    }),
  );

  test(title("the adapter keeps Agent Squad's storage rules"), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const storage = new ConvostoreChatStorage(store);
      t.true(storage instanceof SquadChatStorage);
      t.is(await storage.store(), store);
      const user = { role: ParticipantRole.USER, content: [{ text: 'hi' }] };
      const bot = { role: ParticipantRole.ASSISTANT, content: [{ text: 'hello' }, { toolUse: { name: 'x', input: {} } }] };
      t.deepEqual(await storage.saveChatMessage('u', 's', 'a', user), [user]);
      // A second user message in a row is skipped, and the history comes back unchanged.
      t.deepEqual(await storage.saveChatMessage('u', 's', 'a', { role: ParticipantRole.USER, content: [{ text: 'again' }] }), [user]);
      t.deepEqual(await storage.saveChatMessage('u', 's', 'a', bot), [user, bot]);
      // Odd windows are rounded down to whole pairs.
      t.deepEqual(await storage.fetchChat('u', 's', 'a', 3), [user, bot]);
      t.deepEqual(await storage.fetchChat('u', 's', 'a', 1), []);
      // Non-text blocks survive fetchAllChats; the first text block carries the agent tag.
      t.deepEqual(await storage.fetchAllChats('u', 's'), [user, { role: 'assistant', content: [{ text: '[a] hello' }, bot.content[1]!] }]);

      // Content `undefined` (allowed by Agent Squad's type) is stored as no blocks; a timestamp that
      // came from another store is kept.
      const window = await storage.saveChatMessages('u', 's', 'b', [
        { role: ParticipantRole.USER, content: undefined },
        { role: ParticipantRole.ASSISTANT, content: [{ text: 'ok' }], timestamp: 1_600_000_000_000 } as SquadMessage,
      ]);
      t.deepEqual(window, [{ role: 'user', content: [] }, { role: 'assistant', content: [{ text: 'ok' }] }]);
      const page = await store.fetchChatPage('u', 's', 'b', { order: 'oldest' });
      t.is(page.items[1]!.timestamp, 1_600_000_000_000);

      // saveChatMessages is all or nothing.
      const error = await t.throwsAsync(
        storage.saveChatMessages('u', 's', 'c', [user, { role: 'robot', content: [] } as unknown as SquadMessage]),
      );
      t.true(error instanceof ValidationError);
      t.deepEqual(await storage.fetchChat('u', 's', 'c'), []);
      await t.throwsAsync(storage.fetchChat('', 's', 'a'), { instanceOf: ValidationError });
    }),
  );
}

test('agent-squad › a URL adapter opens its own store on first use and closes it', async (t) => {
  const file = tempFile(tempDir('agent-squad-url'));
  const first = new ConvostoreChatStorage(file, { logger: null });
  await first.saveChatMessage('u', 's', 'a', { role: ParticipantRole.USER, content: [{ text: 'kept' }] });
  const opened = await first.store();
  t.is(opened.backend, 'sqlite');
  await first.close();
  t.true(opened.closed);
  await t.throwsAsync(first.fetchChat('u', 's', 'a'), { instanceOf: ClosedError });

  const again = new ConvostoreChatStorage(file);
  t.deepEqual(await again.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'kept' }] }]);
  await again.close();

  const memory = new ConvostoreChatStorage('memory:');
  t.is((await memory.store()).backend, 'memory');
  await memory.close();
});

test('agent-squad › closing an adapter leaves a store it was given open', async (t) => {
  const file = tempFile(tempDir('agent-squad-given'));
  const storage = new ConvostoreChatStorage(file);
  const store = await storage.store();
  const wrapper = new ConvostoreChatStorage(store);
  await wrapper.close();
  t.false(store.closed);
  t.deepEqual(await wrapper.fetchChat('u', 's', 'a'), []);
  await storage.close();
  t.true(store.closed);
});

test('agent-squad › a bad URL fails the first call with a typed error, and every later one', async (t) => {
  const storage = new ConvostoreChatStorage('ftp://example.com/db');
  await t.throwsAsync(storage.fetchChat('u', 's', 'a'), { instanceOf: ValidationError, message: /unsupported scheme 'ftp:'/ });
  await t.throwsAsync(storage.fetchAllChats('u', 's'), { instanceOf: ValidationError });
  await storage.close();
});
