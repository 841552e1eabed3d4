/**
 * The framework suites' view of the backend registry (test/backends/registry.ts): every test in
 * test/agent-squad.test.ts and test/langchain.test.ts runs once per backend marked `frameworks`.
 */
import type { ChatStore, StoreOptions } from '../../src/index.js';
import type { Backend, BackendDatabase } from '../backends/registry.js';

export { frameworkBackends, byConversation, type Backend, type BackendDatabase, type RawMessageRow } from '../backends/registry.js';

/** Runs `body` on a store over fresh data of one backend, then closes the store and the data. */
export async function withStore(
  backend: Backend,
  options: StoreOptions,
  body: (store: ChatStore, database: BackendDatabase) => Promise<void>,
): Promise<void> {
  const database = await backend.create();
  try {
    const store = await database.open(options);
    try {
      await body(store, database);
    } finally {
      await store.close();
    }
  } finally {
    await database.dispose?.();
  }
}
