import type { OptionSpec } from './args.js';

const DEFAULT_URL = 'default: CONVOSTORE_URL, else ./data/convostore.db';

/** Options several commands share, described once. */
export const options = {
  url: { type: 'string', value: 'URL', description: `database (${DEFAULT_URL})` },
  from: { type: 'string', value: 'URL', description: `database to read (${DEFAULT_URL})` },
  to: { type: 'string', value: 'URL', description: `database to write (${DEFAULT_URL})` },
  user: { type: 'string', value: 'USER', description: "only this user's sessions" },
  json: { type: 'boolean', description: 'print JSON instead of a table' },
  batchSize: { type: 'string', value: 'N', description: 'messages per importSession call (default 100; one atomic write per run of one agent)' },
} satisfies Record<string, OptionSpec>;
