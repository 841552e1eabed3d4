import type { ChatStorage, ConversationKey, StoredMessage } from '../types.js';
import { MAX_PAGE_SIZE } from '../core/validate.js';

/**
 * A conversation's live messages, oldest first, read a page of 1,000 at a time: for adapters that
 * must see all of it before one conditional write (the ids to delete, the last role and id).
 */
export async function readConversation(store: ChatStorage, key: ConversationKey): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(key.userId, key.sessionId, key.agentId, { order: 'oldest', limit: MAX_PAGE_SIZE, cursor });
    messages.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return messages;
}
