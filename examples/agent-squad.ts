/**
 * Agent Squad keeping its conversations in convostore.
 *
 *   npx tsx examples/agent-squad.ts                    # SQLite file ./data/agent-squad-example.db
 *   npx tsx examples/agent-squad.ts memory:            # or any URL openStorage takes
 *   CONVOSTORE_URL=file:./data/x.db npx tsx examples/agent-squad.ts
 *
 * No model and no network: the agents and the classifier are scripted (examples/squad-agents.ts).
 * Run it twice on a file and the agents' turn numbers carry on: the history came from the database.
 * In an app, import from 'convostore/agent-squad' instead of the source path.
 */
import { AgentSquad } from 'agent-squad';
import { ConvostoreChatStorage } from '../src/adapters/agent-squad.js';
import { KeywordClassifier, ROUTES, mathAgent, weatherAgent } from './squad-agents.js';

const url = process.argv[2] ?? process.env.CONVOSTORE_URL ?? './data/agent-squad-example.db';

// The one line that changes: Agent Squad's storage is convostore's.
const storage = new ConvostoreChatStorage(url);

const squad = new AgentSquad({
  storage,
  classifier: new KeywordClassifier(ROUTES),
  // Agent Squad logs a lot by default; errors still show.
  logger: { info() {}, debug() {}, log() {}, warn: console.warn, error: console.error },
});
squad.addAgent(weatherAgent());
squad.addAgent(mathAgent());

const requests: Array<[sessionId: string, input: string]> = [
  ['morning', 'Will it rain in Paris?'],
  ['morning', 'And tomorrow?'],
  ['evening', 'What is 19 plus 23?'],
  ['morning', 'Add 2 and 2'],
  ['evening', 'Is it sunny in Lisbon?'],
];

try {
  for (const [sessionId, input] of requests) {
    const response = await squad.routeRequest(input, 'ada', sessionId);
    console.log(`[${sessionId}] ada: ${input}\n[${sessionId}] ${response.metadata.agentId}: ${String(response.output)}`);
  }

  // Everything beyond Agent Squad's interface is on the store: sessions, pages, deletion, retention.
  const store = await storage.store();
  console.log(`\nStored in ${store.backend} (${url}):`);
  for (const session of (await store.listSessions('ada')).items) {
    const agents = session.agents.map((a) => `${a.agentId} ×${a.messageCount}`).join(', ');
    console.log(`  session ${session.sessionId}: ${session.messageCount} messages (${agents})`);
  }
  console.log('\nWhat the classifier reads for "morning" (fetchAllChats):');
  for (const message of await store.fetchAllChats('ada', 'morning')) {
    console.log(`  ${message.role}: ${String(message.content[0]?.text)}`);
  }
} finally {
  await storage.close();
}
