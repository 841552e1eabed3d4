import { stringOption, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { Progress } from '../progress.js';
import { countMessages, readStore } from '../source.js';
import { openDestination, openSource, resolveUrl, shown, using } from '../stores.js';
import { transfer } from '../transfer.js';
import { storeCounts } from '../verify.js';
import type { WriterClock } from '../writer.js';

export const copy: Command = {
  name: 'copy',
  usage: 'convostore copy [--from URL] --to URL [--user USER]',
  summary: 'Copies everything (or one user\'s data) from one database to another, any backend to any backend.',
  details:
    'For promotion, e.g. --from file:./data/dev.db --to libsql://…  Resumable and idempotent: what the\n' +
    'destination already holds is checked and skipped, so an interrupted copy is finished by running it\n' +
    'again. Sessions keep their times and each conversation its order. Afterwards the message count of\n' +
    'every copied conversation is checked at the destination. Progress is shown when stderr is a terminal.',
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
    const clock: WriterClock = { now: Date.now() };
    return using([openSource(from), openDestination(to, clock)], async (source, dest) => {
      const progress = new Progress(process.stderr, { label: 'copy', unit: 'count' });
      if (process.stderr.isTTY) progress.total = await countMessages(source, user);
      return transfer({
        command: 'copy',
        values,
        items: readStore(source, user),
        dest,
        clock,
        progress,
        weigh: (item) => (item.kind === 'message' ? 1 : 0),
        expected: () => storeCounts(source, user),
        verb: `copied ${shown(from)} → ${shown(to)}:`,
      });
    });
  },
};
