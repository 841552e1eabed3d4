/**
 * `convostore/ai-sdk`: the `loadChat` / `saveChat` pair the Vercel AI SDK's persistence guide asks
 * every app to write, over any convostore backend.
 *
 *   const messages = await loadChat(store, { userId, chatId, limit: 50 });
 *   …toUIMessageStream({ stream, originalMessages, generateMessageId,
 *       onEnd: ({ messages, isAborted }) => saveChat(store, { userId, chatId, messages, aborted: isAborted }) })
 *
 * A chat is a convostore session (`chatId` is its session id) and its messages are one conversation
 * of it, agent `ai-sdk` unless `agentId` says otherwise; each UIMessage is one stored message
 * (ai-sdk-messages.ts). This module imports `ai` (an optional peer dependency); the root `convostore`
 * entry never does.
 */
import { validateUIMessages, type UIMessage } from 'ai';
import { conflictMessage } from '../core/conflicts.js';
import { MAX_ID_LIST, MAX_PAGE_SIZE, checkIdList, checkKey, checkOptions, checkPositiveInt, describe } from '../core/validate.js';
import { ConflictError, ValidationError } from '../errors.js';
import type { ChatStorage, ConversationKey, StoredMessage } from '../types.js';
import { encodeUIMessage, fromStored, type ChatEntry } from './ai-sdk-messages.js';
import { planSave, type SaveChatResult } from './ai-sdk-plan.js';
import { readConversation } from './read-conversation.js';

export { ABORTED_KEY, UI_METADATA_KEY, fromStored, type ChatEntry } from './ai-sdk-messages.js';
export type { SaveChatResult } from './ai-sdk-plan.js';

/** The agent id of a chat's conversation when `agentId` is not given. */
export const DEFAULT_AI_SDK_AGENT_ID = 'ai-sdk';

/** A saveChat whose own read and write were raced this many times gives up with the ConflictError. */
const SAVE_ATTEMPTS = 3;

type ValidateOptions<M extends UIMessage> = Omit<Parameters<typeof validateUIMessages<M>>[0], 'messages'>;

export interface ChatKey {
  userId: string;
  /** The chat's id (useChat's `id`): the convostore session id. */
  chatId: string;
  /** Default `ai-sdk`. One session may hold several agents' conversations. */
  agentId?: string;
}

export type LoadChatOptions<M extends UIMessage = UIMessage> = ChatKey &
  ValidateOptions<M> & {
    /** Only the newest `limit` messages, oldest first; default the whole chat. */
    limit?: number;
  };

export interface SaveChatOptions<M extends UIMessage = UIMessage> extends ChatKey {
  /** The chat as the SDK holds it (`onEnd`'s `messages`), or its newest part (a `limit` load plus the turn). */
  messages: readonly M[];
  /**
   * The stream that produced the last message was aborted (`onEnd`'s `isAborted`): the message is
   * stored with what the stream produced and marked `aborted` (readable with `loadChatEntries`).
   */
  aborted?: boolean;
  /**
   * As `upsertMessages`: the chat's newest stored messages must still be exactly these ids (oldest
   * first; `[]`: the chat is empty), else ConflictError and nothing is written. Pass the ids you
   * loaded (or the last of them) to refuse a save over a turn another request stored meanwhile.
   */
  expectLastIds?: readonly string[];
}

/**
 * The chat's messages as UIMessages, oldest first: ids, roles, parts and metadata exactly as saved.
 * With `tools`, `metadataSchema` or `dataSchemas` they go through the SDK's `validateUIMessages`
 * (which throws its TypeValidationError when stored messages no longer match).
 */
export async function loadChat<M extends UIMessage = UIMessage>(store: ChatStorage, options: LoadChatOptions<M>): Promise<M[]> {
  return (await loadChatEntries<M>(store, options)).map((entry) => entry.message);
}

