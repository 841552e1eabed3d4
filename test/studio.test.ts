/**
 * `convostore studio` in a real browser (Debian's Chromium, driven by playwright-core), on a SQLite
 * file filled through the public API. Two studios run as users start them (child processes of the
 * CLI): read-only on one file, `--write` on another, so the write tests change nothing the read tests
 * look at. Screenshots of the main views go to test-output/studio/ (gitignored).
 */
import test, { type ExecutionContext } from 'ava';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openStorage, type ChatStore } from '../src/index.js';
import { root } from './helpers/cli.js';
import { AGENTS, HOSTILE, LONG_COUNT, LONG_SESSION, launchChromium, openStudioPage, scrollToStart, seedStudio, sessionIds, shownIds, startStudioCli, withOpened, type RunningStudio } from './helpers/studio.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('studio');
const shots = join(root, 'test-output/studio');
mkdirSync(shots, { recursive: true });

const readOnlyFile = tempFile(dir);
const writableFile = tempFile(dir);
let browser: Browser;
let readOnly: RunningStudio;
let writable: RunningStudio;

test.before(async () => {
  await Promise.all([seedStudio(readOnlyFile), seedStudio(writableFile)]);
  [browser, readOnly, writable] = await Promise.all([launchChromium(), startStudioCli(['--url', readOnlyFile]), startStudioCli(['--url', writableFile, '--write'])]);
});
test.after.always(async () => {
  await Promise.allSettled([browser?.close(), readOnly?.stop(), writable?.stop()]);
});

const withStore = <T>(file: string, body: (store: ChatStore) => Promise<T>) => withOpened(() => openStorage(file, { logger: null }), body);

const openPage = (t: ExecutionContext, studio: RunningStudio, hash = '', colorScheme: 'light' | 'dark' = 'light') => openStudioPage(t, browser, studio, hash, colorScheme);
const conversationHash = (session: string) => `#${new URLSearchParams({ user: 'ada', session })}`;

test('without the token every address answers 401; with it the page comes with a strict CSP; a foreign Host gets 403', async (t) => {
  for (const path of ['/', '/studio.js', '/studio.css', '/api/users', '/api/info']) {
    const bare = await fetch(`${readOnly.origin}${path}`);
    t.is(bare.status, 401, path);
    t.is((await fetch(`${readOnly.origin}${path}?token=wrong${readOnly.token.slice(5)}`)).status, 401, `${path} with a wrong token`);
  }
  const page = await fetch(readOnly.url);
  t.is(page.status, 200);
  const csp = page.headers.get('content-security-policy')!;
  t.regex(csp, /default-src 'none'/);
  t.regex(csp, /script-src 'self'/);
  t.notRegex(csp, /unsafe-inline|unsafe-eval|https?:/);
  // fetch() may not set Host: node:http does, as a rebinding page's browser would.
  const foreign = await new Promise<number>((resolve, reject) =>
    request(readOnly.url, { headers: { host: `evil.example:${new URL(readOnly.origin).port}` } }, (res) => resolve(res.resume().statusCode!)).on('error', reject).end(),
  );
  t.is(foreign, 403);
  const api = await fetch(`${readOnly.origin}/api/users`, { headers: { authorization: `Bearer ${readOnly.token}` } });
  t.deepEqual(await api.json(), { items: ['ada', 'grace'] });
  t.regex(readOnly.output(), /^convostore studio: .*\(sqlite, read-only\)/);
});

