/**
 * What export, copy and the Agent Squad import read from: a stream of sessions, each followed by its
 * messages in write order. A convostore store and an Agent Squad table are both read this way.
 */
import type { ChatStore } from '../core/store.js';
import type { ConversationKey, SessionSummary, StoredMessage } from '../types.js';
import type { MessageRecord, SessionRecord } from './format.js';

export type Item =
  | { kind: 'session'; record: SessionRecord; where: string }
  | { kind: 'message'; record: MessageRecord; where: string }
  | { kind: 'bad'; where: string; reason: string; key?: ConversationKey }
  /** A problem outside any conversation being written (e.g. a source row whose ids are invalid). */
  | { kind: 'problem'; where: string; reason: string };

type ConversationItem = Extract<Item, { kind: 'message' | 'bad' | 'problem' }>;

/** Messages per page read from any store. */
export const READ_PAGE = 500;

/** One agent's conversation, oldest first: messages, or bad rows that stand in for one. */
export type AgentStream = AsyncIterator<ConversationItem>;

/**
 * Merges a session's conversations into one stream. The public API keeps each conversation's order
 * exactly but gives no order across agents, so heads are taken by timestamp; a tie continues the
 * agent just taken (a batch written at once shares its millisecond), then goes by agent id.
 */
export async function* mergeConversations(streams: AgentStream[]): AsyncGenerator<Item> {
  const heads: Array<{ stream: AgentStream; item: ConversationItem }> = [];
  for (const stream of streams) {
    const next = await stream.next();
    if (!next.done) heads.push({ stream, item: next.value });
  }
  let last: AgentStream | undefined;
  while (heads.length > 0) {
    let pick = 0;
    for (let i = 1; i < heads.length; i++) {
      const a = time(heads[i]!.item);
      const b = time(heads[pick]!.item);
      if (a < b || (a === b && heads[i]!.stream === last)) pick = i;
    }
    const head = heads[pick]!;
    yield head.item;
    last = head.stream;
    const next = await head.stream.next();
    if (next.done) heads.splice(pick, 1);
    else head.item = next.value;
  }
}

/** A bad row carries no trustworthy time; it goes out as soon as it is a head, failing its conversation. */
function time(item: ConversationItem): number {
  return item.kind === 'message' ? item.record.timestamp : -Infinity;
}

/** A conversation of a convostore store, oldest first, a page at a time. */
export async function* storedMessages(store: ChatStore, key: ConversationKey, pageSize = READ_PAGE): AsyncGenerator<StoredMessage> {
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(key.userId, key.sessionId, key.agentId, { order: 'oldest', limit: pageSize, cursor });
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

export async function* storeSessions(store: ChatStore, userId: string) {
  let cursor: string | undefined;
  do {
    const page = await store.listSessions(userId, { limit: 100, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}

/** Everything in a store (or one user's part), as export and copy read it. */
export async function* readStore(store: ChatStore, only: string | undefined): AsyncGenerator<Item> {
  for await (const userId of storeUsers(store, only)) {
    for await (const session of storeSessions(store, userId)) {
      const { sessionId, createdAt, lastActivityAt } = session;
      yield { kind: 'session', record: { type: 'session', userId, sessionId, createdAt, lastActivityAt }, where: `session ${sessionId}` };
      yield* sessionItems(store, userId, session);
    }
  }
}

/** One session's messages in write order across its agents. */
export function sessionItems(store: ChatStore, userId: string, session: SessionSummary): AsyncGenerator<Item> {
  const { sessionId } = session;
  return mergeConversations(session.agents.map(({ agentId }) => agentMessages(store, { userId, sessionId, agentId })));
}

async function* agentMessages(store: ChatStore, key: ConversationKey): AgentStream {
  for await (const m of storedMessages(store, key)) {
    yield {
      kind: 'message',
      record: { type: 'message', ...key, seq: m.seq, role: m.role, content: m.content, timestamp: m.timestamp },
      where: `message ${m.seq} of (${key.userId}, ${key.sessionId}, ${key.agentId})`,
    };
  }
}

/** Messages a store holds (or one user's), from the session summaries: for progress totals. */
export async function countMessages(store: ChatStore, only: string | undefined): Promise<number> {
  let total = 0;
  for await (const userId of storeUsers(store, only)) {
    for await (const session of storeSessions(store, userId)) total += session.messageCount;
  }
  return total;
}
