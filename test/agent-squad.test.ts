/**
 * convostore/agent-squad with the real `agent-squad` package: an AgentSquad orchestrator routes
 * requests to two scripted agents (no model, no network) over two sessions, on every backend, and what
 * the orchestrator reads back is compared with what convostore stores — through its API and, for the
 * SQLite files, with plain SQL.
 */
import test, { type ExecutionContext } from 'ava';
import {
  Agent,
  AgentSquad,
  ChatStorage as SquadChatStorage,
  Classifier,
  InMemoryChatStorage as SquadMemoryStorage,
  Logger as SquadLogger,
  ParticipantRole,
  type ConversationMessage as SquadMessage,
} from 'agent-squad';
import { ConvostoreChatStorage } from '../src/adapters/agent-squad.js';
import { ClosedError, ConsecutiveRoleError, ValidationError, type ChatStore, type ConversationMessage } from '../src/index.js';
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

const MODES = ['window', 'trim'] as const;

/** A deterministic PRNG (mulberry32): the same calls on every run and backend. */
function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const squadUser = (text: string): SquadMessage => ({ role: ParticipantRole.USER, content: [{ text }] });
const squadBot = (text: string): SquadMessage => ({ role: ParticipantRole.ASSISTANT, content: [{ text }] });
const texts = (messages: SquadMessage[]) => messages.map((m) => m.content?.[0]?.text);
const pairs = (n: number, agent = '') =>
  Array.from({ length: n }, (_, i) => [squadUser(`User ${agent}${i + 1}`), squadBot(`Assistant ${agent}${i + 1}`)]).flat();

/**
 * The behaviours Agent Squad's storage tests (typescript/tests/storage/ in its repository) check, and
 * those its storages' code implies where convostore's default differs, in either mode. Each part
 * uses its own session so that fetchAllChats sees only it.
 */
async function storageBehaviours(t: ExecutionContext, storage: ConvostoreChatStorage, mode: 'window' | 'trim') {
  const trim = mode === 'trim';
  t.is(storage.maxHistorySize, mode);

  // Each save returns the conversation so far (the first one message), roles alternating, in order.
  const four = pairs(2);
  for (const [i, m] of four.entries()) t.deepEqual(await storage.saveChatMessage(USER, 'order', 'agent1', m), four.slice(0, i + 1));
  t.deepEqual(await storage.fetchChat(USER, 'order', 'agent1'), four);

  // A message with the role of the one before it is not saved; the save returns the history unchanged.
  const sequence = [squadUser('Hello'), squadBot('Hi'), squadUser('How are you?'), squadUser('Are you there?'), squadBot('Well'), squadBot('And you?'), squadUser('Good')];
  const returned = [];
  for (const m of sequence) returned.push(texts(await storage.saveChatMessage(USER, 'repeats', 'agent1', m)));
  t.deepEqual(returned.slice(3), [
    ['Hello', 'Hi', 'How are you?'],
    ['Hello', 'Hi', 'How are you?', 'Well'],
    ['Hello', 'Hi', 'How are you?', 'Well'],
    ['Hello', 'Hi', 'How are you?', 'Well', 'Good'],
  ]);
  t.deepEqual(texts(await storage.fetchChat(USER, 'repeats', 'agent1')), ['Hello', 'Hi', 'How are you?', 'Well', 'Good']);

  // Several agents in one session: each has its own conversation; fetchAllChats gathers the session
  // in the order it was written, each assistant message tagged with its agent.
  const turns: Array<[string, SquadMessage]> = [
    ['airline', squadUser('book a flight')],
    ['airline', squadBot('From where?')],
    ['tech', squadUser('what is lambda?')],
    ['tech', squadBot('Serverless.')],
    ['airline', squadUser('Paris')],
    ['airline', squadBot('To where?')],
  ];
  for (const [agentId, m] of turns) await storage.saveChatMessage(USER, 'agents', agentId, m);
  t.deepEqual(texts(await storage.fetchChat(USER, 'agents', 'airline')), ['book a flight', 'From where?', 'Paris', 'To where?']);
  t.deepEqual(texts(await storage.fetchChat(USER, 'agents', 'tech')), ['what is lambda?', 'Serverless.']);
  t.deepEqual(texts(await storage.fetchAllChats(USER, 'agents')), [
    'book a flight',
    '[airline] From where?',
    'what is lambda?',
    '[tech] Serverless.',
    'Paris',
    '[airline] To where?',
  ]);

  // Saved without maxHistorySize: everything is kept.
  t.deepEqual(await storage.saveChatMessages(USER, 'unbounded', 'agent1', pairs(5)), pairs(5));
  t.is((await storage.fetchAllChats(USER, 'unbounded')).length, 10);

  // Saved with maxHistorySize 4, then 3 (odd: whole pairs, so 2): each save returns the newest ones.
  // Agent Squad's storages delete the rest ('trim'); convostore's default keeps them ('window').
  for (const [size, kept] of [[4, 4], [3, 2]] as const) {
    const sessionId = `bounded-${size}`;
    let last: SquadMessage[] = [];
    for (const m of pairs(3)) last = await storage.saveChatMessage(USER, sessionId, 'agent1', m, size);
    t.deepEqual(last, pairs(3).slice(-kept));
    const all = await storage.fetchAllChats(USER, sessionId);
    const expected = (trim ? pairs(3).slice(-kept) : pairs(3)).map((m) => (m.role === 'assistant' ? `[agent1] ${m.content![0]!.text}` : m.content![0]!.text));
    t.deepEqual(texts(all), expected, `stored with ${size}`);
  }

  // A window on fetchChat is a view in both: fetchAllChats still has every message.
  t.deepEqual(await storage.fetchChat(USER, 'unbounded', 'agent1', 2), pairs(5).slice(-2));
  t.is((await storage.fetchAllChats(USER, 'unbounded')).length, 10);

  // 0 and 1: Agent Squad's trimConversation keeps everything (slice(-0)); convostore's window is empty.
  for (const size of [0, 1]) {
    const saved = await storage.saveChatMessage(USER, 'unbounded', 'agent1', size === 0 ? squadUser('Z') : squadBot('Z'), size);
    t.is(saved.length, trim ? 11 + size : 0, `save with ${size}`);
    t.is((await storage.fetchChat(USER, 'unbounded', 'agent1', size)).length, trim ? 11 + size : 0, `fetch with ${size}`);
  }
  t.is((await storage.fetchChat(USER, 'unbounded', 'agent1')).length, 12);

  // A repeat saved with a window: Agent Squad returns the whole stored history, untrimmed;
  // convostore's default returns the window.
  const repeat = await storage.saveChatMessage(USER, 'bounded-4', 'agent1', squadBot('repeat'), 2);
  t.deepEqual(repeat, trim ? pairs(3).slice(-4) : pairs(3).slice(-2));
  t.is((await storage.fetchChat(USER, 'bounded-4', 'agent1')).length, trim ? 4 : 6);
}

