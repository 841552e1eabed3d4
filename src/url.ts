import { ValidationError } from './errors.js';

/** Where `openStorage` goes when given no URL and CONVOSTORE_URL is unset. */
export const DEFAULT_DATABASE_FILE = './data/convostore.db';

export type StorageTarget =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'libsql'; url: string; local: boolean }
  | { kind: 'dynamodb'; tableName: string; region?: string; endpoint?: string };

/**
 * The one place a URL becomes a backend, so moving an app from a local file to Turso is a change of
 * CONVOSTORE_URL:
 * - `memory:` — the Map-based store
 * - a path (`./data/app.db`) or `sqlite:PATH` — SQLite through better-sqlite3
 * - `file:PATH` or `:memory:` — SQLite through @libsql/client
 * - `libsql://`, `https://`, `http://`, `wss://`, `ws://` — a remote libSQL / Turso database
 * - `dynamodb://TABLE?region=eu-west-1` — a DynamoDB table; `&endpoint=http://127.0.0.1:8000` for
 *   DynamoDB Local. Credentials come from the AWS SDK's usual chain, never from the URL.
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
    case 'dynamodb':
      return parseDynamoDbUrl(url);
    case 'libsql':
    case 'http':
    case 'https':
    case 'ws':
    case 'wss':
      return { kind: 'libsql', url, local: false };
    default:
      // A one-letter "scheme" is a Windows drive letter, i.e. a path.
      if (scheme.length === 1) return { kind: 'sqlite', path: url };
      throw new ValidationError('url', `unsupported scheme '${scheme}:'; use a file path, file:, libsql://, https://, dynamodb:// or memory:`);
  }
}

const DYNAMODB_PARAMS = new Set(['region', 'endpoint']);

/** The table name is case-sensitive, so it is read from the text rather than through `URL` (which lowercases hosts). */
function parseDynamoDbUrl(url: string): StorageTarget {
  const match = /^dynamodb:\/\/([^/?#]*)\/?(?:\?([^#]*))?$/i.exec(url);
  const tableName = match?.[1] ?? '';
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new ValidationError('url', 'must be dynamodb://TABLE?region=REGION[&endpoint=URL], TABLE being 3 to 255 of A-Z a-z 0-9 _ - .');
  }
  const params = new URLSearchParams(match?.[2] ?? '');
  for (const name of params.keys()) {
    if (!DYNAMODB_PARAMS.has(name)) throw new ValidationError('url', `unknown dynamodb:// parameter '${name}'; use region and endpoint`);
  }
  const region = params.get('region') || undefined;
  const endpoint = params.get('endpoint') || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]/i.test(endpoint)) {
    throw new ValidationError('url', 'the endpoint parameter must be an http:// or https:// URL');
  }
  return { kind: 'dynamodb', tableName, ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) };
}
