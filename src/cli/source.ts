/**
 * What export, copy, verification and the Agent Squad import read from: a stream of sessions, each
 * followed by its messages in the session's write order. A convostore store and an Agent Squad table
 * are both read this way.
 */
import type { ChatStore } from '../core/store.js';
import type { ConversationKey, SessionMessage, SessionSummary } from '../types.js';
import type { MessageRecord, SessionRecord } from './format.js';

export type Item =
  | { kind: 'session'; record: SessionRecord; where: string }
  | { kind: 'message'; record: MessageRecord; where: string }
  | { kind: 'bad'; where: string; reason: string; key?: ConversationKey }
  /** A problem outside any session being written (e.g. a source row whose ids are invalid). */
  | { kind: 'problem'; where: string; reason: string };

/** Messages per page read from any store. */
export const READ_PAGE = 500;

/** A session of a convostore store in its write order across agents, oldest first, a page at a time. */
export async function* sessionMessages(store: ChatStore, userId: string, sessionId: string, pageSize = READ_PAGE): AsyncGenerator<SessionMessage> {
  let cursor: string | undefined;
  do {
    const page = await store.fetchSessionPage(userId, sessionId, { order: 'oldest', limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Every user of a store (or just one), by id. */
export async function* storeUsers(store: ChatStore, only: string | undefined): AsyncGenerator<string> {
  if (only !== undefined) {
    yield only;
    return;
  }
  let cursor: string | undefined;
  do {
    const page = await store.listUsers({ limit: READ_PAGE, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

export async function* storeSessions(store: ChatStore, userId: string): AsyncGenerator<SessionSummary> {
  let cursor: string | undefined;
  do {
    const page = await store.listSessions(userId, { limit: 100, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Everything in a store (or one user's part), as export, copy and its verification read it. */
export async function* readStore(store: ChatStore, only: string | undefined): AsyncGenerator<Item> {
  for await (const userId of storeUsers(store, only)) {
    for await (const session of storeSessions(store, userId)) {
      yield { kind: 'session', record: sessionRecord(userId, session), where: `session (${userId}, ${session.sessionId})` };
      for await (const m of sessionMessages(store, userId, session.sessionId)) yield messageItem(userId, session.sessionId, m);
    }
  }
}

export function sessionRecord(userId: string, session: SessionSummary): SessionRecord {
  const { sessionId, createdAt, lastActivityAt, title, metadata } = session;
  const record: SessionRecord = { type: 'session', userId, sessionId, createdAt, lastActivityAt };
  if (title !== undefined) record.title = title;
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}

function messageItem(userId: string, sessionId: string, m: SessionMessage): Item {
  const record: MessageRecord = { type: 'message', userId, sessionId, agentId: m.agentId, id: m.id, seq: m.seq, role: m.role, content: m.content, timestamp: m.timestamp };
  if (m.metadata !== undefined) record.metadata = m.metadata;
  return { kind: 'message', record, where: `message ${m.id} of (${userId}, ${sessionId}, ${m.agentId})` };
}

/** Messages a store holds (or one user's), from the session summaries: for progress totals. */
export async function countMessages(store: ChatStore, only: string | undefined): Promise<number> {
  let total = 0;
  for await (const userId of storeUsers(store, only)) {
    for await (const session of storeSessions(store, userId)) total += session.messageCount;
  }
  return total;
}
