/**
 * Random sequences of every interface operation, as plain data (so a shrunk counter-example prints
 * as something that can be pasted into a regression list), and one runner that applies them to a
 * store and to the model and compares every result.
 */
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { ConvostoreError, type ChatStore, type ConsecutiveRolePolicy, type ContentBlock, type MessageInput, type StoreOptions } from '../../src/index.js';
import type { Backend } from '../backends/registry.js';
import { Model, type ModelConfig, type Outcome } from './model.js';

export type Shape = 'text' | 'string' | 'image' | 'mixed';
export interface Msg {
  role: 'user' | 'assistant' | 'system' | 'tool';
  shape: Shape;
  /** Explicit timestamp relative to the clock, or none (the clock's time). */
  at?: number;
  /** An id from the small pool (so retries and conflicts happen); none: one unique to the op. */
  id?: string;
  /** Which content (and metadata) the message carries: the same id, role, shape and variant is a retry. */
  variant?: 0 | 1;
  /** Metadata `{ variant }`, or none. */
  meta?: boolean;
}

export type Op =
  | { op: 'save'; u: string; s: string; a: string; messages: Msg[]; window?: number; batch: boolean }
  | { op: 'fetch'; u: string; s: string; a: string; window?: number }
  | { op: 'fetchAll'; u: string; s: string }
  | { op: 'pages'; u: string; s: string; a: string; limit: number; order: 'newest' | 'oldest' }
  | { op: 'sessions'; u: string; limit: number }
  | { op: 'users'; limit: number }
  | { op: 'deleteConversation'; u: string; s: string; a: string }
  | { op: 'deleteSession'; u: string; s: string }
  | { op: 'deleteUser'; u: string }
  | { op: 'prune' }
  | { op: 'tick'; ms: number }
  | { op: 'upsert'; u: string; s: string; a: string; messages: Msg[]; policy?: ConsecutiveRolePolicy; deleteIds?: string[]; expectLastIds?: string[] }
  | { op: 'getMessage'; u: string; s: string; id: string }
  | { op: 'updateMessage'; u: string; s: string; id: string; variant?: 0 | 1; meta?: 'set' | 'remove' }
  | { op: 'deleteMessages'; u: string; s: string; ids: string[] }
  | { op: 'truncateAfter'; u: string; s: string; id: string; inclusive: boolean }
  | { op: 'sessionPages'; u: string; s: string; limit: number; order: 'newest' | 'oldest'; after?: string }
  | { op: 'getSession'; u: string; s: string }
  | { op: 'updateSession'; u: string; s: string; title?: string | null; metadata?: { [key: string]: number | null } }
  | { op: 'fork'; u: string; s: string; to: string; upTo?: string };

export interface Scenario {
  config: ModelConfig;
  ops: Op[];
}

export interface IdPools {
  users: readonly string[];
  sessions: readonly string[];
  agents: readonly string[];
}

/**
 * Few ids, so operations keep meeting the same conversations; each pool holds a pair whose UTF-16
 * and UTF-8 orders disagree (a BMP character above the surrogates vs an astral one). A repeated id
 * is drawn more often.
 */
export const defaultPools: IdPools = {
  users: ['u1', 'u1', '\uFF5E', '𝔘'],
  sessions: ['s1', 's1', '\uE000', '😀'],
  agents: ['a1', 'a1', 'a2'],
};

const START = 1_700_000_000_000;

/** Message ids drawn by the operations: few, so that retries, conflicts and edits meet stored ids. */
export const messageIds = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'] as const;

function msgArb(): fc.Arbitrary<Msg> {
  return fc.record(
    {
      role: fc.constantFrom('user' as const, 'assistant' as const, 'user' as const, 'assistant' as const, 'system' as const, 'tool' as const),
      shape: fc.constantFrom<Shape>('text', 'text', 'string', 'image', 'mixed'),
      at: fc.integer({ min: -30, max: 30 }),
      id: fc.constantFrom(...messageIds),
      variant: fc.constantFrom(0 as const, 1 as const),
      meta: fc.boolean(),
    },
    { requiredKeys: ['role', 'shape'] },
  );
}