/** Agents by id in the squad test: weather and math. */
const SCRIPT_CONVERSATIONS = [
  ['s1', 'weather-agent'],
  ['s1', 'math-agent'],
  ['s2', 'weather-agent'],
  ['s2', 'math-agent'],
] as const;

/** Routes SCRIPT through an AgentSquad keeping 2 messages per agent; what everyone was handed, and what is stored. */
async function runSquad(storage: SquadChatStorage) {
  const classifier = new KeywordClassifier(ROUTES);
  const squad = new AgentSquad({ storage, classifier, logger: quietLogger, config: { MAX_MESSAGE_PAIRS_PER_AGENT: 2 } });
  const agents: Record<string, ScriptedAgent> = {};
  for (const agent of [weatherAgent(), mathAgent()]) {
    squad.addAgent(agent);
    agents[agent.id] = agent;
  }
  const outputs = [];
  for (const exchange of SCRIPT) {
    outputs.push((await squad.routeRequest(exchange.input, USER, exchange.sessionId)).output);
    // Agent Squad's in-memory storage orders fetchAllChats by Date.now(): keep exchanges a tick apart.
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const stored = [];
  for (const [sessionId, agentId] of SCRIPT_CONVERSATIONS) stored.push(await storage.fetchChat(USER, sessionId, agentId));
  return {
    outputs,
    classifier: classifier.received,
    agents: Object.fromEntries(Object.entries(agents).map(([id, agent]) => [id, agent.received])),
    stored,
  };
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

  for (const mode of MODES) {
    test(title(`maxHistorySize: '${mode}' meets the behaviours Agent Squad's own storage tests check`), (t) =>
      withStore(factory, { logger: null }, (store) => storageBehaviours(t, new ConvostoreChatStorage(store, { maxHistorySize: mode }), mode)),
    );
  }

  test(title("maxHistorySize: 'trim' answers every call as Agent Squad's InMemoryChatStorage does"), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const ours = new ConvostoreChatStorage(store, { maxHistorySize: 'trim' });
      const theirs = new SquadMemoryStorage();
      SquadLogger.logger = quietLogger; // its "Consecutive ... Not saving." notices
      // 30 calls of this seed; what they exercised is counted below.
      const seen = { skipped: 0, trimmed: 0, unlimited: 0, fetches: 0 };
      const random = seededRandom(10);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      for (let i = 0; i < 30; i++) {
        const agentId = pick(['a1', 'a2']);
        const size = pick([undefined, undefined, 0, 1, 2, 3, 4, 5, 6]);
        const call = random() < 0.75 ? 'save' : 'fetch';
        if (call === 'save') {
          // Mostly alternating; one in five repeats the last role, for the skip rule.
          const before = await theirs.fetchChat(USER, 's', agentId);
          const last = before.at(-1)?.role ?? ParticipantRole.ASSISTANT;
          const other = last === ParticipantRole.USER ? ParticipantRole.ASSISTANT : ParticipantRole.USER;
          const message = { role: random() < 0.2 ? last : other, content: [{ text: `m${i}` }] };
          const expected = await theirs.saveChatMessage(USER, 's', agentId, message, size);
          t.deepEqual(await ours.saveChatMessage(USER, 's', agentId, message, size), expected, `call ${i}: save to ${agentId} with ${size}`);
          const after = (await theirs.fetchChat(USER, 's', agentId)).length;
          if (before.length > 0 && message.role === last) seen.skipped++;
          else if (after <= before.length) seen.trimmed++;
          if (size === 0 || size === 1) seen.unlimited++;
        } else {
          seen.fetches++;
          const expected = await theirs.fetchChat(USER, 's', agentId, size);
          t.deepEqual(await ours.fetchChat(USER, 's', agentId, size), expected, `call ${i}: fetch ${agentId} with ${size}`);
        }
      }
      for (const agentId of ['a1', 'a2']) {
        t.deepEqual(await store.fetchChat(USER, 's', agentId), await theirs.fetchChat(USER, 's', agentId), `stored for ${agentId}`);
      }
      t.deepEqual(seen, { skipped: 6, trimmed: 6, unlimited: 7, fetches: 6 });
    }),
  );

  test(title("maxHistorySize: 'trim' under concurrent savers: never more than the limit, nothing lost but what it trims"), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const storage = new ConvostoreChatStorage(store, { maxHistorySize: 'trim' });
      await storage.saveChatMessages(USER, 'busy', 'a', [squadUser('old 1'), squadBot('old 1'), squadUser('old 2'), squadBot('old 2')]);
      // Three writers, each saving its own pairs at once; every save must win eventually (a save that
      // lost the race to another reads again and retries) and return a window ending with its pair.
      const writers = [0, 1, 2].map(async (w) => {
        for (let round = 0; round < 2; round++) {
          const pair = [squadUser(`q ${w}.${round}`), squadBot(`a ${w}.${round}`)];
          const window = await storage.saveChatMessages(USER, 'busy', 'a', pair, 4);
          t.true(window.length <= 4);
          t.deepEqual(window.slice(-2), pair);
        }
      });
      await Promise.all(writers);
      const stored = await store.fetchChat(USER, 'busy', 'a');
      t.is(stored.length, 4);
      t.deepEqual(stored.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
      // The newest two pairs, each whole: pairs were appended atomically, in some order.
      t.regex(String(stored[0]!.content[0]!.text), /^q \d\.\d$/);
      t.is(String(stored[1]!.content[0]!.text), String(stored[0]!.content[0]!.text).replace('q', 'a'));
      t.is(String(stored[3]!.content[0]!.text), String(stored[2]!.content[0]!.text).replace('q', 'a'));
    }),
  );

  test(title("maxHistorySize: 'trim' writes all or nothing: a refused batch trims nothing; long batches and backlogs"), (t) =>
    withStore(factory, { logger: null }, async (store) => {
      const storage = new ConvostoreChatStorage(store, { maxHistorySize: 'trim' });
      const six = [1, 2, 3].flatMap((i) => [squadUser(`u${i}`), squadBot(`a${i}`)]);
      t.deepEqual(await storage.saveChatMessages(USER, 's', 'a', six), six);
      // Refused by validation (a bad role, an id): nothing appended, nothing trimmed.
      await t.throwsAsync(storage.saveChatMessages(USER, 's', 'a', [squadUser('x'), { role: 'robot', content: [] } as unknown as SquadMessage], 2), {
        instanceOf: ValidationError,
      });
      await t.throwsAsync(storage.saveChatMessage(USER, 's', 'a', { ...squadUser('x'), id: 'm1' } as SquadMessage, 2), {
        instanceOf: ValidationError,
        message: /newMessage\.id/,
      });
      t.deepEqual(await store.fetchChat(USER, 's', 'a'), six);
      // A backlog saved without a limit is trimmed by the first save with one.
      t.deepEqual(await storage.saveChatMessage(USER, 's', 'a', squadUser('u4'), 4), [...six.slice(3), squadUser('u4')]);
      t.deepEqual(await store.fetchChat(USER, 's', 'a'), [...six.slice(3), squadUser('u4')]);
      // A batch longer than the limit keeps its own newest; its first message repeats the stored
      // last role and is skipped, as it would be saved one by one.
      const batch = [squadUser('skipped'), squadBot('a4'), squadUser('u5'), squadBot('a5'), squadUser('u6'), squadBot('a6')];
      const kept = [squadUser('u6'), squadBot('a6')];
      t.deepEqual(await storage.saveChatMessages(USER, 's', 'a', batch, 3), kept);
      t.deepEqual(await store.fetchChat(USER, 's', 'a'), kept);
      // A batch that is all repeats stores nothing and returns the whole conversation.
      t.deepEqual(await storage.saveChatMessages(USER, 's', 'a', [squadBot('again')], 2), kept);
      t.deepEqual(await storage.saveChatMessages(USER, 's', 'a', [], 2), kept);
    }),
  );

  const squadTitle = `an AgentSquad keeping 2 messages per agent: 'trim' hands agents what Agent Squad's own storage does${factory.id === 'memory' ? ", 'window' the whole history" : ''}`;
  test(title(squadTitle), async (t) => {
    const oracle = await runSquad(new SquadMemoryStorage());
    // 'window' with the orchestrator is the first test of this file; here it shows the difference once.
    for (const mode of factory.id === 'memory' ? MODES : (['trim'] as const)) {
      await withStore(factory, { logger: null }, async (store) => {
        const run = await runSquad(new ConvostoreChatStorage(store, { maxHistorySize: mode }));
        if (mode === 'trim') {
          t.deepEqual(run, oracle);
        } else {
          // Each agent is handed its whole history, not the newest two messages; the classifier the session.
          t.deepEqual(run.agents['weather-agent']!.at(-1), conversation(SCRIPT, 's1', 'weather-agent').slice(0, -2));
          t.deepEqual(run.classifier.at(-1), session(SCRIPT.slice(0, -1), 's1'));
          t.deepEqual(run.stored, SCRIPT_CONVERSATIONS.map(([s, a]) => conversation(SCRIPT, s, a)));
        }
      });
    }
    // The limit is visible: the last weather request in s1 saw one exchange, not two.
    t.is(oracle.agents['weather-agent']!.at(-1)!.length, 2);
  });
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

