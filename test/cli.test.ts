/** The built `convostore` command: help, migrate, reading commands, URLs and errors. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStorage } from '../src/index.js';
import { cli, ensureBuilt, root } from './helpers/cli.js';
import { allMessages } from './helpers/snapshot.js';
import { seed, tickingClock } from './helpers/seed.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('cli');
const COMMANDS = ['migrate', 'sessions', 'show', 'export', 'import', 'copy', 'import-agent-squad', 'studio'];

test.before(ensureBuilt);

async function seeded(url: string) {
  const store = await openStorage(url, { clock: tickingClock(), logger: null });
  await seed(store, { long: 10 });
  return store;
}

/** Rows of convostore's own migration journal (v2: not drizzle's default __drizzle_migrations). */
function migrationRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM __convostore_migrations').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** The bundled migrations, oldest first, as `convostore migrate` names them. */
const bundled = (JSON.parse(readFileSync(join(root, 'migrations/meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> }).entries.map((e) => e.tag);
const upToDate = (backend: string) => `schema up to date (${backend}; all ${bundled.length} bundled migrations applied, latest ${bundled[bundled.length - 1]})`;

test('--help works on the command and on every subcommand', async (t) => {
  const top = await cli(['--help']);
  t.is(top.code, 0);
  for (const name of COMMANDS) t.regex(top.stdout, new RegExp(`^  ${name} `, 'm'));
  for (const name of COMMANDS) {
    const help = await cli([name, '--help']);
    t.is(help.code, 0, name);
    t.true(help.stdout.startsWith(`Usage: convostore ${name}`), name);
    t.regex(help.stdout, /--verbose/);
    t.is(help.stderr, '');
  }
  t.regex((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('migrate creates the schema, and drizzle-kit finds it up to date (same journal)', async (t) => {
  const file = tempFile(dir);
  const run = await cli(['migrate', '--url', file]);
  t.is(run.code, 0, run.stderr);
  t.true(run.stdout.includes(upToDate('sqlite')), run.stdout);
  t.is(migrationRows(file), bundled.length);
  t.is((await cli(['migrate', '--url', file])).code, 0, 'running it again is fine');

  const kit = spawnSync(process.execPath, [join(root, 'node_modules/drizzle-kit/bin.cjs'), 'migrate'], {
    cwd: root,
    env: { ...process.env, CONVOSTORE_DB_FILE: file, TURSO_DATABASE_URL: '' },
    encoding: 'utf8',
  });
  t.is(kit.status, 0, kit.stdout + kit.stderr);
  t.is(migrationRows(file), bundled.length, 'drizzle-kit applied nothing twice');
});

test('a database migrated by drizzle-kit is taken as is by convostore migrate and by the store', async (t) => {
  const file = tempFile(dir);
  const kit = spawnSync(process.execPath, [join(root, 'node_modules/drizzle-kit/bin.cjs'), 'migrate'], {
    cwd: root,
    env: { ...process.env, CONVOSTORE_DB_FILE: file, TURSO_DATABASE_URL: '' },
    encoding: 'utf8',
  });
  t.is(kit.status, 0, kit.stdout + kit.stderr);
  const run = await cli(['migrate', '--url', `file:${file}`]);
  t.is(run.code, 0, run.stderr);
  t.true(run.stdout.includes(upToDate('libsql')), run.stdout);
  t.is(migrationRows(file), bundled.length);
  const store = await openStorage(file, { logger: null });
  await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'works' });
  t.deepEqual(await store.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'works' }] }]);
  await store.close();
});

test('migrate on a backend without SQL migrations says so', async (t) => {
  const run = await cli(['migrate', '--url', 'memory:']);
  t.is(run.code, 0);
  t.is(run.stdout, 'memory:: ready (memory: nothing to migrate)\n');
});

test('sessions prints a table and --json the library’s own summaries', async (t) => {
  const file = tempFile(dir);
  const store = await seeded(file);
  const expected = (await store.listSessions('alice')).items;
  await store.close();

  const json = await cli(['sessions', 'alice', '--url', file, '--json']);
  t.is(json.code, 0, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), expected);

  const text = await cli(['sessions', 'alice', '--url', file]);
  t.is(text.code, 0);
  const lines = text.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^SESSION\s+MESSAGES\s+CREATED \(UTC\)\s+LAST ACTIVITY \(UTC\)\s+AGENTS \(MESSAGES\)$/);
  t.regex(lines[1]!, /^support\s+6\s+2023-11-14 22:13:\d\d\s+2023-11-14 22:13:\d\d\s+billing \(2\), tech \(4\)$/);
  t.is(lines.length, 2);

  const none = await cli(['sessions', 'nobody', '--url', file, '--json']);
  t.deepEqual(JSON.parse(none.stdout), []);
});

