/**
 * Message ids for sources that have none: version 1 export files and Agent Squad's table.
 *
 * An import must be idempotent and resumable, and `importSession` is idempotent by id, so an id-less
 * message gets an id that depends only on where it sits in its source: a name-based UUID (version 5,
 * RFC 9562) of its conversation and its position there. Importing the same file or table again
 * gives every message the same id, so nothing is written twice; ids made by the store (UUIDv7)
 * would differ on every run.
 */
import { createHash } from 'node:crypto';
import type { ConversationKey } from '../types.js';

/** convostore's namespace for derived message ids (a random UUID, fixed once). */
const NAMESPACE = Buffer.from('11ac916dec0f4452888a606270b6666b', 'hex');

/**
 * Where a message sits in its source conversation: its `seq` (a v1 export's position, Agent Squad's
 * message_index + 1) or, for a line without one, its count among the conversation's lines. The two
 * kinds never give the same id.
 */
export type SourcePosition = { seq: number } | { line: number };

export function derivedMessageId(key: ConversationKey, position: SourcePosition): string {
  const where = 'seq' in position ? ['seq', position.seq] : ['line', position.line];
  const name = JSON.stringify([key.userId, key.sessionId, key.agentId, ...where]);
  const bytes = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
