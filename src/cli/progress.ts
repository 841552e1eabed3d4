/**
 * A one-line progress bar on stderr, only when stderr is a terminal: done/total, rate and ETA.
 * Problems printed meanwhile go through `log`, which clears the bar first.
 */
export interface ProgressOptions {
  label: string;
  /** Known total, for the bar and the ETA. */
  total?: number;
  /** How amounts are shown: counts as numbers, bytes as MB. */
  unit: 'count' | 'bytes';
}

const REDRAW_MS = 100;

export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #options: ProgressOptions;
  readonly #started = Date.now();
  #done = 0;
  #drawnAt = 0;
  #drawn = false;

  constructor(stream: NodeJS.WriteStream, options: ProgressOptions) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#options = options;
  }

  set total(total: number) {
    this.#options.total = total;
  }

  add(n: number): void {
    this.#done += n;
    if (!this.#tty) return;
    const now = Date.now();
    if (now - this.#drawnAt >= REDRAW_MS) {
      this.#drawnAt = now;
      this.#draw(now);
    }
  }

  log(line: string): void {
    this.#clear();
    this.#stream.write(`${line}\n`);
    if (this.#drawn) this.#draw(Date.now());
  }

  /** Removes the bar; the caller prints the summary. */
  stop(): void {
    this.#clear();
    this.#drawn = false;
  }

  get elapsedMs(): number {
    return Date.now() - this.#started;
  }

  #clear(): void {
    if (this.#tty && this.#drawn) this.#stream.write('\r\x1b[K');
  }

  #draw(now: number): void {
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? this.#done / seconds : 0;
    const { total, unit, label } = this.#options;
    const parts = [label];
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.#done / total);
      const width = 24;
      const filled = Math.round(fraction * width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${(fraction * 100).toFixed(1)}%`);
      parts.push(`${amount(this.#done, unit)}/${amount(total, unit)}`);
      parts.push(`${amount(rate, unit)}/s`);
      parts.push(`ETA ${rate > 0 ? duration(Math.max(0, total - this.#done) / rate) : '?'}`);
    } else {
      parts.push(amount(this.#done, unit), `${amount(rate, unit)}/s`);
    }
    const columns = this.#stream.columns || 80;
    this.#stream.write(`\r\x1b[K${parts.join('  ').slice(0, Math.max(10, columns - 1))}`);
    this.#drawn = true;
  }
}

export function amount(n: number, unit: 'count' | 'bytes'): string {
  if (unit === 'bytes') return `${(n / 1_048_576).toFixed(1)} MB`;
  return Math.round(n).toLocaleString('en-US');
}

/** h:mm:ss or m:ss. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