test('show prints one conversation or a whole session, as a table or --json', async (t) => {
  const file = tempFile(dir);
  const store = await seeded(file);
  const tech = await allMessages(store, 'alice', 'support', 'tech');
  const billing = await allMessages(store, 'alice', 'support', 'billing');
  const summary = await store.getSession('alice', 'support');
  await store.close();

  // v2: --json is { session, messages } (the session summary carries the title and metadata).
  const one = await cli(['show', 'alice', 'support', 'tech', '--url', file, '--json']);
  t.is(one.code, 0, one.stderr);
  t.deepEqual(JSON.parse(one.stdout), { session: summary, messages: tech.map((m) => ({ agentId: 'tech', ...m })) });

  // The session in write order across agents: tech, tech, billing, billing, tech, tech.
  const all = await cli(['show', 'alice', 'support', '--url', file, '--json']);
  const tagged = (agentId: string) => (m: (typeof tech)[number]) => ({ agentId, ...m });
  t.deepEqual(JSON.parse(all.stdout).messages, [
    ...tech.slice(0, 2).map(tagged('tech')),
    ...billing.map(tagged('billing')),
    ...tech.slice(2).map(tagged('tech')),
  ]);

  const table = await cli(['show', 'alice', 'support', '--url', file]);
  const lines = table.stdout.trimEnd().split('\n');
  t.regex(lines[0]!, /^TIME \(UTC\)\s+AGENT\s+SEQ\s+ROLE\s+ID\s+CONTENT$/);
  t.regex(lines[1]!, new RegExp(`^2023-11-14 \\S+\\s+tech\\s+1\\s+user\\s+${tech[0]!.id}\\s+my printer is on fire$`));
  t.regex(lines[2]!, new RegExp(`^\\S+ \\S+\\s+tech\\s+2\\s+assistant\\s+${tech[1]!.id}\\s+checking \\[toolUse lookup\\]$`));
  t.regex(lines[6]!, new RegExp(`tech\\s+4\\s+assistant\\s+${tech[3]!.id}\\s+résumé ✓ 日本語 😀$`));
  t.is(lines.length, 7);

  const missing = await cli(['show', 'alice', 'nope', '--url', file]);
  t.is(missing.code, 1);
  t.is(missing.stderr, 'convostore: user "alice" has no session "nope"\n');
});

