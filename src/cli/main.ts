#!/usr/bin/env node
/**
 * The `convostore` command. Every error ends as one line on stderr and a non-zero exit code:
 * 2 for a usage mistake, 1 for anything else; `--verbose` adds the stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatHelp, parseCommandLine, UsageError } from './args.js';
import { redact } from '../redact.js';
import { commands } from './commands/index.js';
import { knownSecrets } from './stores.js';

/** convostore's package.json, looked for upwards from this module (src/cli/ under tsx, dist/src/cli/ built). */
function version(): string {
  for (let up = '../'; up.length <= 4 * 3; up += '../') {
    const path = fileURLToPath(new URL(`${up}package.json`, import.meta.url));
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version: string };
    if (pkg.name === 'convostore') return pkg.version;
  }
  return 'unknown';
}

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: convostore COMMAND [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "The database URL comes from --url/--from/--to, else CONVOSTORE_URL, else ./data/convostore.db.",
    'URLs: a file path or sqlite:PATH (better-sqlite3), file:PATH (libSQL), libsql://… https://… (Turso),',
    'memory:, and any other backend openStorage knows. Run `convostore COMMAND --help` for details.',
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
      process.stdout.write(topic ? formatHelp(topic) : overview());
      return 0;
    }
    if (name === '--version') {
      process.stdout.write(`${version()}\n`);
      return 0;
    }
    const command = commands.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'; the commands are ${commands.map((c) => c.name).join(', ')}`);
    const args = parseCommandLine(command.name, rest, command.options, command.positionals);
    if (args.values.help) {
      process.stdout.write(formatHelp(command));
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    return fail(error, verbose);
  }
}

/** Every error line goes through the one redaction, whatever the error or its causes carry. */
function fail(error: unknown, verbose: boolean): number {
  const secrets = knownSecrets();
  const write = (text: string) => process.stderr.write(redact(text, secrets));
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    write(`convostore: ${message} (see convostore ${error.command ? `${error.command} ` : ''}--help)\n`);
    return 2;
  }
  write(`convostore: ${withCauses(message, error).split('\n')[0]}\n`);
  if (verbose) {
    for (let e: unknown = error; e instanceof Error; e = e.cause) write(`${e === error ? '' : 'caused by: '}${e.stack ?? e.message}\n`);
  }
  return 1;
}

/** Adds the causes' messages that the message does not already hold ("fetch failed: getaddrinfo ENOTFOUND …"). */
function withCauses(message: string, error: unknown): string {
  let text = message;
  for (let e = (error as Error | undefined)?.cause; e instanceof Error; e = e.cause) {
    if (!text.includes(e.message)) text += `: ${e.message}`;
  }
  return text;
}

// A reader that goes away (`convostore export | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
