import type { ChatStore, StoredMessage } from '../../src/index.js';

/**
 * Everything a store holds, as its public API shows it: users, each user's session summaries (times,
 * counts, agents), each session's fetchAllChats, and each conversation page by page with seq and
 * timestamps. Two stores with equal snapshots hold the same data.
 */
export async function snapshot(store: ChatStore): Promise<unknown> {
  const users: Record<string, unknown> = {};
  let userCursor: string | undefined;
  do {
    const page = await store.listUsers({ limit: 7, cursor: userCursor });
    for (const userId of page.items) users[userId] = await userSnapshot(store, userId);
    userCursor = page.nextCursor;
  } while (userCursor);
  return users;
}

async function userSnapshot(store: ChatStore, userId: string): Promise<unknown> {
  const sessions: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listSessions(userId, { limit: 3, cursor });
    for (const summary of page.items) {
      const conversations: Record<string, StoredMessage[]> = {};
      for (const { agentId } of summary.agents) conversations[agentId] = await allMessages(store, userId, summary.sessionId, agentId);
      sessions.push({ summary, all: await store.fetchAllChats(userId, summary.sessionId), conversations });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return sessions;
}

export async function allMessages(store: ChatStore, userId: string, sessionId: string, agentId: string): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(userId, sessionId, agentId, { order: 'oldest', limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}