test('show streams a long session as a table, 500 rows at a time: a later page that needs wider columns or metadata gets the header again', async (t) => {
  const file = tempFile(dir);
  const store = await openStorage(file, { clock: tickingClock(), logger: null });
  const turn = (n: number, extra: object = {}) => ({ role: n % 2 === 0 ? ('user' as const) : ('assistant' as const), content: `m${n}`, ...extra });
  for (let i = 0; i < 5; i++) await store.saveChatMessages('u', 'long', 'a', Array.from({ length: 100 }, (_, j) => turn(i * 100 + j)));
  // The 501st message and on: another agent with a longer id, and the first metadata of the session.
  await store.saveChatMessages('u', 'long', 'a much longer agent', [turn(500, { metadata: { k: 1 } }), turn(501)]);
  await store.saveChatMessage('u', 'long', 'a', turn(502));
  const ids = (await store.fetchSessionPage('u', 'long', { order: 'oldest', limit: 1000 })).items.map((m) => m.id);
  await store.close();

  const run = await cli(['show', 'u', 'long', '--url', file]);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  t.is(lines.length, 1 + 500 + 1 + 3);
  t.regex(lines[0]!, /^TIME \(UTC\)\s+AGENT\s+SEQ\s+ROLE\s+ID\s+CONTENT$/);
  t.regex(lines[501]!, /^TIME \(UTC\)\s+AGENT\s+SEQ\s+ROLE\s+ID\s+METADATA\s+CONTENT$/);
  const rows = [...lines.slice(1, 501), ...lines.slice(502)];
  t.deepEqual(rows.map((r) => /\S+$/.exec(r)![0]), Array.from({ length: 503 }, (_, n) => `m${n}`), 'every message, in write order');
  rows.forEach((row, n) => t.true(row.includes(ids[n]!), `row ${n} has its message's id`));
  // Each block is aligned under its own header: the first sized to the first page, the second wider.
  const column = (line: string, text: string) => line.indexOf(text);
  t.is(column(lines[0]!, 'ID'), 'yyyy-mm-dd hh:mm:ss  AGENT  SEQ  ASSISTANT  '.length);
  for (const n of [1, 250, 500]) t.is(column(lines[n]!, ids[n - 1]!), column(lines[0]!, 'ID'));
  t.is(column(lines[501]!, 'ROLE'), 'yyyy-mm-dd hh:mm:ss  a much longer agent  SEQ  '.length);
  for (const n of [502, 503, 504]) t.is(column(lines[n]!, ids[n - 2]!), column(lines[501]!, 'ID'));
  t.regex(lines[502]!, /\s+a much longer agent\s+1\s+user\s+\S+\s+\{"k":1\}\s+m500$/);
});

test('show and sessions print titles and metadata; --json has them', async (t) => {
  const file = tempFile(dir);
  const store = await openStorage(file, { clock: tickingClock(), logger: null });
  await store.saveChatMessages('dana', 'chat', 'helper', [
    { id: 'q-1', role: 'user', content: 'hello' },
    { id: 'a-1', role: 'assistant', content: 'hi there', metadata: { model: 'm-1', usage: { tokens: 12 } } },
  ]);
  await store.updateSession('dana', 'chat', { title: 'Greetings ✓', metadata: { pinned: true } });
  await store.saveChatMessage('dana', 'untitled', 'helper', { id: 'q-2', role: 'user', content: 'no title here' });
  const summaries = (await store.listSessions('dana')).items;
  const messages = await allMessages(store, 'dana', 'chat', 'helper');
  await store.close();

  const json = await cli(['show', 'dana', 'chat', '--url', file, '--json']);
  t.is(json.code, 0, json.stderr);
  const shown = JSON.parse(json.stdout);
  t.like(shown.session, { title: 'Greetings ✓', metadata: { pinned: true }, messageCount: 2 });
  t.deepEqual(shown.messages, messages.map((m) => ({ agentId: 'helper', ...m })));
  t.deepEqual(shown.messages[1].metadata, { model: 'm-1', usage: { tokens: 12 } });
  t.false('metadata' in shown.messages[0], 'a message without metadata has no metadata field');

  const table = await cli(['show', 'dana', 'chat', '--url', file]);
  const lines = table.stdout.trimEnd().split('\n');
  t.is(lines[0], 'Title: Greetings ✓');
  t.is(lines[1], 'Metadata: {"pinned":true}');
  t.regex(lines[2]!, /^TIME \(UTC\)\s+AGENT\s+SEQ\s+ROLE\s+ID\s+METADATA\s+CONTENT$/);
  t.regex(lines[3]!, /\s+helper\s+1\s+user\s+q-1\s+hello$/);
  t.regex(lines[4]!, /\s+helper\s+2\s+assistant\s+a-1\s+\{"model":"m-1","usage":\{"tokens":12\}\}\s+hi there$/);

  const list = await cli(['sessions', 'dana', '--url', file]);
  const rows = list.stdout.trimEnd().split('\n');
  t.regex(rows[0]!, /^SESSION\s+MESSAGES\s+CREATED \(UTC\)\s+LAST ACTIVITY \(UTC\)\s+AGENTS \(MESSAGES\)\s+TITLE$/);
  t.regex(rows.find((r) => r.startsWith('chat'))!, /helper \(2\)\s+Greetings ✓$/);
  t.regex(rows.find((r) => r.startsWith('untitled'))!, /helper \(1\)$/);
  t.deepEqual(JSON.parse((await cli(['sessions', 'dana', '--url', file, '--json'])).stdout), summaries);
});

