import type { ChatStore } from '../core/store.js';
import { UnavailableError, ValidationError } from '../errors.js';
import type { OpenOptions } from '../open.js';
import { redact, redactError, secretsIn } from '../redact.js';
import { DEFAULT_DATABASE_FILE } from '../url.js';

/** `--url`/`--from`/`--to`, else CONVOSTORE_URL, else the embedded SQLite file. */
export function resolveUrl(given: string | undefined): string {
  return given ?? process.env.CONVOSTORE_URL ?? DEFAULT_DATABASE_FILE;
}

/**
 * Every credential this process may hold: tokens and keys from the environment, and whatever the
 * command line or CONVOSTORE_URL carries inside a URL. What the CLI prints is redacted of them all.
 */
export function knownSecrets(): string[] {
  const { TURSO_AUTH_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, CONVOSTORE_URL } = process.env;
  return [TURSO_AUTH_TOKEN, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, ...[...process.argv, CONVOSTORE_URL ?? ''].flatMap(secretsIn)].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
}

/** A URL as the CLI prints it: no credential. */
export function shown(url: string): string {
  return redact(url, knownSecrets());
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
    redactError(error, knownSecrets());
    // A bad URL already says so; anything else gets the database's name, since a command may use two.
    if (error instanceof ValidationError || (error instanceof Error && error.message.includes(shown(url)))) throw error;
    throw new UnavailableError(`cannot open ${shown(url)}`, error);
  }
}

/**
 * Runs `body` with the stores open and closes them whatever happens. The stores open concurrently;
 * every opening is awaited before anything is thrown, so a second one that fails while the first is
 * still opening is never an unhandled rejection, and one that did open is closed.
 */
export async function using<T>(stores: Array<Promise<ChatStore>>, body: (...opened: ChatStore[]) => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled(stores);
  const opened = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return await body(...opened);
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()));
  }
}
