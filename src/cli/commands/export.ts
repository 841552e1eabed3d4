import { createWriteStream } from 'node:fs';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter } from '../output.js';
import { Progress, amount } from '../progress.js';
import { countMessages, readStore } from '../source.js';
import { openStore, resolveUrl, shown, using } from '../stores.js';

export const exportCommand: Command = {
  name: 'export',
  usage: 'convostore export [--from URL] [--user USER] [--output FILE] > file.jsonl',
  summary: 'Writes everything stored (or one user\'s data) as convostore JSON Lines, version 2.',
  details:
    'Streams page by page: memory stays flat whatever the size. The format is documented in docs/cli.md:\n' +
    'a header line, then per session a "session" line (times, title, metadata) and its "message" lines\n' +
    "in the session's write order across agents (id, role, content, metadata, timestamp), then an\n" +
    '"end" line with the counts (an export without it was cut short).',
  options: {
    from: options.from,
    user: options.user,
    output: { type: 'string', short: 'o', value: 'FILE', description: 'write to FILE instead of standard output' },
  },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const url = resolveUrl(stringOption(values, 'from'));
    const user = stringOption(values, 'user');
    const file = stringOption(values, 'output');
    // Loaded here, not at the top: every command is imported to run one, and the CLI starts on each call.
    const { header, serialize } = await import('../format.js');
    return using([openStore(url)], async (store) => {
      const out = new LineWriter(file === undefined ? process.stdout : createWriteStream(file));
      const progress = new Progress(process.stderr, { label: 'export', unit: 'count' });
      if (process.stderr.isTTY) progress.total = await countMessages(store, user);
      let sessions = 0;
      let messages = 0;
      await out.line(header(store.backend, user));
      for await (const item of readStore(store, user)) {
        if (item.kind === 'session') {
          sessions++;
          await out.line(serialize(item.record));
        } else if (item.kind === 'message') {
          messages++;
          await out.line(serialize(item.record));
          progress.add(1);
        }
      }
      await out.line(serialize({ type: 'end', sessions, messages }));
      await out.end();
      progress.stop();
      const seconds = progress.elapsedMs / 1000;
      process.stderr.write(
        `exported ${amount(messages, 'count')} messages in ${amount(sessions, 'count')} sessions from ${shown(url)} in ${seconds.toFixed(1)} s\n`,
      );
      return 0;
    });
  },
};
