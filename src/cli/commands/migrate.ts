import { readFileSync } from 'node:fs';
import type { SqlChatStorage } from '../../sql/index.js';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { open, opening, resolveUrl, shown, using } from '../stores.js';

export const migrate: Command = {
  name: 'migrate',
  usage: 'convostore migrate [--url URL]',
  summary: "Applies convostore's bundled migrations to a database (remote libSQL/Turso included).",
  details:
    "The migrations are drizzle-kit's, recorded in drizzle's __drizzle_migrations journal, so\n" +
    '`npx drizzle-kit migrate` and `convostore migrate` can be used on the same database, in any order.\n' +
    'Local files are also migrated whenever convostore opens them. For dynamodb:// the table is\n' +
    'created (with TTL enabled) when it does not exist; memory: needs nothing.',
  options: { url: options.url },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const url = resolveUrl(stringOption(values, 'url'));
    return using([opening(url, open(url, { migrate: true, createTable: true, logger: null }))], async (store) => {
      const { SqlChatStorage } = await import('../../sql/index.js');
      const { migrationsFolder } = await import('../../sql/migrations.js');
      if (!(store instanceof SqlChatStorage)) {
        const note = store.backend === 'dynamodb' ? 'its table exists (created now if it was missing)' : 'nothing to migrate';
        process.stdout.write(`${shown(url)}: ready (${store.backend}: ${note})\n`);
        return 0;
      }
      const applied = await appliedMigrations(store);
      const journal = JSON.parse(readFileSync(`${migrationsFolder}meta/_journal.json`, 'utf8')) as { entries: Array<{ tag: string; when: number }> };
      const tags = journal.entries.filter((e) => applied.has(e.when)).map((e) => e.tag);
      process.stdout.write(
        `${shown(url)}: schema up to date (${store.backend}; ${tags.length} of ${journal.entries.length} migrations applied, latest ${tags[tags.length - 1] ?? 'none'})\n`,
      );
      return 0;
    });
  },
};

/** drizzle records each applied migration with its journal `when` as created_at. */
async function appliedMigrations(store: SqlChatStorage): Promise<Set<number>> {
  // better-sqlite3's Drizzle answers synchronously and libSQL's with a promise; await takes both.
  const { sql } = await import('drizzle-orm');
  const db = store.db as unknown as { all: (query: unknown) => Promise<Array<{ created_at: unknown }>> };
  const rows = await db.all(sql`SELECT created_at FROM __drizzle_migrations`);
  return new Set(rows.map((r) => Number(r.created_at)));
}
