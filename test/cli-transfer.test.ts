/** The built CLI moving data: export/import (JSON Lines v2, and v1 files) and copy between backends. */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { openStorage, type ChatStore } from '../src/index.js';
import { cli, cliPath, ensureBuilt, seedRepro, sessionsView } from './helpers/cli.js';
import { standInFor } from './helpers/hrana.js';
import { seed, tickingClock } from './helpers/seed.js';
import { allMessages, snapshot } from './helpers/snapshot.js';
import { tempDir, tempFile } from './helpers/tmp.js';

const dir = tempDir('cli-transfer');

test.before(ensureBuilt);

async function withStore<T>(url: string, body: (store: ChatStore) => Promise<T>, authToken?: string): Promise<T> {
  const store = await openStorage(url, { logger: null, clock: tickingClock(), authToken });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

const snapshotOf = (url: string, authToken?: string) => withStore(url, snapshot, authToken);

/** A better-sqlite3 file holding the seed data; resolves to its path and how many messages it holds. */
async function seededFile(long = 1250): Promise<{ path: string; messages: number }> {
  const path = tempFile(dir);
  const messages = await withStore(path, (store) => seed(store, { long }));
  return { path, messages };
}

const jsonl = (...records: unknown[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
const HEADER = { format: 'convostore', version: 1, exportedAt: '2026-01-01T00:00:00.000Z', source: 'test' };
const msg = (agentId: string, seq: number, role: string, text: string, extra: object = {}) => ({
  type: 'message', userId: 'u', sessionId: 's', agentId, seq, role, content: [{ text }], timestamp: 1_700_000_000_000 + seq * 10 + agentId.length, ...extra,
});

test('export → import round trip: equal stores, byte-identical re-export, re-import writes nothing', async (t) => {
  const source = await seededFile();
  const file = tempFile(dir, '.jsonl');
  const exported = await cli(['export', '--from', source.path, '-o', file]);
  t.is(exported.code, 0, exported.stderr);
  t.regex(exported.stderr, new RegExp(`^exported ${source.messages.toLocaleString('en-US')} messages in 5 sessions from `));

  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  t.like(JSON.parse(lines[0]!), { format: 'convostore', version: 2, source: 'sqlite' });
  t.deepEqual(JSON.parse(lines[lines.length - 1]!), { type: 'end', sessions: 5, messages: source.messages });
  t.is(lines.length, 1 + 5 + source.messages + 1);

  const dest = `file:${tempFile(dir)}`;
  const imported = await cli(['import', '--to', dest, file]);
  t.is(imported.code, 0, imported.stderr);
  t.regex(imported.stderr, new RegExp(`^imported ${source.messages.toLocaleString('en-US')} messages, 0 already present`));
  t.regex(imported.stderr, new RegExp(`; verified: 6 conversations, ${source.messages.toLocaleString('en-US')} messages at the destination\\n$`));
  t.deepEqual(await snapshotOf(dest), await snapshotOf(source.path));

  const again = await cli(['export', '--from', dest]);
  t.deepEqual(again.stdout.trimEnd().split('\n').slice(1), lines.slice(1), 'the same lines, in the same order');

  const before = await snapshotOf(dest);
  const reimport = await cli(['import', '--to', dest, file]);
  t.is(reimport.code, 0, reimport.stderr);
  t.regex(reimport.stderr, new RegExp(`^imported 0 messages, ${source.messages.toLocaleString('en-US')} already present .*; verified: 6 conversations`));
  t.deepEqual(await snapshotOf(dest), before);
});

test('import reads standard input with -; export --user takes one user', async (t) => {
  const source = await seededFile(4);
  const exported = await cli(['export', '--from', source.path, '--user', 'alice']);
  t.is(exported.code, 0, exported.stderr);
  t.like(JSON.parse(exported.stdout.split('\n')[0]!), { user: 'alice' });
  const dest = tempFile(dir);
  const imported = await cli(['import', '--to', dest, '-'], { input: exported.stdout });
  t.is(imported.code, 0, imported.stderr);
  const copied = (await snapshotOf(dest)) as Record<string, unknown>;
  t.deepEqual(Object.keys(copied), ['alice']);
  t.deepEqual(copied.alice, ((await snapshotOf(source.path)) as Record<string, unknown>).alice);
});

test('import verifies what it wrote: the file is read again and every session compared with the destination (a file, standard input, lines without session lines)', async (t) => {
  const source = await seededFile(30);
  const file = tempFile(dir, '.jsonl');
  t.is((await cli(['export', '--from', source.path, '-o', file])).code, 0);
  const dest = tempFile(dir);
  const run = await cli(['import', '--to', dest, file, '--batch-size', '7']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, new RegExp(`^imported ${source.messages} messages, 0 already present \\(${source.messages} read in 5 sessions, 6 conversations\\) in [\\d.]+ s.*; verified: 6 conversations, ${source.messages} messages at the destination\\n$`));

  // Standard input is read once; the verification reads the copy kept of it.
  const piped = await cli(['import', '--to', tempFile(dir), '-'], { input: readFileSync(file, 'utf8') });
  t.is(piped.code, 0, piped.stderr);
  t.regex(piped.stderr, new RegExp(`; verified: 6 conversations, ${source.messages} messages at the destination\\n$`));

  // Session lines are optional: a session they leave out is compared by its messages alone.
  const bare = tempFile(dir, '.jsonl');
  writeFileSync(bare, jsonl({ ...HEADER, version: 2 }, msg('a', 1, 'user', 'one', { id: 'm-1' }), msg('b', 1, 'user', 'two', { id: 'm-2' }), msg('a', 2, 'assistant', 'three', { id: 'm-3' })));
  const loose = await cli(['import', '--to', tempFile(dir), bare]);
  t.is(loose.code, 0, loose.stderr);
  t.regex(loose.stderr, /; verified: 2 conversations, 3 messages at the destination\n$/);
});

test('import verifies: a destination session the prefix rule leaves alone but that differs from the file fails the check (exit 1)', async (t) => {
  const source = await seededFile(4);
  const file = tempFile(dir, '.jsonl');
  t.is((await cli(['export', '--from', source.path, '-o', file])).code, 0);
  const dest = tempFile(dir);
  t.is((await cli(['import', '--to', dest, file])).code, 0);
  // The file is a prefix of this session now: the writer finds every message there and writes
  // nothing, so only the verification can tell.
  await withStore(dest, (store) => store.saveChatMessage('bob', 's/1?x=%20', 'agent:"quoted"', { role: 'user', content: 'later, at the destination only' }));
  for (const args of [[file], ['-']]) {
    const run = await cli(['import', '--to', dest, ...args], { input: readFileSync(file, 'utf8') });
    t.is(run.code, 1, run.stderr);
    t.regex(run.stderr, /^convostore: verify: \(bob, s\/1\?x=%20\): the destination holds more messages, from message 3 \(id [\w-]+\) on\n/);
    t.regex(run.stderr, /^imported 0 messages, \d+ already present .*; VERIFY FAILED: 1 of 5 sessions differ\n$/m);
  }

  // Session metadata merges key by key: a key only the destination has stays, and is reported.
  const repro = tempFile(dir, '.jsonl');
  t.is((await cli(['export', '--from', await reproFile(), '-o', repro])).code, 0);
  const other = tempFile(dir);
  t.is((await cli(['import', '--to', other, repro])).code, 0);
  await withStore(other, (store) => store.updateSession('u', 's', { metadata: { local: 1 } }));
  const merged = await cli(['import', '--to', other, repro]);
  t.is(merged.code, 1);
  t.regex(merged.stderr, /^convostore: verify: \(u, s\): its metadata differs: \{"pinned":true,"tags":\["a","b"\]\} expected, \{[^\n]*"local":1[^\n]*\} at the destination\n/);
  t.regex(merged.stderr, /; VERIFY FAILED: 1 of 3 sessions differ\n$/);

  // A session without a session line: its messages are compared all the same.
  const bare = tempFile(dir, '.jsonl');
  writeFileSync(bare, jsonl({ ...HEADER, version: 2 }, msg('a', 1, 'user', 'one', { id: 'm-1' })));
  const third = tempFile(dir);
  t.is((await cli(['import', '--to', third, bare])).code, 0);
  await withStore(third, (store) => store.saveChatMessage('u', 's', 'a', { id: 'm-2', role: 'assistant', content: 'app' }));
  const extra = await cli(['import', '--to', third, bare]);
  t.is(extra.code, 1);
  t.regex(extra.stderr, /^convostore: verify: \(u, s\): the destination holds more messages, from message 2 \(id m-2\) on\n/m);
  t.regex(extra.stderr, /; VERIFY FAILED: 1 of 1 sessions differ\n$/);
});

test('bad lines are reported by line number; their write is not made and their session stops there; fixing and re-running completes it', async (t) => {
  const good = [
    { type: 'session', userId: 'u', sessionId: 's', createdAt: 1_700_000_000_000, lastActivityAt: 1_700_000_009_000 },
    msg('x', 1, 'user', 'x1'),
    msg('y', 1, 'user', 'y1'),
    msg('x', 2, 'assistant', 'x2'),
    msg('x', 3, 'user', 'x3'),
    msg('y', 2, 'assistant', 'y2'),
    msg('x', 4, 'assistant', 'x4'),
  ];
  const file = tempFile(dir, '.jsonl');
  // Line 6 is x's third message with a role convostore does not know; line 9 is not JSON at all.
  // ('system' was the bad role until v2 made it a role.)
  const broken = jsonl(HEADER, ...good.slice(0, 4)).concat(
    JSON.stringify({ ...good[4], role: 'developer' }), '\n',
    jsonl(good[5], good[6]),
    '{"type":"message", oops\n',
    jsonl({ type: 'end', sessions: 1, messages: 7 }),
  );
  writeFileSync(file, broken);
  const dest = tempFile(dir);
  // v2 writes a session in the file's order across agents, in chunks of --batch-size messages (v1
  // wrote per conversation, cutting where the agent changed; batch size 2 cuts at the same place).
  const run = await cli(['import', '--to', dest, file, '--batch-size', '2']);
  t.is(run.code, 1);
  const problems = run.stderr.split('\n').filter((l) => l.startsWith('convostore:'));
  t.is(problems[0], `convostore: ${file}:6: role: must be 'user', 'assistant', 'system' or 'tool', got "developer"; the rest of this session is not imported`);
  t.regex(problems[1]!, new RegExp(`^convostore: ${file}:9: not valid JSON`));
  t.is(problems.length, 2);
  t.regex(run.stderr, /imported 2 messages, 0 already present .* 2 problems, 1 session incomplete/);

  // x1 and y1 were written as the first chunk; x2 was pending with the bad line 6 and was not
  // written; nothing of the session after the bad line was written (y2 would otherwise come
  // before x3 at the destination once the fixed file is imported).
  await withStore(dest, async (store) => {
    t.deepEqual((await store.fetchChat('u', 's', 'x')).map((m) => m.content[0]!.text), ['x1']);
    t.deepEqual((await store.fetchChat('u', 's', 'y')).map((m) => m.content[0]!.text), ['y1']);
  });

  writeFileSync(file, jsonl(HEADER, ...good, { type: 'end', sessions: 1, messages: 6 }));
  const fixed = await cli(['import', '--to', dest, file]);
  t.is(fixed.code, 0, fixed.stderr);
  t.regex(fixed.stderr, /^imported 4 messages, 2 already present/);
  await withStore(dest, async (store) => {
    t.deepEqual((await allMessages(store, 'u', 's', 'x')).map((m) => [m.content[0]!.text, m.timestamp]), [
      ['x1', 1_700_000_000_011], ['x2', 1_700_000_000_021], ['x3', 1_700_000_000_031], ['x4', 1_700_000_000_041],
    ]);
    const [session] = (await store.listSessions('u')).items;
    t.like(session, { createdAt: 1_700_000_000_000, lastActivityAt: 1_700_000_009_000, messageCount: 6 });
  });
});

test('a refused write (e.g. an invalid id) names the line; a seq that goes backwards is refused', async (t) => {
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, jsonl(HEADER, { ...msg('a', 1, 'user', 'ok'), userId: 'x'.repeat(300) }, msg('b', 2, 'user', 'b2'), msg('b', 1, 'assistant', 'b1')));
  const run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`convostore: ${file}:2: userId: is 300 UTF-16 units long; the limit is 256`));
  t.regex(run.stderr, new RegExp(`convostore: ${file}:4: seq 1 does not follow 2 in its conversation`));
});

