import { readFileSync } from 'node:fs';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { open, opening, resolveUrl, shown, using } from '../stores.js';

/** Backends whose schema is convostore's bundled drizzle-kit migrations. */
const SQL_BACKENDS = new Set(['sqlite', 'libsql']);

export const migrate: Command = {
  name: 'migrate',
  usage: 'convostore migrate [--url URL]',
  summary: "Applies convostore's bundled migrations to a database (remote libSQL/Turso included).",
  details:
    "The migrations are drizzle-kit's, recorded in convostore's own journal (__convostore_migrations,\n" +
    "not drizzle's default, which an application's own migrations may use), so `npx drizzle-kit\n" +
    'migrate` with convostore\'s config and `convostore migrate` can be used on the same database, in\n' +
    'any order; a database of convostore 0.1 is upgraded in place. Local files are also migrated\n' +
    'whenever convostore opens them. For dynamodb:// the table is created (with TTL enabled) when it\n' +
    'does not exist, and messages written by convostore 0.1 get their id items (resumable; otherwise\n' +
    'each session gets them the first time a v2 operation needs them); memory: needs nothing.',
  options: { url: options.url },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const url = resolveUrl(stringOption(values, 'url'));
    return using([opening(url, open(url, { migrate: true, createTable: true, logger: null }))], async (store) => {
      if (!SQL_BACKENDS.has(store.backend)) {
        const note =
          store.backend === 'dynamodb'
            ? 'its table exists (created now if it was missing); every message has its id item'
            : 'nothing to migrate';
        process.stdout.write(`${shown(url)}: ready (${store.backend}: ${note})\n`);
        return 0;
      }
      // Opening with `migrate: true` applied whatever was missing, or failed: every bundled migration is in.
      const tags = await bundledMigrations();
      process.stdout.write(
        `${shown(url)}: schema up to date (${store.backend}; all ${tags.length} bundled migrations applied, latest ${tags[tags.length - 1] ?? 'none'})\n`,
      );
      return 0;
    });
  },
};

/** The tags of the migrations shipped with this convostore, oldest first. */
async function bundledMigrations(): Promise<string[]> {
  const { migrationsFolder } = await import('../../sql/migrations.js');
  const journal = JSON.parse(readFileSync(`${migrationsFolder}meta/_journal.json`, 'utf8')) as { entries: Array<{ tag: string }> };
  return journal.entries.map((e) => e.tag);
}
