/**
 * The page's one way to make elements. Text goes in through `textContent` only, never as HTML: every
 * string from the store (ids, titles, message text, JSON) is shown as the characters it holds.
 */
type Child = Node | string | null | undefined | false;

export interface Attributes {
  class?: string;
  title?: string;
  [attribute: string]: string | undefined;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) node.setAttribute(name, value);
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function button(label: string, onClick: () => void, attributes: Attributes = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attributes }, label);
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A stable colour per agent: a hue from the id's hash, set as `--agent-h` on the element; the CSS
 * picks saturation and lightness for light and dark mode (class `agent-colour`).
 */
export function colourByAgent(node: HTMLElement, agentId: string): void {
  let hash = 2166136261;
  for (let i = 0; i < agentId.length; i++) hash = Math.imul(hash ^ agentId.charCodeAt(i), 16777619);
  node.classList.add('agent-colour');
  node.style.setProperty('--agent-h', String((hash >>> 0) % 360));
}

export function when(ms: number): string {
  return new Date(ms).toLocaleString();
}

let toastTimer: number | undefined;

/** A short notice at the bottom right; errors stay until the next notice. */
export function toast(text: string, error = false): void {
  document.querySelector('.toast')?.remove();
  const node = el('div', { class: error ? 'toast error' : 'toast', role: error ? 'alert' : 'status' }, text);
  document.body.append(node);
  clearTimeout(toastTimer);
  if (!error) toastTimer = window.setTimeout(() => node.remove(), 2500);
}