test('files of an unknown version are refused; a missing or wrong end record is reported', async (t) => {
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, jsonl({ ...HEADER, version: 3 }));
  let run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.code, 1);
  t.is(run.stderr, 'convostore: export format version 3 is not supported; this convostore reads versions 1 and 2\n');

  writeFileSync(file, jsonl(msg('a', 1, 'user', 'no header')));
  run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.stderr, 'convostore: not a convostore export: the first line must be its header {"format":"convostore",…}\n');

  writeFileSync(file, jsonl(HEADER, msg('a', 1, 'user', 'cut short')));
  run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.code, 0);
  t.regex(run.stderr, /warning: .* has no end record; if it came from convostore export, it was cut short/);

  writeFileSync(file, jsonl(HEADER, msg('a', 1, 'user', 'one'), { type: 'end', sessions: 0, messages: 2 }, msg('a', 2, 'assistant', 'after')));
  run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.code, 1);
  t.regex(run.stderr, /:4: comes after the end record of line 3/);
  t.regex(run.stderr, /:3: the end record counts 0 sessions and 2 messages but the file holds 0 and 1: it was cut or edited/);
});

test('a destination session with other writes is reported and left untouched', async (t) => {
  const dest = tempFile(dir);
  await withStore(dest, async (store) => {
    await store.saveChatMessages('u', 's', 'a', [{ role: 'user', content: 'written by the app', timestamp: 5 }]);
  });
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, jsonl(HEADER, msg('a', 1, 'user', 'from the file'), msg('a', 2, 'assistant', 'reply'), msg('b', 1, 'user', 'other agent')));
  const run = await cli(['import', '--to', dest, file]);
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`${file}:2: the destination's message 1 of \\(u, s\\) differs from this one; that session has other writes`));
  // v2: the session is the unit (its order across agents), so agent b's message is not appended
  // after the app's either.
  await withStore(dest, async (store) => {
    t.deepEqual(await store.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'written by the app' }] }]);
    t.deepEqual(await store.fetchChat('u', 's', 'b'), []);
  });
});

