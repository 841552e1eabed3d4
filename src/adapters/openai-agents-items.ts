/**
 * How an OpenAI Agents SDK `AgentInputItem` becomes one convostore message and back.
 *
 * The whole item goes into one content block, `{ openaiAgents: { v: 1, item, undefinedAt?, bytesAt? } }`,
 * so that every item type, present and future, comes back deep-equal. Two things an item may hold
 * are not JSON, and both are common: keys whose value is `undefined` (the SDK's own items carry
 * `providerData: undefined`, and its `MemorySession` keeps them through `structuredClone`) and
 * `Uint8Array` bytes (tool output images and files). The block lists where they were
 * (`undefinedAt`, `bytesAt`: paths into `item`) and the bytes are stored as base64url strings, so
 * nothing in the item is reserved and nothing is guessed on the way back. Anything else that is not
 * JSON (a Date, a Map, NaN, a class instance, a cycle) is refused with a `ValidationError` naming its
 * path, before anything is written.
 */
import type { AgentInputItem } from '@openai/agents-core';
import { base64urlToBytes, bytesToBase64url } from '../core/bytes.js';
import { MAX_CONTENT_DEPTH, describe, isPlainObject, readInput } from '../core/validate.js';
import { ValidationError } from '../errors.js';
import type { ContentBlock, JsonValue, Role } from '../types.js';

/** The content block key that marks a message written by this adapter. */
export const BLOCK_KEY = 'openaiAgents';
const FORMAT_VERSION = 1;

type Path = (string | number)[];

export interface ItemBlock {
  v: number;
  item: JsonValue;
  /** Paths of keys (or array slots, stored as `null`) whose value was `undefined`. */
  undefinedAt?: Path[];
  /** Paths of `Uint8Array` values, stored as base64url strings. */
  bytesAt?: Path[];
}

/** Calls the model makes (and its reasoning): stored as `assistant`. */
const ASSISTANT_TYPES = new Set([
  'function_call',
  'hosted_tool_call',
  'computer_call',
  'shell_call',
  'apply_patch_call',
  'tool_search_call',
  'program',
  'reasoning',
  'compaction',
  'unknown',
]);
/** Results of calls, sent back to the model: stored as `tool`. */
const TOOL_TYPES = new Set([
  'function_call_result',
  'computer_call_result',
  'shell_call_output',
  'apply_patch_call_output',
  'tool_search_output',
  'program_output',
]);
const MESSAGE_ROLES = new Set<Role>(['user', 'assistant', 'system']);

/**
 * The convostore role of an item: a message keeps its role, a call or reasoning is `assistant`, a
 * result is `tool`. A type this version does not know (a later SDK's) is `assistant`, as the SDK's
 * own catch-all `unknown` item is: the role only labels the message, the item is kept whole.
 */
export function roleOf(field: string, item: AgentInputItem): Role {
  const type = (item as { type?: unknown }).type;
  if (type === undefined || type === 'message') {
    const role = (item as { role?: unknown }).role;
    if (MESSAGE_ROLES.has(role as Role)) return role as Role;
    throw new ValidationError(`${field}.role`, `a message item must have role 'user', 'assistant' or 'system', got ${describe(role)}`);
  }
  if (typeof type !== 'string') throw new ValidationError(`${field}.type`, 'must be a string');
  return TOOL_TYPES.has(type) ? 'tool' : 'assistant';
}

/** The item as one content block; throws `ValidationError` (at `field` + path) on what JSON cannot hold. */
export function toBlock(field: string, item: AgentInputItem): ContentBlock {
  if (!isPlainObject(item)) throw new ValidationError(field, 'must be an AgentInputItem (a plain object)');
  const undefinedAt: Path[] = [];
  const bytesAt: Path[] = [];
  const json = readInput(field, () => encodeValue(field, item, [], undefinedAt, bytesAt, new Set()));
  const block: ItemBlock = { v: FORMAT_VERSION, item: json };
  if (undefinedAt.length > 0) block.undefinedAt = undefinedAt;
  if (bytesAt.length > 0) block.bytesAt = bytesAt;
  return { [BLOCK_KEY]: block as unknown as JsonValue };
}