test('the URL comes from CONVOSTORE_URL, else the embedded file ./data/convostore.db', async (t) => {
  const file = tempFile(dir);
  (await seeded(file)).close();
  const viaEnv = await cli(['sessions', 'bob', '--json'], { env: { CONVOSTORE_URL: file } });
  t.is(JSON.parse(viaEnv.stdout)[0].sessionId, 's/1?x=%20');

  const cwd = tempDir('cli-default');
  const viaDefault = await cli(['migrate'], { cwd });
  t.is(viaDefault.code, 0, viaDefault.stderr);
  t.regex(viaDefault.stdout, /^\.\/data\/convostore\.db: schema up to date/);
  t.true(existsSync(join(cwd, 'data/convostore.db')));
});

test('usage errors: one line, exit code 2', async (t) => {
  const cases: Array<[string[], string]> = [
    [['frobnicate'], "convostore: unknown command 'frobnicate'; the commands are migrate, sessions, show, export, import, copy, import-agent-squad, studio (see convostore --help)\n"],
    [['sessions'], 'convostore: missing USER (see convostore sessions --help)\n'],
    [['sessions', 'u', '--nope'], "convostore: unknown option '--nope' (see convostore sessions --help)\n"],
    [['sessions', 'u', '--url'], "convostore: option '--url' needs a value (see convostore sessions --help)\n"],
    [['show', 'u', 's', 'a', 'extra'], "convostore: unexpected argument 'extra' (see convostore show --help)\n"],
    [['copy', '--from', 'x.db'], 'convostore: missing --to URL (see convostore copy --help)\n'],
    [['copy', '--from', 'x.db', '--to', 'x.db'], 'convostore: --from and --to are the same database (x.db) (see convostore copy --help)\n'],
    [['import', '--batch-size', '0', '--to', 'memory:', 'x'], 'convostore: cannot read x: no such file\n'],
  ];
  for (const [args, stderr] of cases) {
    const run = await cli(args);
    t.is(run.stderr, stderr, args.join(' '));
    t.is(run.code, stderr.includes('--help') ? 2 : 1, args.join(' '));
    t.is(run.stdout, '');
  }
});

test('other errors: one line and exit code 1, no stack unless --verbose', async (t) => {
  const badId = await cli(['sessions', '', '--url', 'memory:']);
  t.is(badId.code, 1);
  t.is(badId.stderr, 'convostore: userId: must not be empty\n');

  const scheme = await cli(['sessions', 'u', '--url', 'postgres://x']);
  t.is(scheme.code, 1);
  t.regex(scheme.stderr, /^convostore: url: unsupported scheme 'postgres:'.*\n$/);

  const unreachable = await cli(['sessions', 'u', '--url', 'http://127.0.0.1:9']);
  t.is(unreachable.code, 1);
  t.regex(unreachable.stderr, /^convostore: cannot open http:\/\/127\.0\.0\.1:9: [^\n]+\n$/);

  const verbose = await cli(['sessions', 'u', '--url', 'http://127.0.0.1:9', '--verbose']);
  t.is(verbose.code, 1);
  t.true(verbose.stderr.split('\n').length > 3);
  t.regex(verbose.stderr, /\n\s+at /, 'the stack is printed');
});
