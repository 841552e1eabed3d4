import { NotMigratedError } from '../errors.js';
import type { SqlDriver } from './driver.js';
import { latestMigration } from './queries.js';

/**
 * The journal `when` of the newest bundled migration (migrations/meta/_journal.json). Written here
 * rather than read from the journal so that checking a remote database needs no file system: the
 * edge entry (convostore/libsql/web) runs where there is none. test/schema-version.test.ts fails
 * until this follows a new migration.
 */
export const LATEST_MIGRATION_WHEN = 1795608556807;

/** A remote database is never migrated behind the user's back: it must already have the latest schema. */
export async function assertLatestSchema(driver: SqlDriver, shown: string): Promise<void> {
  let latest = 0;
  try {
    latest = Number((await driver.run({ query: latestMigration, values: {} })).rows[0]?.created_at ?? 0);
  } catch (error) {
    if (!/no such table/i.test(String(error))) throw error;
  }
  if (latest < LATEST_MIGRATION_WHEN) {
    throw new NotMigratedError(`the database at ${shown} does not have convostore's latest schema`);
  }
}
