/**
 * The child side of the parent/child protocol: one JSON object per stdout line, and a `go` line on
 * stdin to start, so several children that took different times to load start their work together.
 */
import { createInterface } from 'node:readline';

export function send(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function waitForGo(): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', () => {
      lines.close();
      process.stdin.destroy();
      resolve();
    });
  });
}

export function describeError(error: unknown): { name: string; code?: string; message: string } {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: String(e?.name), code: e?.code, message: String(e?.message ?? error) };
}
