/**
 * Agent Squad's own `maxHistorySize` rule, for `ConvostoreChatStorage` with `maxHistorySize: 'trim'`.
 *
 * Agent Squad's in-memory and DynamoDB storages apply their base class's `trimConversation` to what
 * they store on every save: the conversation keeps its newest `maxHistorySize` messages (an odd
 * number rounded down to whole pairs; 0 and 1 round down to 0, and `slice(-0)` keeps everything), and
 * the save returns what is left. A message skipped as a consecutive repeat stores nothing, trims
 * nothing, and returns the whole stored conversation. convostore's own default treats the number as a
 * window (a view; retention bounds storage); this module reproduces Agent Squad's rule instead.
 *
 * Each trimmed save is one `upsertMessages`: the new messages appended and the messages beyond the
 * limit deleted in the same atomic write, on condition (`expectLastIds`) that the conversation's
 * newest message is still the one read just before. A writer that lost that race reads again and
 * retries, so concurrent savers never leave more than the limit, and never lose each other's messages
 * except to the trim itself.
 */
import type { ChatStore } from '../core/store.js';
import { repeats } from '../core/agent-squad.js';
import { retry } from '../core/retry.js';
import { MAX_ID_LIST, checkWindow } from '../core/validate.js';
import { ConflictError, ConsecutiveRoleError, ValidationError } from '../errors.js';
import type { ConversationKey, ConversationMessage, MessageInput } from '../types.js';
import { readConversation } from './read-conversation.js';

/** How often a save re-reads and retries after another writer changed the conversation under it. */
const MAX_ATTEMPTS = 10;

/**
 * The number of messages a conversation keeps under Agent Squad's `trimConversation`, or undefined
 * for no limit (absent, 0 or 1). Negative, fractional or non-numeric values are a ValidationError,
 * as convostore's windows are (Agent Squad would slice by them).
 */
export function squadLimit(maxHistorySize: unknown): number | undefined {
  const even = checkWindow(maxHistorySize);
  return even === 0 ? undefined : even;
}

/** Saves `messages` and trims the stored conversation to `limit`; returns what it then holds. */
export async function saveTrimmed(
  store: ChatStore,
  key: ConversationKey,
  messages: MessageInput[],
  limit: number,
  field: string,
): Promise<ConversationMessage[]> {
  messages.forEach((m, i) => {
    // A message with an id that is already stored would be replaced in place by the upsert instead
    // of appended (or refused) as a save does; Agent Squad's messages never carry one.
    if (typeof m === 'object' && m !== null && m.id !== undefined) {
      const path = field === 'newMessage' ? 'newMessage.id' : `${field}[${i}].id`;
      throw new ValidationError(path, "a save with maxHistorySize: 'trim' takes messages without ids");
    }
  });
  // A ConflictError: another writer changed the conversation between the read and the write; read again.
  return retry(async () => {
    const stored = await readConversation(store, key);
    const survivors = appendedIndexes(messages, stored[stored.length - 1]?.role, store.consecutiveRoles);
    const expectLastIds = stored.length === 0 ? [] : [stored[stored.length - 1]!.id];
    if (survivors.length === 0) {
      // Every message repeats: nothing is stored and nothing trimmed. Written all the same so that
      // the store skips and logs them as it does any skipped message.
      await store.upsertMessages(key.userId, key.sessionId, key.agentId, messages, { expectLastIds });
      return stored.map(plain);
    }
    const excess = Math.max(0, stored.length + survivors.length - limit);
    const deleted = stored.slice(0, Math.min(excess, stored.length)).map((m) => m.id);
    // Messages of the batch itself beyond the limit (a batch longer than it) are not written: the
    // trim would delete them at once. The rest starts at a survivor, and with nothing stored left
    // before it the store's rule keeps it, then skips the same repeats as predicted.
    const cut = excess - deleted.length;
    const batch = cut === 0 ? messages : messages.slice(survivors[cut]);
    // More deletions than one write takes (a long history saved with the flag for the first time):
    // the oldest go first, each chunk atomic; they are beyond the limit whatever happens next.
    while (deleted.length > MAX_ID_LIST) {
      await store.deleteMessages(key.userId, key.sessionId, deleted.splice(0, MAX_ID_LIST));
    }
    const written = await store.upsertMessages(key.userId, key.sessionId, key.agentId, batch, { expectLastIds, deleteIds: deleted });
    return [...stored.slice(excess - cut), ...written].map(plain);
  }, { retryable: (error) => error instanceof ConflictError, attempts: MAX_ATTEMPTS, baseMs: 4, capMs: 100 });
}

/**
 * Indexes of the messages the store will append after a conversation whose last role is `lastRole`,
 * under its consecutive-role policy (the rule of core/agent-squad.ts). Roles the store refuses are
 * left for its validation, which runs before anything is written.
 */
function appendedIndexes(messages: MessageInput[], lastRole: string | undefined, policy: ChatStore['consecutiveRoles']): number[] {
  const kept: number[] = [];
  let previous = lastRole;
  messages.forEach((m, i) => {
    const role = typeof m === 'object' && m !== null ? String(m.role) : '';
    if (policy !== 'keep' && repeats(previous, role)) {
      if (policy === 'throw') throw new ConsecutiveRoleError(role);
      return;
    }
    kept.push(i);
    previous = role;
  });
  return kept;
}

function plain({ role, content }: ConversationMessage): ConversationMessage {
  return { role, content };
}
