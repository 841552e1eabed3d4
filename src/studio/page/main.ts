/**
 * convostore studio's page: users → their sessions → a session as one conversation. Plain DOM, no
 * framework; every store string goes in as text (dom.ts). The address's hash names what is open
 * (`#user=…&session=…&message=…`), so a reload or a shared link comes back to it.
 */
import type { JsonValue, Page, SessionMessage, SessionSummary, StudioInfo, WriteResult } from '../api.js';
import { ApiError, get, post } from './client.js';
import { Conversation } from './conversation.js';
import { button, colourByAgent, el, toast, when } from './dom.js';
import { confirmAction, showJson } from './dialogs.js';

const ui = {
  users: el('ul', { 'aria-label': 'users' }),
  usersMore: el('div', { class: 'more' }),
  sessionsHeading: el('h2', {}, 'Sessions'),
  sessions: el('ul', { 'aria-label': 'sessions' }),
  sessionsMore: el('div', { class: 'more' }),
  toolbar: el('div', { class: 'toolbar', role: 'toolbar' }),
  view: el('main', {}),
};

let info: StudioInfo;
let user: string | undefined;
let summary: SessionSummary | null = null;
let conversation: Conversation | undefined;
const hiddenAgents = new Set<string>();
let needle = '';

function report(error: unknown): void {
  toast(error instanceof Error ? error.message : String(error), true);
}

function setHash(params: Record<string, string | undefined>): void {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v);
  history.replaceState(null, '', `${location.pathname}${location.search}#${query}`);
}

function markCurrent(list: HTMLElement, key: string, value: string | undefined): void {
  for (const b of list.querySelectorAll<HTMLButtonElement>('button[data-key]')) b.setAttribute('aria-current', String(b.dataset.key === value && key === b.dataset.kind));
}

async function loadUsers(cursor?: string): Promise<void> {
  const page = await get<Page<string>>('/api/users', { cursor });
  for (const id of page.items) {
    const b = button(id, () => void selectUser(id).catch(report), { 'data-key': id, 'data-kind': 'user' });
    ui.users.append(el('li', {}, b));
  }
  ui.usersMore.replaceChildren(page.nextCursor ? button('More users', () => void loadUsers(page.nextCursor).catch(report)) : '');
  if (page.items.length === 0 && cursor === undefined) ui.users.append(el('li', { class: 'empty' }, 'No users stored yet'));
}

async function selectUser(id: string, open?: string): Promise<void> {
  user = id;
  markCurrent(ui.users, 'user', id);
  ui.sessionsHeading.textContent = `Sessions of ${id}`;
  ui.sessions.replaceChildren();
  await loadSessions(id);
  if (open !== undefined) return;
  setHash({ user: id });
}

function sessionLabel(s: SessionSummary): HTMLElement[] {
  const agents = s.agents.map((a) => a.agentId).join(', ');
  return [
    el('span', { class: 'title' }, s.title ?? s.sessionId),
    el('span', { class: 'meta' }, `${s.messageCount} messages · ${agents || 'no agents'}`),
    el('span', { class: 'meta' }, when(s.lastActivityAt)),
  ];
}

async function loadSessions(userId: string, cursor?: string): Promise<void> {
  const page = await get<Page<SessionSummary>>('/api/sessions', { user: userId, cursor });
  if (user !== userId) return;
  for (const s of page.items) {
    const b = el('button', { type: 'button', 'data-key': s.sessionId, 'data-kind': 'session', title: s.sessionId }, ...sessionLabel(s));
    b.addEventListener('click', () => void openSession(userId, s.sessionId).catch(report));
    ui.sessions.append(el('li', {}, b));
  }
  ui.sessionsMore.replaceChildren(page.nextCursor ? button('More sessions', () => void loadSessions(userId, page.nextCursor).catch(report)) : '');
  if (page.items.length === 0 && cursor === undefined) ui.sessions.append(el('li', { class: 'empty' }, 'No sessions'));
}

async function copy(text: string, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    toast(`Copied ${what}`);
  } catch {
    showJson(`${what} (the clipboard is not available: select and copy)`, text);
  }
}