test('the sessions list: a user\'s sessions newest first with title, message count and agents', async (t) => {
  const page = await openPage(t, readOnly);
  await page.getByRole('button', { name: 'ada', exact: true }).click();
  const entries = page.locator('nav.side button[data-kind="session"]');
  await entries.first().waitFor();
  const expected = await withStore(readOnlyFile, async (store) => (await store.listSessions('ada')).items);
  t.deepEqual(await entries.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-key'))), expected.map((s) => s.sessionId));
  const texts = await entries.allTextContents();
  expected.forEach((s, i) => {
    t.true(texts[i]!.includes(s.title ?? s.sessionId), texts[i]);
    t.true(texts[i]!.includes(`${s.messageCount} messages`), texts[i]);
    for (const a of s.agents) t.true(texts[i]!.includes(a.agentId), texts[i]);
  });
  await page.screenshot({ path: join(shots, 'sessions.png') });
});

test('a 500-message session: the newest page first, scrolling up loads the rest, the order is fetchSessionPage\'s', async (t) => {
  const page = await openPage(t, readOnly, conversationHash(LONG_SESSION));
  await page.locator('article.message').first().waitFor();
  const expected = await withStore(readOnlyFile, (store) => sessionIds(store, 'ada', LONG_SESSION));
  t.is(expected.length, LONG_COUNT);
  const first = await shownIds(page);
  t.true(first.length < LONG_COUNT, `${first.length} shown before scrolling`);
  t.deepEqual(first, expected.slice(-first.length), 'the newest page, in write order');
  await page.screenshot({ path: join(shots, 'conversation-long.png') });
  await scrollToStart(page, LONG_COUNT);
  t.deepEqual(await shownIds(page), expected, 'every message, in the order fetchSessionPage gives');
  await page.getByText('Start of the conversation').waitFor();
});

test('the agent filter and the text filter hide what does not match; jump to a message by id', async (t) => {
  const page = await openPage(t, readOnly, conversationHash(LONG_SESSION));
  const visible = page.locator('article.message:not(.hidden)');
  await visible.first().waitFor();
  const loaded = await page.locator('article.message').count();
  await page.getByRole('checkbox', { name: 'show agent tech' }).uncheck();
  const agents = await visible.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-agent')));
  t.false(agents.includes('tech'));
  t.true(agents.includes('router') && agents.includes('billing'));
  t.is(await page.locator('article.message.hidden').count(), await page.locator('article.message[data-agent="tech"]').count());
  await page.getByRole('checkbox', { name: 'show agent tech' }).check();
  t.is(await visible.count(), await page.locator('article.message').count());
  t.true(loaded > 0);

  await page.getByRole('searchbox', { name: 'filter messages by text' }).fill('message 498 of');
  t.deepEqual(await visible.allTextContents().then((texts) => texts.map((x) => /message \d+ of/.exec(x)?.[0])), ['message 498 of']);
  await page.getByRole('searchbox', { name: 'filter messages by text' }).fill('');

  // The first message is not loaded yet: jumping reads the pages around it.
  const ids = await withStore(readOnlyFile, (store) => sessionIds(store, 'ada', LONG_SESSION));
  const jump = page.getByRole('textbox', { name: 'jump to message id' });
  await jump.fill(ids[3]!);
  await jump.press('Enter');
  await page.locator(`article.message.target[data-id="${ids[3]}"]`).waitFor();
  const around = await shownIds(page);
  t.deepEqual(around, ids.slice(0, around.length), 'the target and its neighbours, in order');
  t.true(page.url().includes(`message=${encodeURIComponent(ids[3]!)}`), 'the address names the message');

  // Keyboard: j/k move between messages, / goes to the text filter.
  await page.locator('header.top h1').click();
  await page.keyboard.press('j');
  const focused = () => page.evaluate(() => (document.activeElement as HTMLElement).dataset.id ?? document.activeElement!.getAttribute('aria-label'));
  t.is(await focused(), around[0]!);
  await page.keyboard.press('j');
  t.is(await focused(), around[1]!);
  await page.keyboard.press('k');
  t.is(await focused(), around[0]!);
  await page.keyboard.press('/');
  t.is(await focused(), 'filter messages by text');
});

test('a hostile message is text: no element made, no dialog fired; tool calls, images, unknown blocks and metadata by kind', async (t) => {
  const page = await openPage(t, readOnly, conversationHash('triage'));
  const hostile = page.locator('article.message', { hasText: HOSTILE });
  await hostile.waitFor();
  t.is(await hostile.locator('.text').textContent(), HOSTILE);
  t.is(await page.locator('img[src="x"]').count(), 0, 'no <img> element came of it');
  // onerror would have fired by now; the dialog listener fails the test if it did.
  await page.waitForTimeout(300);

  t.deepEqual(await page.locator('article.message header .role').allTextContents(), ['system', 'user', 'assistant', 'assistant', 'tool', 'assistant', 'user', 'assistant']);
  const agents = await page.locator('article.message').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-agent')));
  t.deepEqual([...new Set(agents)].sort(), [...AGENTS].sort());

  const call = page.locator('details.tool-call');
  t.is(await call.locator('summary').textContent(), 'tool call: lookup_printer');
  t.false(await call.locator('pre').isVisible(), 'collapsed until opened');
  await call.locator('summary').click();
  t.true(await call.locator('pre').isVisible());
  t.regex((await call.locator('pre').textContent())!, /\n {6}"serial": "HP-4411",\n/);
  t.is(await page.locator('details.tool-result summary').textContent(), 'tool result: call-1');
  t.regex((await page.locator('img.block').getAttribute('src'))!, /^data:image\/png;base64,/);
  t.regex((await page.locator('details.unknown pre').textContent())!, /"reasoning"/);
  const metadata = page.locator('details.metadata').first();
  await metadata.locator('summary').click();
  t.regex((await metadata.locator('pre').textContent())!, /"model": "router-1"/);
  t.is(await page.locator('button[data-action]').count(), 0, 'no write action without --write');
  await page.screenshot({ path: join(shots, 'conversation.png') });
  const dark = await openPage(t, readOnly, conversationHash('triage'), 'dark');
  await dark.locator('article.message').first().waitFor();
  await dark.screenshot({ path: join(shots, 'conversation-dark.png') });
});

test('without --write: no write action in the page, and the API refuses writes', async (t) => {
  const page = await openPage(t, readOnly, conversationHash('triage'));
  await page.locator('article.message').first().waitFor();
  t.is(await page.locator('button[data-action]').count(), 0);
  t.is(await page.locator('header.top .mode').textContent(), 'read-only');
  const id = (await shownIds(page))[0]!;
  const refused = await fetch(`${readOnly.origin}/api/delete`, {
    method: 'POST',
    headers: { authorization: `Bearer ${readOnly.token}`, origin: readOnly.origin, 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'ada', session: 'triage', ids: [id] }),
  });
  t.is(refused.status, 403);
  t.like(await refused.json(), { code: 'READ_ONLY' });
  t.not(await withStore(readOnlyFile, (store) => store.getMessage('ada', 'triage', id)), null);
});

