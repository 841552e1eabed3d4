import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform, type Readable } from 'node:stream';
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
    'Afterwards the file is read again and every session it holds compared with the destination, as\n' +
    'copy does: message by message (agent, id, role, content, metadata, timestamp, position in the\n' +
    'session) and session by session (title, metadata, times). Standard input is kept in a temporary\n' +
    'file for this. Exit code 1 if any problem or difference.',
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
    const format = await import('../format.js');
    const { transfer } = await import('../transfer.js');
    // Standard input can be read only once: as it is read, a copy goes to a temporary file, which
    // the verification reads afterwards (memory stays flat; the disk holds the file once).
    const spool = file === '-' ? mkdtempSync(join(tmpdir(), 'convostore-import-')) : undefined;
    const again = spool ? join(spool, 'stdin.jsonl') : file;
    try {
      return await using([openStore(resolveUrl(stringOption(values, 'to')))], async (dest) => {
        const progress = new Progress(process.stderr, { label: 'import', unit: 'bytes', total: size });
        const read = new ExportFile(name, format);
        return await transfer({
          command: 'import',
          values,
          items: read.items(() => (spool ? spooled(process.stdin, again) : createReadStream(file))),
          dest,
          progress,
          weigh: (item) => read.sizes.get(item) ?? 0,
          // The file read a second time, line by line, and the destination compared with it as copy does.
          expected: () => new ExportFile(name, format).items(() => createReadStream(again)),
          verb: 'imported',
          after: () => read.endProblems(),
        });
      });
    } finally {
      if (spool) rmSync(spool, { recursive: true, force: true });
    }
  },
};

type Format = typeof import('../format.js');

/** An export file read line by line into items, once; counts what it holds to check its end record. */
class ExportFile {
  /** Bytes of each item's line, for the progress bar. */
  readonly sizes = new WeakMap<Item, number>();
  readonly #name: string;
  readonly #format: Format;
  readonly #counted = { sessions: 0, messages: 0 };
  #end: { record: EndRecord; line: number } | undefined;

  constructor(name: string, format: Format) {
    this.#name = name;
    this.#format = format;
  }

  /** `open` is called when reading starts: readline emits lines as soon as it has them, awaited or not. */
  async *items(open: () => Readable): AsyncGenerator<Item> {
    const { BadRecord, parseHeader, parseRecord } = this.#format;
    const lines = createInterface({ input: open(), crlfDelay: Infinity });
    const counted = this.#counted;
    let version = 0;
    let n = 0;
    for await (const text of lines) {
      n++;
      const where = `${this.#name}:${n}`;
      if (n === 1) {
        version = parseHeader(text).version;
        continue;
      }
      if (text.trim() === '') continue;
      let item: Item;
      if (this.#end) {
        item = { kind: 'bad', where, reason: `comes after the end record of line ${this.#end.line}` };
      } else {
        try {
          const record = parseRecord(text, version);
          if (record.type === 'end') {
            this.#end = { record, line: n };
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
      this.sizes.set(item, Buffer.byteLength(text) + 1);
      yield item;
    }
    if (n === 0) parseHeader(undefined);
  }

  /** After the whole file: a missing end record is a warning, one that does not match is a problem. */
  endProblems(): string[] {
    const name = this.#name;
    if (!this.#end) {
      process.stderr.write(`convostore: warning: ${name} has no end record; if it came from convostore export, it was cut short\n`);
      return [];
    }
    const { sessions, messages } = this.#end.record;
    return sessions === this.#counted.sessions && messages === this.#counted.messages
      ? []
      : [
          `${name}:${this.#end.line}: the end record counts ${sessions} sessions and ${messages} messages but the file holds ${this.#counted.sessions} and ${this.#counted.messages}: it was cut or edited`,
        ];
  }
}

/** `input` as it is read, also written to the file at `path` (waiting for the disk when it is slower). */
function spooled(input: Readable, path: string): Readable {
  const copy = createWriteStream(path);
  const through = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (copy.write(chunk)) done(null, chunk);
      else copy.once('drain', () => done(null, chunk));
    },
    flush(done) {
      copy.end(() => done());
    },
  });
  copy.on('error', (error) => through.destroy(error));
  return input.pipe(through);
}
