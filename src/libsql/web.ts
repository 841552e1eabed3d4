/**
 * `convostore/libsql/web` (also what `convostore/libsql` resolves to under the `workerd`, `worker`,
 * `edge-light`, `browser` and `deno` export conditions): remote libSQL / Turso through
 * `@libsql/client/web`, for runtimes without native modules or Node built-ins (Cloudflare Workers,
 * Vercel Edge, Deno Deploy, browsers). Nothing reachable from here imports `node:` or a native addon;
 * test/edge-worker.test.ts bundles it and runs it in workerd. The database must already be migrated
 * (`convostore migrate` from Node): there is no file system here to read the migrations from.
 */
import { createClient, type Client } from '@libsql/client/web';
import { drizzle } from 'drizzle-orm/libsql/web';
import * as schema from '../../drizzle/schema.js';
import { UnavailableError, ValidationError } from '../errors.js';
import { redact, redactError } from '../redact.js';
import { SqlStore } from '../sql/sql-store.js';
import { parseStorageUrl, type LibsqlTarget } from '../url.js';
import { checkLibsqlOptions, clientConfig, connectLibsql, type LibsqlOptions, type LibsqlRuntime } from './connect.js';

export { SqlStore, type SqlDatabase, type ConvostoreSchema } from '../sql/sql-store.js';
export type { LibsqlOptions } from './connect.js';

/**
 * Opens a remote libSQL database (`libsql://…`, `https://…`, `wss://…`) or wraps a client from
 * `@libsql/client/web` you created (it stays open when the store closes, unless `closeDriver: true`).
 * The token comes from the options or the URL's `authToken` parameter.
 */
export async function openLibsql(database: string | LibsqlTarget | Client, options: LibsqlOptions = {}): Promise<SqlStore> {
  const checked = checkLibsqlOptions(options);
  const runtime: LibsqlRuntime<SqlStore> = {
    drizzle: (client) => drizzle({ client, schema }),
    store: (...args) => new SqlStore(...args),
  };
  if (typeof database === 'object' && 'execute' in database) {
    const shown = `a libSQL client (${database.protocol})`;
    return connectLibsql({ client: database, transport: 'remote', shown, ownsClient: checked.closeDriver, secrets: [checked.authToken] }, checked, runtime);
  }
  const target = typeof database === 'string' ? parseStorageUrl(database) : database;
  if (target.kind !== 'libsql' || target.transport !== 'remote') {
    const shown = typeof database === 'string' ? redact(database) : target.kind;
    throw new ValidationError('url', `${shown}: on this runtime only a remote libSQL URL (libsql://…, https://…, wss://…) can be opened`);
  }
  checked.authToken ??= target.authToken;
  const secrets = [checked.authToken];
  const shown = redact(target.url, secrets);
  let client: Client;
  try {
    client = createClient(clientConfig(target, checked));
  } catch (error) {
    throw new UnavailableError(`cannot open the libSQL database ${shown}`, redactError(error, secrets));
  }
  return connectLibsql({ client, transport: 'remote', shown, ownsClient: true, secrets }, checked, runtime);
}
