import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ConvostoreError } from '../errors.js';
import type { ContentBlock } from '../types.js';

/** Writes lines to a stream, waiting when it is full, so exporting any amount takes constant memory. */
export class LineWriter {
  readonly #stream: Writable;
  #error: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    // A file that cannot be opened or written fails the next call instead of crashing the process.
    if (stream !== process.stdout) stream.on('error', (error: Error) => (this.#error ??= error));
  }

  async line(text: string): Promise<void> {
    this.#check();
    if (!this.#stream.write(`${text}\n`)) await once(this.#stream, 'drain');
  }

  /** Resolves once everything is flushed (for files: written and closed). */
  async end(): Promise<void> {
    if (this.#stream === process.stdout) return;
    this.#check();
    this.#stream.end();
    await once(this.#stream, 'finish');
  }

  #check(): void {
    if (this.#error) throw new ConvostoreError('UNAVAILABLE', `cannot write the output: ${this.#error.message}`);
  }
}

/**
 * Streams a JSON array, one element per line, each written as soon as the next one arrives (so the
 * comma can end its line): valid JSON, readable, constant memory. `open` and `close` can wrap the
 * array in an object (`{"session":…,"messages":[` … `]}`).
 */
export async function writeJsonArray(out: LineWriter, items: AsyncIterable<unknown>, open = '[', close = ']'): Promise<void> {
  let previous: string | undefined;
  await out.line(open);
  for await (const item of items) {
    if (previous !== undefined) await out.line(`  ${previous},`);
    previous = JSON.stringify(item);
  }
  if (previous !== undefined) await out.line(`  ${previous}`);
  await out.line(close);
}

/** A plain text table: a header row, columns padded, the last column free to run long. */
export function table(headers: string[], rows: string[][]): string {
  // reduce, not Math.max(...rows): a spread of every row would overflow the stack on a long table.
  const widths = headers.map((h, i) => rows.reduce((width, r) => Math.max(width, (r[i] ?? '').length), h.length));
  return [tableLine(headers, widths), ...rows.map((row) => tableLine(row, widths))].join('\n');
}

/** One line of a table: every cell but the last padded to its column's width, two spaces apart. */
export function tableLine(cells: string[], widths: number[]): string {
  return cells
    .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/** A JSON value on one line, cut to `width` characters when given. */
export function jsonSummary(value: unknown, width: number | undefined): string {
  const text = JSON.stringify(value) ?? '';
  return width !== undefined && text.length > width ? `${text.slice(0, Math.max(1, width - 1))}…` : text;
}

/** Epoch ms as `2026-11-25 12:16:45` UTC. */
export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** One line for a message's content: text as is, other blocks by kind. */
export function contentSummary(content: ContentBlock[], width: number | undefined): string {
  const text = content
    .map((block) => {
      if (typeof block.text === 'string') return block.text;
      const kind = Object.keys(block)[0] ?? 'empty';
      const detail = (block[kind] as { name?: unknown } | null)?.name;
      return `[${kind}${typeof detail === 'string' ? ` ${detail}` : ''}]`;
    })
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return width !== undefined && text.length > width ? `${text.slice(0, Math.max(1, width - 1))}…` : text;
}
