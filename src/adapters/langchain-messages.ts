/**
 * LangChain messages <-> convostore messages (docs/frameworks.md has the table).
 *
 * A LangChain message is stored as its content parts (a string content becomes one `{ text }` block),
 * followed by one `{ langchain: ... }` block that holds everything else LangChain's own serialisation
 * (`toDict()`) keeps: type, id, name, tool calls, tool_call_id, artifact, status, usage and response
 * metadata, additional kwargs. The text is not stored twice, so a message keeps the backend's whole
 * size limit, and readers that know nothing of LangChain (`fetchAllChats`, Agent Squad) see its text
 * in the first block. Reading rebuilds the message with LangChain's `mapStoredMessagesToChatMessages`.
 */
import { mapStoredMessagesToChatMessages, type BaseMessage, type StoredMessage } from '@langchain/core/messages';
import { isPlainObject } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { ContentBlock, ConversationMessage, JsonValue, MessageInput, Role } from '../types.js';

/** The message types `mapStoredMessagesToChatMessages` can rebuild; nothing else is written. */
const STORABLE_TYPES = new Set(['human', 'ai', 'system', 'tool', 'function', 'generic']);
const FORMAT_VERSION = 1;

/** What the trailing block holds. `data` is `toDict().data` without `content`. */
export interface LangchainBlock {
  v: typeof FORMAT_VERSION;
  type: string;
  /** `text` when the content was a string (now the first block's text), `parts` when it was an array. */
  content: 'text' | 'parts';
  data: { [key: string]: JsonValue };
}

/**
 * The convostore role of a LangChain message type: `ai` is `assistant`, `system` is `system`, a tool
 * or function result is `tool`, a human message is `user`; a generic `ChatMessage` by its role name
 * (`assistant`/`ai`, `system`, `tool`/`function`; any other name is `user`).
 *
 * The first version of this adapter (convostore 0.1.0) stored every type but `ai` as `user`, from
 * before convostore had the `system` and `tool` roles. Reading never looks at the role of a message
 * that carries the `langchain` block, so histories stored that way read back as they were written.
 */
export function roleOf(type: string, chatRole: unknown): Role {
  switch (type === 'generic' ? chatRole : type) {
    case 'ai':
    case 'assistant':
      return 'assistant';
    case 'system':
      return 'system';
    case 'tool':
    case 'function':
      return 'tool';
    default:
      return 'user';
  }
}

export function toConvostore(field: string, message: BaseMessage): MessageInput {
  if (typeof (message as Partial<BaseMessage> | null)?.toDict !== 'function') {
    throw new ValidationError(field, 'must be a LangChain message (a BaseMessage)');
  }
  const { type, data } = message.toDict();
  if (!STORABLE_TYPES.has(type)) {
    throw new ValidationError(`${field}.type`, `a LangChain '${type}' message cannot be stored in a chat history`);
  }
  const { content, ...rest } = ownValues(message, data);
  const isText = typeof content === 'string';
  const parts = isText ? [{ text: content }] : content;
  if (!Array.isArray(parts)) throw new ValidationError(`${field}.content`, 'must be a string or an array of content parts');
  // Plain-JSON checking of parts and data is convostore's own, in ChatStore: a Date or a Uint8Array
  // in an artifact or a part is refused there with a path to it, before anything is written.
  const block = { langchain: { v: FORMAT_VERSION, type, content: isText ? 'text' : 'parts', data: rest } };
  return { role: roleOf(type, data.role), content: [...(parts as ContentBlock[]), block as unknown as ContentBlock] };
}

/**
 * `toDict()` names the fields a message type keeps, but its values went through LangChain's escaping,
 * which turns a Date or a Uint8Array into a plain object and wraps any object with an `lc` key in
 * `{ __lc_escaped__ }` that `mapStoredMessagesToChatMessages` never unwraps. The message's own values
 * are stored instead: what is not JSON is then refused by convostore's validation, not altered.
 */
function ownValues(message: BaseMessage, data: StoredMessage['data']): { content: unknown; [key: string]: unknown } {
  const values: { content: unknown; [key: string]: unknown } = { content: undefined };
  for (const [key, escaped] of Object.entries(data)) {
    values[key] = key in message ? (message as unknown as Record<string, unknown>)[key] : escaped;
  }
  return values;
}

export function fromConvostore(message: ConversationMessage): BaseMessage {
  const blocks = message.content;
  const mark = readBlock(blocks[blocks.length - 1]);
  if (mark) {
    const parts = blocks.slice(0, -1);
    const content = mark.content === 'text' ? String(parts[0]?.text ?? '') : parts;
    const stored = { type: mark.type, data: { content, ...mark.data } } as unknown as StoredMessage;
    return mapStoredMessagesToChatMessages([stored])[0]!;
  }
  return fromForeign(message);
}

function readBlock(block: ContentBlock | undefined): LangchainBlock | undefined {
  if (!block || Object.keys(block).length !== 1 || !isPlainObject(block.langchain)) return undefined;
  const mark = block.langchain as Partial<LangchainBlock>;
  if (mark.v !== FORMAT_VERSION || typeof mark.type !== 'string' || !isPlainObject(mark.data)) return undefined;
  if (mark.content !== 'text' && mark.content !== 'parts') return undefined;
  return mark as LangchainBlock;
}

/**
 * A message some other writer stored (Agent Squad, the convostore API): an AI message for
 * `assistant`, a system message for `system`, else a human message, with its text blocks as content.
 * Blocks that are not text (an image, a toolUse) have no LangChain equivalent, so all of the original
 * blocks travel in `additional_kwargs.convostore_content`; so do a `tool` message's (a LangChain
 * ToolMessage needs the id of its call, which a foreign message does not name), with
 * `convostore_role: 'tool'` beside them.
 */
function fromForeign(message: ConversationMessage): BaseMessage {
  const texts = message.content.filter((b): b is ContentBlock & { text: string } => typeof b.text === 'string' && Object.keys(b).length === 1);
  const content =
    texts.length === 0 ? '' : texts.length === 1 ? texts[0]!.text : texts.map((b) => ({ type: 'text', text: b.text }));
  const data: { [key: string]: unknown } = { content };
  if (message.role === 'tool') data.additional_kwargs = { convostore_role: 'tool', convostore_content: message.content };
  else if (texts.length !== message.content.length) data.additional_kwargs = { convostore_content: message.content };
  const type = message.role === 'assistant' ? 'ai' : message.role === 'system' ? 'system' : 'human';
  return mapStoredMessagesToChatMessages([{ type, data } as unknown as StoredMessage])[0]!;
}
