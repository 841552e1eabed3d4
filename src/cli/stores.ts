import type { ChatStore } from '../core/store.js';
import { UnavailableError, ValidationError } from '../errors.js';
import type { OpenOptions } from '../open.js';
import { redact } from '../redact.js';
import { DEFAULT_DATABASE_FILE } from '../url.js';

/** `--url`/`--from`/`--to`, else CONVOSTORE_URL, else the embedded SQLite file. */
export function resolveUrl(given: string | undefined): string {
  return given ?? process.env.CONVOSTORE_URL ?? DEFAULT_DATABASE_FILE;
}

/** For messages: never print a token that came inside a URL. */
export function shown(url: string): string {
  return redact(url);
}

/**
 * A store to read from or write into. Consecutive-role notices are for applications, not for the CLI;
 * writes go through importSession, which keeps every message, id, time and order as given.
 */
export function openStore(url: string): Promise<ChatStore> {
  return opening(url, open(url, { logger: null }));
}

/** Loaded on first use, so `--help` and usage errors do not wait for every driver to load. */
export async function open(url: string, options: OpenOptions): Promise<ChatStore> {
  const { openStorage } = await import('../open.js');
  return openStorage(url, options);
}

/** Says which database could not be opened; a driver's bare error ("fetch failed") would not. */
export async function opening(url: string, store: Promise<ChatStore>): Promise<ChatStore> {
  try {
    return await store;
  } catch (error) {
    // A bad URL already says so; anything else gets the database's name, since a command may use two.
    if (error instanceof ValidationError || (error instanceof Error && error.message.includes(shown(url)))) throw error;
    throw new UnavailableError(`cannot open ${shown(url)}`, error);
  }
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
