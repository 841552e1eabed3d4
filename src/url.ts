import { ValidationError } from './errors.js';

/** Where `openStorage` goes when given no URL and CONVOSTORE_URL is unset. */
export const DEFAULT_DATABASE_FILE = './data/convostore.db';

export type StorageTarget =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'libsql'; url: string; local: boolean };

/**
 * The one place a URL becomes a backend, so moving an app from a local file to Turso is a change of
 * CONVOSTORE_URL:
 * - `memory:` — the Map-based store
 * - a path (`./data/app.db`) or `sqlite:PATH` — SQLite through better-sqlite3
 * - `file:PATH` or `:memory:` — SQLite through @libsql/client
 * - `libsql://`, `https://`, `http://`, `wss://`, `ws://` — a remote libSQL / Turso database
 */
export function parseStorageUrl(url: string): StorageTarget {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ValidationError('url', 'must be a non-empty string such as ./data/app.db, file:app.db, libsql://… or memory:');
  }
  if (url === 'memory:') return { kind: 'memory' };
  if (url === ':memory:') return { kind: 'libsql', url, local: true };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      return { kind: 'sqlite', path: url };
    case 'sqlite':
      return { kind: 'sqlite', path: url.slice('sqlite:'.length).replace(/^\/\//, '') };
    case 'file':
      return { kind: 'libsql', url, local: true };
    case 'libsql':
    case 'http':
    case 'https':
    case 'ws':
    case 'wss':
      return { kind: 'libsql', url, local: false };
    default:
      // A one-letter "scheme" is a Windows drive letter, i.e. a path.
      if (scheme.length === 1) return { kind: 'sqlite', path: url };
      throw new ValidationError('url', `unsupported scheme '${scheme}:'; use a file path, file:, libsql://, https:// or memory:`);
  }
}
