/**
 * The remote schema check (src/sql/schema-version.ts) carries the newest migration's journal time as
 * a constant, so that it needs no file system on edge runtimes. It must follow migrations/.
 */
import test from 'ava';
import { LATEST_MIGRATION_WHEN } from '../src/sql/schema-version.js';
import { latestMigrationTime } from '../src/sql/migrations.js';

test('LATEST_MIGRATION_WHEN is the newest migration in migrations/meta/_journal.json (update it with a new migration)', (t) => {
  t.is(LATEST_MIGRATION_WHEN, latestMigrationTime());
});
