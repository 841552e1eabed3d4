/**
 * One message as a bubble: role, agent tag and colour, time, id; its content blocks by kind (text;
 * tool calls and results collapsible, their JSON pretty-printed; images when they are data: URLs;
 * anything else as JSON); metadata on demand. Built with `el` only: store strings are text.
 */
import type { JsonValue, SessionMessage } from '../api.js';
import { colourByAgent, el, when } from './dom.js';

type Block = { [key: string]: JsonValue };

/** Keys by which the frameworks mark tool calls and results (Agent Squad/Bedrock, Anthropic, OpenAI, AI SDK). */
const TOOL_CALL = new Set(['toolUse', 'tool_use', 'toolCall', 'tool_call', 'tool-call', 'function_call', 'functionCall']);
const TOOL_RESULT = new Set(['toolResult', 'tool_result', 'tool-result', 'function_result', 'functionResponse', 'function_call_output']);

const pretty = (value: JsonValue | undefined) => JSON.stringify(value, null, 2);

/** The block's kind: its `type` field when it has one, else its single key. */
function kindOf(block: Block): string {
  if (typeof block.type === 'string') return block.type;
  const keys = Object.keys(block);
  return keys.length === 1 ? keys[0]! : keys.join('+');
}

function nameOf(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const key of ['name', 'toolName', 'tool_name', 'toolUseId', 'tool_use_id', 'toolCallId', 'call_id', 'id']) {
    if (typeof value[key] === 'string') return value[key];
  }
  return undefined;
}

/** The first `data:image/…` string within a block (a few levels deep), if any. */
function dataImage(value: JsonValue, depth = 0): string | undefined {
  if (typeof value === 'string') return /^data:image\/(png|jpe?g|gif|webp|avif|bmp);base64,[A-Za-z0-9+/=\s]+$/i.test(value) ? value : undefined;
  if (depth > 4 || value === null || typeof value !== 'object') return undefined;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    const found = dataImage(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function collapsible(summary: string, value: JsonValue, className: string): HTMLDetailsElement {
  return el('details', { class: `block ${className}` }, el('summary', {}, summary), el('pre', {}, pretty(value)));
}

export function renderBlock(block: Block): HTMLElement {
  const keys = Object.keys(block);
  if (typeof block.text === 'string' && (keys.length === 1 || (keys.length === 2 && block.type === 'text'))) {
    return el('div', { class: 'text' }, block.text);
  }
  const kind = kindOf(block);
  const toolKey = keys.find((k) => TOOL_CALL.has(k)) ?? (TOOL_CALL.has(kind) ? kind : undefined);
  if (toolKey !== undefined) {
    const inner = block[toolKey] ?? block;
    const name = nameOf(inner) ?? nameOf(block);
    return collapsible(`tool call${name ? `: ${name}` : ''}`, block, 'tool-call');
  }
  const resultKey = keys.find((k) => TOOL_RESULT.has(k)) ?? (TOOL_RESULT.has(kind) ? kind : undefined);
  if (resultKey !== undefined) {
    const name = nameOf(block[resultKey] ?? block) ?? nameOf(block);
    return collapsible(`tool result${name ? `: ${name}` : ''}`, block, 'tool-result');
  }
  const image = dataImage(block);
  if (image !== undefined) {
    const img = el('img', { class: 'block', alt: `image (${kind})` });
    img.src = image;
    return img;
  }
  const unknown = collapsible(`${kind} block`, block, 'unknown');
  unknown.open = true;
  return unknown;
}

/** Text the filter searches: the message's ids, role, agent and its content as JSON, lower-cased. */
export function searchText(m: SessionMessage): string {
  return `${m.id} ${m.role} ${m.agentId} ${JSON.stringify(m.content)}`.toLowerCase();
}

export function renderMessage(m: SessionMessage, actions: HTMLElement[]): HTMLElement {
  const article = el('article', { class: `message role-${m.role}`, tabindex: '0', 'data-id': m.id, 'data-agent': m.agentId, 'aria-label': `${m.role} message from ${m.agentId}` });
  colourByAgent(article, m.agentId);
  const time = el('time', { datetime: new Date(m.timestamp).toISOString(), title: new Date(m.timestamp).toISOString() }, when(m.timestamp));
  article.append(
    el(
      'header',
      {},
      el('span', { class: 'role' }, m.role),
      el('span', { class: 'agent' }, m.agentId),
      time,
      el('span', { class: 'id', title: `seq ${m.seq} in its agent's conversation` }, m.id),
      el('span', { class: 'actions' }, ...actions),
    ),
    ...m.content.map(renderBlock),
  );
  if (m.metadata !== undefined) article.append(collapsible('metadata', m.metadata, 'metadata'));
  return article;
}
