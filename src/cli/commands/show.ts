import type { ChatStore } from '../../core/store.js';
import { ConvostoreError } from '../../errors.js';
import type { SessionMessage } from '../../types.js';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter, writeJsonArray, contentSummary, jsonSummary, table, time } from '../output.js';
import { READ_PAGE, sessionMessages } from '../source.js';
import { openStore, resolveUrl, using } from '../stores.js';

/** Metadata is cut to this many characters in a table on a terminal, unless --full. */
const METADATA_WIDTH = 40;

export const show: Command = {
  name: 'show',
  usage: 'convostore show USER SESSION [AGENT] [--url URL] [--json] [--full]',
  summary: "Prints one conversation (USER SESSION AGENT), or every agent's messages of a session.",
  details:
    "Messages come oldest first; a whole session in its write order across agents. The session's title\n" +
    'and metadata come first, then a table with each message\'s id (and metadata, when any message has\n' +
    'some). --json prints {"session": <summary as `sessions --json` shows it>, "messages": [\n' +
    '{ agentId, id, seq, role, content, metadata?, timestamp }, …]}. On a terminal, content and metadata\n' +
    'are cut to the screen width unless --full is given.',
  options: { url: options.url, json: options.json, full: { type: 'boolean', description: 'never shorten content or metadata' } },
  positionals: { min: 2, max: 3, names: 'USER and SESSION' },
  async run({ values, positionals }) {
    const [userId, sessionId, agentId] = positionals as [string, string, string | undefined];
    const out = new LineWriter(process.stdout);
    return using([openStore(resolveUrl(stringOption(values, 'url')))], async (store) => {
      const session = await store.getSession(userId, sessionId);
      if (session === null && agentId === undefined) {
        throw new ConvostoreError('VALIDATION', `user ${JSON.stringify(userId)} has no session ${JSON.stringify(sessionId)}`);
      }
      const messages = agentId === undefined ? sessionMessages(store, userId, sessionId) : conversation(store, userId, sessionId, agentId);
      if (values.json) {
        await writeJsonArray(out, messages, `{"session":${JSON.stringify(session)},"messages":[`, ']}');
        return 0;
      }
      if (session?.title !== undefined) await out.line(`Title: ${session.title}`);
      if (session?.metadata !== undefined) await out.line(`Metadata: ${JSON.stringify(session.metadata)}`);
      // The table is sized to its widest cells, so the messages are gathered first (show is for reading).
      const shown: SessionMessage[] = [];
      for await (const m of messages) shown.push(m);
      if (shown.length === 0) {
        process.stderr.write(`no messages stored for (${[userId, sessionId, agentId].filter((x) => x !== undefined).join(', ')})\n`);
        return 0;
      }
      await out.line(messageTable(shown, values.full === true));
      return 0;
    });
  },
};

function messageTable(messages: SessionMessage[], full: boolean): string {
  const withMetadata = messages.some((m) => m.metadata !== undefined);
  const headers = ['TIME (UTC)', 'AGENT', 'SEQ', 'ROLE', 'ID', ...(withMetadata ? ['METADATA'] : []), 'CONTENT'];
  const terminal = process.stdout.isTTY && !full;
  const cells = messages.map((m) => [
    time(m.timestamp),
    m.agentId,
    String(m.seq),
    m.role,
    m.id,
    ...(withMetadata ? [m.metadata === undefined ? '' : jsonSummary(m.metadata, terminal ? METADATA_WIDTH : undefined)] : []),
  ]);
  // On a terminal the content column gets what the other columns leave of its width.
  const fixed = headers.length - 1;
  const used = headers.slice(0, fixed).reduce((sum, h, i) => sum + cells.reduce((w, row) => Math.max(w, row[i]!.length), h.length) + 2, 0);
  const width = terminal ? Math.max(20, (process.stdout.columns ?? 100) - used) : undefined;
  return table(headers, cells.map((row, i) => [...row, contentSummary(messages[i]!.content, width)]));
}

async function* conversation(store: ChatStore, userId: string, sessionId: string, agentId: string): AsyncGenerator<SessionMessage> {
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(userId, sessionId, agentId, { order: 'oldest', limit: READ_PAGE, cursor });
    for (const m of page.items) yield { agentId, ...m };
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