test("agent-squad › the maxHistorySize option is checked when the adapter is made; 'trim' checks windows as 'window' does", async (t) => {
  t.throws(() => new ConvostoreChatStorage('memory:', { maxHistorySize: 'delete' as never }), {
    instanceOf: ValidationError,
    message: /options\.maxHistorySize: must be 'window' or 'trim', got 'delete'/,
  });
  t.throws(() => new ConvostoreChatStorage('memory:', { maxHistorySize: true as never }), { instanceOf: ValidationError, message: /got boolean/ });
  t.is(new ConvostoreChatStorage('memory:').maxHistorySize, 'window');
  const storage = new ConvostoreChatStorage('memory:', { maxHistorySize: 'trim', logger: null });
  const message = { role: ParticipantRole.USER, content: [{ text: 'hi' }] };
  for (const size of [-2, 2.5, '4' as never]) {
    await t.throwsAsync(storage.saveChatMessage('u', 's', 'a', message, size), { instanceOf: ValidationError, message: /maxHistorySize/ });
    await t.throwsAsync(storage.fetchChat('u', 's', 'a', size), { instanceOf: ValidationError, message: /maxHistorySize/ });
  }
  t.deepEqual(await storage.fetchChat('u', 's', 'a'), []);
  await storage.close();

  // On a store that refuses repeats, a trimmed save refuses them too, before deleting anything.
  const strict = new ConvostoreChatStorage('memory:', { maxHistorySize: 'trim', consecutiveRoles: 'throw' });
  const pair = [message, { role: ParticipantRole.ASSISTANT, content: [{ text: 'hello' }] }];
  await strict.saveChatMessages('u', 's', 'a', [...pair, ...pair]);
  await t.throwsAsync(strict.saveChatMessage('u', 's', 'a', pair[1]!, 2), { instanceOf: ConsecutiveRoleError });
  t.is((await strict.fetchChat('u', 's', 'a')).length, 4);
  await strict.close();
});

test('agent-squad › a bad URL fails the first call with a typed error, and every later one', async (t) => {
  const storage = new ConvostoreChatStorage('ftp://example.com/db');
  await t.throwsAsync(storage.fetchChat('u', 's', 'a'), { instanceOf: ValidationError, message: /unsupported scheme 'ftp:'/ });
  await t.throwsAsync(storage.fetchAllChats('u', 's'), { instanceOf: ValidationError });
  await storage.close();
});
