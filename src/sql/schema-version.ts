import { NotMigratedError } from '../errors.js';
import type { SqlDriver } from './driver.js';

/**
 * convostore's own migration journal. drizzle's default, `__drizzle_migrations`, is where an
 * application's own drizzle migrations go; drizzle's migrator applies whatever is newer than the
 * journal's newest row, so two sets of migrations sharing one journal would hide each other.
 */
export const MIGRATIONS_TABLE = '__convostore_migrations';

/**
 * The journal `when` of the newest bundled migration (migrations/meta/_journal.json). Written here
 * rather than read from the journal so that checking a database needs no file system: the edge
 * entry (convostore/libsql/web) runs where there is none. test/schema-version.test.ts fails until
 * this follows a new migration.
 */
export const LATEST_MIGRATION_WHEN = 1795937428207;

const latestMigration = {
  query: { sql: `SELECT max(created_at) AS latest FROM ${MIGRATIONS_TABLE}`, params: [] },
  values: {},
};

/** True when the database has every bundled migration applied. */
export async function isMigrated(driver: SqlDriver): Promise<boolean> {
  try {
    const { rows } = await driver.run(latestMigration);
    return Number(rows[0]?.latest ?? 0) >= LATEST_MIGRATION_WHEN;
  } catch (error) {
    if (/no such table/i.test(String(error))) return false;
    throw error;
  }
}

/** A remote database is never migrated behind the user's back: it must already have the latest schema. */
export async function assertLatestSchema(driver: SqlDriver, shown: string): Promise<void> {
  if (!(await isMigrated(driver))) {
    throw new NotMigratedError(`the database at ${shown} does not have convostore's latest schema`);
  }
}
