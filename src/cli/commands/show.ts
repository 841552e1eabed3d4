import type { ChatStore } from '../../core/store.js';
import { ConvostoreError } from '../../errors.js';
import type { SessionMessage } from '../../types.js';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { LineWriter, writeJsonArray, contentSummary, jsonSummary, tableLine, time } from '../output.js';
import { READ_PAGE, sessionMessages } from '../source.js';
import { openStore, resolveUrl, using } from '../stores.js';

/** Metadata is cut to this many characters in a table on a terminal, unless --full. */
const METADATA_WIDTH = 40;
/** Rows printed (and held) at a time; the table's columns are sized to the first such page. */
const TABLE_PAGE = READ_PAGE;

export const show: Command = {
  name: 'show',
  usage: 'convostore show USER SESSION [AGENT] [--url URL] [--json] [--full]',
  summary: "Prints one conversation (USER SESSION AGENT), or every agent's messages of a session.",
  details:
    "Messages come oldest first; a whole session in its write order across agents. The session's title\n" +
    'and metadata come first, then a table with each message\'s id (and metadata, when any message has\n' +
    'some). --json prints {"session": <summary as `sessions --json` shows it>, "messages": [\n' +
    '{ agentId, id, seq, role, content, metadata?, timestamp }, …]}. On a terminal, content and metadata\n' +
    'are cut to the screen width unless --full is given. Both forms stream: the table is printed 500\n' +
    'rows at a time, its columns sized to the first 500; a later page that needs wider columns (or a\n' +
    'METADATA column) gets the header again.',
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
      const shown = await printTable(out, messages, values.full === true);
      if (shown === 0) process.stderr.write(`no messages stored for (${[userId, sessionId, agentId].filter((x) => x !== undefined).join(', ')})\n`);
      return 0;
    });
  },
};

/** Columns before the content's; the content column runs free. */
interface Layout {
  metadata: boolean;
  widths: number[];
}

/**
 * Prints the table a page (TABLE_PAGE rows) at a time, so a session of any size holds one page:
 * columns are sized to the first page. A later page that needs wider columns, or a METADATA column
 * the first page did not have, gets the header again, sized to it (columns never narrow).
 * Returns how many messages were printed.
 */
async function printTable(out: LineWriter, messages: AsyncIterable<SessionMessage>, full: boolean): Promise<number> {
  const terminal = process.stdout.isTTY === true && !full;
  let layout: Layout | undefined;
  let page: SessionMessage[] = [];
  let printed = 0;
  const flush = async () => {
    if (page.length === 0) return;
    const metadata = layout?.metadata === true || page.some((m) => m.metadata !== undefined);
    const headers = ['TIME (UTC)', 'AGENT', 'SEQ', 'ROLE', 'ID', ...(metadata ? ['METADATA'] : []), 'CONTENT'];
    const rows = page.map((m) => [
      time(m.timestamp),
      m.agentId,
      String(m.seq),
      m.role,
      m.id,
      ...(metadata ? [m.metadata === undefined ? '' : jsonSummary(m.metadata, terminal ? METADATA_WIDTH : undefined)] : []),
    ]);
    // The METADATA column, when it comes, is the last before CONTENT: earlier widths keep their places.
    const widths = headers.slice(0, -1).map((h, i) => rows.reduce((w, row) => Math.max(w, row[i]!.length), Math.max(h.length, layout?.widths[i] ?? 0)));
    if (!layout || layout.metadata !== metadata || widths.some((w, i) => w !== layout!.widths[i])) {
      layout = { metadata, widths };
      await out.line(tableLine(headers, widths));
    }
    // On a terminal the content column gets what the other columns leave of its width.
    const used = widths.reduce((sum, w) => sum + w + 2, 0);
    const width = terminal ? Math.max(20, (process.stdout.columns ?? 100) - used) : undefined;
    for (let i = 0; i < rows.length; i++) await out.line(tableLine([...rows[i]!, contentSummary(page[i]!.content, width)], widths));
    printed += page.length;
    page = [];
  };
  for await (const m of messages) {
    page.push(m);
    if (page.length >= TABLE_PAGE) await flush();
  }
  await flush();
  return printed;
}

async function* conversation(store: ChatStore, userId: string, sessionId: string, agentId: string): AsyncGenerator<SessionMessage> {
  let cursor: string | undefined;
  do {
    const page = await store.fetchChatPage(userId, sessionId, agentId, { order: 'oldest', limit: READ_PAGE, cursor });
    for (const m of page.items) yield { agentId, ...m };
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