/** `loadChat`, with convostore's marks and each message's timestamp beside each message. */
export async function loadChatEntries<M extends UIMessage = UIMessage>(
  store: ChatStorage,
  options: LoadChatOptions<M>,
): Promise<Array<ChatEntry<M>>> {
  const { limit, userId, chatId, agentId, ...validation } = checkOptions<LoadChatOptions<M>>('options', options);
  const key = chatKey({ userId, chatId, agentId });
  const count = limit === undefined ? undefined : checkPositiveInt('options.limit', limit, 1, Number.MAX_SAFE_INTEGER);
  const stored = count === undefined ? await readConversation(store, key) : (await readNewest(store, key, count)).reverse();
  const entries = stored.map(fromStored) as Array<ChatEntry<M>>;
  const validating = validation.tools !== undefined || validation.metadataSchema !== undefined || validation.dataSchemas !== undefined;
  // validateUIMessages refuses an empty array; an empty chat is valid.
  if (!validating || entries.length === 0) return entries;
  const validated = await validateUIMessages<M>({ ...validation, messages: entries.map((e) => e.message) });
  return entries.map((entry, i) => ({ ...entry, message: validated[i]! }));
}

/**
 * Stores `messages` as the chat from its first message on, in one atomic `upsertMessages` call:
 * new ids appended, changed ones replaced in place (a continuation rewrites its assistant message
 * under the same id), stored ones the array no longer holds removed (a regenerate), unchanged ones
 * not written. Messages stored before the array's first message stay, so a chat loaded with `limit`
 * and saved back keeps its older history. Afterwards `loadChat` returns exactly `messages` from there
 * on. An empty array writes nothing (`deleteConversation` clears a chat).
 *
 * It reads the stored chat from the array's first message on (one `fetchChatPage` in the usual turn)
 * and writes on condition that what it read is still the chat's end (`expectLastIds`); if another
 * writer got in between, it reads again, up to three times. Concurrent saves of one chat therefore
 * each apply whole, the last one deciding the chat from its first message on, as a file rewritten
 * per save would; pass `expectLastIds` to be refused instead.
 */
export async function saveChat<M extends UIMessage = UIMessage>(store: ChatStorage, options: SaveChatOptions<M>): Promise<SaveChatResult> {
  const { messages, aborted, expectLastIds, ...rest } = checkOptions<SaveChatOptions<M>>('options', options);
  const key = chatKey(rest);
  if (!Array.isArray(messages)) throw new ValidationError('options.messages', `must be an array of UIMessages, got ${describe(messages)}`);
  if (aborted !== undefined && typeof aborted !== 'boolean') {
    throw new ValidationError('options.aborted', `must be a boolean, got ${describe(aborted)}`);
  }
  const expected = expectLastIds === undefined ? undefined : checkIdList('options.expectLastIds', expectLastIds, { distinct: true });
  const encoded = messages.map((m, i) => encodeUIMessage(`messages[${i}]`, m));
  const ids = new Set<string>();
  for (const [i, m] of encoded.entries()) {
    if (ids.has(m.id)) throw new ValidationError(`messages[${i}].id`, `'${m.id}' is given twice`);
    ids.add(m.id);
  }
  const none: SaveChatResult = { appended: 0, replaced: 0, removed: 0, unchanged: 0 };
  if (encoded.length === 0) return none;

  for (let attempt = 1; ; attempt++) {
    const read = await readFrom(store, key, encoded[0]!.id, encoded.length, expected?.length ?? 0);
    if (expected && !endsWith(read.newest, expected)) throw new ConflictError(conflictMessage('expectLastIds'));
    const plan = planSave({
      messages: encoded,
      range: read.range,
      seen: new Map(read.newest.map((m) => [m.id, m])),
      complete: read.complete,
      abortedIndex: aborted ? encoded.length - 1 : undefined,
    });
    if (plan.messages.length === 0 && plan.deleteIds.length === 0) return plan.counts;
    // What the plan was made from must still be the chat's end when it is applied.
    const guardCount = Math.min(MAX_ID_LIST, Math.max(read.range.length, expected?.length ?? 0));
    const guard = read.newest.slice(read.newest.length - guardCount).map((m) => m.id);
    const guarded = guard.length > 0 || expected !== undefined;
    try {
      await store.upsertMessages(key.userId, key.sessionId, key.agentId, plan.messages, {
        // A UIMessage array may hold two user messages in a row (a resend after a failed answer).
        consecutiveRoles: 'keep',
        ...(plan.deleteIds.length > 0 ? { deleteIds: plan.deleteIds } : {}),
        ...(guarded ? { expectLastIds: guard } : {}),
      });
      return plan.counts;
    } catch (error) {
      const raced = guarded && error instanceof ConflictError && error.message === conflictMessage('expectLastIds');
      if (!raced || attempt === SAVE_ATTEMPTS) throw error;
    }
  }
}

