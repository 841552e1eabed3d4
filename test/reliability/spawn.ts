/** The parent side of the child protocol (see children/protocol.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Child {
  process: ChildProcess;
  /** Resolves with the first message of that event (rejects if the child exits first). */
  next(event: string): Promise<Record<string, unknown>>;
  go(): void;
  /** One line on the child's stdin (for children that take several tasks). */
  send(line: string): void;
  /** Resolves when the process has exited, with its code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function childScript(name: string): string {
  return fileURLToPath(new URL(`./children/${name}.ts`, import.meta.url));
}

export function startChild(name: string, args: readonly (string | number)[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript(name), ...args.map(String)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
  });
  const messages: Array<Record<string, unknown>> = [];
  const waiting: Array<{ event: string; resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      stderr += `(stdout) ${line}\n`;
      return;
    }
    messages.push(message);
    for (const w of waiting.filter((w) => w.event === message.event)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(message);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => {
      // Let the last stdout lines arrive before waiters are failed.
      setImmediate(() => {
        for (const w of waiting.splice(0)) {
          w.reject(new Error(`child ${name} exited (${code ?? signal}) before '${w.event}': ${stderr.slice(-2000)}`));
        }
        resolve({ code, signal, stderr });
      });
    }),
  );
  return {
    process: child,
    exited,
    next: (event) => {
      const seen = messages.find((m) => m.event === event);
      if (seen) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`child ${name} already exited before '${event}': ${stderr.slice(-2000)}`));
      }
      return new Promise((resolve, reject) => waiting.push({ event, resolve, reject }));
    },
    go: () => {
      child.stdin!.end('go\n');
    },
    send: (line) => {
      child.stdin!.write(`${line}\n`);
    },
  };
}
