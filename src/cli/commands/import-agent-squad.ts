import { stringOption, UsageError } from '../args.js';
import { importBackend } from '../../drivers.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { Progress } from '../progress.js';
import { openStore, resolveUrl, shown, using } from '../stores.js';

export const importAgentSquad: Command = {
  name: 'import-agent-squad',
  usage: 'convostore import-agent-squad --from URL [--to URL] [--user USER]',
  summary: "Brings the 'conversations' table of Agent Squad's SqlChatStorage into convostore.",
  details:
    '--from is the libSQL URL Agent Squad was given (file:…, libsql://…, https://…; a bare path is a\n' +
    'local file); its auth token comes from TURSO_AUTH_TOKEN or an authToken=… URL parameter. Only\n' +
    'SELECTs are sent to it. Rows keep their role, content, timestamp and order (message_index); a\n' +
    "session's conversations are interleaved by timestamp, as Agent Squad's fetchAllChats shows them.\n" +
    'Sessions get their first and last timestamps as createdAt and lastActivityAt. Rows have no ids:\n' +
    'each message gets one derived from its user, session, agent and message_index (the same on every\n' +
    'run). Idempotent and resumable like import; bad rows are reported and their session is left\n' +
    'incomplete. Afterwards every message at the destination is compared with its row.',
  options: {
    from: { type: 'string', value: 'URL', description: "Agent Squad's database (required)" },
    to: options.to,
    user: options.user,
    'batch-size': options.batchSize,
  },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const from = stringOption(values, 'from');
    if (from === undefined) throw new UsageError('missing --from URL (the Agent Squad database)', 'import-agent-squad');
    const to = resolveUrl(stringOption(values, 'to'));
    const user = stringOption(values, 'user');
    const { AgentSquadSource } = await importBackend('libsql', () => import('../agent-squad-source.js'));
    const source = await AgentSquadSource.open(from, process.env.TURSO_AUTH_TOKEN);
    try {
      return await using([openStore(to)], async (dest) => {
        const progress = new Progress(process.stderr, { label: 'import-agent-squad', unit: 'count' });
        if (process.stderr.isTTY) progress.total = await source.total(user);
        return (await import('../transfer.js')).transfer({
          command: 'import-agent-squad',
          values,
          items: source.items(user),
          dest,
          progress,
          weigh: (item) => (item.kind === 'message' || item.kind === 'bad' ? 1 : 0),
          expected: () => source.items(user),
          verb: `imported from Agent Squad (${shown(from)}) into ${shown(to)}:`,
        });
      });
    } finally {
      source.close();
    }
  },
};
