import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter, writeJsonArray, table, time } from '../output.js';
import { storeSessions } from '../source.js';
import { openSource, resolveUrl, using } from '../stores.js';

export const sessions: Command = {
  name: 'sessions',
  usage: 'convostore sessions USER [--url URL] [--json]',
  summary: "Lists a user's sessions, most recent activity first, with their agents and message counts.",
  details: '--json prints a JSON array of session summaries ({ sessionId, createdAt, lastActivityAt, messageCount, agents }).',
  options: { url: options.url, json: options.json },
  positionals: { min: 1, max: 1, names: 'USER' },
  async run({ values, positionals }) {
    const userId = positionals[0]!;
    const out = new LineWriter(process.stdout);
    return using([openSource(resolveUrl(stringOption(values, 'url')))], async (store) => {
      if (values.json) {
        await writeJsonArray(out, storeSessions(store, userId));
        return 0;
      }
      const rows: string[][] = [];
      for await (const s of storeSessions(store, userId)) {
        rows.push([
          s.sessionId,
          String(s.messageCount),
          time(s.createdAt),
          time(s.lastActivityAt),
          s.agents.map((a) => `${a.agentId} (${a.messageCount})`).join(', '),
        ]);
      }
      if (rows.length === 0) {
        process.stderr.write(`no sessions stored for user ${JSON.stringify(userId)}\n`);
        return 0;
      }
      await out.line(table(['SESSION', 'MESSAGES', 'CREATED (UTC)', 'LAST ACTIVITY (UTC)', 'AGENTS (MESSAGES)'], rows));
      return 0;
    });
  },
};
