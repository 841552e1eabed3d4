import type { ChatStore } from '../core/store.js';
import { ClosedError } from '../errors.js';
import { openStorage, type OpenOptions } from '../open.js';

/**
 * Where a framework adapter gets its store: one the caller opened (and keeps owning), or a URL the
 * adapter opens itself on first use, because frameworks construct their storage synchronously and
 * `openStorage` is async. An opened store belongs to the adapter, and its `close()` releases it.
 */
export class StoreSource {
  readonly #given: ChatStore | undefined;
  readonly #url: string | undefined;
  readonly #options: OpenOptions;
  #opening: Promise<ChatStore> | undefined;
  #closed = false;

  constructor(source: ChatStore | string | undefined, options: OpenOptions = {}) {
    if (typeof source === 'string' || source === undefined) {
      this.#url = source;
    } else {
      this.#given = source;
    }
    this.#options = options;
  }

  /** True when the adapter opened the store from a URL and so must close it. */
  get owned(): boolean {
    return this.#given === undefined;
  }

  get(): Promise<ChatStore> {
    if (this.#given) return Promise.resolve(this.#given);
    if (this.#closed) return Promise.reject(new ClosedError());
    if (!this.#opening) {
      const opening = openStorage(this.#url, this.#options);
      this.#opening = opening;
      // A failed open (say Turso unreachable) is retried on the next call rather than cached forever.
      opening.catch(() => {
        if (this.#opening === opening) this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  /** Closes the store if the adapter opened it; a store the caller passed in is the caller's to close. */
  async close(): Promise<void> {
    if (this.#given || this.#closed) return;
    this.#closed = true;
    const opening = this.#opening;
    if (!opening) return;
    const store = await opening.catch(() => undefined);
    await store?.close();
  }
}
