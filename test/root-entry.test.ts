/**
 * The frameworks are optional peers: the root `convostore` entry must work, and type-check, in an app
 * that has neither agent-squad nor @langchain/core; the subpath exports must reach the adapters.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { tempDir } from './helpers/tmp.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const blocker = join(root, 'test/helpers/block-frameworks.mjs');
const packageBlocker = join(root, 'test/helpers/block-packages.mjs');
const DRIVERS = ['better-sqlite3', '@libsql/client', '@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
const FRAMEWORK = /^(agent-squad|@langchain\/|@openai\/agents-core|ai$|ai\/)/;

/** Every module specifier reachable from `entry` through relative imports, type-only ones included. */
function importGraph(entry: string): { files: string[]; packages: Set<string> } {
  const files: string[] = [];
  const packages = new Set<string>();
  const pending = [resolve(root, entry)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (fileName.startsWith('.')) pending.push(resolve(dirname(file), fileName.replace(/\.js$/, '.ts')));
      else packages.add(fileName);
    }
  }
  return { files, packages };
}

test('the root entry imports neither framework, directly or through any module it reaches', (t) => {
  const { files, packages } = importGraph('src/index.ts');
  t.true(files.length > 10, `walked ${files.length} modules`);
  t.false(files.some((f) => f.includes('/adapters/')), 'no adapter module is reachable from src/index.ts');
  t.false(files.some((f) => f.includes('/studio/') || f.includes('/cli/')), 'nor the CLI or its studio (loaded by `convostore studio` only)');
  t.deepEqual([...packages].filter((p) => FRAMEWORK.test(p)), []);
  // The same walk does find each framework from its adapter, so the check above can fail.
  t.true(importGraph('src/adapters/agent-squad.ts').packages.has('agent-squad'));
  t.true([...importGraph('src/adapters/langchain.ts').packages].some((p) => p.startsWith('@langchain/core')));
  t.true(importGraph('src/adapters/openai-agents.ts').packages.has('@openai/agents-core'));
  t.true(importGraph('src/adapters/ai-sdk.ts').packages.has('ai'));
});

