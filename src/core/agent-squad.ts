import { ConsecutiveRoleError } from '../errors.js';
import type { ConsecutiveRolePolicy, ContentBlock, ConversationMessage } from '../types.js';
import type { EncodedMessage } from './backend.js';

/**
 * Agent Squad's rules, kept once for every backend.
 *
 * Within a batch, a `user` or `assistant` message with the same role as the one before it (of any
 * role) is dropped (`skip`) or refused (`throw`); `system` and `tool` messages never repeat. Only the
 * batch's first appended message still has to be compared with what is stored, which the backend
 * does atomically with the write.
 */
export function collapseConsecutive(messages: EncodedMessage[], policy: ConsecutiveRolePolicy): EncodedMessage[] {
  if (policy === 'keep') return messages;
  const kept: EncodedMessage[] = [];
  for (const message of messages) {
    const previous = kept[kept.length - 1];
    if (previous && repeats(previous.role, message.role)) {
      if (policy === 'throw') throw new ConsecutiveRoleError(message.role);
      continue;
    }
    kept.push(message);
  }
  return kept;
}

/**
 * Which of a write's new messages (`fresh`, in write order; ids not stored) are appended, under the
 * consecutive-role rule: a `user` or `assistant` message whose role repeats the new message before it
 * (the first: the conversation's last live message, `lastRole`) is skipped (`skip`) or refused
 * (`throw`, ConsecutiveRoleError). Stored messages of an upsert are replaced in place, not appended,
 * so they take no part in it.
 *
 * Under `skip` a write can be sent again (a lost answer): its new messages are then the ones its
 * first attempt skipped, and they must be skipped again, though they may no longer repeat anything
 * (what they repeated is stored now, after them). So a new message followed in the write by one
 * already stored identically (`identical`, by id) is skipped, and the rule restarts after the last
 * such message from the stored last one, which that message is.
 */
export function appendable(
  messages: readonly EncodedMessage[],
  fresh: readonly EncodedMessage[],
  lastRole: string | undefined,
  policy: ConsecutiveRolePolicy,
  identical: ReadonlySet<string>,
): EncodedMessage[] {
  if (policy === 'keep') return [...fresh];
  const lastIdentical = policy === 'skip' ? messages.findLastIndex((m) => identical.has(m.id)) : -1;
  const resent = new Set(messages.slice(0, Math.max(0, lastIdentical)));
  const kept: EncodedMessage[] = [];
  let previous = lastRole;
  for (const m of fresh) {
    if (resent.has(m)) continue;
    if (repeats(previous, m.role)) {
      if (policy === 'throw') throw new ConsecutiveRoleError(m.role);
      continue; // its role is `previous`'s: nothing to update
    }
    kept.push(m);
    previous = m.role;
  }
  return kept;
}

/** True when `next` following `last` is a consecutive repeat under Agent Squad's rule (v2: user/assistant only). */
export function repeats(last: string | undefined, next: string): boolean {
  return last === next && (next === 'user' || next === 'assistant');
}

/**
 * `fetchAllChats` tags each assistant message with the agent that wrote it, as Agent Squad does:
 * the first text block gets a `[agentId] ` prefix. Unlike Agent Squad, other blocks are kept, and a
 * message without a text block gets one holding the tag, so attribution is never lost.
 */
export function attributeToAgent(agentId: string, message: ConversationMessage): ConversationMessage {
  if (message.role !== 'assistant') return message;
  const tag = `[${agentId}] `;
  const i = message.content.findIndex((block) => typeof block.text === 'string');
  const content: ContentBlock[] =
    i === -1
      ? [{ text: tag }, ...message.content]
      : message.content.map((block, j) => (j === i ? { ...block, text: tag + (block.text as string) } : block));
  return { role: message.role, content };
}

export function consecutiveNotice(role: string, agentId: string): string {
  return `> Consecutive ${role} message detected for agent ${agentId}. Not saving.`;
}
