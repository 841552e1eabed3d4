/**
 * No credential is ever printed. Secrets are planted in every form a URL can carry one (userinfo
 * password, authToken/token/access_token parameters, a percent-encoded endpoint, the environment),
 * against unreachable ports and against a server that echoes the request's URL and Authorization
 * header in its 401 answer (so the driver's own message carries them). The CLI opens each through
 * both of its opening paths, and runs every command on one form of each kind, with --verbose for the
 * stacks and causes; every open path fails on each in-process. Nothing printed, no error message,
 * stack or cause, nor util.inspect of the error, may hold a secret.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { DynamoDbChatStorage } from '../src/dynamodb/index.js';
import { SqlChatStorage, openStorage, redact } from '../src/index.js';
import { openLibsql } from '../src/libsql/index.js';
import { AgentSquadSource } from '../src/cli/agent-squad-source.js';
import { cli, ensureBuilt } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('secrets');
const SECRETS = {
  userinfo: 'Pw-userinfo-5f1c9a',
  authToken: 'Tk-authToken-8d2e71',
  token: 'Tk-token-3b7f20',
  accessToken: 'Tk-access-9a4c66',
  endpoint: 'Pw-endpoint-71d0ee',
  echoToken: 'Tk-echoed-c3a915',
  echoUserinfo: 'Pw-echoed-0b6d42',
  env: 'Tk-env-2f8e5d',
  awsSecret: 'Aws-secret-6e3b17',
  option: 'Tk-option-d45a08',
};
const ALL = Object.values(SECRETS);

/** Answers 401 with the request's URL and Authorization header, as a careless server might. */
let echo: Server;
let echoUrl: string;
test.before(async () => {
  echo = createServer((request, response) => {
    response.writeHead(401, { 'content-type': 'text/plain' });
    response.end(`unauthorized ${request.method} ${request.url} authorization=${request.headers.authorization ?? ''}`);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
});
test.after.always(() => new Promise<void>((resolve) => echo.close(() => resolve())));

/** Every URL form, each carrying its secret; built after the echo server has its port. */
function urls(): Record<string, string> {
  const echoHost = echoUrl.slice('http://'.length);
  return {
    'libsql userinfo': `libsql://user:${SECRETS.userinfo}@127.0.0.1:9`,
    'http authToken': `http://127.0.0.1:9/?authToken=${SECRETS.authToken}`,
    'https token': `https://127.0.0.1:9?token=${SECRETS.token}`,
    'ws access_token': `ws://127.0.0.1:9?access_token=${SECRETS.accessToken}`,
    'FILE authToken': `FILE:${join(dir, 'f.db')}?authToken=${SECRETS.authToken}`,
    'dynamodb endpoint userinfo': `dynamodb://Chats?region=eu-west-1&endpoint=${encodeURIComponent(`http://ak:${SECRETS.endpoint}@127.0.0.1:9`)}`,
    'echo authToken': `${echoUrl}/?authToken=${SECRETS.echoToken}`,
    'echo userinfo': `http://user:${SECRETS.echoUserinfo}@${echoHost}`,
    'echo, token from TURSO_AUTH_TOKEN': echoUrl,
  };
}

/** The child's environment: a token and AWS keys to leak, and no instance metadata to ask for. */
const ENV = {
  TURSO_AUTH_TOKEN: SECRETS.env,
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: SECRETS.awsSecret,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_MAX_ATTEMPTS: '1',
};

function leaks(text: string): string[] {
  return ALL.filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));
}

/** Everything an error shows: message, stack, every cause, and util.inspect of the whole. */
function everything(error: unknown): string {
  const parts = [inspect(error, { depth: 10, showHidden: true }), String(error)];
  for (let e: unknown = error; e instanceof Error; e = e.cause) parts.push(e.message, e.stack ?? '');
  return parts.join('\n');
}

test('redact masks every form a credential takes in text', (t) => {
  const text = [
    `libsql://user:${SECRETS.userinfo}@db.example`,
    `https://db.example/?a=1&authToken=${SECRETS.authToken}&b=2`,
    `wss://db.example?token=${SECRETS.token}`,
    `http://h/?access_token=${SECRETS.accessToken}`,
    `endpoint=${encodeURIComponent(`http://ak:${SECRETS.endpoint}@h`)}`,
    `Authorization: Bearer ${SECRETS.echoToken}`,
    `{"authorization":"Basic ${SECRETS.echoUserinfo}"}`,
    `x-api-key: ${SECRETS.awsSecret}`,
    `the token ${SECRETS.option} said plainly`,
  ].join('\n');
  const out = redact(text, [SECRETS.option]);
  t.deepEqual(leaks(out), []);
  t.true(out.includes('libsql://user:***@db.example') && out.includes('a=1&authToken=***&b=2'), out);
});

