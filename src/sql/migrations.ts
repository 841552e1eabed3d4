import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NotMigratedError } from '../errors.js';
import type { SqlDriver } from './driver.js';
import { latestMigration } from './queries.js';

/** The checked-in drizzle-kit migrations, found from src/ (tsx) or dist/src/ (built). */
export const migrationsFolder: string = (() => {
  for (const relative of ['../../migrations/', '../../../migrations/']) {
    const folder = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${folder}meta/_journal.json`)) return folder;
  }
  throw new Error('convostore: the migrations folder is missing from this installation');
})();

interface Journal {
  entries: Array<{ tag: string; when: number }>;
}

/** drizzle's migrators record each migration's journal `when`; the newest one is what we need. */
export function latestMigrationTime(): number {
  const journal = JSON.parse(readFileSync(`${migrationsFolder}meta/_journal.json`, 'utf8')) as Journal;
  return Math.max(...journal.entries.map((e) => e.when));
}

/** True when the database has every bundled migration applied. */
export async function isMigrated(driver: SqlDriver): Promise<boolean> {
  try {
    const { rows } = await driver.run({ query: latestMigration, values: {} });
    return rows.length > 0 && Number(rows[0]!.created_at) >= latestMigrationTime();
  } catch (error) {
    if (/no such table/i.test(String(error))) return false;
    throw error;
  }
}

export async function assertMigrated(driver: SqlDriver, url: string): Promise<void> {
  if (!(await isMigrated(driver))) {
    throw new NotMigratedError(`the database at ${url} does not have convostore's latest schema`);
  }
}