export function opArb(pools: IdPools): fc.Arbitrary<Op> {
  const u = fc.constantFrom(...pools.users);
  const s = fc.constantFrom(...pools.sessions);
  const a = fc.constantFrom(...pools.agents);
  const window = fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined });
  const id = fc.constantFrom(...messageIds);
  const ids = fc.uniqueArray(id, { maxLength: 3 });
  const limit = fc.integer({ min: 1, max: 4 });
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constant('save' as const), u, s, a, messages: fc.array(msgArb(), { minLength: 1, maxLength: 1 }), window, batch: fc.constant(false) }) },
    { weight: 4, arbitrary: fc.record({ op: fc.constant('save' as const), u, s, a, messages: fc.array(msgArb(), { maxLength: 6 }), window, batch: fc.constant(true) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('fetch' as const), u, s, a, window }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('fetchAll' as const), u, s }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('pages' as const), u, s, a, limit, order: fc.constantFrom('newest' as const, 'oldest' as const) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('sessions' as const), u, limit }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('users' as const), limit }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteConversation' as const), u, s, a }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteSession' as const), u, s }) },
    { weight: 1, arbitrary: fc.constant({ op: 'deleteUser' as const, u: pools.users[0]! }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteUser' as const), u }) },
    { weight: 1, arbitrary: fc.constant({ op: 'prune' as const }) },
    // Equal, forward and backward clock steps.
    { weight: 3, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom(0, 0, 1, 5, 20, 50, -1, -7) }) },
    // Version 2.
    {
      weight: 3,
      arbitrary: fc.record(
        {
          op: fc.constant('upsert' as const), u, s, a,
          messages: fc.array(msgArb(), { maxLength: 3 }),
          policy: fc.constantFrom('skip' as const, 'keep' as const, 'throw' as const),
          deleteIds: ids,
          expectLastIds: fc.uniqueArray(id, { maxLength: 2 }),
        },
        { requiredKeys: ['op', 'u', 's', 'a', 'messages'] },
      ),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('getMessage' as const), u, s, id }) },
    {
      weight: 1,
      arbitrary: fc.record(
        { op: fc.constant('updateMessage' as const), u, s, id, variant: fc.constantFrom(0 as const, 1 as const), meta: fc.constantFrom('set' as const, 'remove' as const) },
        { requiredKeys: ['op', 'u', 's', 'id'] },
      ),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteMessages' as const), u, s, ids }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('truncateAfter' as const), u, s, id, inclusive: fc.boolean() }) },
    {
      weight: 2,
      arbitrary: fc.record(
        { op: fc.constant('sessionPages' as const), u, s, limit, order: fc.constantFrom('newest' as const, 'oldest' as const), after: id },
        { requiredKeys: ['op', 'u', 's', 'limit', 'order'] },
      ),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('getSession' as const), u, s }) },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          op: fc.constant('updateSession' as const), u, s,
          title: fc.constantFrom('title', 'another', null),
          metadata: fc.dictionary(fc.constantFrom('k1', 'k2'), fc.constantFrom(1, 2, null), { maxKeys: 2 }),
        },
        { requiredKeys: ['op', 'u', 's'] },
      ),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), u, s, to: s, upTo: id }, { requiredKeys: ['op', 'u', 's', 'to'] }) },
  );
}

export const configArb: fc.Arbitrary<ModelConfig> = fc.record(
  {
    policy: fc.constantFrom('skip' as const, 'keep' as const, 'throw' as const),
    maxMessages: fc.integer({ min: 1, max: 5 }),
    ttlMs: fc.integer({ min: 1, max: 40 }),
  },
  { requiredKeys: ['policy'] },
);

export function scenarioArb(pools: IdPools = defaultPools, maxOps = 30): fc.Arbitrary<Scenario> {
  return fc.record({ config: configArb, ops: fc.array(opArb(pools), { maxLength: maxOps, size: 'max' }) });
}

/** The content of a message: it names its owner and id, whatever characters the ids hold. */
function contentOf(shape: Shape, owner: unknown[]): string | ContentBlock[] {
  const text = JSON.stringify(owner);
  return shape === 'string'
    ? text
    : shape === 'image'
      ? [{ image: { format: 'png', source: { bytes: text } } }]
      : shape === 'mixed'
        ? [{ toolUse: { name: 't', input: { n: owner.length } } }, { text }]
        : [{ text }];
}