function chatKey(key: Partial<ChatKey>): ConversationKey {
  return checkKey(key.userId, key.chatId, key.agentId ?? DEFAULT_AI_SDK_AGENT_ID);
}

/** The newest `count` messages, newest first: one read up to 1,000. */
async function readNewest(store: ChatStorage, key: ConversationKey, count: number): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let cursor: string | undefined;
  do {
    const limit = Math.min(MAX_PAGE_SIZE, count - out.length);
    const page = await store.fetchChatPage(key.userId, key.sessionId, key.agentId, { order: 'newest', limit, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined && out.length < count);
  return out;
}

interface ReadFrom {
  /** The stored messages from `firstId` on, oldest first; empty when it is not stored. */
  range: StoredMessage[];
  /** Everything read, oldest first: the range, and at least `atLeast` of the newest messages. */
  newest: StoredMessage[];
  /** The read reached the conversation's first message. */
  complete: boolean;
}

/**
 * Reads the conversation newest first until `firstId` (and `atLeast` messages) are seen. A page of
 * `expected` (the array's length) holds the whole range in a usual turn. When the first page misses
 * `firstId`, one `getMessage` tells whether it is stored at all, so an array that starts with new
 * messages does not read a long chat to its beginning.
 */
async function readFrom(store: ChatStorage, key: ConversationKey, firstId: string, expected: number, atLeast: number): Promise<ReadFrom> {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(expected, atLeast, 1));
  const newestFirst: StoredMessage[] = [];
  let cursor: string | undefined;
  let stored: boolean | undefined;
  for (;;) {
    const page = await store.fetchChatPage(key.userId, key.sessionId, key.agentId, { order: 'newest', limit, cursor });
    newestFirst.push(...page.items);
    const at = newestFirst.findIndex((m) => m.id === firstId);
    const enough = newestFirst.length >= atLeast;
    if (page.nextCursor === undefined || (at >= 0 && enough)) {
      const oldestFirst = newestFirst.reverse();
      const start = at < 0 ? -1 : oldestFirst.length - 1 - at;
      return { range: start < 0 ? [] : oldestFirst.slice(start), newest: oldestFirst, complete: page.nextCursor === undefined };
    }
    if (at < 0 && stored === undefined) {
      const found = await store.getMessage(key.userId, key.sessionId, firstId);
      stored = found !== null && found.agentId === key.agentId;
    }
    if (stored === false && enough) {
      return { range: [], newest: newestFirst.reverse(), complete: false };
    }
    cursor = page.nextCursor;
  }
}

/** True when the conversation's newest ids are exactly `expected` (oldest first); `[]`: it is empty. */
function endsWith(newest: readonly StoredMessage[], expected: readonly string[]): boolean {
  if (newest.length < expected.length || (expected.length === 0 && newest.length > 0)) return false;
  return newest.slice(newest.length - expected.length).every((m, i) => m.id === expected[i]);
}
