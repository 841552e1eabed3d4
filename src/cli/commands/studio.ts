import { UnavailableError } from '../../errors.js';
import { intOption, stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import { knownSecrets, openStore, resolveUrl, shown } from '../stores.js';

export const studio: Command = {
  name: 'studio',
  usage: 'convostore studio [--url URL] [--port N] [--open] [--write]',
  summary: 'Serves a local web page to read the stored conversations (and, with --write, edit them).',
  details:
    'The page listens on 127.0.0.1 only, on a free port unless --port is given, and prints its address\n' +
    'with a random access token: a request without it gets 401. Users, their sessions (newest first),\n' +
    'and a session as one conversation in its write order across agents, new messages appearing while\n' +
    'it is open. Read-only unless --write, which adds rename, session metadata, delete a message,\n' +
    'truncate after a message and fork from a message, each confirmed in the page. Ctrl+C stops it.',
  options: {
    url: options.url,
    port: { type: 'string', value: 'N', description: 'port on 127.0.0.1 (default: a free one)' },
    open: { type: 'boolean', description: 'open the page in the default browser' },
    write: { type: 'boolean', description: 'allow changes (rename, metadata, delete, truncate, fork)' },
  },
  positionals: { min: 0, max: 0, names: '' },
  async run({ values }) {
    const port = intOption('studio', values, 'port', 0, 0, 65535);
    const url = resolveUrl(stringOption(values, 'url'));
    const write = values.write === true;
    const store = await openStore(url);
    let server;
    try {
      // Loaded only here: no other command pays for the studio.
      const { startStudio } = await import('../../studio/server.js');
      server = await startStudio({ store, write, port, source: shown(url), secrets: knownSecrets() }).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EADDRINUSE' ? new UnavailableError(`port ${port} on 127.0.0.1 is in use; choose another with --port, or omit it`, error) : error;
      });
    } catch (error) {
      await store.close();
      throw error;
    }
    process.stdout.write(
      `convostore studio: ${shown(url)} (${store.backend}, ${write ? 'read-write' : 'read-only'})\n` +
        `Open this address (it holds the access token):\n    ${server.url}\nPress Ctrl+C to stop.\n`,
    );
    if (values.open === true) await openBrowser(server.url);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    await store.close();
    return 0;
  },
};

/** The platform's "open this URL" command; a failure is a note, the studio keeps running. */
async function openBrowser(address: string): Promise<void> {
  const { spawn } = await import('node:child_process'); // not loaded by the other commands' cold start
  const [command, args] =
    process.platform === 'darwin' ? ['open', [address]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', address]] : ['xdg-open', [address]];
  const child = spawn(command as string, args as string[], { detached: true, stdio: 'ignore' });
  child.on('error', () => process.stderr.write('convostore studio: could not open a browser; open the address above yourself\n'));
  child.unref();
}