/** A stored message back to its item; a message written by someone else becomes a plain message item. */
export function fromStored(role: string, content: ContentBlock[]): AgentInputItem {
  const block = content.length === 1 ? content[0]![BLOCK_KEY] : undefined;
  if (isPlainObject(block) && (block as unknown as ItemBlock).v === FORMAT_VERSION) return decodeBlock(block as unknown as ItemBlock);
  return foreignMessage(role, content);
}

function decodeBlock(block: ItemBlock): AgentInputItem {
  const item = structuredClone(block.item) as Record<string, unknown>;
  for (const path of block.bytesAt ?? []) setAt(item, path, base64urlToBytes(getAt(item, path) as string));
  for (const path of block.undefinedAt ?? []) setAt(item, path, undefined);
  return item as unknown as AgentInputItem;
}

/**
 * A message stored through another interface (Agent Squad, the convostore API, the CLI): its text
 * blocks become a message item of its role (`tool` as `user`: a result without its call id can only
 * be told to the model as text). Other blocks are kept in `providerData.convostoreContent`.
 */
function foreignMessage(role: string, content: ContentBlock[]): AgentInputItem {
  const text = content.flatMap((b) => (typeof b.text === 'string' ? [b.text] : [])).join('\n');
  const others = content.some((b) => typeof b.text !== 'string');
  const providerData = others ? { providerData: { convostoreContent: content } } : {};
  if (role === 'assistant') {
    return { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }], ...providerData };
  }
  return { type: 'message', role: role === 'system' ? 'system' : 'user', content: text, ...providerData } as AgentInputItem;
}

function encodeValue(field: string, value: unknown, path: Path, undefinedAt: Path[], bytesAt: Path[], ancestors: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ValidationError(at(field, path), `${value} is not a finite number`);
      return value;
    case 'object':
      break;
    default:
      throw new ValidationError(at(field, path), `${describe(value)} is not JSON data`);
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) {
    bytesAt.push(path);
    return bytesToBase64url(value);
  }
  if (path.length > MAX_CONTENT_DEPTH) throw new ValidationError(at(field, path), `is nested deeper than ${MAX_CONTENT_DEPTH} levels`);
  if (ancestors.has(value)) throw new ValidationError(at(field, path), 'contains a cycle');
  ancestors.add(value);
  let out: JsonValue;
  if (Array.isArray(value)) {
    out = Array.from(value, (v: unknown, i) => {
      if (v !== undefined) return encodeValue(field, v, [...path, i], undefinedAt, bytesAt, ancestors);
      undefinedAt.push([...path, i]);
      return null;
    });
  } else if (isPlainObject(value)) {
    const object: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
      if (descriptor.get || descriptor.set) throw new ValidationError(at(field, [...path, key]), 'is an accessor (getter/setter), not data');
      if (descriptor.value === undefined) undefinedAt.push([...path, key]);
      // defineProperty: a key named __proto__ is data here, not the prototype.
      else Object.defineProperty(object, key, { value: encodeValue(field, descriptor.value, [...path, key], undefinedAt, bytesAt, ancestors), enumerable: true, writable: true, configurable: true });
    }
    out = object;
  } else {
    throw new ValidationError(at(field, path), `${describe(value)} is not JSON data (send dates as strings, binary data as a Uint8Array or base64)`);
  }
  ancestors.delete(value);
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], root);
}

function setAt(root: unknown, path: Path, value: unknown): void {
  const parent = getAt(root, path.slice(0, -1)) as object;
  Object.defineProperty(parent, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

function at(field: string, path: Path): string {
  return field + path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
}

/**
 * JSON with object keys sorted: two items are the same when these are equal, whatever order a
 * backend (or the SDK) kept their keys in. Used on blocks, so `undefined` and bytes are compared too.
 */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
