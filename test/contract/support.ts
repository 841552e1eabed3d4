/**
 * What every domain file of the contract suite shares: the registrar each test is declared through,
 * message builders, the seeded store and the "refused and changed nothing" check.
 */
import type { ExecutionContext } from 'ava';
import type {
  ChatStore,
  ConversationMessage,
  ErrorCode,
  MessageInput,
  Metadata,
  SessionMessage,
  StoreOptions,
} from '../../src/index.js';
import type { BackendTarget } from '../backends/registry.js';

/** A fresh store of the backend under test, and what the test may look at around it. */
export type ContractTarget = BackendTarget;
export type Open = (options?: StoreOptions) => Promise<ContractTarget>;
export type Body = (t: ExecutionContext, open: Open) => Promise<void>;
/** Declares one contract test; every store it opens is closed (and disposed) when it ends. */
export type Declare = (title: string, body: Body) => void;

export const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });
export const bot = (text: string) => ({ role: 'assistant' as const, content: [{ text }] });
export const system = (text: string) => ({ role: 'system' as const, content: [{ text }] });
export const tool = (text: string) => ({ role: 'tool' as const, content: [{ toolResult: { toolUseId: text, content: [{ text }] } }] });
export const texts = (messages: ConversationMessage[]) => messages.map((m) => m.content[0]?.text as string | undefined);

/** A message with a given id (and metadata, when given). */
export function withId(id: string, message: MessageInput, metadata?: Metadata): MessageInput {
  return metadata === undefined ? { ...message, id } : { ...message, id, metadata };
}

/** Alternating user/assistant messages u0, a1, u2, ... */
export function dialogue(n: number, prefix = ''): ConversationMessage[] {
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? user(`${prefix}${i}`) : bot(`${prefix}${i}`)));
}

/** Alternating user/assistant messages with ids `${prefix}${i}`. */
export function idDialogue(n: number, prefix: string): MessageInput[] {
  return dialogue(n, prefix).map((m, i) => withId(`${prefix}${i}`, m));
}

/** Every message of a session, oldest first, through fetchSessionPage. */
export async function sessionMessages(store: ChatStore, userId: string, sessionId: string): Promise<SessionMessage[]> {
  const out: SessionMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchSessionPage(userId, sessionId, { order: 'oldest', limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

export const idsOf = (messages: Array<{ id: string }>) => messages.map((m) => m.id);

/**
 * A populated store's full observable state: used to prove a refused call changed nothing. The
 * session pages show ids, metadata, positions and timestamps; the summaries show titles.
 */
export async function snapshot(target: ContractTarget): Promise<unknown> {
  const { store } = target;
  return {
    raw: await target.rawCount?.(),
    u1s1: await store.fetchAllChats('u1', 's1'),
    u1s2: await store.fetchAllChats('u1', 's2'),
    pages: [await sessionMessages(store, 'u1', 's1'), await sessionMessages(store, 'u1', 's2')],
    sessions: await store.listSessions('u1'),
    other: await store.listSessions('u2'),
  };
}

/**
 * u1/s1: a1 holds x0..x3 (ids x0..x3), a2 holds y0, y1 (ids y0, y1); u1/s2: a1 holds z0..z2 (ids
 * z0..z2); u2/s1: a1 holds one message. Opened with `options`.
 */
export async function seeded(open: Open, options: StoreOptions = {}): Promise<ContractTarget> {
  const target = await open(options);
  await target.store.saveChatMessages('u1', 's1', 'a1', idDialogue(4, 'x'));
  await target.store.saveChatMessages('u1', 's1', 'a2', idDialogue(2, 'y'));
  await target.store.saveChatMessages('u1', 's2', 'a1', idDialogue(3, 'z'));
  await target.store.saveChatMessage('u2', 's1', 'a1', user('other user'));
  return target;
}

/** `call` fails with `code`, and the seeded store reads exactly as before it. */
export async function refused(
  t: ExecutionContext,
  target: ContractTarget,
  call: () => Promise<unknown>,
  code: ErrorCode,
  what: string,
): Promise<void> {
  const before = await snapshot(target);
  const error = await t.throwsAsync(call, undefined, what);
  t.is((error as { code?: string } | undefined)?.code, code, `${what}: ${String(error)}`);
  t.deepEqual(await snapshot(target), before, `${what} left the store unchanged`);
}

/** The error code a call fails with, or `none`. */
export async function codeOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'none';
  } catch (error) {
    return String((error as { code?: unknown }).code ?? `raw ${String(error)}`);
  }
}

/** UTF-8 bytes of a value's JSON. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
