import { InMemoryChatStorage } from './memory/index.js';
import { SqlChatStorage, type LibsqlOptions } from './sql/index.js';
import { DynamoDbChatStorage, type DynamoDbOpenOptions } from './dynamodb/index.js';
import type { ChatStore } from './core/store.js';
import { DEFAULT_DATABASE_FILE, parseStorageUrl } from './url.js';

export interface OpenOptions extends LibsqlOptions, Pick<DynamoDbOpenOptions, 'client' | 'credentials' | 'createTable'> {}

/**
 * Opens the store a URL names (see parseStorageUrl); with no URL, CONVOSTORE_URL, else the embedded
 * SQLite file ./data/convostore.db. Local databases are migrated on open; a remote one must be.
 * For libSQL, the auth token comes from the options or TURSO_AUTH_TOKEN. A DynamoDB table must exist
 * (or pass `createTable: true`); credentials come from the options or the AWS SDK's chain.
 */
export async function openStorage(url?: string, options: OpenOptions = {}): Promise<ChatStore> {
  const target = parseStorageUrl(url ?? process.env.CONVOSTORE_URL ?? DEFAULT_DATABASE_FILE);
  switch (target.kind) {
    case 'memory':
      return new InMemoryChatStorage(options);
    case 'sqlite':
      return SqlChatStorage.openSqlite(target.path, options);
    case 'libsql':
      return SqlChatStorage.openLibsql(target.url, {
        ...options,
        authToken: options.authToken ?? (target.local ? undefined : process.env.TURSO_AUTH_TOKEN),
      });
    case 'dynamodb': {
      const { authToken: _token, migrate: _migrate, busyTimeoutMs: _busy, ...rest } = options;
      return DynamoDbChatStorage.open(target.tableName, { ...rest, region: target.region, endpoint: target.endpoint });
    }
  }
}