function messageActions(m: SessionMessage): HTMLElement[] {
  const userId = user!;
  const sessionId = summary!.sessionId;
  const actions = [button('JSON', () => void copy(JSON.stringify(m, null, 2), `message ${m.id}`), { title: 'copy this message as JSON', 'aria-label': 'copy message as JSON' })];
  if (!info.write) return actions;
  actions.push(
    button('Delete', () => void confirmAction({ title: 'Delete this message?', detail: `Message ${m.id} of ${m.agentId} is removed for good.`, danger: true }, async () => {
      await post<WriteResult>('/api/delete', { user: userId, session: sessionId, ids: [m.id] });
      conversation?.remove(m.id);
      toast('Message deleted');
      await refreshSummary();
    }), { class: 'danger', 'data-action': 'delete' }),
    button('Truncate after', () => void confirmAction({ title: `Remove every later message of ${m.agentId}?`, detail: `Every message of agent ${m.agentId}'s conversation written after ${m.id} is removed for good (other agents' messages stay).`, danger: true }, async () => {
      const result = await post<WriteResult>('/api/truncate', { user: userId, session: sessionId, id: m.id });
      toast(`Removed ${result.removed ?? 0} messages`);
      await openSession(userId, sessionId, m.id);
    }), { class: 'danger', 'data-action': 'truncate' }),
    button('Fork', () => void confirmAction({ title: 'Fork the session here?', detail: `A new session gets a copy of this session up to and including ${m.id}.`, input: { label: 'New session id', value: `${sessionId}-fork` } }, async (to) => {
      await post<WriteResult>('/api/fork', { user: userId, session: sessionId, id: m.id, to });
      toast(`Forked into ${to}`);
      ui.sessions.replaceChildren();
      await loadSessions(userId);
      await openSession(userId, to!);
    }), { 'data-action': 'fork' }),
  );
  return actions;
}

async function refreshSummary(): Promise<void> {
  if (!user || !summary) return;
  summary = await get<SessionSummary | null>('/api/session', { user, session: summary.sessionId });
  if (summary) renderToolbar();
}

function renderToolbar(): void {
  const s = summary!;
  const agents = el('div', { class: 'agents', role: 'group', 'aria-label': 'agents shown' });
  for (const a of s.agents) addAgent(agents, a.agentId, a.messageCount);
  const search = el('input', { type: 'search', placeholder: 'Filter text (/)', 'aria-label': 'filter messages by text', value: needle });
  search.addEventListener('input', () => {
    needle = search.value;
    conversation?.filter(hiddenAgents, needle);
  });
  const jump = el('input', { type: 'text', placeholder: 'Jump to message id', 'aria-label': 'jump to message id' });
  jump.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || jump.value.trim() === '') return;
    void jumpTo(jump.value.trim()).catch(report);
  });
  const write = info.write
    ? [
        button('Rename', () => void confirmAction({ title: 'Rename the session', input: { label: 'Title (empty removes it)', value: s.title ?? '' } }, async (title) => {
          await post<WriteResult>('/api/session', { user, session: s.sessionId, title: title === '' ? null : title });
          toast('Renamed');
          await refreshSummary();
          await refreshSessionEntry();
        }), { 'data-action': 'rename' }),
        button('Metadata', () => void confirmAction({ title: 'Edit session metadata', detail: 'JSON object; keys are merged into the stored metadata, a key set to null is removed.', input: { label: 'Metadata', value: JSON.stringify(s.metadata ?? {}, null, 2), multiline: true } }, async (text) => {
          let metadata: { [key: string]: JsonValue };
          try {
            metadata = JSON.parse(text ?? '') as { [key: string]: JsonValue };
          } catch {
            throw new Error('the metadata is not valid JSON');
          }
          await post<WriteResult>('/api/session', { user, session: s.sessionId, metadata });
          toast('Metadata saved');
          await refreshSummary();
        }), { 'data-action': 'metadata' }),
      ]
    : [];
  ui.toolbar.replaceChildren(
    el('h2', { title: s.sessionId }, s.title ?? s.sessionId),
    el('span', { class: 'meta' }, `${s.messageCount} messages`),
    agents,
    search,
    jump,
    button('Copy session', () => void copySession().catch(report), { title: 'copy the whole session as JSON' }),
    ...(s.metadata !== undefined ? [button('Session metadata', () => showJson('Session metadata', JSON.stringify(s.metadata, null, 2)))] : []),
    ...write,
  );
}

function addAgent(group: HTMLElement, agentId: string, count?: number): void {
  if ([...group.querySelectorAll<HTMLInputElement>('input')].some((i) => i.value === agentId)) return;
  const box = el('input', { type: 'checkbox', value: agentId, 'aria-label': `show agent ${agentId}` });
  box.checked = !hiddenAgents.has(agentId);
  box.addEventListener('change', () => {
    if (box.checked) hiddenAgents.delete(agentId);
    else hiddenAgents.add(agentId);
    conversation?.filter(hiddenAgents, needle);
  });
  const label = el('label', { class: 'agent', 'data-agent': agentId }, box, agentId, count === undefined ? null : ` (${count})`);
  colourByAgent(label, agentId);
  group.append(label);
}