test('the CLI prints no secret: every URL form, every command (stdout, stderr, --verbose stacks and causes)', async (t) => {
  await ensureBuilt();
  const exportFile = join(dir, 'export.jsonl');
  writeFileSync(exportFile, `${JSON.stringify({ type: 'message', userId: 'u', sessionId: 's', agentId: 'a', seq: 1, role: 'user', content: [{ text: 'x' }], timestamp: 1 })}\n`);
  // Every form through the two ways a URL reaches a driver (the store's opener, the Agent Squad
  // reader); every command, and CONVOSTORE_URL, on the forms whose driver echoes the most.
  const EVERY_COMMAND = new Set(['libsql userinfo', 'echo authToken', 'echo, token from TURSO_AUTH_TOKEN', 'dynamodb endpoint userinfo']);
  const runs: Array<[string, string[]]> = [];
  for (const [form, url] of Object.entries(urls())) {
    runs.push([`${form}: sessions`, ['sessions', 'u', '--url', url]], [`${form}: import-agent-squad`, ['import-agent-squad', '--from', url, '--to', 'memory:']]);
    if (!EVERY_COMMAND.has(form)) continue;
    runs.push(
      [`${form}: migrate`, ['migrate', '--url', url]],
      [`${form}: show`, ['show', 'u', 's', '--url', url]],
      [`${form}: export`, ['export', '--from', url]],
      [`${form}: import`, ['import', '--to', url, exportFile]],
      [`${form}: copy from`, ['copy', '--from', url, '--to', 'memory:']],
      [`${form}: copy to`, ['copy', '--from', 'memory:', '--to', url]],
      [`${form}: CONVOSTORE_URL`, ['sessions', 'u']],
    );
  }
  const failures: string[] = [];
  let failed = 0;
  const queue = [...runs];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [name, args] = next;
      const env = { ...ENV, ...(args.length === 2 ? { CONVOSTORE_URL: urls()[name.slice(0, name.indexOf(':'))] } : {}) };
      const result = await cli([...args, '--verbose'], { env, cwd: dir });
      if (result.code !== 0) failed++;
      const leaked = leaks(result.stdout + result.stderr);
      if (leaked.length > 0) failures.push(`${name} printed ${leaked.join(', ')}:\n${result.stdout}${result.stderr}`);
    }
  };
  await Promise.all([worker(), worker()]);
  t.deepEqual(failures, []);
  t.true(failed > runs.length / 2, `the runs did fail (${failed} of ${runs.length}), so their error paths were the ones checked`);
});

test('every open path fails on every URL form without a secret in its message, stack, causes or inspection', async (t) => {
  const saved = { ...process.env };
  Object.assign(process.env, ENV);
  t.teardown(() => {
    for (const key of Object.keys(ENV)) delete process.env[key];
    Object.assign(process.env, saved);
  });
  const attempts: Array<[string, () => Promise<unknown>]> = [];
  for (const [form, url] of Object.entries(urls())) {
    attempts.push([`openStorage ${form}`, () => openStorage(url, { logger: null })]);
    attempts.push([`openStorage ${form}, token option`, () => openStorage(url, { logger: null, libsql: { authToken: SECRETS.option } })]);
    if (!url.startsWith('dynamodb:')) {
      attempts.push([`SqlChatStorage.openLibsql ${form}`, () => SqlChatStorage.openLibsql(url, { authToken: SECRETS.option, migrate: true })]);
      attempts.push([`AgentSquadSource.open ${form}`, () => AgentSquadSource.open(url, SECRETS.option)]);
    }
  }
  attempts.push([
    'DynamoDbChatStorage.open, endpoint with userinfo',
    () =>
      DynamoDbChatStorage.open('Chats', {
        endpoint: `http://ak:${SECRETS.endpoint}@127.0.0.1:9`,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRETS.awsSecret },
        maxAttempts: 1,
      } as never),
  ]);
  attempts.push(['openLibsql on the echo server, token option', () => openLibsql(echoUrl, { authToken: SECRETS.option })]);
  const failures: string[] = [];
  for (const [name, attempt] of attempts) {
    const error = await attempt().then(
      async (store) => {
        await (store as { close(): Promise<void> }).close();
        return undefined;
      },
      (e: unknown) => e,
    );
    if (error === undefined) {
      if (!name.includes('FILE')) failures.push(`${name} opened`);
      continue;
    }
    const leaked = leaks(everything(error));
    if (leaked.length > 0) failures.push(`${name}: ${leaked.join(', ')} in\n${everything(error)}`);
  }
  t.deepEqual(failures, []);
});
