import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConvostoreError } from '../../errors.js';
import { stringOption } from '../args.js';
import type { Command } from '../command.js';
import { options } from '../options.js';
import type { EndRecord } from '../format.js';
import { Progress } from '../progress.js';
import type { Item } from '../source.js';
import { openStore, resolveUrl, using } from '../stores.js';

export const importCommand: Command = {
  name: 'import',
  usage: 'convostore import [--to URL] FILE',
  summary: 'Reads a convostore JSON Lines export (FILE, or - for standard input) into a database.',
  details:
    'Reads format versions 2 and 1 (docs/cli.md). Each session is written in the file\'s order across\n' +
    'agents, with its message ids (a version 1 file has none: ids are derived from each message\'s\n' +
    'conversation and seq, the same on every run), metadata, timestamps, title and times.\n' +
    'Idempotent and resumable: a message the destination session already holds at the same position\n' +
    '(same id, agent, role, timestamp, content and metadata) is skipped, so importing a file twice\n' +
    'changes nothing. A bad line is reported with its line number; the write it belonged to is not made\n' +
    'and the rest of its session is skipped (no gaps, no reordering); other sessions are imported.\n' +
    'Exit code 1 if any problem.',
  options: {
    to: options.to,
    'batch-size': options.batchSize,
  },
  positionals: { min: 1, max: 1, names: 'FILE' },
  async run({ values, positionals }) {
    const file = positionals[0]!;
    const name = file === '-' ? 'stdin' : file;
    let size: number | undefined;
    if (file !== '-') {
      try {
        size = statSync(file).size;
      } catch {
        throw new ConvostoreError('VALIDATION', `cannot read ${file}: no such file`);
      }
    }
    // Loaded here, not at the top: every command is imported to run one, and the CLI starts on each call.
    // (Before the file is opened: readline emits lines as soon as it has them, awaited or not.)
    const { BadRecord, parseHeader, parseRecord } = await import('../format.js');
    const { transfer } = await import('../transfer.js');
    return using([openStore(resolveUrl(stringOption(values, 'to')))], async (dest) => {
      const progress = new Progress(process.stderr, { label: 'import', unit: 'bytes', total: size });
      const lines = createInterface({ input: file === '-' ? process.stdin : createReadStream(file), crlfDelay: Infinity });
      const counted = { sessions: 0, messages: 0 };
      let end: { record: EndRecord; line: number } | undefined;
      let version = 0;
      const sizes = new WeakMap<Item, number>();
      async function* items(): AsyncGenerator<Item> {
        let n = 0;
        for await (const text of lines) {
          n++;
          const where = `${name}:${n}`;
          if (n === 1) {
            version = parseHeader(text).version;
            continue;
          }
          if (text.trim() === '') continue;
          let item: Item;
          if (end) {
            item = { kind: 'bad', where, reason: `comes after the end record of line ${end.line}` };
          } else {
            try {
              const record = parseRecord(text, version);
              if (record.type === 'end') {
                end = { record, line: n };
                continue;
              }
              if (record.type === 'session') counted.sessions++;
              else counted.messages++;
              item = record.type === 'session' ? { kind: 'session', record, where } : { kind: 'message', record, where };
            } catch (error) {
              if (!(error instanceof BadRecord)) throw error;
              counted.messages++;
              item = { kind: 'bad', where, reason: error.message, ...(error.key ? { key: error.key } : {}) };
            }
          }
          sizes.set(item, Buffer.byteLength(text) + 1);
          yield item;
        }
        if (n === 0) parseHeader(undefined);
      }
      return transfer({
        command: 'import',
        values,
        items: items(),
        dest,
        progress,
        weigh: (item) => sizes.get(item) ?? 0,
        verb: 'imported',
        after: () => {
          if (!end) {
            process.stderr.write(`convostore: warning: ${name} has no end record; if it came from convostore export, it was cut short\n`);
            return [];
          }
          const { sessions, messages } = end.record;
          return sessions === counted.sessions && messages === counted.messages
            ? []
            : [
                `${name}:${end.line}: the end record counts ${sessions} sessions and ${messages} messages but the file holds ${counted.sessions} and ${counted.messages}: it was cut or edited`,
              ];
        },
      });
    });
  },
};