test('with --write: rename, metadata, delete, truncate and fork, each confirmed in the page (cancel changes nothing)', async (t) => {
  const page = await openPage(t, writable, conversationHash('triage'));
  await page.locator('article.message').first().waitFor();
  t.is(await page.locator('header.top .mode').textContent(), 'read-write');
  const dialog = page.locator('dialog[open]');
  const confirm = () => dialog.locator('button[data-confirm]').click();
  const ids = await withStore(writableFile, (store) => sessionIds(store, 'ada', 'triage'));

  await page.locator('button[data-action="rename"]').click();
  await dialog.getByRole('textbox').fill('Renamed in the studio');
  await page.screenshot({ path: join(shots, 'write-confirm.png') });
  await confirm();
  await page.locator('.toolbar h2', { hasText: 'Renamed in the studio' }).waitFor();
  t.is((await withStore(writableFile, (store) => store.getSession('ada', 'triage')))!.title, 'Renamed in the studio');

  await page.locator('button[data-action="metadata"]').click();
  await dialog.getByRole('textbox').fill('{"priority": null, "reviewed": true}');
  await confirm();
  await dialog.waitFor({ state: 'detached' });
  t.deepEqual((await withStore(writableFile, (store) => store.getSession('ada', 'triage')))!.metadata, { channel: 'chat', reviewed: true });

  const message = (id: string) => page.locator(`article.message[data-id="${id}"]`);
  await message(ids[1]!).locator('button[data-action="delete"]').click();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  t.not(await withStore(writableFile, (store) => store.getMessage('ada', 'triage', ids[1]!)), null, 'cancelled: still stored');
  await message(ids[1]!).locator('button[data-action="delete"]').click();
  await confirm();
  await message(ids[1]!).waitFor({ state: 'detached' });
  t.is(await withStore(writableFile, (store) => store.getMessage('ada', 'triage', ids[1]!)), null);

  await message(ids[5]!).locator('button[data-action="fork"]').click();
  await dialog.getByRole('textbox').fill('triage-fork');
  await confirm();
  await page.locator('nav.side button[data-key="triage-fork"][aria-current="true"]').waitFor();
  const kept = [ids[0]!, ...ids.slice(2, 6)];
  t.deepEqual(await withStore(writableFile, (store) => sessionIds(store, 'ada', 'triage-fork')).then((f) => f.length), kept.length, 'the fork holds the messages up to the one chosen');
  const forked = await withStore(writableFile, async (store) => (await store.fetchSessionPage('ada', 'triage-fork', { order: 'oldest' })).items.map((m) => JSON.stringify(m.content)));
  const source = await withStore(writableFile, async (store) => Promise.all(kept.map(async (id) => JSON.stringify((await store.getMessage('ada', 'triage', id))!.content))));
  t.deepEqual(forked, source, 'the same messages, in order');
  await page.locator('article.message').nth(4).waitFor();
  t.is(await page.locator('article.message').count(), 5);

  // Back to the source (the fork kept its title and ids): wait until its 7 messages are shown.
  await page.locator('nav.side button[data-key="triage"]').click();
  await page.locator('nav.side button[data-key="triage"][aria-current="true"]').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('article.message').length === 7);
  await message(ids[3]!).locator('button[data-action="truncate"]').click();
  await confirm();
  await message(ids[4]!).waitFor({ state: 'detached' });
  // truncateAfter cuts the message's own conversation (tech's): router's and billing's stay.
  const left = [ids[0]!, ids[2]!, ids[3]!, ids[6]!, ids[7]!];
  t.deepEqual(await withStore(writableFile, (store) => sessionIds(store, 'ada', 'triage')), left);
  await page.waitForFunction(() => document.querySelectorAll('article.message').length === 5);
  t.deepEqual(await shownIds(page), left);
});

