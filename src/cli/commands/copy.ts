import { stringOption, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { Progress } from '../progress.js';
import { countMessages, readStore } from '../source.js';
import { openStore, resolveUrl, shown, using } from '../stores.js';

export const copy: Command = {
  name: 'copy',
  usage: 'convostore copy [--from URL] --to URL [--user USER]',
  summary: 'Copies everything (or one user\'s data) from one database to another, any backend to any backend.',
  details:
    'For promotion, e.g. --from file:./data/dev.db --to libsql://…  Each session is read in its write\n' +
    'order across agents and written with its message ids, metadata, timestamps, title, metadata and\n' +
    'times. Resumable and idempotent: what the destination already holds is checked and skipped, so an\n' +
    'interrupted copy is finished by running it again. Afterwards the destination is compared with the\n' +
    'source message by message (agent, id, role, content, metadata, timestamp, position in the session)\n' +
    'and session by session (title, metadata, times). Progress is shown when stderr is a terminal.',
  options: {
    from: options.from,
    to: { ...options.to, description: 'database to write (required)' },
    user: options.user,
    'batch-size': options.batchSize,
  },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const from = resolveUrl(stringOption(values, 'from'));
    const to = stringOption(values, 'to');
    if (to === undefined) throw new UsageError('missing --to URL', 'copy');
    if (to === from) throw new UsageError(`--from and --to are the same database (${shown(to)})`, 'copy');
    const user = stringOption(values, 'user');
    return using([openStore(from), openStore(to)], async (source, dest) => {
      const progress = new Progress(process.stderr, { label: 'copy', unit: 'count' });
      if (process.stderr.isTTY) progress.total = await countMessages(source, user);
      return (await import('../transfer.js')).transfer({
        command: 'copy',
        values,
        items: readStore(source, user),
        dest,
        progress,
        weigh: (item) => (item.kind === 'message' ? 1 : 0),
        expected: () => readStore(source, user),
        verb: `copied ${shown(from)} → ${shown(to)}:`,
      });
    });
  },
};
