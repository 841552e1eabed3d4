import type { ChatStore } from '../core/store.js';
import { storeSessions, storeUsers } from './source.js';

/** How many messages one conversation should hold. Grouped by user, users in any order. */
export interface ConversationCount {
  userId: string;
  sessionId: string;
  agentId: string;
  messages: number;
}

export interface Verification {
  conversations: number;
  messages: number;
  /** One line per conversation whose count differs; at most `limit` kept. */
  mismatches: string[];
  mismatchCount: number;
}

/** Checks, from the destination's session summaries, that each conversation holds what it should. */
export async function verifyCounts(expected: AsyncIterable<ConversationCount>, dest: ChatStore, limit = 20): Promise<Verification> {
  const result: Verification = { conversations: 0, messages: 0, mismatches: [], mismatchCount: 0 };
  let user: string | undefined;
  let held = new Map<string, number>();
  for await (const c of expected) {
    if (c.userId !== user) {
      user = c.userId;
      held = await conversationCounts(dest, user);
    }
    result.conversations++;
    result.messages += c.messages;
    const actual = held.get(JSON.stringify([c.sessionId, c.agentId])) ?? 0;
    if (actual !== c.messages) {
      result.mismatchCount++;
      if (result.mismatches.length < limit) {
        result.mismatches.push(`(${c.userId}, ${c.sessionId}, ${c.agentId}): ${c.messages} expected, ${actual} at the destination`);
      }
    }
  }
  return result;
}

async function conversationCounts(store: ChatStore, userId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const session of storeSessions(store, userId)) {
    for (const agent of session.agents) counts.set(JSON.stringify([session.sessionId, agent.agentId]), agent.messageCount);
  }
  return counts;
}

/** A convostore store's own counts, as expected values for a copy of it. */
export async function* storeCounts(store: ChatStore, only: string | undefined): AsyncGenerator<ConversationCount> {
  for await (const userId of storeUsers(store, only)) {
    for await (const session of storeSessions(store, userId)) {
      for (const agent of session.agents) {
        yield { userId, sessionId: session.sessionId, agentId: agent.agentId, messages: agent.messageCount };
      }
    }
  }
}