test('with --write the API still needs the Bearer token, a same-origin Origin and JSON', async (t) => {
  const body = JSON.stringify({ user: 'grace', session: 'onboarding', title: 'hijacked' });
  const post = (headers: Record<string, string>) => fetch(`${writable.origin}/api/session`, { method: 'POST', headers, body });
  const json = { 'content-type': 'application/json' };
  t.is((await fetch(`${writable.url.replace('/?', '/api/session?')}`, { method: 'POST', headers: { ...json, origin: writable.origin }, body })).status, 401, 'the token in the query is not enough');
  t.is((await post({ ...json, authorization: `Bearer ${writable.token}`, origin: 'http://evil.example' })).status, 403);
  t.is((await post({ ...json, authorization: `Bearer ${writable.token}` })).status, 403, 'no Origin');
  t.is((await post({ 'content-type': 'text/plain', authorization: `Bearer ${writable.token}`, origin: writable.origin })).status, 415);
  t.is((await withStore(writableFile, (store) => store.getSession('grace', 'onboarding')))!.title, undefined);
  const bad = await post({ ...json, authorization: `Bearer ${writable.token}`, origin: writable.origin }).then(() =>
    fetch(`${writable.origin}/api/truncate`, { method: 'POST', headers: { ...json, authorization: `Bearer ${writable.token}`, origin: writable.origin }, body: JSON.stringify({ user: 'grace', session: 'onboarding', id: 'nope' }) }),
  );
  t.is(bad.status, 404, 'an unknown message is a typed error, not a crash');
  t.like(await bad.json(), { code: 'NOT_FOUND' });
});

test('a message written by another process appears while the page is open', async (t) => {
  const page = await openPage(t, readOnly, `#${new URLSearchParams({ user: 'grace', session: 'onboarding' })}`);
  await page.locator('article.message').first().waitFor();
  const text = `written elsewhere at ${Date.now()} ${HOSTILE}`;
  await withStore(readOnlyFile, (store) => store.saveChatMessage('grace', 'onboarding', 'support', { role: 'assistant', content: text }));
  const arrived = page.locator('article.message', { hasText: text });
  await arrived.waitFor({ timeout: 15_000 });
  t.is(await arrived.getAttribute('data-agent'), 'support');
  t.true(await page.getByRole('checkbox', { name: 'show agent support' }).isVisible(), 'a new agent gets its filter');
  t.deepEqual(await shownIds(page), await withStore(readOnlyFile, (store) => sessionIds(store, 'grace', 'onboarding')));
});

test('usage mistakes exit 2; a port in use is one line and exit 1, naming --port', async (t) => {
  const { execFile } = await import('node:child_process');
  const run = (args: string[]) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'studio', ...args], { cwd: root }, (error, _stdout, stderr) =>
        resolve({ code: error ? (child.exitCode ?? 1) : 0, stderr }),
      );
    });
  const port = new URL(readOnly.origin).port;
  const [badPort, extra, busy] = await Promise.all([run(['--port', '70000']), run(['extra']), run(['--url', readOnlyFile, '--port', port])]);
  t.is(badPort.code, 2);
  t.regex(badPort.stderr, /--port must be a whole number from 0 to 65535/);
  t.is(extra.code, 2);
  t.is(busy.code, 1);
  t.regex(busy.stderr, new RegExp(`^convostore: port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --port, or omit it: listen EADDRINUSE[^\\n]*\\n$`));
});
