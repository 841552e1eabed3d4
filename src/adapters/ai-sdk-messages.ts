/**
 * AI SDK `UIMessage` <-> convostore message, one for one (docs/frameworks.md has the table).
 *
 *   { id, role, parts, metadata? }  <->  { id, role, content: parts, metadata: { uiMetadata?, aborted? } }
 *
 * Every part is a plain JSON object with a `type`, so the parts are the content blocks as they are:
 * text, reasoning, tool calls with their input and output, sources, files, data parts. The UI
 * metadata may be any JSON value (a string, an array, `null`) while convostore's metadata is an object,
 * so it sits under one key; convostore's own marks sit beside it and never reach `UIMessage.metadata`.
 */
import type { UIMessage } from 'ai';
import { checkId, describe, encodeContent, encodeMetadata, isPlainObject, readInput } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { ContentBlock, JsonValue, MessageInput, Metadata, StoredMessage } from '../types.js';

/** The stored metadata key that holds `UIMessage.metadata`. */
export const UI_METADATA_KEY = 'uiMetadata';
/** The stored metadata key of convostore's mark on a message produced by an aborted stream. */
export const ABORTED_KEY = 'aborted';

const UI_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);

/** A UIMessage checked as plain JSON, with the JSON text its parts and metadata are compared by. */
export interface EncodedUIMessage {
  id: string;
  role: UIMessage['role'];
  parts: ContentBlock[];
  partsJson: string;
  /** Absent when the UIMessage has no metadata (or `metadata: undefined`, which JSON drops too). */
  uiMetadata?: { value: JsonValue; json: string };
}

/**
 * Checks one UIMessage of a `saveChat` call. What convostore would refuse (a Date, NaN, a cycle) is
 * refused here with the UIMessage's own field names, before anything is read or written.
 */
export function encodeUIMessage(field: string, value: unknown): EncodedUIMessage {
  return readInput(field, () => {
    if (!isPlainObject(value)) throw new ValidationError(field, `must be a UIMessage, got ${describe(value)}`);
    const { id, role, parts, metadata } = value;
    if (id === '') {
      // toUIMessageStream leaves the response's id empty unless it is given a generateMessageId.
      throw new ValidationError(`${field}.id`, 'is empty: pass generateMessageId to toUIMessageStream so the response message has an id');
    }
    checkId(`${field}.id`, id);
    if (typeof role !== 'string' || !UI_ROLES.has(role)) {
      throw new ValidationError(`${field}.role`, `must be 'system', 'user' or 'assistant', got ${describe(role)}`);
    }
    if (!Array.isArray(parts)) throw new ValidationError(`${field}.parts`, `must be an array of parts, got ${describe(parts)}`);
    const partsJson = encodeContent(`${field}.parts`, parts);
    (parts as ContentBlock[]).forEach((part, i) => {
      if (typeof part.type !== 'string') {
        throw new ValidationError(`${field}.parts[${i}].type`, `must be a string such as 'text' or 'tool-weather', got ${describe(part.type)}`);
      }
    });
    const encoded: EncodedUIMessage = { id: id as string, role: role as UIMessage['role'], parts: parts as ContentBlock[], partsJson };
    if (metadata !== undefined) {
      // Checked as the value of a `metadata` key, so a refusal names `messages[i].metadata.…`.
      encodeMetadata(field, { metadata });
      encoded.uiMetadata = { value: metadata as JsonValue, json: JSON.stringify(metadata) };
    }
    return encoded;
  });
}

/**
 * The stored message for `message`. `previous` is what is stored under its id, if known: metadata keys
 * that are neither the UI metadata nor a mark (set by `updateMessage`, say) are kept.
 */
export function toStoredInput(message: EncodedUIMessage, aborted: boolean, previous?: StoredMessage): MessageInput {
  const metadata: Metadata = {};
  for (const [key, value] of Object.entries(previous?.metadata ?? {})) {
    if (key !== UI_METADATA_KEY && key !== ABORTED_KEY) metadata[key] = value;
  }
  if (message.uiMetadata) metadata[UI_METADATA_KEY] = message.uiMetadata.value;
  if (aborted) metadata[ABORTED_KEY] = true;
  const input: MessageInput = { id: message.id, role: message.role, content: message.parts };
  if (Object.keys(metadata).length > 0) input.metadata = metadata;
  return input;
}

/**
 * True when `stored` already holds `message` as it would be written now: same role, parts and UI
 * metadata, and the aborted mark when this write sets it. A stored mark stays on a message that is
 * saved again unchanged; a message written anew carries only the marks of its own write.
 */
export function isStoredAs(stored: StoredMessage, message: EncodedUIMessage, aborted: boolean): boolean {
  if (stored.role !== message.role || JSON.stringify(stored.content) !== message.partsJson) return false;
  const metadata = stored.metadata ?? {};
  const storedUi = Object.hasOwn(metadata, UI_METADATA_KEY) ? JSON.stringify(metadata[UI_METADATA_KEY]) : undefined;
  if (storedUi !== message.uiMetadata?.json) return false;
  return !aborted || metadata[ABORTED_KEY] === true;
}

/** A stored message as the AI SDK sees it, and convostore's marks on it. */
export interface ChatEntry<M extends UIMessage = UIMessage> {
  message: M;
  /** The stream that produced this message was aborted: it holds what the stream had produced. */
  aborted: boolean;
  /** When the message was first stored (epoch ms). */
  timestamp: number;
}

/**
 * A stored message as a UIMessage. A `{ text }` block without a `type` (written through convostore's
 * own API, e.g. `saveChatMessage(…, { role: 'user', content: 'hi' })`) reads as a text part; a role or
 * block a UIMessage cannot hold is a ValidationError naming the message.
 */
export function fromStored(stored: StoredMessage): ChatEntry {
  const field = `stored message '${stored.id}'`;
  if (!UI_ROLES.has(stored.role)) {
    throw new ValidationError(field, `has role '${stored.role}', which a UIMessage cannot hold (this conversation was not written by saveChat)`);
  }
  const parts = stored.content.map((block, i) => {
    if (typeof block.type === 'string') return block;
    const keys = Object.keys(block);
    if (keys.length === 1 && typeof block.text === 'string') return { type: 'text', text: block.text };
    throw new ValidationError(`${field}.content[${i}]`, `is not a UIMessage part (no type): ${JSON.stringify(block).slice(0, 80)}`);
  });
  const message = { id: stored.id, role: stored.role, parts } as UIMessage;
  const metadata = stored.metadata ?? {};
  if (Object.hasOwn(metadata, UI_METADATA_KEY)) message.metadata = metadata[UI_METADATA_KEY];
  return { message, aborted: metadata[ABORTED_KEY] === true, timestamp: stored.timestamp };
}
