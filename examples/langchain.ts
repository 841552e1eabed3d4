/**
 * LangChain.js keeping chat history in convostore (SQLite, libSQL/Turso, DynamoDB or memory).
 *
 *   npx tsx examples/langchain.ts                      # libSQL file ./data/langchain-example.db
 *   npx tsx examples/langchain.ts libsql://my-db.turso.io   (with TURSO_AUTH_TOKEN; migrated first)
 *
 * No model and no network: @langchain/core's FakeListChatModel answers from a list. In an app,
 * import from 'convostore/langchain' instead of the source path.
 */
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { ConvostoreChatMessageHistory } from '../src/adapters/langchain.js';
import { openStorage } from '../src/index.js';

const url = process.argv[2] ?? process.env.CONVOSTORE_URL ?? 'file:./data/langchain-example.db';

// One store for the whole app, opened with defaults: the history keeps LangChain's runs of
// same-role messages (two AI messages, parallel tool results) by itself, write by write.
const store = await openStorage(url);

const chain = new RunnableWithMessageHistory({
  runnable: ChatPromptTemplate.fromMessages([
    ['system', 'You are a concise assistant.'],
    new MessagesPlaceholder('history'),
    ['human', '{input}'],
  ]).pipe(new FakeListChatModel({ responses: ['Hello Ada!', 'Your name is Ada, and Paris is sunny.'] })),
  // The one line that changes: where the history lives.
  getMessageHistory: (sessionId) => new ConvostoreChatMessageHistory({ store, userId: 'ada', sessionId }),
  inputMessagesKey: 'input',
  historyMessagesKey: 'history',
});

try {
  const session = { configurable: { sessionId: `demo-${Date.now()}` } };
  console.log('ai:', (await chain.invoke({ input: 'Hi, I am Ada.' }, session)).content);

  // Tool calls and their results are stored whole, not flattened to text.
  const history = new ConvostoreChatMessageHistory({ store, userId: 'ada', sessionId: session.configurable.sessionId });
  await history.addMessages([
    new AIMessage({ content: '', tool_calls: [{ id: 'call-1', name: 'weather', args: { city: 'Paris' }, type: 'tool_call' }] }),
    new ToolMessage({ content: 'sunny, 24°C', tool_call_id: 'call-1', artifact: { source: 'example' } }),
  ]);
  console.log('ai:', (await chain.invoke({ input: 'What do you know?' }, session)).content);

  console.log(`\nThe history, read back through LangChain (${store.backend}, ${url}):`);
  for (const message of await history.getMessages()) {
    const calls = message instanceof AIMessage && message.tool_calls?.length ? ` tool_calls=${JSON.stringify(message.tool_calls)}` : '';
    console.log(`  ${message.type}: ${JSON.stringify(message.content)}${calls}`);
  }
  console.log('\nThe same conversation through convostore (roles and first text block):');
  for (const message of await store.fetchChat('ada', session.configurable.sessionId, 'langchain')) {
    console.log(`  ${message.role}: ${JSON.stringify(message.content[0]?.text)}`);
  }
} finally {
  await store.close();
}
