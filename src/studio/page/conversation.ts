/**
 * A session as one conversation in its write order across agents, read with `fetchSessionPage`:
 * the newest page first, older pages as the reader scrolls up (`after` the first shown message,
 * newest order), newer ones as they scroll down or as they arrive (`after` the last shown message,
 * oldest order, polled while the tail is shown). Filters (agents, text) hide what is loaded.
 */
import type { Page, SessionMessage } from '../api.js';
import { ApiError, get } from './client.js';
import { el } from './dom.js';
import { renderMessage, searchText } from './render.js';

const PAGE = 100;
/** Pixels from either end at which the next page is asked for. */
const MARGIN = 400;

export interface ConversationOptions {
  user: string;
  session: string;
  pollMs: number;
  /** The buttons a message gets (write actions, copy). */
  actions(m: SessionMessage): HTMLElement[];
  /** Called with messages of an agent not seen before. */
  onAgent(agentId: string): void;
  /** New messages arrived by polling. */
  onNew(count: number): void;
}

export class Conversation {
  readonly root: HTMLElement;
  readonly #list: HTMLElement;
  readonly #top: HTMLElement;
  readonly #bottom: HTMLElement;
  readonly #texts = new Map<string, string>();
  readonly #agents = new Set<string>();
  #first?: string;
  #last?: string;
  #hasOlder = false;
  #hasNewer = false;
  #busy = false;
  #timer?: number;
  #closed = false;
  /** Bumped by every open: a page asked for before it is dropped when it arrives. */
  #generation = 0;
  #hiddenAgents = new Set<string>();
  #needle = '';

