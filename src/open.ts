import type { ChatStore } from './core/store.js';
import type { DynamoDbOpenOptions } from './dynamodb/index.js';
import { importBackend } from './drivers.js';
import { redactError, secretsIn } from './redact.js';
import type { LibsqlOptions } from './libsql/connect.js';
import type { InMemoryOptions } from './memory/index.js';
import type { SqliteOptions } from './sqlite/index.js';
import type { StoreOptions } from './types.js';
import { DEFAULT_DATABASE_FILE, parseStorageUrl, type StorageTarget } from './url.js';

type Own<T> = Omit<T, keyof StoreOptions>;

/**
 * The store's options, then each backend's own in its group: only the group of the backend the URL
 * names is used, so one set of options can serve every CONVOSTORE_URL an app may be given.
 */
export interface OpenOptions extends StoreOptions {
  memory?: Own<InMemoryOptions>;
  sqlite?: Own<SqliteOptions>;
  libsql?: Own<LibsqlOptions>;
  dynamodb?: Own<DynamoDbOpenOptions>;
  /** @deprecated since 0.2: `libsql: { authToken }`. */
  authToken?: string;
  /** @deprecated since 0.2: `libsql: { migrate }`. */
  migrate?: boolean;
  /** @deprecated since 0.2: `sqlite: { busyTimeoutMs }` / `libsql: { busyTimeoutMs }`. */
  busyTimeoutMs?: number;
  /** @deprecated since 0.2: `dynamodb: { client }`. */
  client?: DynamoDbOpenOptions['client'];
  /** @deprecated since 0.2: `dynamodb: { credentials }`. */
  credentials?: DynamoDbOpenOptions['credentials'];
  /** @deprecated since 0.2: `dynamodb: { createTable }`. */
  createTable?: boolean;
}

/**
 * Opens the store a URL names (see parseStorageUrl); with no URL, CONVOSTORE_URL, else the embedded
 * SQLite file ./data/convostore.db. Only the named backend is loaded, with its driver: a driver that
 * is not installed is a MissingDriverError naming the `npm install` command. Local databases are
 * migrated on open; a remote one must be. For libSQL, the token comes from the options, the URL's
 * `authToken` parameter or TURSO_AUTH_TOKEN. A DynamoDB table must exist (or pass
 * `dynamodb: { createTable: true }`); credentials come from the options or the AWS SDK's chain.
 */
export async function openStorage(url?: string, options: OpenOptions = {}): Promise<ChatStore> {
  const given = url ?? process.env.CONVOSTORE_URL ?? DEFAULT_DATABASE_FILE;
  try {
    return await openTarget(parseStorageUrl(given), options);
  } catch (error) {
    throw redactError(error, secretsIn(given));
  }
}

/**
 * Opens a parsed target: the URL is not looked at again. Whatever fails is redacted of the
 * target's and the options' credentials, down the whole `cause` chain.
 */
export async function openTarget(target: StorageTarget, options: OpenOptions = {}): Promise<ChatStore> {
  try {
    return await openBackend(target, options);
  } catch (error) {
    throw redactError(error, targetSecrets(target, options));
  }
}

/** The credentials a target and its options carry. */
function targetSecrets(target: StorageTarget, options: OpenOptions): Array<string | undefined> {
  const secrets = [options?.authToken, options?.libsql?.authToken];
  if (target.kind === 'libsql' && target.transport === 'remote') secrets.push(target.authToken, ...secretsIn(target.url));
  if (target.kind === 'dynamodb' && target.endpoint) secrets.push(...secretsIn(target.endpoint));
  return secrets;
}

async function openBackend(target: StorageTarget, options: OpenOptions): Promise<ChatStore> {
  const { memory, sqlite, libsql, dynamodb, authToken, migrate, busyTimeoutMs, client, credentials, createTable, ...store } = options ?? {};
  const legacySql = { ...defined({ busyTimeoutMs }) };
  switch (target.kind) {
    case 'memory': {
      const { InMemoryChatStorage } = await import('./memory/index.js');
      return new InMemoryChatStorage({ ...store, ...memory });
    }
    case 'sqlite': {
      const { openSqlite } = await importBackend('sqlite', () => import('./sqlite/index.js'));
      return openSqlite(target.path, { ...store, ...legacySql, ...sqlite });
    }
    case 'libsql': {
      const { openLibsql } = await importBackend('libsql', () => import('./libsql/index.js'));
      return openLibsql(target, { ...store, ...legacySql, ...defined({ authToken, migrate }), ...libsql });
    }
    case 'dynamodb': {
      const { DynamoDbChatStorage } = await importBackend('dynamodb', () => import('./dynamodb/index.js'));
      const { region, endpoint, tableName } = target;
      return DynamoDbChatStorage.open(tableName, { ...store, region, endpoint, ...defined({ client, credentials, createTable, migrate }), ...dynamodb });
    }
  }
}

function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