/**
 * The inputs one save or upsert op hands to both sides. A message without a pool id gets one unique
 * to the op; its content names the op's ids and the message id and variant, so a message sent again
 * with the same id, role, shape and variant is a retry.
 */
export function inputsOf(op: Extract<Op, { op: 'save' | 'upsert' }>, index: number, now: number): MessageInput[] {
  return op.messages.map((m, i) => {
    const id = m.id ?? `op${index}.${i}`;
    const content = contentOf(m.shape, [op.u, op.s, op.a, id, m.variant ?? 0]);
    const input: MessageInput = { id, role: m.role, content };
    if (m.meta) input.metadata = { variant: m.variant ?? 0 };
    if (m.at !== undefined) input.timestamp = Math.max(0, now + m.at);
    return input;
  });
}

/** The new content of an updateMessage op, owned by the agent that holds the id (per the model). */
export function updateOf(op: Extract<Op, { op: 'updateMessage' }>, model: Model): { content?: ContentBlock[]; metadata?: { variant: number } | null } {
  const agent = model.agentOf(op.u, op.s, op.id) ?? 'nobody';
  const update: { content?: ContentBlock[]; metadata?: { variant: number } | null } = {};
  if (op.variant !== undefined) update.content = contentOf('text', [op.u, op.s, agent, op.id, op.variant + 2]) as ContentBlock[];
  if (op.meta !== undefined) update.metadata = op.meta === 'set' ? { variant: 9 } : null;
  return update;
}

async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await call() };
  } catch (error) {
    if (error instanceof ConvostoreError) return { error: error.code };
    throw error;
  }
}

/** Walks every page, checking each page's cursor is present exactly when more follow. */
async function walk<T>(read: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (pages.length > 10_000) throw new Error('paging does not end');
  } while (cursor !== undefined);
  return pages;
}

export function applyToStore(store: ChatStore, op: Op, inputs: MessageInput[], update: ReturnType<typeof updateOf> = {}): Promise<Outcome> {
  switch (op.op) {
    case 'save':
      return outcome(() =>
        op.batch ? store.saveChatMessages(op.u, op.s, op.a, inputs, op.window) : store.saveChatMessage(op.u, op.s, op.a, inputs[0]!, op.window),
      );
    case 'fetch':
      return outcome(() => store.fetchChat(op.u, op.s, op.a, op.window));
    case 'fetchAll':
      return outcome(() => store.fetchAllChats(op.u, op.s));
    case 'pages':
      return outcome(() => walk((cursor) => store.fetchChatPage(op.u, op.s, op.a, { limit: op.limit, order: op.order, cursor })));
    case 'sessions':
      return outcome(() => walk((cursor) => store.listSessions(op.u, { limit: op.limit, cursor })));
    case 'users':
      return outcome(() => walk((cursor) => store.listUsers({ limit: op.limit, cursor })));
    case 'deleteConversation':
      return outcome(() => store.deleteConversation(op.u, op.s, op.a));
    case 'deleteSession':
      return outcome(() => store.deleteSession(op.u, op.s));
    case 'deleteUser':
      return outcome(() => store.deleteUser(op.u));
    case 'prune':
      return outcome(() => store.prune());
    case 'tick':
      return Promise.resolve({ ok: undefined });
    case 'upsert':
      return outcome(() =>
        store.upsertMessages(op.u, op.s, op.a, inputs, { consecutiveRoles: op.policy, deleteIds: op.deleteIds, expectLastIds: op.expectLastIds }),
      );
    case 'getMessage':
      return outcome(() => store.getMessage(op.u, op.s, op.id));
    case 'updateMessage':
      return outcome(() => store.updateMessage(op.u, op.s, op.id, update));
    case 'deleteMessages':
      return outcome(() => store.deleteMessages(op.u, op.s, op.ids));
    case 'truncateAfter':
      return outcome(() => store.truncateAfter(op.u, op.s, op.id, { inclusive: op.inclusive }));
    case 'sessionPages':
      return outcome(() =>
        walk((cursor) =>
          store.fetchSessionPage(op.u, op.s, cursor === undefined && op.after !== undefined ? { limit: op.limit, order: op.order, after: op.after } : { limit: op.limit, order: op.order, cursor }),
        ),
      );
    case 'getSession':
      return outcome(() => store.getSession(op.u, op.s));
    case 'updateSession':
      return outcome(() => store.updateSession(op.u, op.s, { title: op.title, metadata: op.metadata }));
    case 'fork':
      return outcome(() => store.forkSession(op.u, op.s, op.to, { upToMessageId: op.upTo }));
  }
}

