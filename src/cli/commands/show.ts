import type { ChatStore } from '../../core/store.js';
import { ConvostoreError } from '../../errors.js';
import type { ContentBlock } from '../../types.js';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter, writeJsonArray, contentSummary, table, time } from '../output.js';
import { sessionItems, storeSessions, storedMessages } from '../source.js';
import { openSource, resolveUrl, using } from '../stores.js';

interface Shown {
  agentId: string;
  seq: number;
  role: string;
  content: ContentBlock[];
  timestamp: number;
}

export const show: Command = {
  name: 'show',
  usage: 'convostore show USER SESSION [AGENT] [--url URL] [--json] [--full]',
  summary: "Prints one conversation (USER SESSION AGENT), or every agent's messages of a session.",
  details:
    'Messages come oldest first. For a whole session, each conversation keeps its exact order and\n' +
    'conversations are interleaved by timestamp. --json prints a JSON array of\n' +
    '{ agentId, seq, role, content, timestamp }. On a terminal, content is cut to the screen width\n' +
    'unless --full is given.',
  options: { url: options.url, json: options.json, full: { type: 'boolean', description: 'never shorten content' } },
  positionals: { min: 2, max: 3, names: 'USER and SESSION' },
  async run({ values, positionals }) {
    const [userId, sessionId, agentId] = positionals as [string, string, string | undefined];
    const out = new LineWriter(process.stdout);
    return using([openSource(resolveUrl(stringOption(values, 'url')))], async (store) => {
      const messages = agentId === undefined ? await wholeSession(store, userId, sessionId) : conversation(store, userId, sessionId, agentId);
      if (values.json) {
        await writeJsonArray(out, messages);
        return 0;
      }
      const shownMessages: Shown[] = [];
      for await (const m of messages) shownMessages.push(m);
      if (shownMessages.length === 0) {
        process.stderr.write(`no messages stored for (${[userId, sessionId, agentId].filter((x) => x !== undefined).join(', ')})\n`);
        return 0;
      }
      const headers = ['TIME (UTC)', 'AGENT', 'SEQ', 'ROLE', 'CONTENT'];
      const cells = shownMessages.map((m) => [time(m.timestamp), m.agentId, String(m.seq), m.role]);
      // On a terminal the content column gets what the other columns leave of its width.
      const used = headers.slice(0, 4).reduce((sum, h, i) => sum + Math.max(h.length, ...cells.map((r) => r[i]!.length)) + 2, 0);
      const width = process.stdout.isTTY && !values.full ? Math.max(20, (process.stdout.columns ?? 100) - used) : undefined;
      await out.line(table(headers, cells.map((row, i) => [...row, contentSummary(shownMessages[i]!.content, width)])));
      return 0;
    });
  },
};

async function* conversation(store: ChatStore, userId: string, sessionId: string, agentId: string): AsyncGenerator<Shown> {
  for await (const m of storedMessages(store, { userId, sessionId, agentId })) {
    yield { agentId, seq: m.seq, role: m.role, content: m.content, timestamp: m.timestamp };
  }
}

async function wholeSession(store: ChatStore, userId: string, sessionId: string): Promise<AsyncIterable<Shown>> {
  for await (const session of storeSessions(store, userId)) {
    if (session.sessionId !== sessionId) continue;
    return (async function* () {
      for await (const item of sessionItems(store, userId, session)) {
        if (item.kind !== 'message') continue;
        const { agentId, seq, role, content, timestamp } = item.record;
        yield { agentId, seq: seq ?? 0, role, content, timestamp };
      }
    })();
  }
  throw new ConvostoreError('VALIDATION', `user ${JSON.stringify(userId)} has no session ${JSON.stringify(sessionId)}`);
}
