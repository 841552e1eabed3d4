/**
 * `convostore/libsql`: libSQL through @libsql/client on Node — local files, `:memory:` and remote
 * libSQL / Turso. Local databases are migrated on open; a remote one must already be.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { UnavailableError, ValidationError } from '../errors.js';
import { redact, redactError } from '../redact.js';
import { SqlChatStorage } from '../sql/index.js';
import { migrateOnce } from '../sql/migrate-on-open.js';
import { migratorConfig } from '../sql/migrations.js';
import { parseStorageUrl, type LibsqlTarget } from '../url.js';
import type { NativeDatabase } from '../sql/libsql-local.js';
import { checkLibsqlOptions, clientConfig, connectLibsql, transportOf, type LibsqlConnection, type LibsqlOptions, type LibsqlRuntime } from './connect.js';

export { SqlChatStorage, SqlStore, type SqlDatabase, type ConvostoreSchema } from '../sql/index.js';
export type { LibsqlOptions } from './connect.js';

const require = createRequire(import.meta.url);

/**
 * Opens a libSQL database: a URL (`file:…`, `:memory:`, `libsql://…`, `https://…`, `wss://…`), its
 * parsed target, or a @libsql/client `Client` you created (it stays open when the store closes,
 * unless `closeDriver: true`). A remote token comes from the options, the URL's `authToken`
 * parameter, or TURSO_AUTH_TOKEN.
 */
export async function openLibsql(database: string | LibsqlTarget | Client, options: LibsqlOptions = {}): Promise<SqlChatStorage> {
  const checked = checkLibsqlOptions(options);
  const runtime: LibsqlRuntime<SqlChatStorage> = {
    // Drizzle loads only when a migration is due or on first access to `store.db` (see connect.ts).
    drizzle: (client) => (require('./orm.js') as typeof import('./orm.js')).libsqlOrm(client),
    migrate: (driver, db) =>
      migrateOnce(driver, async () => {
        // Loaded only when a migration is due: opening a migrated file does not pay for the migrator.
        const { migrate } = await import('drizzle-orm/libsql/migrator');
        await migrate(db(), migratorConfig);
      }),
    store: (...args) => new SqlChatStorage(...args),
  };
  if (isClient(database)) {
    const shown = `a libSQL client (${database.protocol})`;
    return connectLibsql({ client: database, transport: transportOf(database), shown, ownsClient: checked.closeDriver, secrets: [checked.authToken] }, checked, runtime);
  }
  const target = typeof database === 'string' ? libsqlTarget(database) : database;
  if (target.transport === 'remote') checked.authToken ??= target.authToken ?? process.env.TURSO_AUTH_TOKEN;
  const secrets = [checked.authToken];
  const shown = redact(target.url, secrets);
  let client: Client;
  try {
    if (target.transport === 'file' && target.path && target.path !== ':memory:') mkdirSync(dirname(target.path), { recursive: true });
    client = createClient(clientConfig(target, checked));
  } catch (error) {
    throw new UnavailableError(`cannot open the libSQL database ${shown}`, redactError(error, secrets));
  }
  return connectLibsql({ client, transport: target.transport, shown, ownsClient: true, secrets, openNative: libsqlBinding() }, checked, runtime);
}

type OpenNative = NonNullable<LibsqlConnection['openNative']>;
/** Resolved once per process (resolving is file system work); null: it could not be loaded. */
let binding: OpenNative | null | undefined;

/**
 * The `libsql` binding @libsql/client itself opens local files with, resolved from the client so the
 * two are the same version. Undefined if it cannot be loaded: the client then runs the file.
 */
function libsqlBinding(): OpenNative | undefined {
  if (binding === undefined) {
    try {
      const Database = createRequire(require.resolve('@libsql/client'))('libsql') as new (path: string, options: { timeout: number }) => NativeDatabase;
      binding = (path, options) => new Database(path, options);
    } catch {
      binding = null;
    }
  }
  return binding ?? undefined;
}

function libsqlTarget(url: string): LibsqlTarget {
  const target = parseStorageUrl(url);
  if (target.kind !== 'libsql') throw new ValidationError('url', `${redact(url)} is not a libSQL URL (file:…, :memory:, libsql://…, https://…)`);
  return target;
}

function isClient(value: unknown): value is Client {
  return typeof value === 'object' && value !== null && typeof (value as Client).execute === 'function' && typeof (value as Client).batch === 'function';
}
