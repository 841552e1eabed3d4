/**
 * The contract suite against a real Turso (or sqld) database, when TURSO_DATABASE_URL and
 * TURSO_AUTH_TOKEN are set; reported as one skipped test otherwise. The database must already be
 * migrated (`npx drizzle-kit migrate`, see docs/turso.md); this test never changes its schema.
 *
 * It may be a database other people use, so the run keeps to itself: every user id gets a prefix
 * unique to the run and store, every user it wrote is erased afterwards (deleteUser), and so is every agent
 * row it created that no message uses any more. Calls that act on every user (prune, listUsers) and
 * raw row counts are not made; the tests that need them are skipped with the reason.
 */
import { randomBytes } from 'node:crypto';
import * as schema from '../drizzle/schema.js';
import test from 'ava';
import { sql } from 'drizzle-orm';
import { SqlChatStorage, type ChatStore } from '../src/index.js';
import { contractSuite } from './contract/suite.js';

const url = process.env.TURSO_DATABASE_URL;
const authToken = process.env.TURSO_AUTH_TOKEN;

const SHARED_DATABASE = 'the live database may hold other users, and this call acts on all of them';

if (!url || !authToken) {
  test.skip('turso live › skipped: set TURSO_DATABASE_URL and TURSO_AUTH_TOKEN to run the contract suite against a real Turso database', () => {});
} else {
  const run = `convostore-live-${Date.now()}-${randomBytes(4).toString('hex')}`;
  let stores = 0;
  const users = new Set<string>();
  const agents = new Set<string>();
  let admin: SqlChatStorage | undefined;
  let agentsBefore = new Set<string>();
  const adminStore = async () => (admin ??= await SqlChatStorage.openLibsql(url, { authToken }));

  test.before(async () => {
    const rows = (await (await adminStore()).db.all(sql`SELECT id FROM ${schema.agents}`)) as Array<{ id: string }>;
    agentsBefore = new Set(rows.map((r) => r.id));
  });

  test.after.always(async () => {
    const store = await adminStore();
    for (const user of users) await store.deleteUser(user);
    for (const agent of agents) {
      if (agentsBefore.has(agent)) continue;
      await store.db.run(sql`DELETE FROM ${schema.agents} WHERE id = ${agent} AND NOT EXISTS (SELECT 1 FROM ${schema.messages} m WHERE m.agent_pk = ${schema.agents}.pk)`);
    }
    await store.close();
  });

  contractSuite(
    'turso live',
    async (options) => {
      const store = await SqlChatStorage.openLibsql(url, { ...options, authToken });
      // A prefix per store: every contract test expects an empty store of its own.
      return { store: isolate(store, `${run}-${++stores}:`) };
    },
    {
      skip: {
        'listUsers pages every user with data in UTF-8 byte order; emptied users disappear': SHARED_DATABASE,
        'retention.maxMessages keeps the newest N per conversation on write': `${SHARED_DATABASE} (prune)`,
        'retention.ttlMs hides expired messages at once and prune() removes them': `${SHARED_DATABASE} (prune)`,
        'ids may hold quotes, spaces, SQL, unicode, and be 256 units long': 'the run prefix makes a 256-unit user id too long',
      },
    },
  );

  const BY_USER = new Set([
    'saveChatMessage',
    'saveChatMessages',
    'fetchChat',
    'fetchAllChats',
    'fetchChatPage',
    'listSessions',
    'deleteConversation',
    'deleteSession',
    'deleteUser',
    'getMessage',
    'updateMessage',
    'upsertMessages',
    'deleteMessages',
    'truncateAfter',
    'fetchSessionPage',
    'getSession',
    'updateSession',
    'forkSession',
    'importSession',
  ]);

  /** The store as the suite sees it: user ids get the run's prefix; calls on every user are refused. */
  function isolate(store: SqlChatStorage, prefix: string): ChatStore {
    return new Proxy(store, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if ((key === 'prune' || key === 'listUsers') && !target.closed) {
          return () => Promise.reject(new Error(`${key}: ${SHARED_DATABASE}`));
        }
        if (typeof key === 'string' && BY_USER.has(key)) {
          return async (userId: unknown, ...rest: unknown[]) => {
            // Invalid ids pass unchanged, so validation still sees exactly what the test sent.
            if (typeof userId !== 'string' || userId === '') return method.call(target, userId, ...rest);
            const result: unknown = await method.call(target, prefix + userId, ...rest);
            // A call that succeeded had valid ids, and only those can have been written.
            users.add(prefix + userId);
            if (key === 'upsertMessages' || key.endsWith('ChatMessage') || key.endsWith('ChatMessages')) agents.add(rest[1] as string);
            if (key === 'importSession') for (const m of (rest[1] as { messages: Array<{ agentId: string }> }).messages) agents.add(m.agentId);
            return result;
          };
        }
        return method.bind(target);
      },
    }) as ChatStore;
  }
}
