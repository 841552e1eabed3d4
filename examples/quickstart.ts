/**
 * `npm start`: convostore on the embedded default, a SQLite file under data/ (or CONVOSTORE_URL).
 * Migrates on open, records a user talking with two agents over two sessions, then prints the
 * stored conversation and the user's sessions. Run it twice: the history grows, nothing is lost.
 */
import { openStorage } from '../src/index.js';

const store = await openStorage(); // CONVOSTORE_URL, else ./data/convostore.db
const userId = 'ada@example.com';
const run = new Date().toISOString();

try {
  // Session 1: a user talks to a tech agent, then a billing agent joins the same session.
  await store.saveChatMessages(userId, 'support-1', 'tech-agent', [
    { role: 'user', content: `[${run}] My deploy fails with "database is locked".` },
    { role: 'assistant', content: 'Enable WAL mode and set a busy timeout; convostore does both for you.' },
  ]);
  await store.saveChatMessage(userId, 'support-1', 'billing-agent', { role: 'user', content: 'And will this cost extra?' });
  await store.saveChatMessage(userId, 'support-1', 'billing-agent', {
    role: 'assistant',
    content: [{ text: 'No: it is included in your plan.' }, { toolUse: { name: 'lookup_plan', input: { userId } } }],
  });

  // Session 2: another day, another question; the window keeps the latest whole pair.
  await store.saveChatMessage(userId, 'support-2', 'tech-agent', { role: 'user', content: 'How do I move to Turso?' });
  const window = await store.saveChatMessage(
    userId,
    'support-2',
    'tech-agent',
    { role: 'assistant', content: 'Set CONVOSTORE_URL=libsql://… and run npx drizzle-kit migrate.' },
    2,
  );

  console.log(`convostore on ${store.backend} (${process.env.CONVOSTORE_URL ?? './data/convostore.db'})\n`);
  console.log('Session support-1, every agent, as Agent Squad reads it (fetchAllChats):');
  for (const message of await store.fetchAllChats(userId, 'support-1')) {
    const text = message.content.map((block) => (typeof block.text === 'string' ? block.text : JSON.stringify(block))).join(' ');
    console.log(`  ${message.role.padEnd(9)} ${text}`);
  }
  console.log('\nWindow of 2 after the last append in support-2:');
  for (const message of window) console.log(`  ${message.role.padEnd(9)} ${String(message.content[0]?.text)}`);

  console.log(`\nSessions of ${userId}, most recent first:`);
  const { items } = await store.listSessions(userId, { limit: 10 });
  for (const session of items) {
    const agents = session.agents.map((a) => `${a.agentId}×${a.messageCount}`).join(', ');
    console.log(`  ${session.sessionId.padEnd(10)} ${String(session.messageCount).padStart(4)} messages  last ${new Date(session.lastActivityAt).toISOString()}  (${agents})`);
  }
} finally {
  await store.close();
}