  constructor(readonly options: ConversationOptions) {
    this.#top = el('div', { class: 'status' });
    this.#bottom = el('div', { class: 'status' });
    this.#list = el('div', { class: 'list', role: 'feed', 'aria-busy': 'false' });
    this.root = el('div', { class: 'messages', tabindex: '-1' }, this.#top, this.#list, this.#bottom);
    this.root.addEventListener('scroll', () => void this.#onScroll());
  }

  get shown(): number {
    return this.#list.childElementCount;
  }

  /** The newest page, scrolled to the end; or, given an id, the pages around that message. */
  async open(around?: string): Promise<void> {
    this.#reset();
    const generation = this.#generation;
    if (around === undefined) {
      const page = await this.#page({ order: 'newest' });
      if (generation !== this.#generation) return;
      this.#add([...page.items].reverse(), 'end');
      this.#hasOlder = page.nextCursor !== undefined;
      this.#hasNewer = false;
      this.root.scrollTop = this.root.scrollHeight;
    } else {
      const target = await get<SessionMessage | null>('/api/message', { user: this.options.user, session: this.options.session, id: around });
      if (target === null) throw new ApiError(404, 'NOT_FOUND', `no message ${around} in this session`);
      const [before, after] = await Promise.all([this.#page({ order: 'newest', after: around }), this.#page({ order: 'oldest', after: around })]);
      if (generation !== this.#generation) return;
      this.#add([...before.items].reverse(), 'end');
      this.#add([target], 'end');
      this.#add(after.items, 'end');
      this.#hasOlder = before.nextCursor !== undefined;
      this.#hasNewer = after.nextCursor !== undefined;
      this.highlight(around);
    }
    this.#status();
    this.#schedule();
    await this.#fill();
  }

  /** Scrolls to a loaded message and marks it; false when it is not loaded. */
  highlight(id: string): boolean {
    const node = this.#node(id);
    if (!node) return false;
    this.#list.querySelector('.target')?.classList.remove('target');
    node.classList.add('target');
    node.scrollIntoView({ block: 'center' });
    node.focus({ preventScroll: true });
    return true;
  }

  remove(id: string): void {
    this.#node(id)?.remove();
    this.#texts.delete(id);
  }

  filter(hiddenAgents: Set<string>, needle: string): void {
    this.#hiddenAgents = hiddenAgents;
    this.#needle = needle.toLowerCase();
    for (const node of this.#list.children) this.#apply(node as HTMLElement);
    void this.#fill();
  }

  /** Every message of the session, oldest first (for copying it as JSON). */
  async all(): Promise<SessionMessage[]> {
    const items: SessionMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.#page({ order: 'oldest', cursor, limit: 500 });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return items;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #reset(): void {
    this.#generation++;
    this.#list.replaceChildren();
    this.#texts.clear();
    this.#first = this.#last = undefined;
    this.#hasOlder = this.#hasNewer = false;
    clearTimeout(this.#timer);
  }

  #node(id: string): HTMLElement | undefined {
    for (const node of this.#list.children) if ((node as HTMLElement).dataset.id === id) return node as HTMLElement;
    return undefined;
  }

  #page(params: { order: 'newest' | 'oldest'; after?: string; cursor?: string; limit?: number }): Promise<Page<SessionMessage>> {
    return get<Page<SessionMessage>>('/api/messages', { user: this.options.user, session: this.options.session, limit: PAGE, ...params });
  }

  #add(messages: SessionMessage[], where: 'start' | 'end'): void {
    if (messages.length === 0) return;
    const nodes = messages.map((m) => {
      this.#texts.set(m.id, searchText(m));
      if (!this.#agents.has(m.agentId)) {
        this.#agents.add(m.agentId);
        this.options.onAgent(m.agentId);
      }
      const node = renderMessage(m, this.options.actions(m));
      this.#apply(node);
      return node;
    });
    if (where === 'start') {
      this.#list.prepend(...nodes);
      this.#first = messages[0]!.id;
      this.#last ??= messages.at(-1)!.id;
    } else {
      this.#list.append(...nodes);
      this.#last = messages.at(-1)!.id;
      this.#first ??= messages[0]!.id;
    }
  }

  #apply(node: HTMLElement): void {
    const visible = !this.#hiddenAgents.has(node.dataset.agent!) && (this.#needle === '' || (this.#texts.get(node.dataset.id!) ?? '').includes(this.#needle));
    node.classList.toggle('hidden', !visible);
  }

  #status(): void {
    this.#top.textContent = this.#hasOlder ? 'Scroll up for older messages' : this.shown === 0 ? '' : 'Start of the conversation';
    this.#bottom.textContent = this.#hasNewer ? 'Scroll down for newer messages' : this.shown === 0 ? 'No messages yet; new ones appear here' : 'Live: new messages appear here';
  }

  async #older(): Promise<void> {
    if (!this.#hasOlder || this.#first === undefined) return;
    const generation = this.#generation;
    const page = await this.#page({ order: 'newest', after: this.#first });
    if (generation !== this.#generation) return;
    const before = this.root.scrollHeight;
    this.#add([...page.items].reverse(), 'start');
    // Keep what the reader looks at in place while rows arrive above it.
    this.root.scrollTop += this.root.scrollHeight - before;
    this.#hasOlder = page.nextCursor !== undefined;
  }

  /** Newer messages: the next page while scrolling down, and new ones at the tail. Returns how many. */
  async #newer(): Promise<number> {
    const generation = this.#generation;
    const page = await this.#page(this.#last === undefined ? { order: 'oldest' } : { order: 'oldest', after: this.#last });
    if (generation !== this.#generation) return 0;
    const atEnd = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 40;
    this.#add(page.items, 'end');
    this.#hasNewer = page.nextCursor !== undefined;
    if (atEnd && page.items.length > 0 && !this.#hasNewer) this.root.scrollTop = this.root.scrollHeight;
    return page.items.length;
  }

  /** One load at a time; the status lines follow. */
  async #exclusive(work: () => Promise<void>): Promise<void> {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    this.#list.setAttribute('aria-busy', 'true');
    try {
      await work();
    } finally {
      this.#busy = false;
      this.#list.setAttribute('aria-busy', 'false');
      this.#status();
    }
    // A scroll that came while this load ran was ignored: look again at where the reader is.
    queueMicrotask(() => void this.#onScroll().catch(() => undefined));
  }

  async #onScroll(): Promise<void> {
    const { scrollTop, scrollHeight, clientHeight } = this.root;
    if (scrollTop < MARGIN && this.#hasOlder) await this.#exclusive(() => this.#older());
    else if (scrollHeight - scrollTop - clientHeight < MARGIN && this.#hasNewer) await this.#exclusive(async () => void (await this.#newer()));
  }

  /** Loads older pages while the filtered view does not fill the screen (nothing to scroll yet). */
  async #fill(): Promise<void> {
    for (let i = 0; i < 20 && this.#hasOlder && !this.#closed && this.root.scrollHeight <= this.root.clientHeight + MARGIN; i++) {
      await this.#exclusive(() => this.#older());
    }
  }

  /** Polls for new messages while the tail is shown; a message `after` names that was removed reopens. */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = window.setTimeout(async () => {
      let reopen = false;
      await this.#exclusive(async () => {
        if (this.#hasNewer) return;
        try {
          const count = await this.#newer();
          if (count > 0) this.options.onNew(count);
        } catch (error) {
          // The last shown message is gone (deleted, truncated elsewhere): read the tail again.
          if (error instanceof ApiError && error.status === 404) reopen = true;
        }
      }).catch(() => undefined);
      if (reopen) await this.open().catch(() => undefined);
      else this.#schedule();
    }, this.options.pollMs);
  }
}
