import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Param, SqlDriver, Statement } from './driver.js';
import { MIGRATIONS_TABLE } from './schema-version.js';

export { MIGRATIONS_TABLE };

/**
 * The checked-in drizzle-kit migrations: the package's `migrations/` folder, looked for upwards from
 * this module, which is src/sql/ under tsx and a bundled chunk somewhere under dist/ when built.
 */
export const migrationsFolder: string = (() => {
  for (let up = '../'; up.length <= 5 * 3; up += '../') {
    const folder = fileURLToPath(new URL(`${up}migrations/`, import.meta.url));
    if (existsSync(`${folder}meta/_journal.json`)) return folder;
  }
  throw new Error('convostore: the migrations folder is missing from this installation');
})();

/** Where convostore 0.1 recorded its migrations (drizzle's default). */
export const LEGACY_MIGRATIONS_TABLE = '__drizzle_migrations';

/** What drizzle's `migrate()` (and drizzle-kit's `migrations` config) needs to apply convostore's migrations. */
export const migratorConfig = { migrationsFolder, migrationsTable: MIGRATIONS_TABLE } as const;

interface Journal {
  entries: Array<{ tag: string; when: number }>;
}

function journal(): Journal {
  return JSON.parse(readFileSync(`${migrationsFolder}meta/_journal.json`, 'utf8')) as Journal;
}

/** drizzle's migrators record each migration's journal `when`; the newest one is what we need. */
export function latestMigrationTime(): number {
  let latest = 0;
  for (const entry of journal().entries) latest = Math.max(latest, entry.when);
  return latest;
}

/** The `when` of convostore 0.1's only migration, 0000_init, as 0.1 recorded it in drizzle's journal. */
function initMigrationTime(): number {
  return journal().entries.find((e) => e.tag === '0000_init')!.when;
}

/** A quoted identifier, as Drizzle's SQLite dialect writes one (the names here are convostore's own). */
const id = (name: string) => `"${name}"`;
const journalTable = id(MIGRATIONS_TABLE);
const legacyTable = id(LEGACY_MIGRATIONS_TABLE);
/** Plain SQL with literal parameters: these run on open (migrate-on-open), where Drizzle is not loaded. */
const statement = (sql: string, ...params: Param[]): Statement => ({ query: { sql, params }, values: {} });

/**
 * convostore 0.1's tables and their indexes (migrations/0000_init.sql as 0.1 shipped it), under the
 * names they had then. Each is renamed to `convostore_` + its name, as 0000_init creates them now.
 */
const LEGACY_TABLES: ReadonlyArray<{ table: string; indexes: ReadonlyArray<{ name: string; unique: boolean; columns: string[] }> }> = [
  { table: 'users', indexes: [{ name: 'users_id_unique', unique: true, columns: ['id'] }] },
  { table: 'agents', indexes: [{ name: 'agents_id_unique', unique: true, columns: ['id'] }] },
  {
    table: 'sessions',
    indexes: [
      { name: 'sessions_user_id_unique', unique: true, columns: ['user_pk', 'id'] },
      { name: 'sessions_user_activity_idx', unique: false, columns: ['user_pk', 'last_activity_at', 'id'] },
    ],
  },
  {
    table: 'messages',
    indexes: [
      { name: 'messages_conversation_seq_unique', unique: true, columns: ['session_pk', 'agent_pk', 'seq'] },
      { name: 'messages_session_idx', unique: false, columns: ['session_pk'] },
      { name: 'messages_created_at_idx', unique: false, columns: ['created_at'] },
    ],
  },
];

const PREFIX = 'convostore_';

/** Renames a 0.1 table to convostore's name, and its indexes with it (SQLite cannot rename an index). */
function renameLegacyTable({ table, indexes }: (typeof LEGACY_TABLES)[number]): Statement[] {
  const renamed = id(PREFIX + table);
  return [
    // Renaming a parent rewrites the foreign keys of its children (SQLite >= 3.26): no rebuild, no cascade.
    statement(`ALTER TABLE ${id(table)} RENAME TO ${renamed}`),
    ...indexes.flatMap(({ name, unique, columns }) => [
      statement(`DROP INDEX ${id(name)}`),
      statement(`CREATE ${unique ? 'UNIQUE INDEX' : 'INDEX'} ${id(PREFIX + name)} ON ${renamed} (${columns.map(id).join(', ')})`),
    ]),
  ];
}

/**
 * A database migrated by convostore 0.1 recorded 0000_init in drizzle's default journal, and its
 * tables are named `users`, `agents`, `sessions` and `messages`: names an application's own schema
 * is likely to want. Adopting it, in one transaction: its tables and indexes take the names 0000_init
 * gives them now (`convostore_users`…; renamed, never rebuilt, so every row and pk stays), and the
 * record moves to convostore's own journal (out of the default one, where it would hide an
 * application's own migrations). convostore's later migrations then apply as on any database at
 * 0000_init. Nothing happens unless that record (0000_init's time) is there and convostore's journal
 * is still empty, so it is safe to call before every migration. Returns true when it adopted one.
 */
export async function adoptLegacyJournal(driver: SqlDriver): Promise<boolean> {
  const tables = await driver.run(
    statement(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)`, MIGRATIONS_TABLE, LEGACY_MIGRATIONS_TABLE),
  );
  const names = new Set(tables.rows.map((r) => r.name));
  if (!names.has(LEGACY_MIGRATIONS_TABLE)) return false;
  if (names.has(MIGRATIONS_TABLE)) {
    const { rows } = await driver.run(statement(`SELECT count(*) AS n FROM ${journalTable}`));
    if (Number(rows[0]?.n) > 0) return false;
  }
  const when = initMigrationTime();
  const legacy = await driver.run(statement(`SELECT count(*) AS n FROM ${legacyTable} WHERE created_at = ?`, when));
  if (Number(legacy.rows[0]?.n) === 0) return false;
  await driver.batch([
    ...LEGACY_TABLES.flatMap(renameLegacyTable),
    // The table drizzle's SQLite migrator creates, so that its CREATE TABLE IF NOT EXISTS is a no-op.
    statement(`CREATE TABLE IF NOT EXISTS ${journalTable} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`),
    statement(`INSERT INTO ${journalTable} (hash, created_at) SELECT hash, created_at FROM ${legacyTable} WHERE created_at = ?`, when),
    statement(`DELETE FROM ${legacyTable} WHERE created_at = ?`, when),
  ]);
  return true;
}
