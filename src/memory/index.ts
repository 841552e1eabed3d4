import { ChatStore } from '../core/store.js';
import type { StoreOptions } from '../types.js';
import { MemoryBackend } from './memory-backend.js';

export interface InMemoryOptions extends StoreOptions {
  /** Largest message content in UTF-8 bytes of JSON; default 1 MiB. */
  maxMessageBytes?: number;
}

/** Map-based store for tests and ephemeral agents; same behaviour as the SQL and DynamoDB stores. */
export class InMemoryChatStorage extends ChatStore {
  constructor(options: InMemoryOptions = {}) {
    const { maxMessageBytes, ...rest } = options ?? {};
    super(new MemoryBackend(maxMessageBytes), rest);
  }
}
