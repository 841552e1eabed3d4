/**
 * What the studio tests share: a data set written through the public API (three agents, tool calls,
 * a system message, an image, an unknown block, metadata, a hostile message, a 500-message session),
 * the studio started as users start it (`convostore studio`, a child process), and Chromium.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { openStorage, type ChatStore, type OpenOptions } from '../../src/index.js';
import { root } from './cli.js';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const LONG_SESSION = 'long';
export const LONG_COUNT = 500;
export const AGENTS = ['router', 'tech', 'billing'];
/** A 1×1 PNG. */
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Writes the data set; `scale` shortens the long session for the slower backends. */
export async function seedStudio(url: string, options: OpenOptions = {}, longCount = LONG_COUNT): Promise<void> {
  let now = 1_767_000_000_000;
  const store = await openStorage(url, { ...options, logger: null, consecutiveRoles: 'keep', clock: () => (now += 7_000) });
  try {
    await store.saveChatMessage('ada', 'triage', 'router', { role: 'system', content: 'Route each request to tech or billing.' });
    await store.saveChatMessage('ada', 'triage', 'router', { role: 'user', content: 'My printer prints only blank pages, and I was charged twice.' });
    await store.saveChatMessage('ada', 'triage', 'router', { role: 'assistant', content: 'Two issues: tech for the printer, billing for the charge.', metadata: { model: 'router-1', usage: { in: 41, out: 12 } } });
    await store.saveChatMessage('ada', 'triage', 'tech', {
      role: 'assistant',
      content: [{ text: 'Let me look the model up.' }, { toolUse: { toolUseId: 'call-1', name: 'lookup_printer', input: { serial: 'HP-4411', fields: ['toner', 'drum'] } } }],
    });
    await store.saveChatMessage('ada', 'triage', 'tech', { role: 'tool', content: [{ toolResult: { toolUseId: 'call-1', status: 'success', content: [{ json: { toner: '0%', drum: 'ok' } }] } }] });
    await store.saveChatMessage('ada', 'triage', 'tech', { role: 'assistant', content: [{ text: 'Your toner is empty. This is the cartridge you need:' }, { image: PIXEL }] });
    await store.saveChatMessage('ada', 'triage', 'billing', { role: 'user', content: HOSTILE });
    await store.saveChatMessage('ada', 'triage', 'billing', { role: 'assistant', content: [{ text: 'The second charge is refunded.' }, { reasoning: { summary: 'duplicate charge 2026-11-02' } }], metadata: { refund: { amount: 19.9, currency: 'EUR' } } });
    await store.updateSession('ada', 'triage', { title: 'Printer and a double charge', metadata: { priority: 'high', channel: 'chat' } });

    await store.saveChatMessage('ada', 'small-talk', 'router', { role: 'user', content: 'hello' });
    await store.saveChatMessage('ada', 'small-talk', 'router', { role: 'assistant', content: 'Hello! How can I help?' });
    await store.saveChatMessage('grace', 'onboarding', 'tech', { role: 'user', content: 'How do I install it?' });

    // One long session: the three agents in turn, each alternating user and assistant.
    const messages = Array.from({ length: longCount }, (_, i) => ({ agent: AGENTS[i % 3]!, role: Math.floor(i / 3) % 2 === 0 ? 'user' : 'assistant', text: `message ${i} of the long session` }));
    for (const m of messages) await store.upsertMessages('ada', LONG_SESSION, m.agent, [{ role: m.role, content: m.text }]);
    await store.updateSession('ada', LONG_SESSION, { title: `A long session (${longCount} messages)` });
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