test('the root entry loads and stores with both frameworks impossible to import', async (t) => {
  const script = `
    const convostore = await import(${JSON.stringify(join(root, 'src/index.ts'))});
    const store = await convostore.openStorage('memory:');
    const window = await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hi' });
    await store.close();
    const failures = [];
    for (const adapter of ['agent-squad', 'langchain', 'openai-agents', 'ai-sdk']) {
      try { await import(${JSON.stringify(join(root, 'src/adapters'))} + '/' + adapter + '.ts'); failures.push(adapter + ': loaded'); }
      catch (error) { failures.push(adapter + ': ' + error.message); }
    }
    console.log(JSON.stringify({ window, failures }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', blocker, '--input-type=module', '-e', script], { cwd: root });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { window: unknown; failures: string[] };
  t.deepEqual(result.window, [{ role: 'user', content: [{ text: 'hi' }] }]);
  // The adapters do need their framework: the block is real.
  t.regex(result.failures[0]!, /^agent-squad: Cannot find package 'agent-squad' \(blocked/);
  t.regex(result.failures[1]!, /^langchain: Cannot find package '@langchain\/core\/chat_history' \(blocked/);
  t.regex(result.failures[2]!, /^openai-agents: Cannot find package '@openai\/agents-core' \(blocked/);
  t.regex(result.failures[3]!, /^ai-sdk: Cannot find package 'ai' \(blocked/);
});

test('the root entry loads no driver and no Drizzle: with every driver impossible to import it opens memory:, and a URL needing one names the npm install', async (t) => {
  const log = join(tempDir('resolved'), 'resolved.txt');
  writeFileSync(log, '');
  const script = `
    const convostore = await import(${JSON.stringify(join(root, 'src/index.ts'))});
    const store = await convostore.openStorage('memory:', { logger: null });
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hi' });
    const window = await store.fetchChat('u', 's', 'a');
    await store.close();
    const { readFileSync } = await import('node:fs');
    const resolved = () => readFileSync(process.env.RESOLVED_LOG, 'utf8').split('\\n').filter(Boolean);
    const resolvedBeforeOpening = resolved();
    await import('drizzle-orm');
    const probe = resolved();
    const failures = {};
    const attempts = {
      './app.db': () => convostore.openStorage(process.argv[1] + '/app.db'),
      'file:': () => convostore.openStorage('file:' + process.argv[1] + '/app.db'),
      'libsql://': () => convostore.openStorage('libsql://127.0.0.1:9'),
      'dynamodb://': () => convostore.openStorage('dynamodb://Chats?region=eu-west-1'),
      'SqlChatStorage.openSqlite': () => convostore.SqlChatStorage.openSqlite(process.argv[1] + '/b.db'),
      'SqlChatStorage.openLibsql': () => convostore.SqlChatStorage.openLibsql(':memory:'),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      try { await attempt(); failures[name] = 'opened'; }
      catch (error) { failures[name] = { name: error.name, code: error.code, command: error.command, message: error.message }; }
    }
    console.log(JSON.stringify({ window, resolvedBeforeOpening, probe, failures }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--import', packageBlocker, '--input-type=module', '-e', script, tempDir('no-drivers')], {
    cwd: root,
    env: { ...process.env, BLOCK_PACKAGES: DRIVERS.join(','), RESOLVED_LOG: log },
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    window: unknown;
    resolvedBeforeOpening: string[];
    probe: string[];
    failures: Record<string, { name: string; code: string; command: string; message: string }>;
  };
  t.deepEqual(result.window, [{ role: 'user', content: [{ text: 'hi' }] }]);
  const drivers = result.resolvedBeforeOpening.filter((s) => DRIVERS.some((d) => s === d || s.startsWith(`${d}/`)));
  t.deepEqual(drivers, [], 'importing the root entry and using memory: asked for no driver package');
  t.false(result.resolvedBeforeOpening.includes('drizzle-orm'), 'nor Drizzle: memory: pays for neither');
  t.true(result.probe.includes('drizzle-orm'), 'the log does see bare imports, so the checks above can fail');
  const expected: Record<string, string> = {
    './app.db': 'npm install better-sqlite3',
    'file:': 'npm install @libsql/client',
    'libsql://': 'npm install @libsql/client',
    'dynamodb://': 'npm install @aws-sdk/client-dynamodb @aws-sdk/lib-dynamodb',
    'SqlChatStorage.openSqlite': 'npm install better-sqlite3',
    'SqlChatStorage.openLibsql': 'npm install @libsql/client',
  };
  for (const [name, command] of Object.entries(expected)) {
    const failure = result.failures[name]!;
    t.like(failure, { name: 'MissingDriverError', code: 'MISSING_DRIVER', command }, name);
    t.true(failure.message.includes(`\`${command}\``), `${name}: the message says what to run: ${failure.message}`);
  }
});

test('the built package: subpath exports resolve and type-check; the root needs no framework', async (t) => {
  // A copy of the package as npm would install it, built into a temp dir so ./dist is left alone.
  const pkg = join(tempDir('package'), 'convostore');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(root, 'migrations'), join(pkg, 'migrations'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  await run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], { cwd: root });
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string }> };
  for (const subpath of ['./agent-squad', './langchain', './openai-agents', './ai-sdk', './memory', './sqlite', './libsql', './libsql/web', './dynamodb']) {
    t.true(existsSync(join(pkg, manifest.exports[subpath]!.import)), `${subpath} import target is built`);
    t.true(existsSync(join(pkg, manifest.exports[subpath]!.types)), `${subpath} types target is built`);
  }

  // By package name, as an app imports it (self-reference goes through the exports map).
  const rootOnly = `
    const { openStorage } = await import('convostore');
    const store = await openStorage(process.argv[1]);
    await store.saveChatMessage('u', 's', 'a', { role: 'user', content: 'hi' });
    console.log(JSON.stringify(await store.fetchChat('u', 's', 'a')));
    await store.close();
  `;
  const file = join(pkg, 'app.db');
  const blocked = await run(process.execPath, ['--import', blocker, '--input-type=module', '-e', rootOnly, file], { cwd: pkg });
  t.deepEqual(JSON.parse(blocked.stdout), [{ role: 'user', content: [{ text: 'hi' }] }]);

  const adapters = `
    const { AgentSquad, Agent, Classifier } = await import('agent-squad');
    const { ConvostoreChatStorage } = await import('convostore/agent-squad');
    const { ConvostoreChatMessageHistory } = await import('convostore/langchain');
    const { HumanMessage } = await import('@langchain/core/messages');
    const { ConvostoreSession } = await import('convostore/openai-agents');
    const { openStorage } = await import('convostore');
    const { loadChat, saveChat } = await import('convostore/ai-sdk');
    class Echo extends Agent { async processRequest(text) { return { role: 'assistant', content: [{ text: 'echo: ' + text }] }; } }
    class First extends Classifier { async processRequest() { return { selectedAgent: Object.values(this.agents)[0], confidence: 1 }; } }
    const storage = new ConvostoreChatStorage(process.argv[1]);
    const squad = new AgentSquad({ storage, classifier: new First(), logger: { info() {}, debug() {}, log() {}, warn() {}, error: console.error } });
    squad.addAgent(new Echo({ name: 'Echo', description: 'echoes' }));
    const response = await squad.routeRequest('ping', 'u', 's2');
    const history = new ConvostoreChatMessageHistory({ url: process.argv[1], userId: 'u', sessionId: 's3' });
    await history.addMessages([new HumanMessage('one'), new HumanMessage('two')]);
    const session = new ConvostoreSession({ url: process.argv[1], userId: 'u', sessionId: 's4' });
    await session.addItems([{ role: 'user', content: 'three' }, { role: 'user', content: 'four' }]);
    const chats = await openStorage(process.argv[1]);
    await saveChat(chats, { userId: 'u', chatId: 's5', messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'five' }] }] });
    const aiSdk = (await loadChat(chats, { userId: 'u', chatId: 's5' })).map((m) => m.parts[0].text);
    await chats.close();
    console.log(JSON.stringify({ output: response.output, squad: await storage.fetchChat('u', 's2', 'echo'), langchain: (await history.getMessages()).map((m) => m.content), openaiAgents: (await session.getItems()).map((i) => i.content), aiSdk }));
    await storage.close();
    await history.close();
    await session.close();
  `;
  const full = await run(process.execPath, ['--input-type=module', '-e', adapters, file], { cwd: pkg });
  t.deepEqual(JSON.parse(full.stdout.trim().split('\n').at(-1)!), {
    output: 'echo: ping',
    squad: [
      { role: 'user', content: [{ text: 'ping' }] },
      { role: 'assistant', content: [{ text: 'echo: ping' }] },
    ],
    langchain: ['one', 'two'],
    openaiAgents: ['three', 'four'],
    aiSdk: ['five'],
  });

  // The published types: `new AgentSquad({ storage })` and a LangChain history type-check from the
  // package's .d.ts files, imported by name.
  writeFileSync(
    join(pkg, 'consumer.ts'),
    `import { AgentSquad } from 'agent-squad';
import type { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import { openStorage } from 'convostore';
import { ConvostoreChatStorage } from 'convostore/agent-squad';
import { ConvostoreChatMessageHistory } from 'convostore/langchain';
import type { Session } from '@openai/agents-core';
import { ConvostoreSession } from 'convostore/openai-agents';
import type { UIMessage } from 'ai';
import { loadChat } from 'convostore/ai-sdk';
export const squad = new AgentSquad({ storage: new ConvostoreChatStorage('memory:') });
export const history: BaseListChatMessageHistory = new ConvostoreChatMessageHistory({ store: await openStorage('memory:', { consecutiveRoles: 'keep' }), userId: 'u', sessionId: 's' });
export const session: Session = new ConvostoreSession({ store: await openStorage('memory:'), userId: 'u', sessionId: 's' });
export const chat: UIMessage[] = await loadChat(await openStorage('memory:'), { userId: 'u', chatId: 'c' });
`,
  );
  writeFileSync(
    join(pkg, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ ...manifest, type: 'module' }));
  const checked = await run(process.execPath, [tsc, '-p', join(pkg, 'tsconfig.json')], { cwd: pkg }).catch((error: { stdout: string }) => error);
  t.is(checked.stdout, '', 'tsc reports no errors on the consumer');
});
