/**
 * What the studio tests share: a data set written through the public API (three agents, tool calls,
 * a system message, an image, an unknown block, metadata, a hostile message, a 500-message session),
 * the studio started as users start it (`convostore studio`, a child process), and Chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openStorage, type ChatStore, type ContentBlock, type ImportMessage, type Metadata, type OpenOptions, type Role } from '../../src/index.js';
import { root } from './cli.js';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const LONG_SESSION = 'long';
export const LONG_COUNT = 500;
export const AGENTS = ['router', 'tech', 'billing'];
/** A 96×48 PNG (a toner cartridge, more or less). */
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAGAAAAAwCAIAAABhdOiYAAAAZ0lEQVR42u3QMQkAIBAAQOP8aIAPZhwzORvGxVlwEzm4BFdanxwUBYIECRIkSJCgLaI+ZWReESRIkCBBggQJEiRIkCBBggQJEiRIkCBBggQJEiRIkCBBggQJEiRIEIIECRIkSJCg7y0iTh14YUPB7gAAAABJRU5ErkJggg==';

/**
 * Writes the data set with importSession (a copy's write path: given ids, times and order across
 * agents), a few calls in all, in parallel per session: seeding DynamoDB Local and the HTTP stand-in
 * one message at a time took 20 s on a loaded machine. `longCount` shortens the long session.
 */
export async function seedStudio(url: string, options: OpenOptions = {}, longCount = LONG_COUNT): Promise<void> {
  let now = 1_767_000_000_000;
  const at = () => (now += 7_000);
  type Spec = [agentId: string, role: Role, content: ContentBlock[] | string, metadata?: Metadata];
  const session = (prefix: string, specs: Spec[]): ImportMessage[] =>
    specs.map(([agentId, role, content, metadata], i) => ({ agentId, id: `${prefix}-${i + 1}`, role, content, timestamp: at(), ...(metadata ? { metadata } : {}) }));
  const triage = session('triage', [
    ['router', 'system', 'Route each request to tech or billing.'],
    ['router', 'user', 'My printer prints only blank pages, and I was charged twice.'],
    ['router', 'assistant', 'Two issues: tech for the printer, billing for the charge.', { model: 'router-1', usage: { in: 41, out: 12 } }],
    ['tech', 'assistant', [{ text: 'Let me look the model up.' }, { toolUse: { toolUseId: 'call-1', name: 'lookup_printer', input: { serial: 'HP-4411', fields: ['toner', 'drum'] } } }]],
    ['tech', 'tool', [{ toolResult: { toolUseId: 'call-1', status: 'success', content: [{ json: { toner: '0%', drum: 'ok' } }] } }]],
    ['tech', 'assistant', [{ text: 'Your toner is empty. This is the cartridge you need:' }, { image: PIXEL }]],
    ['billing', 'user', HOSTILE],
    ['billing', 'assistant', [{ text: 'The second charge is refunded.' }, { reasoning: { summary: 'duplicate charge 2026-11-02' } }], { refund: { amount: 19.9, currency: 'EUR' } }],
  ]);
  const smallTalk = session('small-talk', [
    ['router', 'user', 'hello'],
    ['router', 'assistant', 'Hello! How can I help?'],
  ]);
  const onboarding = session('onboarding', [['tech', 'user', 'How do I install it?']]);
  // The three agents in turn, each alternating user and assistant.
  const long = session(
    LONG_SESSION,
    Array.from({ length: longCount }, (_, i): Spec => [AGENTS[i % 3]!, Math.floor(i / 3) % 2 === 0 ? 'user' : 'assistant', `message ${i} of the long session`]),
  );
  const store = await openStorage(url, { ...options, logger: null });
  try {
    await Promise.all([
      store.importSession('ada', 'triage', { title: 'Printer and a double charge', metadata: { priority: 'high', channel: 'chat' }, messages: triage }),
      store.importSession('ada', 'small-talk', { messages: smallTalk }),
      store.importSession('grace', 'onboarding', { messages: onboarding }),
      (async () => {
        for (let i = 0; i < long.length; i += 100) {
          await store.importSession('ada', LONG_SESSION, { title: `A long session (${longCount} messages)`, messages: long.slice(i, i + 100) });
        }
      })(),
    ]);
  } finally {
    await store.close();
  }
}

/** Runs `body` on a store opened by `open`, closed afterwards whatever happens. */
export async function withOpened<T>(open: () => Promise<ChatStore>, body: (store: ChatStore) => Promise<T>): Promise<T> {
  const store = await open();
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** Every message of a session in `fetchSessionPage` order (oldest first). */
export async function sessionIds(store: ChatStore, userId: string, sessionId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.fetchSessionPage(userId, sessionId, { order: 'oldest', limit: 1000, cursor });
    ids.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

export interface RunningStudio {
  url: string;
  origin: string;
  token: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** `convostore studio` from the sources (tsx), as a child process; resolves once it prints its address. */
export function startStudioCli(args: string[], env: Record<string, string> = {}): Promise<RunningStudio> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'studio', ...args], {
    cwd: root,
    env: { ...process.env, ...env, CONVOSTORE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the studio printed no address in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([\w-]+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[0],
        origin: match[1]!,
        token: match[2]!,
        output: () => output,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGINT');
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the studio exited (${code}) before printing its address:\n${output}`));
    });
  });
}

/** Debian's Chromium (`apt-get install chromium`), else whatever `CHROMIUM` names. */
export function chromiumPath(): string | undefined {
  return [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && existsSync(p));
}

export function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('Chromium is not installed (apt-get install chromium; .ci/run does it)');
  return chromium.launch({ executablePath, args: ['--headless=new', '--no-sandbox'] });
}

/** A fresh page on the studio; any JavaScript dialog or page error fails the test. */
export async function openStudioPage(t: ExecutionContext, browser: Browser, studio: RunningStudio, hash = '', colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, colorScheme });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    t.fail(`a JavaScript dialog fired: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => t.fail(`page error: ${error.message}`));
  await page.goto(`${studio.url}${hash}`);
  await page.locator('header.top h1').waitFor();
  return page;
}

/** The ids of the messages the page shows, top to bottom. */
export const shownIds = (page: Page): Promise<string[]> => page.locator('article.message').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id')!));

/** Scrolls the conversation to the top until every message is shown or nothing more comes. */
export async function scrollToStart(page: Page, total: number): Promise<void> {
  for (let shown = await page.locator('article.message').count(), before = 0; shown > before && shown < total; ) {
    before = shown;
    await page.locator('.messages').evaluate((node) => node.scrollTo({ top: 0 }));
    await page.waitForFunction((n) => document.querySelectorAll('article.message').length > n, before, { timeout: 15_000 }).catch(() => undefined);
    shown = await page.locator('article.message').count();
  }
}