async function refreshSessionEntry(): Promise<void> {
  if (!user || !summary) return;
  const b = ui.sessions.querySelector<HTMLButtonElement>(`button[data-kind="session"][data-key="${CSS.escape(summary.sessionId)}"]`);
  b?.replaceChildren(...sessionLabel(summary));
}

async function copySession(): Promise<void> {
  if (!conversation || !summary) return;
  const messages = await conversation.all();
  await copy(JSON.stringify({ session: summary, messages }, null, 2), `session ${summary.sessionId}`);
}

async function jumpTo(id: string): Promise<void> {
  if (!conversation || !user || !summary) return;
  if (!conversation.highlight(id)) await conversation.open(id);
  setHash({ user, session: summary.sessionId, message: id });
}

async function openSession(userId: string, sessionId: string, message?: string): Promise<void> {
  conversation?.close();
  conversation = undefined;
  summary = await get<SessionSummary | null>('/api/session', { user: userId, session: sessionId });
  if (user !== userId) await selectUser(userId, sessionId);
  markCurrent(ui.sessions, 'session', sessionId);
  if (summary === null) {
    ui.toolbar.replaceChildren(el('h2', {}, sessionId));
    ui.view.replaceChildren(ui.toolbar, el('div', { class: 'empty' }, `User ${userId} has no session ${sessionId}`));
    return;
  }
  hiddenAgents.clear();
  renderToolbar();
  const agents = ui.toolbar.querySelector<HTMLElement>('.agents')!;
  conversation = new Conversation({
    user: userId,
    session: sessionId,
    pollMs: info.pollMs,
    actions: messageActions,
    onAgent: (agentId) => addAgent(agents, agentId),
    onNew: () => void refreshSummary().catch(() => undefined),
  });
  ui.view.replaceChildren(ui.toolbar, conversation.root);
  setHash({ user: userId, session: sessionId, message });
  conversation.filter(hiddenAgents, needle);
  await conversation.open(message);
}

/** j/k (or arrows in the list) move between messages; / focuses the text filter. */
function keyboard(event: KeyboardEvent): void {
  const target = event.target as HTMLElement;
  if (target.closest('input, textarea, dialog')) return;
  if (event.key === '/') {
    event.preventDefault();
    ui.toolbar.querySelector<HTMLInputElement>('input[type="search"]')?.focus();
    return;
  }
  const down = event.key === 'j' || (event.key === 'ArrowDown' && target.matches('article.message'));
  const up = event.key === 'k' || (event.key === 'ArrowUp' && target.matches('article.message'));
  if (!down && !up) return;
  const messages = [...document.querySelectorAll<HTMLElement>('article.message:not(.hidden)')];
  if (messages.length === 0) return;
  event.preventDefault();
  const at = messages.indexOf(target.closest('article.message') as HTMLElement);
  const next = messages[at === -1 ? (down ? 0 : messages.length - 1) : Math.min(messages.length - 1, Math.max(0, at + (down ? 1 : -1)))]!;
  next.focus();
  next.scrollIntoView({ block: 'nearest' });
}

async function boot(): Promise<void> {
  info = await get<StudioInfo>('/api/info');
  const side = el('nav', { class: 'side', 'aria-label': 'users and sessions' }, el('h2', {}, 'Users'), ui.users, ui.usersMore, ui.sessionsHeading, ui.sessions, ui.sessionsMore);
  ui.view.append(el('div', { class: 'empty' }, 'Choose a user, then a session.'));
  document.body.replaceChildren(
    el(
      'header',
      { class: 'top' },
      el('h1', {}, 'convostore studio'),
      el('span', { class: 'source' }, `${info.backend} · ${info.source}`),
      el('span', { class: info.write ? 'mode write' : 'mode' }, info.write ? 'read-write' : 'read-only'),
    ),
    side,
    ui.view,
  );
  document.addEventListener('keydown', keyboard);
  await loadUsers();
  // A link or an edited address names what to open; the page's own changes (replaceState) fire nothing.
  window.addEventListener('hashchange', () => void openFromHash().catch(report));
  await openFromHash();
}

async function openFromHash(): Promise<void> {
  const hash = new URLSearchParams(location.hash.slice(1));
  const [u, s, m] = [hash.get('user'), hash.get('session'), hash.get('message')];
  if (u !== null && s !== null) await openSession(u, s, m ?? undefined);
  else if (u !== null) await selectUser(u);
}

boot().catch((error: unknown) => {
  document.body.replaceChildren(el('p', { class: 'empty', role: 'alert' }, error instanceof ApiError || error instanceof Error ? error.message : String(error)));
});
