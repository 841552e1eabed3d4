/** The built CLI moving data: export/import (JSON Lines v1) and copy between backends. */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { openStorage, type ChatStore } from '../src/index.js';
import { cli, cliPath, ensureBuilt } from './helpers/cli.js';
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
  t.like(JSON.parse(lines[0]!), { format: 'convostore', version: 1, source: 'sqlite' });
  t.deepEqual(JSON.parse(lines[lines.length - 1]!), { type: 'end', sessions: 5, messages: source.messages });
  t.is(lines.length, 1 + 5 + source.messages + 1);

  const dest = `file:${tempFile(dir)}`;
  const imported = await cli(['import', '--to', dest, file]);
  t.is(imported.code, 0, imported.stderr);
  t.regex(imported.stderr, new RegExp(`^imported ${source.messages.toLocaleString('en-US')} messages, 0 already present`));
  t.deepEqual(await snapshotOf(dest), await snapshotOf(source.path));

  const again = await cli(['export', '--from', dest]);
  t.deepEqual(again.stdout.trimEnd().split('\n').slice(1), lines.slice(1), 'the same lines, in the same order');

  const before = await snapshotOf(dest);
  const reimport = await cli(['import', '--to', dest, file]);
  t.is(reimport.code, 0, reimport.stderr);
  t.regex(reimport.stderr, new RegExp(`^imported 0 messages, ${source.messages.toLocaleString('en-US')} already present`));
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

test('bad lines are reported by line number; their write is not made and their conversation stops there; fixing and re-running completes it', async (t) => {
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
  // Line 6 is x's third message with a role Agent Squad does not know; line 8 is not JSON at all.
  const broken = jsonl(HEADER, ...good.slice(0, 4)).concat(
    JSON.stringify({ ...good[4], role: 'system' }), '\n',
    jsonl(good[5], good[6]),
    '{"type":"message", oops\n',
    jsonl({ type: 'end', sessions: 1, messages: 7 }),
  );
  writeFileSync(file, broken);
  const dest = tempFile(dir);
  const run = await cli(['import', '--to', dest, file, '--batch-size', '10']);
  t.is(run.code, 1);
  const problems = run.stderr.split('\n').filter((l) => l.startsWith('convostore:'));
  t.is(problems[0], `convostore: ${file}:6: role: must be 'user' or 'assistant', got "system"; the rest of this conversation is not imported`);
  t.regex(problems[1]!, new RegExp(`^convostore: ${file}:9: not valid JSON`));
  t.is(problems.length, 2);
  t.regex(run.stderr, /imported 2 messages, 0 already present .* 2 problems, 2 conversations incomplete/);

  // Writes follow the file's order across agents, so x1 and y1 were written when the agent changed;
  // x2 was pending with the bad line 6 and y2 with the unreadable line 9: neither was written.
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

test('files that are not version 1 exports are refused; a missing or wrong end record is reported', async (t) => {
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, jsonl({ ...HEADER, version: 2 }));
  let run = await cli(['import', '--to', 'memory:', file]);
  t.is(run.code, 1);
  t.is(run.stderr, 'convostore: export format version 2 is not supported; this convostore reads version 1\n');

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

test('a destination conversation with other writes is reported and left untouched', async (t) => {
  const dest = tempFile(dir);
  await withStore(dest, async (store) => {
    await store.saveChatMessages('u', 's', 'a', [{ role: 'user', content: 'written by the app', timestamp: 5 }]);
  });
  const file = tempFile(dir, '.jsonl');
  writeFileSync(file, jsonl(HEADER, msg('a', 1, 'user', 'from the file'), msg('a', 2, 'assistant', 'reply'), msg('b', 1, 'user', 'other agent')));
  const run = await cli(['import', '--to', dest, file]);
  t.is(run.code, 1);
  t.regex(run.stderr, new RegExp(`${file}:2: the destination's message 1 of \\(u, s, a\\) differs from this one`));
  await withStore(dest, async (store) => {
    t.deepEqual(await store.fetchChat('u', 's', 'a'), [{ role: 'user', content: [{ text: 'written by the app' }] }]);
    t.deepEqual(await store.fetchChat('u', 's', 'b'), [{ role: 'user', content: [{ text: 'other agent' }] }]);
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
      t.regex(migrated.stdout, /schema up to date \(libsql; 1 of 1 migrations applied/);
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

test('copy to memory: copies and verifies counts within the one process', async (t) => {
  const source = await seededFile(30);
  const run = await cli(['copy', '--from', source.path, '--to', 'memory:']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, new RegExp(`^copied ${source.path} → memory:: ${source.messages} messages, 0 already present \\(${source.messages} read in 5 sessions, 6 conversations\\) in [\\d.]+ s.*; verified: 6 conversations, ${source.messages} messages at the destination\\n$`));
});

test('copy verifies counts: a destination conversation with more messages than the source fails the check', async (t) => {
  const source = await seededFile(4);
  const dest = tempFile(dir);
  t.is((await cli(['copy', '--from', source.path, '--to', dest])).code, 0);
  await withStore(dest, (store) => store.saveChatMessage('bob', 's/1?x=%20', 'agent:"quoted"', { role: 'user', content: 'later, at the destination only' }));
  const run = await cli(['copy', '--from', source.path, '--to', dest]);
  t.is(run.code, 1);
  t.regex(run.stderr, /^convostore: count mismatch \(bob, s\/1\?x=%20, agent:"quoted"\): 2 expected, 3 at the destination\n/);
  t.regex(run.stderr, /: 0 messages, \d+ already present .*; VERIFY FAILED: 1 of 6 conversations differ in count\n$/);
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
