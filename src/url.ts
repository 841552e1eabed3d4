import { ValidationError } from './errors.js';

/** Where `openStorage` goes when given no URL and CONVOSTORE_URL is unset. */
export const DEFAULT_DATABASE_FILE = './data/convostore.db';

/** The in-memory store. */
export interface MemoryTarget {
  kind: 'memory';
}

/** A local SQLite file through better-sqlite3 (`:memory:` for a private in-memory database). */
export interface SqliteTarget {
  kind: 'sqlite';
  path: string;
}

/**
 * A libSQL database through @libsql/client: `url` is what the client is given (scheme in lower case,
 * no token inside); `path` is the local file, for creating its folder.
 */
export type LibsqlTarget =
  | { kind: 'libsql'; transport: 'memory'; url: ':memory:' }
  | { kind: 'libsql'; transport: 'file'; url: string; path: string }
  | { kind: 'libsql'; transport: 'remote'; url: string; authToken?: string };

/** A DynamoDB table; credentials come from the options or the AWS SDK's chain, never from the URL. */
export interface DynamoDbTarget {
  kind: 'dynamodb';
  tableName: string;
  region?: string;
  endpoint?: string;
}

/** Everything an opener needs, parsed once: no opener looks at the URL string again. */
export type StorageTarget = MemoryTarget | SqliteTarget | LibsqlTarget | DynamoDbTarget;

export type BackendKind = StorageTarget['kind'];

/**
 * The one place a URL becomes a backend, so moving an app from a local file to Turso is a change of
 * CONVOSTORE_URL. Schemes are case-insensitive (`FILE:./x.db` is `file:./x.db`).
 * - `memory:` — the Map-based store
 * - a path (`./data/app.db`) or `sqlite:PATH` — SQLite through better-sqlite3
 * - `file:PATH` or `:memory:` — SQLite through @libsql/client
 * - `libsql://`, `https://`, `http://`, `wss://`, `ws://` — a remote libSQL / Turso database; an
 *   `authToken=` parameter is taken out of the URL into `authToken`
 * - `dynamodb://TABLE?region=eu-west-1` — a DynamoDB table; `&endpoint=http://127.0.0.1:8000` for
 *   DynamoDB Local.
 */
export function parseStorageUrl(url: string): StorageTarget {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ValidationError('url', 'must be a non-empty string such as ./data/app.db, file:app.db, libsql://… or memory:');
  }
  if (url === ':memory:') return { kind: 'libsql', transport: 'memory', url };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const rest = scheme === undefined ? url : url.slice(scheme.length + 1);
  switch (scheme) {
    case undefined:
      return { kind: 'sqlite', path: url };
    case 'memory':
      if (rest !== '') break;
      return { kind: 'memory' };
    case 'sqlite':
      return { kind: 'sqlite', path: rest.replace(/^\/\//, '') };
    case 'file':
      return { kind: 'libsql', transport: 'file', url: `file:${rest}`, path: rest.replace(/^\/\/(localhost)?(?=\/)/i, '').split('?')[0]! };
    case 'dynamodb':
      return parseDynamoDbUrl(rest);
    case 'libsql':
    case 'http':
    case 'https':
    case 'ws':
    case 'wss':
      return parseRemoteUrl(scheme, rest);
    default:
      // A one-letter "scheme" is a Windows drive letter, i.e. a path.
      if (scheme.length === 1) return { kind: 'sqlite', path: url };
  }
  throw new ValidationError('url', `unsupported scheme '${scheme}:'; use a file path, file:, libsql://, https://, dynamodb:// or memory:`);
}

/**
 * The libSQL database a URL names for a reader that only speaks libSQL (Agent Squad's storage): a
 * path or `sqlite:PATH` is the same file through libSQL.
 */
export function parseLibsqlUrl(url: string): LibsqlTarget {
  const target = parseStorageUrl(url);
  if (target.kind === 'libsql') return target;
  if (target.kind === 'sqlite') return parseStorageUrl(`file:${target.path}`) as LibsqlTarget;
  throw new ValidationError('url', `must be a libSQL URL (a file path, file:…, libsql://…, https://…), not a ${target.kind} URL`);
}

function parseRemoteUrl(scheme: string, rest: string): LibsqlTarget {
  const url = `${scheme}:${rest}`;
  const mark = url.indexOf('?');
  const params = new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
  const authToken = params.get('authToken');
  if (authToken === null) return { kind: 'libsql', transport: 'remote', url };
  params.delete('authToken');
  const query = params.toString();
  const clean = `${url.slice(0, mark)}${query ? `?${query}` : ''}`;
  return { kind: 'libsql', transport: 'remote', url: clean, ...(authToken ? { authToken } : {}) };
}

const DYNAMODB_PARAMS = new Set(['region', 'endpoint']);

/** The table name is case-sensitive, so it is read from the text rather than through `URL` (which lowercases hosts). */
function parseDynamoDbUrl(rest: string): DynamoDbTarget {
  const match = /^\/\/([^/?#]*)\/?(?:\?([^#]*))?$/.exec(rest);
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
