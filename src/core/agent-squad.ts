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
 * Under `skip`, whether the write's first new message was skipped when this same write was first
 * applied, and must be skipped again now that it is sent again (a lost answer, a client retry).
 * Only that message can have been skipped against the stored last one (the batch's own repeats are
 * collapsed before the backend sees it), and it then no longer meets that message: the messages the
 * write put after it are stored now. So: a message after it in the write is already stored
 * identically (`identical`, by id). Without this the retry would append it after them.
 */
export function skippedWhenFirstSent(messages: readonly EncodedMessage[], firstNew: EncodedMessage, identical: ReadonlySet<string>): boolean {
  if (identical.size === 0) return false;
  for (let i = messages.indexOf(firstNew) + 1; i < messages.length; i++) if (identical.has(messages[i]!.id)) return true;
  return false;
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
