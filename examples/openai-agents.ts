/**
 * The OpenAI Agents SDK keeping its session history in convostore (SQLite, libSQL/Turso, DynamoDB or
 * memory): a weather agent with a tool, two turns (the second streamed), and the history read back.
 *
 *   npx tsx examples/openai-agents.ts                      # libSQL file ./data/openai-agents-example.db
 *   npx tsx examples/openai-agents.ts memory:
 *   npx tsx examples/openai-agents.ts libsql://my-db.turso.io   (with TURSO_AUTH_TOKEN; migrated first)
 *
 * No model and no network: the SDK's own ScriptedModel answers from a script. For a real model,
 * install the OpenAI provider (`npm install @openai/agents`, which brings @openai/agents-openai; it is
 * not a dependency of this repository), set OPENAI_API_KEY, and replace `model: scripted()` with
 * `model: 'gpt-5-mini'` after `import '@openai/agents'` (it registers the provider): the session part
 * does not change. In an app, import from 'convostore/openai-agents' instead of the source path.
 */
import { Agent, run, setTracingDisabled, tool } from '@openai/agents-core';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents-core/testing';
import { z } from 'zod';
import { ConvostoreSession } from '../src/adapters/openai-agents.js';
import { openStorage } from '../src/index.js';

const url = process.argv[2] ?? process.env.CONVOSTORE_URL ?? 'file:./data/openai-agents-example.db';
// Traces would go to OpenAI's backend; this example talks to no one.
setTracingDisabled(true);

const weather = tool({
  name: 'weather',
  description: 'The weather in a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => (city === 'Paris' ? 'sunny, 24°C' : 'rain, 14°C'),
});

/** What the model would say: two parallel tool calls, an answer, and an answer to the follow-up. */
const scripted = () =>
  new ScriptedModel([
    [functionCall('weather', { city: 'Paris' }, { callId: 'call-1' }), functionCall('weather', { city: 'Oslo' }, { callId: 'call-2' })],
    [assistantMessage('Paris is sunny (24°C); Oslo has rain (14°C).')],
    [assistantMessage('You asked about Paris and Oslo.')],
  ]);

// One store for the whole app; a session object per conversation is cheap.
const store = await openStorage(url);
try {
  const agent = new Agent({ name: 'weather', instructions: 'Answer briefly.', model: scripted(), tools: [weather] });
  const session = new ConvostoreSession({ store, userId: 'ada', sessionId: `demo-${Date.now()}` });

  const first = await run(agent, 'Weather in Paris and Oslo?', { session });
  console.log('agent:', first.finalOutput);

  // The next turn, streamed: the SDK reads the history from convostore and appends the new items.
  const second = await run(agent, 'Which cities did I ask about?', { session, stream: true });
  for await (const event of second.toTextStream()) void event;
  await second.completed;
  console.log('agent:', second.finalOutput);

  console.log(`\nThe session, read back through the SDK's Session interface (${store.backend}, ${url}):`);
  for (const item of await session.getItems()) {
    const what = item.type === 'function_call' ? `${item.name}(${item.arguments})` : item.type === 'function_call_result' ? JSON.stringify(item.output) : JSON.stringify('content' in item ? item.content : item);
    console.log(`  ${item.type ?? 'message'}${'role' in item ? ` ${item.role}` : ''}: ${what}`);
  }
  console.log('\nThe same conversation through convostore (one message per item):');
  for (const message of await store.fetchChat('ada', session.sessionId, session.agentId)) {
    const item = message.content[0]?.openaiAgents as { item: { type?: string } } | undefined;
    console.log(`  ${message.role}: ${item?.item.type ?? 'message'}`);
  }
} finally {
  await store.close();
}
