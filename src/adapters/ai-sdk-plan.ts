/**
 * What `saveChat` writes, decided from one read of the stored chat: the UIMessage array replaces the
 * stored messages from its first message on, in one `upsertMessages` call.
 *
 * `range` is that stored suffix (oldest first), empty when the array's first message is not stored.
 * Walking the array and the range together: a message stored under the same id in the same place is
 * kept (written again only if it changed), a stored message the array no longer holds is removed (a
 * regenerated answer), and from the first place where the two orders differ every stored message of
 * the range is removed and every message of the array appended, in the array's order. So the stored
 * chat afterwards reads exactly as the array from its first message on, and what lies before it (the
 * history a `limit` load did not return) is left alone.
 */
import type { MessageInput, StoredMessage } from '../types.js';
import { isStoredAs, toStoredInput, type EncodedUIMessage } from './ai-sdk-messages.js';

export interface SaveInput {
  messages: readonly EncodedUIMessage[];
  /** The stored messages from the array's first message on, oldest first. */
  range: readonly StoredMessage[];
  /** Every stored message the read saw (the range and possibly older ones), by id. */
  seen: ReadonlyMap<string, StoredMessage>;
  /** The read reached the conversation's first message: an id not in `seen` is not stored. */
  complete: boolean;
  /** Index in `messages` of the message an aborted stream produced, if any. */
  abortedIndex: number | undefined;
}

export interface SavePlan {
  /** For `upsertMessages`: replacements in place and appends, in the array's order. */
  messages: MessageInput[];
  deleteIds: string[];
  counts: SaveChatResult;
}

/** What a `saveChat` call did. */
export interface SaveChatResult {
  /** Messages new to the chat. */
  appended: number;
  /** Stored messages written again: changed in place, or moved to the array's order. */
  replaced: number;
  /** Stored messages the array no longer holds. */
  removed: number;
  /** Stored messages already as the array holds them: not written. */
  unchanged: number;
}

export function planSave({ messages, range, seen, complete, abortedIndex }: SaveInput): SavePlan {
  const inArray = new Set(messages.map((m) => m.id));
  const writes: MessageInput[] = [];
  const deleteIds = new Set<string>();
  const counts: SaveChatResult = { appended: 0, replaced: 0, removed: 0, unchanged: 0 };
  let i = 0;
  let j = 0;
  while (i < messages.length && j < range.length) {
    const message = messages[i]!;
    const stored = range[j]!;
    if (stored.id === message.id) {
      if (isStoredAs(stored, message, i === abortedIndex)) {
        counts.unchanged++;
      } else {
        writes.push(toStoredInput(message, i === abortedIndex, stored));
        counts.replaced++;
      }
      i++;
      j++;
    } else if (!inArray.has(stored.id)) {
      deleteIds.add(stored.id);
      counts.removed++;
      j++;
    } else {
      break; // the array holds this stored message later: the orders part here
    }
  }
  for (; j < range.length; j++) {
    const stored = range[j]!;
    deleteIds.add(stored.id);
    if (!inArray.has(stored.id)) counts.removed++;
  }
  for (; i < messages.length; i++) {
    const message = messages[i]!;
    const previous = seen.get(message.id);
    // An upsert replaces a stored id where it stands; removing it first makes it an append at the
    // array's place. An id the read did not see may still be stored before it when the read stopped
    // early (unknown ids are ignored by deleteIds), so it is removed first too.
    if (previous || !complete) deleteIds.add(message.id);
    const input = toStoredInput(message, i === abortedIndex, previous);
    if (previous) {
      input.timestamp = previous.timestamp;
      counts.replaced++;
    } else {
      counts.appended++;
    }
    writes.push(input);
  }
  return { messages: writes, deleteIds: [...deleteIds], counts };
}
