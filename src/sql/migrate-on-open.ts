import { UnavailableError } from '../errors.js';
import type { SqlDriver } from './driver.js';
import { adoptLegacyJournal } from './migrations.js';
import { isMigrated } from './schema-version.js';

/**
 * Applies the migrations unless they already are. Two processes opening a new file at once may both
 * start migrating; the loser's CREATE TABLE fails, and it is fine as long as the winner finished.
 */
export async function migrateOnce(driver: SqlDriver, migrate: () => unknown): Promise<void> {
  if (await isMigrated(driver)) return;
  try {
    // A database migrated by convostore 0.1 first has its tables and journal record adopted.
    await adoptLegacyJournal(driver);
    await migrate();
  } catch (error) {
    if (await isMigrated(driver).catch(() => false)) return;
    throw new UnavailableError('applying the migrations failed', error);
  }
}