export function applyToModel(model: Model, op: Op, inputs: MessageInput[], update: ReturnType<typeof updateOf> = {}): Outcome {
  switch (op.op) {
    case 'save':
      return model.save(op.u, op.s, op.a, inputs, op.window);
    case 'fetch':
      return model.fetchChat(op.u, op.s, op.a, op.window);
    case 'fetchAll':
      return model.fetchAllChats(op.u, op.s);
    case 'pages':
      return model.pages(op.u, op.s, op.a, op.limit, op.order);
    case 'sessions':
      return model.sessions(op.u, op.limit);
    case 'users':
      return model.users(op.limit);
    case 'deleteConversation':
      return model.deleteConversation(op.u, op.s, op.a);
    case 'deleteSession':
      return model.deleteSession(op.u, op.s);
    case 'deleteUser':
      return model.deleteUser(op.u);
    case 'prune':
      return model.prune();
    case 'tick':
      model.now = Math.max(0, model.now + op.ms);
      return { ok: undefined };
    case 'upsert':
      return model.upsert(op.u, op.s, op.a, inputs, { policy: op.policy, deleteIds: op.deleteIds, expectLastIds: op.expectLastIds });
    case 'getMessage':
      return model.getMessage(op.u, op.s, op.id);
    case 'updateMessage':
      return model.updateMessage(op.u, op.s, op.id, update.content, update.metadata);
    case 'deleteMessages':
      return model.deleteMessages(op.u, op.s, op.ids);
    case 'truncateAfter':
      return model.truncateAfter(op.u, op.s, op.id, op.inclusive);
    case 'sessionPages':
      return model.sessionPages(op.u, op.s, op.limit, op.order, op.after);
    case 'getSession':
      return model.getSession(op.u, op.s);
    case 'updateSession':
      return model.updateSession(op.u, op.s, op.title, op.metadata);
    case 'fork':
      return model.fork(op.u, op.s, op.to, op.upTo);
  }
}

export function storeOptions(config: ModelConfig, clock: () => number): StoreOptions {
  const retention: StoreOptions['retention'] = {};
  if (config.maxMessages !== undefined) retention.maxMessages = config.maxMessages;
  if (config.ttlMs !== undefined) retention.ttlMs = config.ttlMs;
  return { consecutiveRoles: config.policy, retention, clock, logger: null };
}

/**
 * Runs a scenario against a fresh store of `backend` and the model; throws at the first result that
 * differs, naming the step. The observer sees every step (the isolation property checks each one).
 */
export interface Observer {
  before?(op: Op, store: ChatStore): Promise<void>;
  after?(op: Op, result: Outcome, store: ChatStore): Promise<void>;
}

export async function runScenario(backend: Backend, scenario: Scenario, observer: Observer = {}): Promise<void> {
  const model = new Model(scenario.config, START);
  const target = await backend.open(storeOptions(scenario.config, () => model.now));
  try {
    for (const [index, op] of scenario.ops.entries()) {
      const inputs = op.op === 'save' || op.op === 'upsert' ? inputsOf(op, index, model.now) : [];
      const update = op.op === 'updateMessage' ? updateOf(op, model) : {};
      await observer.before?.(op, target.store);
      const actual = await applyToStore(target.store, op, inputs, update);
      const expected = applyToModel(model, op, inputs, update);
      deepStrictEqual(actual, expected, `step ${index} ${JSON.stringify(op)} differs from the model on ${backend.label}`);
      await observer.after?.(op, actual, target.store);
    }
  } finally {
    await target.store.close();
    await target.dispose?.();
  }
}
