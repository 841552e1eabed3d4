import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter, writeJsonArray, table, time } from '../output.js';
import { storeSessions } from '../source.js';
import { openStore, resolveUrl, using } from '../stores.js';

export const sessions: Command = {
  name: 'sessions',
  usage: 'convostore sessions USER [--url URL] [--json]',
  summary: "Lists a user's sessions, most recent activity first, with their agents, message counts and titles.",
  details:
    'The TITLE column appears when a listed session has a title. --json prints a JSON array of session\n' +
    'summaries ({ sessionId, createdAt, lastActivityAt, messageCount, agents, title?, metadata? }).',
  options: { url: options.url, json: options.json },
  positionals: { min: 1, max: 1, names: 'USER' },
  async run({ values, positionals }) {
    const userId = positionals[0]!;
    const out = new LineWriter(process.stdout);
    return using([openStore(resolveUrl(stringOption(values, 'url')))], async (store) => {
      if (values.json) {
        await writeJsonArray(out, storeSessions(store, userId));
        return 0;
      }
      const rows: string[][] = [];
      let titled = false;
      for await (const s of storeSessions(store, userId)) {
        titled ||= s.title !== undefined;
        rows.push([
          s.sessionId,
          String(s.messageCount),
          time(s.createdAt),
          time(s.lastActivityAt),
          s.agents.map((a) => `${a.agentId} (${a.messageCount})`).join(', '),
          s.title ?? '',
        ]);
      }
      if (rows.length === 0) {
        process.stderr.write(`no sessions stored for user ${JSON.stringify(userId)}\n`);
        return 0;
      }
      // The title goes last: it may be long, and the last column is free to run long.
      const headers = ['SESSION', 'MESSAGES', 'CREATED (UTC)', 'LAST ACTIVITY (UTC)', 'AGENTS (MESSAGES)', 'TITLE'];
      await out.line(titled ? table(headers, rows) : table(headers.slice(0, -1), rows.map((r) => r.slice(0, -1))));
      return 0;
    });
  },
};
