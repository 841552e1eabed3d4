/**
 * Agent Squad's table has no order across a session's agents: its own fetchAllChats sorts the
 * session's rows by timestamp. So an Agent Squad session is read the same way, by merging its
 * conversations (each in exact message_index order) by timestamp. convostore stores are never read
 * this way: they have the session's write order (`fetchSessionPage`).
 */
import type { Item } from './source.js';

export type ConversationItem = Extract<Item, { kind: 'message' | 'bad' | 'problem' }>;

/** One agent's conversation, oldest first: messages, or bad rows that stand in for one. */
export type AgentStream = AsyncIterator<ConversationItem>;

/**
 * Merges a session's conversations into one stream: heads are taken by timestamp; a tie continues the
 * agent just taken (a batch written at once shares its millisecond), then goes by the streams' order.
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

/** A bad row carries no trustworthy time; it goes out as soon as it is a head, failing its session. */
function time(item: ConversationItem): number {
  return item.kind === 'message' ? item.record.timestamp : -Infinity;
}
