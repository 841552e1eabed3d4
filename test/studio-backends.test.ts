/**
 * `convostore studio` over the other backends a URL names, a smaller set than test/studio.test.ts
 * (which runs on a SQLite file): DynamoDB Local, and libSQL over HTTP to the Hrana stand-in with its
 * auth token in the URL. Each: the sessions list, a 150-message session scrolled whole in
 * fetchSessionPage's order, a hostile message as text, a rename with --write, a message written here
 * appearing in the open page, and no credential in what the studio prints or the page receives.
 */
import test, { type ExecutionContext } from 'ava';
import type { Browser } from 'playwright-core';
import { openStorage, SqlChatStorage, type ChatStore } from '../src/index.js';
import { backend, openShared, type SharedDatabase } from './backends/registry.js';
import { startStandIn } from './helpers/hrana.js';
import { HOSTILE, LONG_SESSION, launchChromium, openStudioPage, scrollToStart, seedStudio, sessionIds, shownIds, startStudioCli, withOpened } from './helpers/studio.js';
import { tempDir } from './helpers/tmp.js';

const LONG = 150;
const dir = tempDir('studio-backends');
let browser: Browser;
test.before(async () => void (browser = await launchChromium()));
test.after.always(async () => browser?.close());

interface Target {
  url: string;
  env: Record<string, string>;
  /** A credential the URL or environment carries, which must appear nowhere. */
  secret: string;
  open(): Promise<ChatStore>;
}

async function check(t: ExecutionContext, target: Target): Promise<void> {
  const withStore = <T>(body: (store: ChatStore) => Promise<T>) => withOpened(target.open, body);
  const studio = await startStudioCli(['--url', target.url, '--write'], target.env);
  t.teardown(() => studio.stop());
  const page = await openStudioPage(t, browser, studio);

  await page.getByRole('button', { name: 'ada', exact: true }).click();
  const entries = page.locator('nav.side button[data-kind="session"]');
  await entries.first().waitFor();
  const sessions = await withStore(async (store) => (await store.listSessions('ada')).items.map((s) => s.sessionId));
  t.deepEqual(await entries.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-key'))), sessions);

  await page.locator(`nav.side button[data-key="${LONG_SESSION}"]`).click();
  await page.locator('article.message').first().waitFor();
  await scrollToStart(page, LONG);
  t.deepEqual(await shownIds(page), await withStore((store) => sessionIds(store, 'ada', LONG_SESSION)), 'the whole session in fetchSessionPage order');

  await page.locator('nav.side button[data-key="triage"]').click();
  const hostile = page.locator('article.message', { hasText: HOSTILE });
  await hostile.waitFor();
  t.is(await hostile.locator('.text').textContent(), HOSTILE);
  t.is(await page.locator('img[src="x"]').count(), 0);

  await page.locator('button[data-action="rename"]').click();
  await page.locator('dialog[open]').getByRole('textbox').fill('Renamed over the wire');
  await page.locator('dialog[open] button[data-confirm]').click();
  await page.locator('.toolbar h2', { hasText: 'Renamed over the wire' }).waitFor();
  t.is((await withStore((store) => store.getSession('ada', 'triage')))!.title, 'Renamed over the wire');

  const text = `live on ${target.url.split(':')[0]} ${Date.now()}`;
  await withStore((store) => store.saveChatMessage('ada', 'triage', 'billing', { role: 'user', content: text }));
  await page.locator('article.message', { hasText: text }).waitFor({ timeout: 15_000 });

  const html = await page.content();
  const info = await (await fetch(`${studio.origin}/api/info`, { headers: { authorization: `Bearer ${studio.token}` } })).text();
  for (const [where, value] of Object.entries({ output: studio.output(), html, info })) t.false(value.includes(target.secret), `no credential in the ${where}`);
  t.log(`studio output: ${studio.output().split('\n')[0]}`);
}

test('DynamoDB Local: sessions, a 150-message session in order, a hostile message, a rename, a live message, no credential', async (t) => {
  const shared: SharedDatabase = await backend('dynamodb').shared!.create();
  t.teardown(() => shared.dispose?.());
  const open = () => openShared(shared, { logger: null }); // sets the credentials in process.env, as its children get them
  await (await open()).close();
  await seedStudio(shared.url, {}, LONG);
  await check(t, { url: shared.url, env: { ...shared.env!, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, secret: shared.env!.AWS_SECRET_ACCESS_KEY!, open });
});

test('libSQL over HTTP (Hrana stand-in), token in the URL: the same, and the token shown nowhere', async (t) => {
  const secret = `studio-secret-${process.pid}-token`;
  const server = await startStandIn(dir, { token: secret });
  t.teardown(() => server.close());
  await (await SqlChatStorage.openLibsql(server.url, { authToken: secret, migrate: true })).close();
  const url = `${server.url}?authToken=${secret}`;
  await seedStudio(url, {}, LONG);
  await check(t, { url, env: {}, secret, open: () => openStorage(url, { logger: null }) });
});
