import type { ChatStore } from '../core/store.js';
import { openStorage } from '../open.js';
import { redact } from '../sql/index.js';
import { DEFAULT_DATABASE_FILE } from '../url.js';
import type { WriterClock } from './writer.js';

/** `--url`/`--from`/`--to`, else CONVOSTORE_URL, else the embedded SQLite file. */
export function resolveUrl(given: string | undefined): string {
  return given ?? process.env.CONVOSTORE_URL ?? DEFAULT_DATABASE_FILE;
}

/** For messages: never print a token that came inside a URL. */
export function shown(url: string): string {
  return redact(url);
}

/** A store to read from. Consecutive-role notices are for applications, not for the CLI. */
export function openSource(url: string): Promise<ChatStore> {
  return openStorage(url, { logger: null });
}

/**
 * A store to write into: every message kept as given (no consecutive-role skipping, no retention),
 * and a clock the writer sets so sessions keep their source's times.
 */
export function openDestination(url: string, clock: WriterClock): Promise<ChatStore> {
  return openStorage(url, { logger: null, consecutiveRoles: 'keep', clock: () => clock.now });
}

/** Runs `body` with the stores open and closes them whatever happens. */
export async function using<T>(stores: Array<Promise<ChatStore>>, body: (...opened: ChatStore[]) => Promise<T>): Promise<T> {
  const opened: ChatStore[] = [];
  try {
    for (const store of stores) opened.push(await store);
    return await body(...opened);
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()));
  }
}