/**
 * Where copies go, each reached only through a URL (and, for a remote one, a token in the
 * environment, as users give it). DynamoDB is in cli-dynamodb.test.ts, which owns a DynamoDB Local.
 */
const copyTargets: Array<{ label: string; open: (t: ExecutionContext) => Promise<{ url: string; token?: string }> }> = [
  { label: 'libSQL file: URL', open: async () => ({ url: `file:${tempFile(dir)}` }) },
  { label: 'better-sqlite3 path', open: async () => ({ url: tempFile(dir) }) },
  {
    label: 'remote libSQL over HTTP (sqld stand-in, migrated by convostore migrate)',
    open: async (t) => {
      const token = 'cli-token';
      const server = await standInFor(t, dir, { token });
      const migrated = await cli(['migrate', '--url', server.url], { env: { TURSO_AUTH_TOKEN: token } });
      t.is(migrated.code, 0, migrated.stderr);
      t.regex(migrated.stdout, /schema up to date \(libsql; all \d+ bundled migrations applied/);
      return { url: server.url, token };
    },
  },
];

for (const target of copyTargets) {
  test(`copy better-sqlite3 file → ${target.label} → better-sqlite3 file and → memory:: equal each time; a second copy writes nothing`, async (t) => {
    const source = await seededFile();
    const expected = await snapshotOf(source.path);
    const { url: middle, token } = await target.open(t);
    const copy = (from: string, to: string) => cli(['copy', '--from', from, '--to', to], { env: { TURSO_AUTH_TOKEN: token } });
    const total = source.messages.toLocaleString('en-US');

    const first = await copy(source.path, middle);
    t.is(first.code, 0, first.stderr);
    t.regex(first.stderr, new RegExp(`: ${total} messages, 0 already present .*; verified: 6 conversations, ${total} messages at the destination\\n$`));
    t.deepEqual(await snapshotOf(middle, token), expected);

    const second = await copy(source.path, middle);
    t.is(second.code, 0, second.stderr);
    t.regex(second.stderr, new RegExp(`: 0 messages, ${total} already present`));
    t.deepEqual(await snapshotOf(middle, token), expected);

    const back = tempFile(dir);
    const third = await copy(middle, back);
    t.is(third.code, 0, third.stderr);
    t.deepEqual(await snapshotOf(back), expected);

    const memory = await copy(middle, 'memory:');
    t.is(memory.code, 0, memory.stderr);
    t.regex(memory.stderr, new RegExp(`memory:: ${total} messages, 0 already present .*; verified: 6 conversations, ${total} messages`));
  });
}

/** A better-sqlite3 file holding the data of issue 10's copy bug (helpers/cli.ts). */
async function reproFile(): Promise<string> {
  const path = tempFile(dir);
  await seedRepro(path);
  return path;
}

const viewOf = (url: string, authToken?: string) => withStore(url, sessionsView, authToken);

test("issue 10: copy and export → import keep a session's write order across agents within one millisecond (file → file)", async (t) => {
  const source = await reproFile();
  const expected = await viewOf(source);
  await withStore(source, async (store) => {
    const texts = (await store.fetchAllChats('u', 's')).map((m) => m.content[0]!.text);
    t.deepEqual(texts, ['alpha asks', 'beta asks', '[alpha] alpha answers', '[beta] beta answers', undefined], 'the source itself');
  });

  const copied = tempFile(dir);
  const copy = await cli(['copy', '--from', source, '--to', copied]);
  t.is(copy.code, 0, copy.stderr);
  t.regex(copy.stderr, /: 7 messages, 0 already present \(7 read in 3 sessions, 3 conversations\).*; verified: 3 conversations, 7 messages at the destination\n$/);
  t.deepEqual(await viewOf(copied), expected);

  const file = tempFile(dir, '.jsonl');
  t.is((await cli(['export', '--from', source, '-o', file])).code, 0);
  const imported = tempFile(dir);
  const run = await cli(['import', '--to', imported, file]);
  t.is(run.code, 0, run.stderr);
  t.deepEqual(await viewOf(imported), expected);
});

for (const target of copyTargets) {
  test(`issue 10: copy and export → import keep everything a session holds, better-sqlite3 file → ${target.label} → better-sqlite3 file`, async (t) => {
    const source = await reproFile();
    const expected = await viewOf(source);
    const { url, token } = await target.open(t);
    const env = { TURSO_AUTH_TOKEN: token };
    const there = await cli(['copy', '--from', source, '--to', url], { env });
    t.is(there.code, 0, there.stderr);
    t.regex(there.stderr, /verified: 3 conversations, 7 messages at the destination\n$/);
    t.deepEqual(await viewOf(url, token), expected);
    const back = tempFile(dir);
    const home = await cli(['copy', '--from', url, '--to', back], { env });
    t.is(home.code, 0, home.stderr);
    t.deepEqual(await viewOf(back), expected);

    const file = tempFile(dir, '.jsonl');
    t.is((await cli(['export', '--from', source, '-o', file])).code, 0);
    const other = await target.open(t);
    const imported = await cli(['import', '--to', other.url, file], { env: { TURSO_AUTH_TOKEN: other.token } });
    t.is(imported.code, 0, imported.stderr);
    t.deepEqual(await viewOf(other.url, other.token), expected);
    const exportedAgain = await cli(['export', '--from', other.url], { env: { TURSO_AUTH_TOKEN: other.token } });
    t.deepEqual(exportedAgain.stdout.trimEnd().split('\n').slice(1), readFileSync(file, 'utf8').trimEnd().split('\n').slice(1), 'byte-identical lines');
  });
}

test('format v2: a sample export, line by line', async (t) => {
  const source = await reproFile();
  const run = await cli(['export', '--from', source, '--user', 'u']);
  t.is(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.like(lines[0], { format: 'convostore', version: 2, source: 'sqlite', user: 'u' });
  const records = lines.slice(1);
  const ids = await withStore(source, async (store) => (await store.fetchSessionPage('u', 's', { order: 'oldest' })).items.map((m) => m.id));
  const t0 = 1_700_000_000_000;
  t.deepEqual(records.slice(0, 7), [
    { type: 'session', userId: 'u', sessionId: 's', createdAt: t0, lastActivityAt: t0, title: 'Two agents, one millisecond', metadata: { pinned: true, tags: ['a', 'b'] } },
    { type: 'message', userId: 'u', sessionId: 's', agentId: 'alpha', id: ids[0], seq: 1, role: 'user', content: [{ text: 'alpha asks' }], timestamp: t0 },
    { type: 'message', userId: 'u', sessionId: 's', agentId: 'beta', id: ids[1], seq: 1, role: 'user', content: [{ text: 'beta asks' }], metadata: { lang: 'en' }, timestamp: t0 },
    { type: 'message', userId: 'u', sessionId: 's', agentId: 'alpha', id: ids[2], seq: 2, role: 'assistant', content: [{ text: 'alpha answers' }], metadata: { model: 'a-1', usage: { in: 3, out: 5 } }, timestamp: t0 },
    { type: 'message', userId: 'u', sessionId: 's', agentId: 'beta', id: ids[3], seq: 2, role: 'assistant', content: [{ text: 'beta answers' }, { toolUse: { toolUseId: 't', name: 'f', input: {} } }], timestamp: t0 },
    { type: 'message', userId: 'u', sessionId: 's', agentId: 'beta', id: ids[4], seq: 3, role: 'tool', content: [{ toolResult: { toolUseId: 't', content: [{ json: { ok: true } }] } }], timestamp: t0 },
    // listSessions order: latest activity first, then by session id (here both at t0).
    { type: 'session', userId: 'u', sessionId: 'only a title', createdAt: t0, lastActivityAt: t0, title: 'Nothing said yet' },
  ]);
  t.deepEqual(records[7], { type: 'end', sessions: 2, messages: 5 });
  t.is(records.length, 8);
});

/**
 * A version 1 file exactly as convostore 0.1's `export` wrote it (captured from that code): no ids,
 * no metadata, no titles; its writer merged agents by timestamp, so session s comes as alpha, alpha,
 * beta, beta.
 */
const V1_EXPORT = [
  '{"format":"convostore","version":1,"exportedAt":"2026-11-29T07:40:06.350Z","source":"sqlite"}',
  '{"type":"session","userId":"u","sessionId":"other \\"session\\"","createdAt":1700000103000,"lastActivityAt":1700000103000}',
  '{"type":"message","userId":"u","sessionId":"other \\"session\\"","agentId":"a#b","seq":1,"role":"user","content":[{"text":"x"}],"timestamp":1700000101000}',
  '{"type":"message","userId":"u","sessionId":"other \\"session\\"","agentId":"a#b","seq":2,"role":"assistant","content":[{"text":"y"}],"timestamp":1700000102000}',
  '{"type":"session","userId":"u","sessionId":"s","createdAt":1700000000000,"lastActivityAt":1700000000000}',
  '{"type":"message","userId":"u","sessionId":"s","agentId":"alpha","seq":1,"role":"user","content":[{"text":"alpha asks"}],"timestamp":1700000000000}',
  '{"type":"message","userId":"u","sessionId":"s","agentId":"alpha","seq":2,"role":"assistant","content":[{"text":"alpha answers"},{"toolUse":{"toolUseId":"t1","name":"lookup","input":{"q":"é😀"}}}],"timestamp":1700000000000}',
  '{"type":"message","userId":"u","sessionId":"s","agentId":"beta","seq":1,"role":"user","content":[{"text":"beta asks"}],"timestamp":1700000000000}',
  '{"type":"message","userId":"u","sessionId":"s","agentId":"beta","seq":2,"role":"assistant","content":[{"text":"beta answers"}],"timestamp":1700000000000}',
  '{"type":"end","sessions":2,"messages":6}',
].join('\n');

test('a version 1 file still imports: file order, times, content; ids derived from conversation and seq, the same on every run', async (t) => {
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, `${V1_EXPORT}\n`);
  const first = tempFile(dir);
  const run = await cli(['import', '--to', first, file]);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /^imported 6 messages, 0 already present \(6 read in 2 sessions, 3 conversations\)/);
  const view = (await viewOf(first)) as Record<string, { session: unknown; oldest: Array<Record<string, unknown>> }>;
  const s = view[JSON.stringify(['u', 's'])]!;
  t.deepEqual(
    s.oldest.map(({ agentId, seq, role, content, timestamp }) => ({ agentId, seq, role, content, timestamp })),
    V1_EXPORT.split('\n').slice(5, 9).map((l) => {
      const { agentId, seq, role, content, timestamp } = JSON.parse(l);
      return { agentId, seq, role, content, timestamp };
    }),
  );
  t.like(s.session, { createdAt: 1_700_000_000_000, lastActivityAt: 1_700_000_000_000, messageCount: 4 });
  t.false('title' in (s.session as object));
  for (const m of s.oldest) t.regex(m.id as string, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(new Set(Object.values(view).flatMap((v) => v.oldest.map((m) => m.id))).size, 6);
  t.like(view[JSON.stringify(['u', 'other "session"'])]!.session, { createdAt: 1_700_000_103_000, lastActivityAt: 1_700_000_103_000, messageCount: 2 });

  const again = await cli(['import', '--to', first, file]);
  t.regex(again.stderr, /^imported 0 messages, 6 already present/);
  const second = `file:${tempFile(dir)}`;
  t.is((await cli(['import', '--to', second, '-'], { input: V1_EXPORT })).code, 0);
  t.deepEqual(await viewOf(second), view, 'another import of the same file: the same ids');
});

test('copy verifies titles and session metadata too, and copies a session that has only a title', async (t) => {
  const source = await reproFile();
  const dest = tempFile(dir);
  t.is((await cli(['copy', '--from', source, '--to', dest])).code, 0);
  await withStore(dest, async (store) => {
    t.like(await store.getSession('u', 'only a title'), { title: 'Nothing said yet', messageCount: 0 });
    // Metadata merges key by key: a key only the destination has survives the next copy.
    await store.updateSession('u', 's', { metadata: { local: 1 } });
  });
  const run = await cli(['copy', '--from', source, '--to', dest]);
  t.is(run.code, 1);
  t.regex(run.stderr, /^convostore: verify: \(u, s\): its metadata differs: \{"pinned":true,"tags":\["a","b"\]\} expected, \{[^\n]*"local":1[^\n]*\} at the destination\n/);
  t.regex(run.stderr, /: 0 messages, 7 already present .*; VERIFY FAILED: 1 of 3 sessions differ\n$/);
});

test('copy to memory: copies and verifies counts within the one process', async (t) => {
  const source = await seededFile(30);
  const run = await cli(['copy', '--from', source.path, '--to', 'memory:']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, new RegExp(`^copied ${source.path} → memory:: ${source.messages} messages, 0 already present \\(${source.messages} read in 5 sessions, 6 conversations\\) in [\\d.]+ s.*; verified: 6 conversations, ${source.messages} messages at the destination\\n$`));
});

test('copy verifies: a destination session with more messages than the source fails the check', async (t) => {
  const source = await seededFile(4);
  const dest = tempFile(dir);
  t.is((await cli(['copy', '--from', source.path, '--to', dest])).code, 0);
  await withStore(dest, (store) => store.saveChatMessage('bob', 's/1?x=%20', 'agent:"quoted"', { role: 'user', content: 'later, at the destination only' }));
  const run = await cli(['copy', '--from', source.path, '--to', dest]);
  t.is(run.code, 1);
  // v2 compares message by message in session order and reports the first difference per session.
  t.regex(run.stderr, /^convostore: verify: \(bob, s\/1\?x=%20\): the destination holds more messages, from message 3 \(id [\w-]+\) on\n/);
  t.regex(run.stderr, /: 0 messages, \d+ already present .*; VERIFY FAILED: 1 of 5 sessions differ\n$/);
});

test('an interrupted copy resumes: what the destination holds is skipped, the rest is written', async (t) => {
  const source = await seededFile();
  const exported = (await cli(['export', '--from', source.path])).stdout.split('\n');
  // Stand-in for a copy killed midway: the destination holds the first 700 lines' worth.
  const dest = `file:${tempFile(dir)}`;
  const partial = await cli(['import', '--to', dest, '-'], { input: exported.slice(0, 700).join('\n') });
  t.is(partial.code, 0, partial.stderr);
  const run = await cli(['copy', '--from', source.path, '--to', dest]);
  t.is(run.code, 0, run.stderr);
  const present = Number(/, ([\d,]+) already present/.exec(run.stderr)![1]!.replace(/,/g, ''));
  t.true(present > 600 && present < 700, run.stderr);
  t.deepEqual(await snapshotOf(dest), await snapshotOf(source.path));
});

test('on a terminal, copy draws a progress bar (percent, counts, rate, ETA) on stderr', async (t) => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!hasScript) return t.pass('util-linux `script` (to give the CLI a terminal) is not installed; nothing to check');
  const source = await seededFile(3000);
  const dest = tempFile(dir);
  // `script` runs the command on a pseudo-terminal, so stderr.isTTY is true as for a user.
  const run = spawnSync('script', ['-qefc', `${process.execPath} ${cliPath} copy --from ${source.path} --to ${dest} --batch-size 20`, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '120' },
  });
  t.is(run.status, 0, run.stdout);
  t.regex(run.stdout, /copy {2}\[[#-]{24}\] {2}\d+\.\d% {2}[\d,]+\/[\d,]+ {2}[\d,]+\/s {2}ETA \d+:\d\d/);
  t.regex(run.stdout, /copied .* verified: 6 conversations/);
});
